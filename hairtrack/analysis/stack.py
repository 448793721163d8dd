"""A person's treatment stack: what they take now, what the record says about each, and reminders.

The usual layering (hairtrack issue 8): a *foundation* of the drugs with the strongest evidence
(finasteride 1 mg daily, minoxidil 5% twice daily), *procedures* such as PRP every 3-6 months, and
extracellular vesicles (EV) as an *experimental adjunct* tracked against the same baseline. Two things
spoil an evaluation: stopping a proven treatment to "test" a new one (the loss the proven one held back
returns, and the new one gets the blame or the credit), and changing the stack while a treatment is being
evaluated (the change is confounded). :func:`describe_stack` says both.

Information, not advice: pages that show a stack carry :data:`MEDICAL_DISCLAIMER`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hairtrack.analysis.reference import treatment_info
from hairtrack.domain import Treatment, TreatmentKind
from hairtrack.errors import InputError

__all__ = ["MEDICAL_DISCLAIMER", "ROLES", "StackItem", "StackReminder", "TreatmentStack", "describe_stack",
           "stack_to_dict"]

MEDICAL_DISCLAIMER = (
    "hairtrack informs; it is not medical advice. Discuss any change of treatment with a dermatologist, and do not "
    "stop a proven treatment to 'test' a new one. No extracellular-vesicle (exosome) therapy is FDA-approved for "
    "hair loss. Figures come from the photos and entries in this record; their uncertainty is stated beside them."
)

FOUNDATION = frozenset({TreatmentKind.FINASTERIDE, TreatmentKind.DUTASTERIDE, TreatmentKind.MINOXIDIL_TOPICAL,
                        TreatmentKind.MINOXIDIL_ORAL})
_ROLE = {**{k: "foundation" for k in FOUNDATION}, TreatmentKind.PRP: "procedure",
         TreatmentKind.MICRONEEDLING: "procedure", TreatmentKind.LLLT: "adjunct",
         TreatmentKind.KETOCONAZOLE: "adjunct", TreatmentKind.EV: "experimental_adjunct",
         TreatmentKind.OTHER: "other"}
ROLES = ("foundation", "procedure", "adjunct", "experimental_adjunct", "other")
# PRP maintenance every 3-6 months: working figure from hairtrack issue 8.
PRP_MAINTENANCE_DAYS = (91, 183)


@dataclass(frozen=True, slots=True)
class StackItem:
    """One treatment in the stack.

    ``status`` is ``current``, ``stopped`` (a continuous treatment with an end date on or before
    ``as_of``, or a session treatment whose last session is past the maintenance window) or ``planned``
    (starts after ``as_of``). ``sessions`` counts session rows up to ``as_of`` (0 for continuous ones).
    """

    kind: TreatmentKind
    name: str
    role: str
    status: str
    start: dt.date
    end: dt.date | None
    sessions: int
    last_session: dt.date | None
    dose: str | None
    usual_dose: str
    evidence_level: str
    record: str


@dataclass(frozen=True, slots=True)
class StackReminder:
    """A warning or reminder about the stack as a whole."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class TreatmentStack:
    """The stack of one profile on ``as_of``: items (foundation first), reminders and the disclaimer."""

    profile: str | None
    as_of: dt.date
    evaluated: TreatmentKind | None
    items: tuple[StackItem, ...]
    reminders: tuple[StackReminder, ...]
    disclaimer: str


def _months(days: int) -> str:
    m = days / 30.44
    return f"{m:.0f} month{'s' if round(m) != 1 else ''}" if m >= 1 else f"{days} days"


def _record(kind: TreatmentKind, start: dt.date, as_of: dt.date, verdict: Mapping[str, Any] | None,
            evaluated: TreatmentKind | None) -> str:
    if verdict is not None and evaluated is kind:
        o = verdict.get("overall") or {}
        text = f"Being evaluated: {str(o.get('verdict', 'no verdict')).replace('_', ' ')}"
        if verdict.get("months_on_treatment") is not None:
            text += f" after {verdict['months_on_treatment']:g} months"
        if o.get("change_pct") is not None:
            text += f"; density change {o['change_pct']:+.1f}%"
            if o.get("change_pct_ci95"):
                lo, hi = o["change_pct_ci95"]
                text += f" (95% interval {lo:+.1f}% to {hi:+.1f}%)"
        bench = o.get("benchmark") or {}
        if bench.get("standing") and bench.get("range_pct"):
            text += f", {bench['standing']} the {bench['range_pct'][0]:g}-{bench['range_pct'][1]:g}% benchmark"
        return text + "."
    if evaluated is kind:
        return "The treatment to evaluate; run a verdict for what the record says."
    if evaluated is not None and start <= as_of:
        return ("Part of the background the evaluated treatment is measured against; the record gives it no "
                "separate verdict.")
    return "No verdict in this record."


def _evaluated(rows: Sequence[Treatment], verdict: Mapping[str, Any] | None, as_of: dt.date):
    if verdict is not None:
        et = verdict.get("evaluated_treatment") or {}
        if et.get("treatment"):
            try:
                kind = TreatmentKind(et["treatment"])
            except ValueError:
                raise InputError(f"verdict evaluated_treatment.treatment {et['treatment']!r} is not a "
                                 "known treatment") from None
            start = dt.date.fromisoformat(et["start"]) if et.get("start") else None
            return kind, start
    first: dict[TreatmentKind, dt.date] = {}
    for r in rows:
        if r.date <= as_of:
            kind = TreatmentKind(r.treatment)
            first[kind] = min(first.get(kind, r.date), r.date)
    if not first:
        return None, None
    kind = max(first, key=lambda k: first[k])
    return kind, first[kind]


def describe_stack(treatments: Sequence[Treatment], *, verdict: Mapping[str, Any] | None = None,
                   as_of: dt.date | None = None) -> TreatmentStack:
    """Describe a profile's treatment stack on ``as_of`` and remind what spoils an evaluation.

    Parameters
    ----------
    treatments : sequence of Treatment
        One profile's rows (one per session for PRP, EV, microneedling), any order.
    verdict : mapping, optional
        The verdict JSON of DESIGN.md 3.3 (:func:`hairtrack.analysis.verdict_to_dict`); its evaluated
        treatment and result are shown beside that treatment. Without it, the treatment started last is
        taken as the one being evaluated.
    as_of : date, optional
        Default: the verdict's ``as_of``, else today.

    Examples
    --------
    >>> rows = [Treatment("p", TreatmentKind.FINASTERIDE, dt.date(2023, 1, 1), dose="1 mg daily"),
    ...         Treatment("p", TreatmentKind.EV, dt.date(2025, 3, 1))]
    >>> s = describe_stack(rows, as_of=dt.date(2025, 6, 1))
    >>> [(i.kind.value, i.role, i.status) for i in s.items]
    [('finasteride', 'foundation', 'current'), ('ev', 'experimental_adjunct', 'current')]
    >>> [r.code for r in s.reminders]
    ['no_minoxidil', 'ev_experimental']
    """
    rows = list(treatments)
    for r in rows:
        if not isinstance(r, Treatment):
            raise InputError(f"treatments must be Treatment rows, got {type(r).__name__}")
    profiles = {r.profile for r in rows}
    if len(profiles) > 1:
        raise InputError(f"treatments must belong to one profile, got {sorted(profiles)}")
    if verdict is not None and not isinstance(verdict, Mapping):
        raise InputError(f"verdict must be the verdict JSON object, got {type(verdict).__name__}")
    profile = next(iter(profiles), None)
    if verdict is not None and verdict.get("profile") and profile and verdict["profile"] != profile:
        raise InputError(f"the verdict is for profile {verdict['profile']!r}, the treatments for {profile!r}")
    if as_of is None:
        as_of = dt.date.fromisoformat(verdict["as_of"]) if verdict and verdict.get("as_of") else dt.date.today()
    evaluated, eval_start = _evaluated(rows, verdict, as_of)

    items = []
    for kind in TreatmentKind:
        own = sorted((r for r in rows if r.treatment == kind), key=lambda r: r.date)
        if not own:
            continue
        info = treatment_info(kind)
        start = own[0].date
        past = [r for r in own if r.date <= as_of]
        if kind.is_session:
            last = past[-1].date if past else None
            stale = last is not None and kind is TreatmentKind.PRP and (as_of - last).days > PRP_MAINTENANCE_DAYS[1]
            status = "planned" if not past else ("stopped" if stale else "current")
            end, sessions = None, len(past)
        else:
            ends = [r.end_date for r in own if r.end_date is not None]
            open_rows = [r for r in past if r.end_date is None or r.end_date > as_of]
            end = None if open_rows or not ends else max(ends)
            status = "planned" if not past else ("current" if open_rows else "stopped")
            last, sessions = None, 0
        dose = next((r.dose for r in reversed(past or own) if r.dose), None)
        items.append(StackItem(kind, info.name, _ROLE[kind], status, start, end, sessions, last, dose,
                               info.dose.text, info.evidence_level, _record(kind, start, as_of, verdict, evaluated)))
    items.sort(key=lambda i: (ROLES.index(i.role), i.start))

    reminders = []
    current = {i.kind for i in items if i.status == "current"}
    stopped = [i for i in items if i.role == "foundation" and i.status == "stopped"]
    newer = [i for i in items if i.role != "foundation" and i.status == "current"]
    for i in stopped:
        later = [n.name for n in newer if i.end is not None and n.start >= i.end - dt.timedelta(days=180)]
        if later:
            reminders.append(StackReminder(
                "proven_treatment_stopped",
                f"{i.name} stopped on {i.end.isoformat()} while {', '.join(later)} is in use. A proven treatment "
                "should not be stopped to 'test' a new one: the loss it held back returns, and the new treatment "
                "is judged against a falling baseline. Talk to your dermatologist before stopping anything."))
    if not current & FOUNDATION:
        reminders.append(StackReminder(
            "no_foundation",
            "No foundation treatment is current. The treatments with the strongest evidence are finasteride 1 mg "
            "daily and minoxidil 5% twice daily (see hairtrack info finasteride / minoxidil_topical); whether they "
            "suit you is a question for a dermatologist."))
    elif TreatmentKind.FINASTERIDE in current and not current & {TreatmentKind.MINOXIDIL_TOPICAL,
                                                                   TreatmentKind.MINOXIDIL_ORAL}:
        reminders.append(StackReminder(
            "no_minoxidil", "Finasteride is current without minoxidil; the usual foundation pairs finasteride "
            "1 mg daily with minoxidil 5% twice daily (information, not a prescription)."))
    if evaluated is not None and eval_start is not None:
        changed = []
        for i in items:
            if i.kind is evaluated:
                continue
            if eval_start < i.start <= as_of:
                changed.append(f"{i.name} started on {i.start.isoformat()}")
            if i.end is not None and eval_start < i.end <= as_of:
                changed.append(f"{i.name} stopped on {i.end.isoformat()}")
        if changed:
            name = treatment_info(evaluated).name
            reminders.append(StackReminder(
                "stack_changed_during_evaluation",
                f"{'; '.join(changed)}, after {name} started on {eval_start.isoformat()}. A change of stack during "
                f"an evaluation is confounded with it: the record cannot separate their effects on {name}."))
    for f in (verdict or {}).get("flags", []):
        if str(f.get("code", "")).startswith(("stack_", "other_treatment_")):
            reminders.append(StackReminder(f"verdict:{f['code']}", str(f.get("message", ""))))
    if TreatmentKind.EV in current or TreatmentKind.EV in {i.kind for i in items if i.status == "planned"}:
        reminders.append(StackReminder(
            "ev_experimental",
            "EV (exosome) treatment is experimental and not FDA-approved. Keep the foundation going, track EV "
            "against the same baseline with the same photos, and check the provider (hairtrack provider-check)."))
    prp = next((i for i in items if i.kind is TreatmentKind.PRP and i.last_session is not None), None)
    if prp is not None and prp.status == "stopped":
        reminders.append(StackReminder(
            "prp_maintenance_lapsed",
            f"The last PRP session was on {prp.last_session.isoformat()}, {_months((as_of - prp.last_session).days)} "
            "ago; PRP maintenance is usually every 3-6 months, and its effect fades without it."))
    return TreatmentStack(profile, as_of, evaluated, tuple(items), tuple(reminders), MEDICAL_DISCLAIMER)


def stack_to_dict(stack: TreatmentStack) -> dict[str, Any]:
    """The JSON object of a stack: dates as ISO strings."""
    iso = lambda d: None if d is None else d.isoformat()  # noqa: E731
    return {
        "profile": stack.profile,
        "as_of": stack.as_of.isoformat(),
        "evaluated_treatment": None if stack.evaluated is None else stack.evaluated.value,
        "items": [{"treatment": i.kind.value, "name": i.name, "role": i.role, "status": i.status,
                   "start": iso(i.start), "end": iso(i.end), "sessions": i.sessions,
                   "last_session": iso(i.last_session), "dose": i.dose, "usual_dose": i.usual_dose,
                   "evidence_level": i.evidence_level, "record": i.record} for i in stack.items],
        "reminders": [{"code": r.code, "message": r.message} for r in stack.reminders],
        "disclaimer": stack.disclaimer,
    }
