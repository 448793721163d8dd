"""The treatment reference: what each treatment is and what the literature says it does, every figure sourced.

The data live in ``reference.toml``, next to this module. The same file holds the ``[benchmark.*]`` tables
the verdict compares a person's record with (:mod:`hairtrack.analysis.benchmarks` reads them), so the
reference pages and the verdict cannot disagree: a treatment entry names its benchmarks instead of
repeating their numbers, and :func:`treatment_info` attaches the very :class:`~hairtrack.analysis.benchmarks.Reference`
objects the verdict uses.

Contents: the three kinds of extracellular vesicles (:func:`ev_types`), the proposed mechanisms
(:func:`mechanisms`), what is and is not established (:func:`claims`), the PRP vs EV comparison
(:func:`prp_vs_ev`) and one entry per :class:`~hairtrack.domain.TreatmentKind` (:func:`treatment_info`).
:func:`render_info` writes any of them as plain text for ``hairtrack info [TREATMENT]``;
:func:`reference_to_dict` gives the JSON view for the web.

This is information, not medical advice.
"""

from __future__ import annotations

import difflib
import functools
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hairtrack.analysis.benchmarks import Reference, load_references
from hairtrack.domain import TreatmentKind
from hairtrack.errors import InputError

__all__ = [
    "Sourced",
    "EvType",
    "Mechanism",
    "Claim",
    "ComparisonRow",
    "TreatmentInfo",
    "EVIDENCE_LEVELS",
    "INFO_TOPICS",
    "treatment_info",
    "ev_types",
    "mechanisms",
    "claims",
    "prp_vs_ev",
    "reference_to_dict",
    "render_info",
    "benchmark_text",
]

_TOML = Path(__file__).with_name("reference.toml")
EVIDENCE_LEVELS = ("high", "moderate", "low", "very_low", "unknown")
INFO_TOPICS = ("ev-types", "mechanisms", "evidence", "prp-vs-ev")
_FIELDS = ("what", "dose", "effect", "time_to_effect", "early_shed", "evidence", "fda_status")

# Other names people type for a treatment. "minoxidil" alone is ambiguous and is refused with both choices.
_ALIASES = {
    "exosome": TreatmentKind.EV, "exosomes": TreatmentKind.EV, "extracellular_vesicles": TreatmentKind.EV,
    "evs": TreatmentKind.EV, "platelet_rich_plasma": TreatmentKind.PRP, "propecia": TreatmentKind.FINASTERIDE,
    "avodart": TreatmentKind.DUTASTERIDE, "rogaine": TreatmentKind.MINOXIDIL_TOPICAL,
    "laser": TreatmentKind.LLLT, "low_level_laser": TreatmentKind.LLLT, "nizoral": TreatmentKind.KETOCONAZOLE,
    "dermaroller": TreatmentKind.MICRONEEDLING,
}


@dataclass(frozen=True, slots=True)
class Sourced:
    """A statement and the source it comes from."""

    text: str
    source: str


@dataclass(frozen=True, slots=True)
class EvType:
    """One kind of extracellular vesicle, with its size range in nanometres."""

    key: str
    name: str
    size_nm: tuple[float, float]
    origin: str
    source: str


@dataclass(frozen=True, slots=True)
class Mechanism:
    """A proposed mechanism; ``status`` says how far the evidence reaches (``preclinical``: not in people)."""

    key: str
    name: str
    summary: str
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A statement that is ``established`` or ``not_established``."""

    text: str
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One aspect of PRP vs EV; benchmark figures are written into ``prp``/``ev`` from the benchmark tables."""

    aspect: str
    prp: Sourced
    ev: Sourced
    prp_benchmark: Reference | None
    ev_benchmark: Reference | None


@dataclass(frozen=True, slots=True)
class TreatmentInfo:
    """The reference entry of one treatment kind.

    ``benchmarks`` are the verdict's own :class:`Reference` values for this treatment;
    ``early_shed_benchmark`` is the shed the verdict allows early on (None where it assumes none).
    """

    kind: TreatmentKind
    name: str
    what: Sourced
    dose: Sourced
    effect: Sourced
    benchmarks: tuple[Reference, ...]
    time_to_effect: Sourced
    early_shed: Sourced
    early_shed_benchmark: Reference | None
    evidence_level: str
    evidence: Sourced
    fda_status: Sourced


@dataclass(frozen=True, slots=True)
class _Reference:
    meta: Mapping[str, Any]
    ev_types: tuple[EvType, ...]
    mechanisms: tuple[Mechanism, ...]
    claims: tuple[Claim, ...]
    comparison: tuple[ComparisonRow, ...]
    treatments: Mapping[TreatmentKind, TreatmentInfo]


def _need(where: str, entry: Mapping, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if not (isinstance(entry.get(k), str) and entry[k].strip())]
    if missing:
        raise ValueError(f"reference.toml {where} lacks a non-empty {missing}")


def _bench(where: str, name: str | None, refs: Mapping[str, Reference]) -> Reference | None:
    if name is None:
        return None
    if name not in refs:
        raise ValueError(f"reference.toml {where} names benchmark {name!r}, which has no [benchmark.{name}] table")
    return refs[name]


def _fmt_range(lo: float, hi: float) -> str:
    return f"{lo:,.4g}" if lo == hi else f"{lo:,.4g} to {hi:,.4g}"


def benchmark_text(ref: Reference) -> str:
    """A benchmark as one phrase: value, then unit, e.g. ``30 to 40 (% change in hair density from baseline)``."""
    return f"{_fmt_range(ref.low, ref.high)} ({ref.unit})"


def _side(where: str, row: Mapping, side: str, refs: Mapping[str, Reference]) -> tuple[Sourced, Reference | None]:
    bench = _bench(where, row.get(f"{side}_benchmark"), refs)
    parts, sources = [], []
    if bench is not None:
        parts.append(benchmark_text(bench))
        sources.append(bench.source)
    if side in row:
        _need(where, row, (side, f"{side}_source"))
        parts.append(row[side])
        sources.append(row[f"{side}_source"])
    if not parts:
        raise ValueError(f"reference.toml {where} has neither {side} nor {side}_benchmark")
    return Sourced(". ".join(p.rstrip(".") for p in parts) + ".", " ".join(sources)), bench


@functools.cache
def _load(path: Path = _TOML) -> _Reference:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    refs = load_references() if path == _TOML else load_references(path)  # same cached objects as the verdict
    evs = []
    for key, e in raw.get("ev_type", {}).items():
        _need(f"[ev_type.{key}]", e, ("name", "origin", "source"))
        lo, hi = (float(x) for x in e["size_nm"])
        evs.append(EvType(key, e["name"], (lo, hi), e["origin"], e["source"]))
    mechs = []
    for key, e in raw.get("mechanism", {}).items():
        _need(f"[mechanism.{key}]", e, ("name", "summary", "status", "source"))
        mechs.append(Mechanism(key, e["name"], e["summary"], e["status"], e["source"]))
    cls = []
    for i, e in enumerate(raw.get("claim", [])):
        _need(f"[[claim]] #{i + 1}", e, ("text", "status", "source"))
        if e["status"] not in ("established", "not_established"):
            raise ValueError(f"reference.toml [[claim]] #{i + 1} status must be established or not_established")
        cls.append(Claim(e["text"], e["status"], e["source"]))
    rows = []
    for i, e in enumerate(raw.get("comparison", [])):
        where = f"[[comparison]] #{i + 1}"
        _need(where, e, ("aspect",))
        prp, prp_b = _side(where, e, "prp", refs)
        ev, ev_b = _side(where, e, "ev", refs)
        rows.append(ComparisonRow(e["aspect"], prp, ev, prp_b, ev_b))
    treatments = {}
    for kind in TreatmentKind:
        where = f"[treatment.{kind.value}]"
        e = raw.get("treatment", {}).get(kind.value)
        if e is None:
            raise ValueError(f"reference.toml lacks {where}: every TreatmentKind needs an entry")
        _need(where, e, ("name",) + _FIELDS + tuple(f"{f}_source" for f in _FIELDS))
        if e.get("evidence_level") not in EVIDENCE_LEVELS:
            raise ValueError(f"reference.toml {where} evidence_level must be one of {EVIDENCE_LEVELS}")
        f = {name: Sourced(e[name], e[f"{name}_source"]) for name in _FIELDS}
        treatments[kind] = TreatmentInfo(
            kind, e["name"], f["what"], f["dose"], f["effect"],
            tuple(_bench(where, b, refs) for b in e.get("benchmarks", [])),
            f["time_to_effect"], f["early_shed"], _bench(where, e.get("early_shed_benchmark"), refs),
            e["evidence_level"], f["evidence"], f["fda_status"],
        )
    unknown = set(raw.get("treatment", {})) - {k.value for k in TreatmentKind}
    if unknown:
        raise ValueError(f"reference.toml has treatment entries for unknown kinds {sorted(unknown)}")
    return _Reference(raw.get("meta", {}), tuple(evs), tuple(mechs), tuple(cls), tuple(rows), treatments)


def _kind(kind_or_name: TreatmentKind | str) -> TreatmentKind:
    if isinstance(kind_or_name, TreatmentKind):
        return kind_or_name
    if not isinstance(kind_or_name, str) or not kind_or_name.strip():
        raise InputError(f"treatment must be a treatment name, got {kind_or_name!r}")
    key = kind_or_name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in {k.value for k in TreatmentKind}:
        return TreatmentKind(key)
    if key in _ALIASES:
        return _ALIASES[key]
    choices = sorted({k.value for k in TreatmentKind} | set(_ALIASES))
    if key == "minoxidil":
        hint = " (say minoxidil_topical or minoxidil_oral)"
    else:
        close = difflib.get_close_matches(key, choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise InputError(f"unknown treatment {kind_or_name!r}{hint}; known: "
                     f"{', '.join(k.value for k in TreatmentKind)}")


def treatment_info(kind_or_name: TreatmentKind | str) -> TreatmentInfo:
    """The reference entry of a treatment, by :class:`TreatmentKind` or name (``"prp"``, ``"exosomes"``, ...).

    Raises
    ------
    InputError
        For an unknown name; the message suggests the closest known one.

    Examples
    --------
    >>> info = treatment_info("exosomes")
    >>> info.kind.value, info.evidence_level
    ('ev', 'very_low')
    >>> [b.name for b in info.benchmarks]
    ['ev_density_increase', 'prp_density_increase']
    >>> treatment_info("finasteride").dose.text
    '1 mg by mouth once a day.'
    """
    return _load().treatments[_kind(kind_or_name)]


def ev_types() -> tuple[EvType, ...]:
    """The three kinds of extracellular vesicles, smallest first.

    Examples
    --------
    >>> [(t.key, t.size_nm) for t in ev_types()]
    [('exosomes', (30.0, 150.0)), ('microvesicles', (100.0, 1000.0)), ('apoptotic_bodies', (500.0, 2000.0))]
    """
    return _load().ev_types


def mechanisms() -> tuple[Mechanism, ...]:
    """The proposed mechanisms of PRP and EV treatments, with how far the evidence reaches."""
    return _load().mechanisms


def claims() -> tuple[Claim, ...]:
    """What is established and what is not, each with its source."""
    return _load().claims


def prp_vs_ev() -> tuple[ComparisonRow, ...]:
    """PRP vs EV: mechanism, evidence level, density increase, cost per session, FDA status, source, sessions."""
    return _load().comparison


def _s(x: Sourced) -> dict[str, str]:
    return {"text": x.text, "source": x.source}


def _b(r: Reference | None) -> dict[str, Any] | None:
    return None if r is None else {"name": r.name, "kind": r.kind, "low": r.low, "high": r.high, "unit": r.unit,
                                   "meaning": r.meaning, "source": r.source}


def _info_dict(t: TreatmentInfo) -> dict[str, Any]:
    return {
        "kind": t.kind.value, "name": t.name, "what": _s(t.what), "dose": _s(t.dose), "effect": _s(t.effect),
        "benchmarks": [_b(b) for b in t.benchmarks], "time_to_effect": _s(t.time_to_effect),
        "early_shed": _s(t.early_shed), "early_shed_benchmark": _b(t.early_shed_benchmark),
        "evidence_level": t.evidence_level, "evidence": _s(t.evidence), "fda_status": _s(t.fda_status),
    }


def reference_to_dict(item: TreatmentInfo | None = None) -> dict[str, Any]:
    """The JSON view of one treatment entry, or of the whole reference when ``item`` is None."""
    if item is not None:
        return _info_dict(item)
    r = _load()
    return {
        "meta": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.meta.items()},
        "ev_types": [{"key": e.key, "name": e.name, "size_nm": list(e.size_nm), "origin": e.origin,
                      "source": e.source} for e in r.ev_types],
        "mechanisms": [{"key": m.key, "name": m.name, "summary": m.summary, "status": m.status,
                        "source": m.source} for m in r.mechanisms],
        "claims": [{"text": c.text, "status": c.status, "source": c.source} for c in r.claims],
        "prp_vs_ev": [{"aspect": c.aspect, "prp": _s(c.prp), "ev": _s(c.ev), "prp_benchmark": _b(c.prp_benchmark),
                       "ev_benchmark": _b(c.ev_benchmark)} for c in r.comparison],
        "treatments": {k.value: _info_dict(t) for k, t in r.treatments.items()},
    }


# -- plain text ---------------------------------------------------------------------------------------------

_W = 100


def _para(label: str, text: str, indent: int = 2) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(f"{label}{text}", _W, initial_indent=pad, subsequent_indent=pad + "    ")


def _sourced(label: str, x: Sourced) -> list[str]:
    return _para(f"{label}: ", x.text) + _para("source: ", x.source, indent=6)


def _render_treatment(t: TreatmentInfo) -> list[str]:
    out = [t.name, "=" * len(t.name)]
    out += _sourced("What it is", t.what) + _sourced("Typical dose", t.dose) + _sourced("Expected effect", t.effect)
    for b in t.benchmarks:
        out += _para(f"benchmark {b.name}: ", f"{benchmark_text(b)}. {b.meaning}", indent=6)
        out += _para("source: ", b.source, indent=10)
    out += _sourced("Time to effect", t.time_to_effect) + _sourced("Early shed", t.early_shed)
    if t.early_shed_benchmark is not None:
        out += _para("allowed by the verdict: ", benchmark_text(t.early_shed_benchmark), indent=6)
    out += _sourced(f"Evidence ({t.evidence_level.replace('_', ' ')})", t.evidence)
    out += _sourced("FDA status", t.fda_status)
    return out


def _render_topic(topic: str) -> list[str]:
    r = _load()
    if topic == "ev-types":
        out = ["Extracellular vesicles: three kinds", "-" * 35]
        for e in r.ev_types:
            out += _para(f"{e.name}, {e.size_nm[0]:,.0f}-{e.size_nm[1]:,.0f} nm: ", e.origin)
            out += _para("source: ", e.source, indent=6)
        out += _para("", "Sizes overlap, so size alone does not prove where a vesicle came from.")
        return out
    if topic == "mechanisms":
        out = ["Proposed mechanisms", "-" * 19]
        for m in r.mechanisms:
            out += _para(f"{m.name} [{m.status}]: ", m.summary) + _para("source: ", m.source, indent=6)
        return out
    if topic == "evidence":
        out = ["What is established", "-" * 19]
        for c in r.claims:
            if c.status == "established":
                out += _para("- ", c.text) + _para("source: ", c.source, indent=6)
        out += ["", "What is not established", "-" * 23]
        for c in r.claims:
            if c.status == "not_established":
                out += _para("- ", c.text) + _para("source: ", c.source, indent=6)
        return out
    out = ["PRP vs extracellular vesicles (EV)", "-" * 34]
    for c in r.comparison:
        out += [f"  {c.aspect}"] + _sourced("  PRP", c.prp) + _sourced("  EV", c.ev)
    return out


def render_info(name: str | None = None) -> str:
    """Plain text for ``hairtrack info [TREATMENT]``.

    ``name`` is a treatment (``prp``, ``exosomes``, ...), a topic from :data:`INFO_TOPICS`
    (``ev-types``, ``mechanisms``, ``evidence``, ``prp-vs-ev``), or None for the overview: every topic and
    the list of treatments.

    Examples
    --------
    >>> print(render_info("prp").splitlines()[0])
    Platelet-rich plasma (PRP)
    >>> "30 to 40" in render_info("prp-vs-ev")
    True
    """
    if name is not None and name.strip().lower() in INFO_TOPICS:
        return "\n".join(_render_topic(name.strip().lower())) + "\n"
    if name is not None:
        return "\n".join(_render_treatment(treatment_info(name))) + "\n"
    r = _load()
    out = ["hairtrack treatment reference", "=" * 29]
    out += textwrap.wrap(str(r.meta.get("note", "")), _W) + [""]
    for topic in INFO_TOPICS:
        out += _render_topic(topic) + [""]
    out += ["Treatments (hairtrack info NAME for the full entry)", "-" * 51]
    for t in r.treatments.values():
        out += _para(f"{t.kind.value:<18} ", f"{t.name}; evidence {t.evidence_level.replace('_', ' ')}; "
                     f"{t.fda_status.text}")
    return "\n".join(out) + "\n"
