"""Is the treatment working? Phases, per-zone and overall verdicts, their rules, flags and plain messages.

:func:`judge` turns one profile's measurements and treatments into a :class:`Verdict`;
:func:`verdict_to_dict` gives the JSON object of DESIGN.md 3.3.

Rules (``RuleSettings``)
------------------------
- The evaluated treatment is the one started last (or ``treatment=``); everything started before it is
  the existing stack, whose effect belongs to the baseline. Baseline = scans on or before its start.
- Phase from months on treatment, rounded to the nearest whole month: 0-2 ``months_1_2``,
  3-4 ``months_3_4``, 5-6 ``months_5_6``, 7+ ``after_6``.
- Change = mean of the visits in the current phase window (for ``after_6``: the last 6 months) against
  the baseline mean (``model.phase_contrast``), adjusted by the donor zone where it is a valid control
  (``model.DonorWeight``) and by the seasonal prior for what the donor does not remove.
- ``responding`` when the one-sided lower bound at level ``1 - look_alpha`` is above 0; ``declining``
  when the upper bound is below 0. A person who checks at every standard look (months 3, 6, 9, 12) must
  be wrongly told "responding" at most 5% of the time, so the per-look level is below 0.05: Bonferroni
  would give 0.0125; the looks are positively correlated (they share the baseline), and on simulated
  people (``benchmarks/verdict.py``, tuned on seed 1) ``look_alpha = 0.02`` keeps the any-look false
  rate at about 3% with more power at month 6 (0.0125: 2.0% false, 81.6% of +20% people at month 6;
  0.02: 3.2% and 87.4%; both with the earlier 5% replicate prior; with the 12% prior, measured on
  hairtrack's own photos, 0.02 gives 2.8% and 86.0%, and 4.0% false where the photos are that noisy).
  The reported ``change_pct_ci95`` is the ordinary 95% interval.
- ``too_early`` in months 1-2 unless the upper bound at level ``1 - early_alpha`` (0.995) is below minus
  the expected early shed (10% for minoxidil, 5% for PRP, EV and microneedling, 3% otherwise).
- ``insufficient_data`` with fewer than 2 baseline scan days or no scan of the zone in the window.
- No treatment (or one not started yet): phase ``baseline``; the change is the log-linear trend from the
  first to the last scan; ``declining`` when its upper bound is below 0, else ``no_measurable_change``
  (3+ scan days over 8+ weeks needed).
- Coverage-only zones (no ``hairs_per_cm2``) are not judged: they are flagged ``coverage_only``.
- Dates: ``as_of`` defaults to the latest scan; rows after ``as_of`` are left out; rows after ``today``
  are flagged ``future_dates`` and left out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np

from hairtrack.analysis.benchmarks import density_benchmark
from hairtrack.analysis.cost import CostSummary, summarize_cost
from hairtrack.analysis.matched import (
    MatchedPair, MatchedPrior, MatchedSteps, ZoneContrast, combine_contrasts, donor_contrast, matched_steps,
    prefer_matched, zone_contrast,
)
from hairtrack.analysis.model import (
    MONTH_DAYS, ChangeEstimate, NoisePrior, Phase, VisitMean, build_series, fit_donor_weight, fit_replicates,
    phase_at, phase_contrast, trend_change,
)
from hairtrack.domain import Measurement, Sex, Treatment, TreatmentKind, Zone
from hairtrack.errors import InputError

__all__ = [
    "Phase", "VerdictKind", "RuleSettings", "Flag", "EvaluatedTreatment", "BenchmarkStanding",
    "ZoneVerdict", "OverallVerdict", "Verdict", "judge", "verdict_to_dict", "phase_at",
]


class VerdictKind(StrEnum):
    INSUFFICIENT_DATA = "insufficient_data"
    TOO_EARLY = "too_early"
    RESPONDING = "responding"
    NO_MEASURABLE_CHANGE = "no_measurable_change"
    DECLINING = "declining"


_SHEDDING = {TreatmentKind.MINOXIDIL_TOPICAL: 0.10, TreatmentKind.MINOXIDIL_ORAL: 0.10,
             TreatmentKind.PRP: 0.05, TreatmentKind.EV: 0.05, TreatmentKind.MICRONEEDLING: 0.05}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds of the verdict rules (see module docstring)."""

    look_alpha: float = 0.02  # one-sided, per look; tuned by simulation (module docstring)
    early_alpha: float = 0.005  # months 1-2: "declining" only when strongly below the expected shed
    min_baseline_visits: int = 2
    baseline_span_days: int = 14
    large_gap_days: int = 70
    stack_recent_days: int = 183
    trend_min_visits: int = 3
    trend_min_span_days: int = 56
    other_shed_log: float = 0.03  # allowance in months 1-2 for treatments without a known shed


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class EvaluatedTreatment:
    treatment: TreatmentKind | None
    start: dt.date | None
    sessions: int
    total_cost: Decimal | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class BenchmarkStanding:
    name: str
    range_pct: tuple[float, float]
    standing: str | None  # None before months 5-6: too early to compare


@dataclass(frozen=True, slots=True)
class ZoneVerdict:
    zone: Zone
    baseline_hairs_per_cm2: float | None
    baseline_scans: int
    latest_hairs_per_cm2: float | None
    change_pct: float | None
    change_pct_ci95: tuple[float, float] | None
    change_hairs_per_cm2: float | None
    change_hairs_per_cm2_ci95: tuple[float, float] | None
    mdc95_pct: float | None
    probability_increase: float | None
    verdict: VerdictKind
    benchmark: BenchmarkStanding | None
    estimator: str = "independent"  # or "matched": the same hairs followed from visit to visit


@dataclass(frozen=True, slots=True)
class OverallVerdict:
    verdict: VerdictKind
    may_not_be_effective: bool
    change_pct: float | None
    change_pct_ci95: tuple[float, float] | None
    probability_increase: float | None
    mdc95_pct: float | None
    zones: tuple[Zone, ...]
    control: str  # "donor" or "seasonal_prior"
    donor_weight: float | None  # b of model.DonorWeight; None without a donor control
    benchmark: BenchmarkStanding | None
    estimator: str = "independent"


@dataclass(frozen=True, slots=True)
class Verdict:
    profile: str
    as_of: dt.date
    evaluated_treatment: EvaluatedTreatment
    months_on_treatment: float | None
    phase: Phase
    zones: tuple[ZoneVerdict, ...]
    overall: OverallVerdict
    cost: CostSummary
    flags: tuple[Flag, ...]
    messages: tuple[str, ...]


_NAMES = {TreatmentKind.MINOXIDIL_TOPICAL: "topical minoxidil", TreatmentKind.MINOXIDIL_ORAL: "oral minoxidil",
          TreatmentKind.PRP: "PRP", TreatmentKind.EV: "EV (exosome)", TreatmentKind.LLLT: "low-level laser",
          TreatmentKind.OTHER: "the other treatment"}


def _name(kind: TreatmentKind | None) -> str:
    return "no treatment" if kind is None else _NAMES.get(kind, kind.value)


def _zname(zone: Zone) -> str:
    return zone.value.replace("_", " ")


def _pct(x: float) -> str:
    return f"{x:+.1f}%"


def _rule(est: ChangeEstimate | None, phase: Phase, shed_log: float, rules: RuleSettings) -> VerdictKind:
    if est is None:
        return VerdictKind.INSUFFICIENT_DATA
    lo = est.bound_log(rules.look_alpha, side="lower")
    hi = est.bound_log(rules.look_alpha, side="upper")
    if phase is Phase.MONTHS_1_2:
        strong = est.bound_log(rules.early_alpha, side="upper") < -shed_log
        return VerdictKind.DECLINING if strong else VerdictKind.TOO_EARLY
    if phase is Phase.BASELINE:
        return VerdictKind.DECLINING if hi < 0 else VerdictKind.NO_MEASURABLE_CHANGE
    if lo > 0:
        return VerdictKind.RESPONDING
    return VerdictKind.DECLINING if hi < 0 else VerdictKind.NO_MEASURABLE_CHANGE


# ---------------------------------------------------------------- the record: profile, dates, treatments

def _profile_of(measurements, treatments, profile: str | None) -> str:
    seen = sorted({m.profile for m in measurements} | {t.profile for t in treatments})
    if profile is None:
        if len(seen) != 1:
            raise InputError(f"the rows hold {len(seen)} profiles ({', '.join(seen) or 'none'}); "
                             "judge one profile at a time or pass profile=")
        return seen[0]
    others = [p for p in seen if p != profile]
    if others:
        raise InputError(f"rows of other profiles ({', '.join(others)}) were passed with profile {profile!r}; "
                         "split the rows by profile first")
    return profile


def _pick_treatment(treatments, requested, as_of, flags):
    starts: dict[TreatmentKind, dt.date] = {}
    for t in treatments:
        kind = TreatmentKind(t.treatment)
        starts[kind] = min(starts.get(kind, t.date), t.date)
    if requested is not None:
        try:
            requested = TreatmentKind(requested)
        except ValueError:
            raise InputError(f"treatment must be one of {', '.join(k.value for k in TreatmentKind)}, "
                             f"got {requested!r}") from None
        if requested not in starts:
            known = ", ".join(sorted(k.value for k in starts)) or "none"
            raise InputError(f"treatment {requested.value!r} is not in this profile's record (it has: {known})")
        return requested, starts
    started = {k: d for k, d in starts.items() if d <= as_of}
    if not started:
        if starts:
            first = min(starts, key=lambda k: (starts[k], k.value))
            flags.append(Flag("treatment_not_started", f"{_name(first)} starts on {starts[first].isoformat()}, "
                              f"after {as_of.isoformat()}: keep scanning your baseline until then"))
        return None, starts
    return max(started, key=lambda k: (started[k], k.value)), starts


def _stack_flags(kind, start, starts, treatments, as_of, rules, flags):
    for other, s in sorted(starts.items(), key=lambda kv: (kv[1], kv[0].value)):
        if other is kind:
            continue
        if s > start and s <= as_of:
            flags.append(Flag("other_treatment_started_later",
                              f"{_name(other)} started on {s.isoformat()}, after {_name(kind)}: "
                              "their effects cannot be told apart"))
        elif s <= start and (start - s).days < rules.stack_recent_days:
            flags.append(Flag("stack_recent",
                              f"{_name(other)} started only {(start - s).days} days before {_name(kind)}; "
                              "it may still be taking effect, and that gain would be credited to the new one"))
        ends = [t.end_date for t in treatments
                if TreatmentKind(t.treatment) is other and t.end_date and t.end_date >= t.date]
        if other not in (TreatmentKind.PRP, TreatmentKind.EV, TreatmentKind.MICRONEEDLING) and ends \
                and start < max(ends) <= as_of and s <= start:
            flags.append(Flag("stack_stopped", f"{_name(other)} stopped on {max(ends).isoformat()}, during the "
                              f"evaluation of {_name(kind)}: a loss may come from stopping it"))


def _gap_flags(dates: Sequence[dt.date], rules: RuleSettings, flags) -> None:
    for a, b in zip(dates, dates[1:]):
        if (b - a).days > rules.large_gap_days:
            flags.append(Flag("large_visit_gap", f"no scan between {a.isoformat()} and {b.isoformat()} "
                              f"({(b - a).days} days); monthly scans make the verdict sharper"))
            return


# ---------------------------------------------------------------- judge

def judge(
    measurements: Sequence[Measurement],
    treatments: Sequence[Treatment] = (),
    *,
    as_of: dt.date | None = None,
    treatment: TreatmentKind | str | None = None,
    profile: str | None = None,
    sex: Sex | str | None = None,
    today: dt.date | None = None,
    prior: NoisePrior = NoisePrior(),
    rules: RuleSettings = RuleSettings(),
    scan_weights: Mapping[tuple[dt.date, Zone, int], float] | None = None,
    matched: Sequence[MatchedPair] | None = None,
    matched_prior: MatchedPrior = MatchedPrior(),
) -> Verdict:
    """Judge whether the evaluated treatment is changing this profile's hair density.

    Parameters
    ----------
    measurements : sequence of Measurement
        One profile's rows, any order; ``hairs_per_cm2`` is used, coverage-only rows are flagged.
    treatments : sequence of Treatment
        The same profile's treatments (one row per session for PRP, EV, microneedling).
    as_of : date, optional
        Judge the record as it stood on this day; default: the latest scan.
    treatment : TreatmentKind, optional
        The treatment to evaluate; default: the one started last.
    profile : str, optional
        The profile's name; default: taken from the rows (which must then hold one profile).
    sex : Sex, optional
        For women the donor zone is not used as a control (diffuse loss can reach it).
    today : date, optional
        For the future-date check; default ``date.today()``.
    scan_weights : mapping, optional
        Capture-protocol weights by ``(date, zone, replicate)`` (``analysis.protocol.check_protocol``):
        0 leaves a scan out (another patch of scalp); below 1 inflates the variance of its visit by
        ``1 / weight`` (a broken capture rule adds error that its replicates share). Missing keys weigh 1.
    matched : sequence of MatchedPair, optional
        Hairs matched between each image and the zone's previous visit (``tracking.ingest``). Where a
        zone's matched steps connect its visits from baseline to the current window, its change is
        measured on the same hairs (``analysis.matched``), which removes the error of re-finding the
        patch; the independent counts remain the check (a strong disagreement falls back to them).

    Returns
    -------
    Verdict

    Raises
    ------
    InputError
        Rows of several profiles, or a ``treatment`` that is not in the record.

    Examples
    --------
    >>> from hairtrack.synth import simulate_patient
    >>> p = simulate_patient(7, effect_pct=35.0, treatment=TreatmentKind.PRP)
    >>> v = judge(p.measurements, p.treatments, as_of=p.truth.start + dt.timedelta(days=375))
    >>> v.phase.value, v.overall.verdict.value
    ('after_6', 'responding')
    """
    flags: list[Flag] = []
    profile = _profile_of(measurements, treatments, profile)
    if sex is not None:
        try:
            sex = Sex(sex)
        except ValueError:
            raise InputError(f"sex must be one of {', '.join(x.value for x in Sex)}, got {sex!r}") from None
    today = today or dt.date.today()
    future = [m for m in measurements if m.date > today] + [t for t in treatments if t.date > today]
    if future:
        flags.append(Flag("future_dates", f"{len(future)} rows are dated after today ({today.isoformat()}); "
                          "they were left out: check the dates"))
    rows = [m for m in measurements if m.date <= today]
    if as_of is None:
        as_of = max((m.date for m in rows), default=min(today, max((t.date for t in treatments), default=today)))
    rows = [m for m in rows if m.date <= as_of]
    weights = {(d, Zone(z), r): float(w) for (d, z, r), w in (scan_weights or {}).items()}
    excluded = [m for m in rows if weights.get((m.date, Zone(m.zone), m.replicate), 1.0) <= 0.0]
    if excluded:
        flags.append(Flag("capture_excluded", f"{len(excluded)} scans were left out because they show another patch "
                          "of scalp than the earlier scans of their zone (see the capture conditions)"))
        rows = [m for m in rows if weights.get((m.date, Zone(m.zone), m.replicate), 1.0) > 0.0]
    for t in treatments:
        if t.end_date is not None and t.end_date < t.date:
            flags.append(Flag("treatment_ends_before_start", f"{_name(TreatmentKind(t.treatment))} on "
                              f"{t.date.isoformat()} ends on {t.end_date.isoformat()}, before it starts; "
                              "the end date was ignored"))
    cands = [t for t in treatments if t.date <= today]
    kind, starts = _pick_treatment(cands, treatment, as_of, flags)
    start = starts.get(kind) if kind is not None else None
    if start is not None and start > as_of:
        flags.append(Flag("treatment_not_started", f"{_name(kind)} starts on {start.isoformat()}, after "
                          f"{as_of.isoformat()}: this is still the baseline"))
        start_eff = None
    else:
        start_eff = start
    own_rows = [t for t in cands if kind is not None and TreatmentKind(t.treatment) is kind and t.date <= as_of]
    if kind is not None and start_eff is not None:
        _stack_flags(kind, start_eff, {k: d for k, d in starts.items() if d <= as_of}, cands, as_of, rules, flags)
    months = round((as_of - start_eff).days / MONTH_DAYS, 1) if start_eff is not None else None
    phase = phase_at((as_of - start_eff).days) if start_eff is not None else Phase.BASELINE

    coverage_only = sorted({Zone(m.zone) for m in rows if m.hairs_per_cm2 is None} -
                           {Zone(m.zone) for m in rows if m.hairs_per_cm2 is not None}, key=list(Zone).index)
    if coverage_only:
        flags.append(Flag("coverage_only", f"{', '.join(_zname(z) for z in coverage_only)}: only coverage was "
                          "measured; density verdicts need trichoscopy scans with a scale (hairs/cm²)"))
    fit = fit_replicates(rows, prior=prior)
    by_zone: dict[Zone, dict[dt.date, VisitMean]] = defaultdict(dict)
    down = 0
    for v in fit.visits:
        w = min((weights.get((m.date, Zone(m.zone), m.replicate), 1.0) for m in rows
                 if m.date == v.date and Zone(m.zone) is v.zone), default=1.0)
        if w < 1.0:
            down += 1
            v = replace(v, capture_weight=w)
        by_zone[v.zone][v.date] = v
    if down:
        flags.append(Flag("capture_down_weighted", f"{down} zone visits broke a capture rule (time of day, hair "
                          "length, device, lighting, position or measurement method) and count for less in the estimate"))
    for o in fit.outliers:
        if o.resolved:
            flags.append(Flag("outlier_replicate", f"{_zname(o.zone)} on {o.date.isoformat()}: image "
                              f"{o.replicate} ({o.hairs_per_cm2:.0f} hairs/cm²) is far from the others "
                              f"({o.centre_hairs_per_cm2:.0f}) and was left out; retake it if you can"))
        else:
            flags.append(Flag("replicates_disagree", f"{_zname(o.zone)} on {o.date.isoformat()}: the two images "
                              "disagree strongly and there is nothing to tell which is right; take a third"))
    if fit.single_image_visits:
        flags.append(Flag("few_replicates", f"{fit.single_image_visits} zone scans have a single image; take "
                          "2-3 images per zone per visit so your own noise can be measured"))

    # Control: the donor zone, unless the treatment or the person makes it respond or lose too.
    treated = [z for z in Zone if z is not Zone.DONOR and z in by_zone]
    reason = None
    if kind is TreatmentKind.MINOXIDIL_ORAL or TreatmentKind.MINOXIDIL_ORAL in {
            k for k, d in starts.items() if start_eff is not None and start_eff <= d <= as_of}:
        reason = "oral minoxidil grows donor hair too"
    elif sex is not None and Sex(sex) is Sex.FEMALE:
        reason = "in women the occipital (donor) density can fall too"
    else:
        donor_dates = sorted(by_zone.get(Zone.DONOR, {}))
        n_base = sum(1 for d in donor_dates if start_eff is None or d <= start_eff)
        if n_base < (rules.min_baseline_visits if start_eff is not None else rules.trend_min_visits):
            reason = "the donor zone (back of the head) has too few scans"
    use_donor = reason is None
    if not use_donor and treated:
        flags.append(Flag("donor_control_unavailable", f"{reason}, so it is not used as the control; season is "
                          "allowed for with an average seasonal pattern instead, which is less exact"
                          + ("; scan the donor zone at every visit" if "few scans" in reason else "")))

    visit_dates = sorted({v.date for v in fit.visits})
    if start_eff is not None:
        base_dates = [d for d in visit_dates if d <= start_eff]
        if base_dates and (start_eff - base_dates[0]).days < rules.baseline_span_days:
            flags.append(Flag("baseline_too_short", f"the baseline spans {(start_eff - base_dates[0]).days} days "
                              f"before {_name(kind)} started; 2 weeks or more (2-4 scan days) averages out "
                              "day-to-day noise"))
        _gap_flags([d for d in visit_dates if d >= base_dates[-1]] if base_dates else visit_dates, rules, flags)
    else:
        _gap_flags(visit_dates, rules, flags)

    shed = _SHEDDING.get(kind, rules.other_shed_log) if kind is not None else 0.0
    bench = density_benchmark(kind)
    weight = fit_donor_weight(by_zone, treated, start_eff, as_of, fit.replicate_sd_log, prior) if use_donor else None
    zone_verdicts, centres, insufficient = [], {}, []
    # Matched counts: steps between consecutive visits of a zone, on the same hairs (analysis.matched).
    steps: MatchedSteps | None = None
    if matched and start_eff is not None:
        kept_keys = {(m.date, Zone(m.zone), m.replicate) for m in rows}
        steps = matched_steps([p for p in matched if (p.date, Zone(p.zone), p.replicate) in kept_keys
                               and p.date <= as_of], matched_prior)
    chains: dict[Zone, ZoneContrast] = {}
    estimators: dict[Zone, str] = {}
    disagree: list[Zone] = []
    # The matched change carries the part a visit shares (light, hair length) in full. Its estimate from the
    # independent counts' treated-donor covariance is noisy where photos are (it can fall to 0), so the
    # matched interval never takes less than the prior's value.
    prior_u2 = prior.shared_sd_log**2 + prior.seasonal_residual_sd_log**2
    shared_u2 = max(weight.shared_var_log2, prior_u2) if weight is not None else prior_u2

    def visit_weights(zs) -> dict[dt.date, float]:
        out: dict[dt.date, float] = {}
        for zz in zs:
            for d, vm in by_zone[zz].items():
                out[d] = min(out.get(d, 1.0), vm.capture_weight)
        return out

    def donor_chain(chain: ZoneContrast) -> ZoneContrast | None:
        donor = by_zone.get(Zone.DONOR, {})
        return donor_contrast(steps, list(donor), chain) if use_donor and steps is not None and donor else None

    for z in treated:
        raw = by_zone[z]
        series = build_series(by_zone, (z,), {z: 0.0}, weight, fit.replicate_sd_log, prior)
        if start_eff is None:
            est = trend_change(series, min_visits=rules.trend_min_visits, min_span_days=rules.trend_min_span_days,
                               prior=prior)
            base_dates = series.dates
        else:
            c = phase_contrast(series, start_eff, as_of, min_baseline_visits=rules.min_baseline_visits, prior=prior)
            est, base_dates = c.estimate, c.baseline_dates
            if c.fallback and est is not None:
                flags.append(Flag("window_fallback", f"{_zname(z)}: no scan in the current phase; the change uses "
                                  f"the latest scans ({c.window_phase.value})"))
            if est is not None and steps is not None:
                chain = zone_contrast(z, steps, series.dates, c.baseline_dates, c.window_dates)
                if chain is not None:
                    chains[z] = chain
                    m_est, _ = combine_contrasts([chain], donor_chain(chain), shared_var_log2=shared_u2,
                                              capture_weights=visit_weights((z,)), pair_dof=steps.dof, prior=prior)
                    choice = prefer_matched(est, m_est)
                    if choice == "matched":  # the matched hairs measure this zone's change better
                        est, estimators[z] = m_est, "matched"
                    else:
                        chains.pop(z)
                        if choice == "disagree":
                            disagree.append(z)
        base_raw = [raw[d].log_mean for d in base_dates]
        enough = est is not None if start_eff is None else len(base_raw) >= rules.min_baseline_visits
        if enough:
            centres[z] = float(np.mean(base_raw))
        base_h = float(np.exp(np.mean(base_raw))) if base_raw else None
        latest = raw[max(raw)].hairs_per_cm2 if raw else None
        verdict = _rule(est, phase, shed, rules)
        if verdict is VerdictKind.INSUFFICIENT_DATA and enough and phase is Phase.MONTHS_1_2:
            verdict = VerdictKind.TOO_EARLY  # a good baseline and no scan since: nothing to judge yet
        if verdict is VerdictKind.INSUFFICIENT_DATA:
            insufficient.append((z, len(base_raw)))
        zone_verdicts.append(replace(_zone_verdict(z, est, base_h, len(base_raw), latest, verdict, bench, phase),
                                     estimator=estimators.get(z, "independent")))
    if disagree:
        flags.append(Flag("matched_disagrees", f"{', '.join(_zname(z) for z in disagree)}: the change on the "
                          "matched hairs disagrees strongly with the independent counts, so the independent counts "
                          "are used; check the registration of the latest scans (the same spot?)"))

    overall_est = None
    o_estimator = "independent"
    o_b = weight.b if weight is not None else None
    o_zones = tuple(centres)
    if o_zones:
        s = build_series(by_zone, o_zones, centres, weight, fit.replicate_sd_log, prior)
        if start_eff is not None:
            overall_est = phase_contrast(s, start_eff, as_of, min_baseline_visits=rules.min_baseline_visits,
                                         prior=prior).estimate
            if overall_est is not None and steps is not None and all(z in chains for z in o_zones):
                # every zone of the overall change was matched: their mean, with one donor chain
                dchains = [donor_chain(chains[z]) for z in o_zones]
                dchain = None
                if all(dc is not None for dc in dchains):
                    dchain = dchains[0]
                    if any(dict(dc.coef) != dict(dchain.coef) for dc in dchains[1:]):
                        dchain = None  # zones compare different visits: no single donor contrast
                m_est, m_b = combine_contrasts([chains[z] for z in o_zones], dchain, shared_var_log2=shared_u2,
                                            capture_weights=visit_weights(o_zones), pair_dof=steps.dof, prior=prior)
                if prefer_matched(overall_est, m_est) == "matched":
                    overall_est, o_estimator = m_est, "matched"
                    o_b = m_b if dchain is not None else None
        else:
            overall_est = trend_change(s, min_visits=rules.trend_min_visits,
                                       min_span_days=rules.trend_min_span_days, prior=prior)
    o_verdict = _rule(overall_est, phase, shed, rules)
    if o_verdict is VerdictKind.INSUFFICIENT_DATA and o_zones and phase is Phase.MONTHS_1_2:
        o_verdict = VerdictKind.TOO_EARLY
    sessions = len(own_rows) if kind is not None and kind.is_session else (1 if kind is not None else 0)
    flat = o_verdict in (VerdictKind.NO_MEASURABLE_CHANGE, VerdictKind.DECLINING)
    mne = bool(flat and months is not None and months >= 6.0 and (kind is not None and (
        not kind.is_session or sessions >= 3)))
    o_ci = overall_est.change_pct_ci(0.95) if overall_est is not None else None
    overall = OverallVerdict(
        o_verdict, mne, overall_est.change_pct if overall_est else None, o_ci,
        overall_est.probability_increase if overall_est else None,
        overall_est.mdc95_pct if overall_est else None, o_zones, "donor" if use_donor else "seasonal_prior",
        o_b, _standing(bench, overall_est, phase), o_estimator)
    cost = summarize_cost(own_rows, change_pct=overall.change_pct if overall_est and start_eff else None,
                          change_pct_ci95=o_ci if start_eff else None)
    if cost.rows_without_cost and kind is not None and kind.is_session:
        flags.append(Flag("sessions_without_cost", f"{cost.rows_without_cost} of {len(own_rows)} sessions have "
                          "no cost; add them for a true cost per percentage point"))
    if len(cost.currencies) > 1:
        flags.append(Flag("mixed_currencies", f"costs are in {', '.join(cost.currencies)}; no total is given"))
    evaluated = EvaluatedTreatment(kind, start, sessions, cost.total, cost.currency)
    messages = _messages(kind, start_eff, months, phase, overall, zone_verdicts, insufficient, treated,
                         coverage_only, bench, cost, use_donor, shed)
    matched_zones = [z.zone for z in zone_verdicts if z.estimator == "matched"]
    if matched_zones:
        messages.append(f"{', '.join(_zname(z) for z in matched_zones)}: the change is measured on the same hairs, "
                        "matched from one visit to the next, which takes out the error of finding the spot again"
                        + ("" if overall.estimator == "matched" else "; the overall change uses independent counts"))
    return Verdict(profile, as_of, evaluated, months, phase, tuple(zone_verdicts), overall, cost,
                   tuple(flags), tuple(messages))


def _standing(bench, est, phase) -> BenchmarkStanding | None:
    if bench is None:
        return None
    ready = est is not None and phase in (Phase.MONTHS_5_6, Phase.AFTER_6)
    return BenchmarkStanding(bench.name, bench.range_pct, bench.standing(est.change_pct) if ready else None)


def _zone_verdict(z, est, base_h, n_base, latest, verdict, bench, phase) -> ZoneVerdict:
    if est is None:
        return ZoneVerdict(z, base_h, n_base, latest, None, None, None, None, None, None, verdict,
                           _standing(bench, None, phase))
    lo, hi = est.change_pct_ci(0.95)
    ch = base_h * est.change_pct / 100 if base_h is not None else None
    ch_ci = (base_h * lo / 100, base_h * hi / 100) if base_h is not None else None
    return ZoneVerdict(z, base_h, n_base, latest, est.change_pct, (lo, hi), ch, ch_ci, est.mdc95_pct,
                       est.probability_increase, verdict, _standing(bench, est, phase))


# ---------------------------------------------------------------- messages and the JSON view

def _ci_text(ci) -> str:
    return f"95% interval {_pct(ci[0])} to {_pct(ci[1])}"


def _messages(kind, start, months, phase, overall, zones, insufficient, treated, coverage_only, bench, cost,
              use_donor, shed) -> list[str]:
    out: list[str] = []
    name = _name(kind)
    where = ", ".join(_zname(z) for z in overall.zones) or "the treated zones"
    if not treated:
        scan = "the treated zones (e.g. crown, mid scalp) and the donor zone"
        out.append(f"No density scans to judge{' (only coverage)' if coverage_only else ''}: scan {scan} with "
                   "2-3 trichoscopy images each, with a scale, on 2-4 days over 2-4 weeks, then monthly.")
        return out
    if start is None:
        if overall.change_pct is None:
            out.append("No treatment is being evaluated and there are too few scans to describe your trend: scan "
                       f"{where} and the donor zone monthly; a trend needs 3 scan days over 8 weeks or more.")
        else:
            out.append(f"No treatment is being evaluated: over your record, density in {where} changed by "
                       f"{_pct(overall.change_pct)} ({_ci_text(overall.change_pct_ci95)}), "
                       + ("which is a real decline." if overall.verdict is VerdictKind.DECLINING
                          else "which is within the noise of your scans."))
            out.append("Scan 2-4 times over 2-4 weeks before starting a treatment: that is the baseline it is "
                       "judged against.")
        return out
    when = f"{months:.1f} months into {name}" + (f" ({cost.rows} sessions)"
                                                  if kind.is_session else "")
    v = overall.verdict
    if v is VerdictKind.INSUFFICIENT_DATA:
        short = [(z, n) for z, n in insufficient if n < 2]
        if short or not overall.zones:
            zs = ", ".join(_zname(z) for z, _ in short) or where
            n = min((n for _, n in short), default=0)
            out.append(f"Not enough baseline: {zs} had {n} scan day(s) before {name} started on "
                       f"{start.isoformat()}; a verdict needs at least 2 (better 3-4 over 2-4 weeks), each with "
                       "2-3 images and the donor zone. Scan before your next treatment starts.")
        else:
            out.append(f"{when}: no recent scan to compare with your baseline. Scan {where} and the donor zone "
                       "now, 2-3 images each.")
    else:
        has = overall.change_pct is not None
        numbers = f"{_pct(overall.change_pct)} ({_ci_text(overall.change_pct_ci95)})" if has else ""
        noise = f"changes under {overall.mdc95_pct:.0f}% cannot be told from the noise of these scans" if has else ""
        if v is VerdictKind.TOO_EARLY:
            out.append(f"{when}: too early to judge. No change is expected before month 3"
                       + (f", and a temporary shed of up to {100 * shed:.0f}% is common" if shed >= 0.05 else "")
                       + (f". So far: {numbers}." if has else ". Keep scanning monthly."))
        elif v is VerdictKind.RESPONDING:
            out.append(f"{when}: {name} is working. Density in {where} is {numbers} compared with your baseline; "
                       f"{noise}, and this is beyond them (probability of a rise "
                       f"{100 * overall.probability_increase:.0f}%).")
        elif v is VerdictKind.DECLINING:
            out.append(f"{when}: density in {where} is falling: {numbers} compared with your baseline.")
        else:
            out.append(f"{when}: no change beyond the noise yet: {numbers}; {noise}."
                       + (" Early responders rise by now, but many need until month 6." if phase is
                          Phase.MONTHS_3_4 else " Keep scanning monthly."))
    if overall.may_not_be_effective:
        out.append(f"After {months:.1f} months density is flat or falling: {name} may not be effective for you. "
                   "Discuss with your dermatologist whether to go on.")
    for zv in zones:
        if zv.change_pct is not None and len(zones) > 1:
            out.append(f"{_zname(zv.zone).capitalize()}: {_pct(zv.change_pct)} ({_ci_text(zv.change_pct_ci95)}), "
                       f"{zv.verdict.value.replace('_', ' ')}.")
    if overall.benchmark is not None and overall.benchmark.standing is not None:
        lo, hi = overall.benchmark.range_pct
        if kind is TreatmentKind.EV:
            if overall.change_pct >= lo:
                out.append(f"Your EV result matches or beats what PRP typically gives ({lo:.0f}-{hi:.0f}%): "
                           "it performs well.")
            elif overall.change_pct_ci95[1] < lo:
                out.append(f"Your EV result is far below what PRP typically gives ({lo:.0f}-{hi:.0f}% in "
                           "clinical studies): the cost-benefit favours switching to or adding PRP.")
            else:
                out.append(f"Your EV result is below PRP's typical {lo:.0f}-{hi:.0f}%, though its interval "
                           "reaches that range.")
        else:
            out.append(f"Clinical studies of {name} report {lo:.0f}-{hi:.0f}%; your result is "
                       f"{overall.benchmark.standing} that range.")
    if cost.total is not None:
        line = f"Spent on {name}: {cost.total} {cost.currency}."
        if cost.cost_per_pct_point is not None:
            lo_c, hi_c = cost.cost_per_pct_point_ci95
            line += (f" That is {cost.cost_per_pct_point} {cost.currency} per percentage point of density "
                     f"(95% interval {lo_c if lo_c is not None else '?'} to "
                     f"{hi_c if hi_c is not None else 'no upper limit'}).")
        elif overall.change_pct is not None:
            line += " No density gain was measured, so there is no cost per percentage point."
        p_lo, p_hi = cost.prp_benchmark_per_pct_point
        line += f" A typical PRP course costs {p_lo}-{p_hi} USD per percentage point."
        out.append(line)
    if not use_donor:
        out.append("The donor zone could not serve as the control, so the interval is wider; see the flags.")
    return out


def _r(x: float | None, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def _pair(p, nd: int):
    return None if p is None else [_r(p[0], nd), _r(p[1], nd)]


def _money(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def _bench_dict(b: BenchmarkStanding | None):
    return None if b is None else {"name": b.name, "range_pct": list(b.range_pct), "standing": b.standing}


def verdict_to_dict(v: Verdict) -> dict[str, Any]:
    """The JSON object of DESIGN.md 3.3: dates as ISO strings, money as decimal strings (exact).

    Percentages and hairs/cm² are rounded to 0.01, probabilities to 0.001; a missing value is None.
    """
    et = v.evaluated_treatment
    zones = {}
    for z in v.zones:
        zones[z.zone.value] = {
            "baseline_hairs_per_cm2": _r(z.baseline_hairs_per_cm2, 2),
            "baseline_scans": z.baseline_scans,
            "latest_hairs_per_cm2": _r(z.latest_hairs_per_cm2, 2),
            "change_pct": _r(z.change_pct, 2),
            "change_pct_ci95": _pair(z.change_pct_ci95, 2),
            "change_hairs_per_cm2": _r(z.change_hairs_per_cm2, 2),
            "change_hairs_per_cm2_ci95": _pair(z.change_hairs_per_cm2_ci95, 2),
            "mdc95_pct": _r(z.mdc95_pct, 2),
            "probability_increase": _r(z.probability_increase, 3),
            "verdict": z.verdict.value,
            "benchmark": _bench_dict(z.benchmark),
            "estimator": z.estimator,
        }
    o = v.overall
    c = v.cost
    return {
        "profile": v.profile,
        "as_of": v.as_of.isoformat(),
        "evaluated_treatment": {
            "treatment": et.treatment.value if et.treatment is not None else None,
            "start": et.start.isoformat() if et.start is not None else None,
            "sessions": et.sessions,
            "total_cost": _money(et.total_cost),
            "currency": et.currency,
        },
        "months_on_treatment": v.months_on_treatment,
        "phase": v.phase.value,
        "zones": zones,
        "overall": {
            "verdict": o.verdict.value,
            "may_not_be_effective": o.may_not_be_effective,
            "change_pct": _r(o.change_pct, 2),
            "change_pct_ci95": _pair(o.change_pct_ci95, 2),
            "probability_increase": _r(o.probability_increase, 3),
            "mdc95_pct": _r(o.mdc95_pct, 2),
            "zones": [z.value for z in o.zones],
            "control": o.control,
            "donor_weight": _r(o.donor_weight, 3),
            "benchmark": _bench_dict(o.benchmark),
            "estimator": o.estimator,
        },
        "cost": {
            "total": _money(c.total),
            "currency": c.currency,
            "rows": c.rows,
            "rows_without_cost": c.rows_without_cost,
            "currencies": list(c.currencies),
            "cost_per_pct_point": _money(c.cost_per_pct_point),
            "cost_per_pct_point_ci95": [_money(c.cost_per_pct_point_ci95[0]), _money(c.cost_per_pct_point_ci95[1])],
            "prp_benchmark": {
                "course_cost": [_money(x) for x in c.prp_benchmark_course_cost],
                "per_pct_point": [_money(x) for x in c.prp_benchmark_per_pct_point],
                "currency": c.prp_benchmark_currency,
            },
            "note": c.note,
        },
        "flags": [{"code": f.code, "message": f.message} for f in v.flags],
        "messages": list(v.messages),
    }
