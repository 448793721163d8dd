"""Reference values from the literature, each with its value, unit, meaning and source.

They are the ``[benchmark.*]`` tables of ``reference.toml``, the same file the treatment reference
(:mod:`hairtrack.analysis.reference`) reads, so the verdict and the reference pages never disagree.

Responder rates (the share of users who regrow) and density changes (how much density rises) are
different kinds of figure; :class:`Reference` keeps the ``kind`` so the verdict only compares a person's
density change with a density benchmark.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from hairtrack.domain import TreatmentKind

__all__ = ["Reference", "DensityBenchmark", "load_references", "density_benchmark", "prp_course_cost_usd"]

_TOML = Path(__file__).with_name("reference.toml")
_KINDS = frozenset({"density_change_pct", "responder_rate_pct", "hairs_per_cm2", "price", "count"})


@dataclass(frozen=True, slots=True)
class Reference:
    """One sourced reference value; ``low``/``high`` equal ``value`` when it is a single number."""

    name: str
    kind: str
    low: float
    high: float
    unit: str
    meaning: str
    source: str


@dataclass(frozen=True, slots=True)
class DensityBenchmark:
    """The density-change range a treatment's result is compared with."""

    name: str
    range_pct: tuple[float, float]
    meaning: str
    source: str

    def standing(self, change_pct: float) -> str:
        """``below``, ``within`` or ``above`` the range."""
        lo, hi = self.range_pct
        return "below" if change_pct < lo else ("above" if change_pct > hi else "within")


def _parse(name: str, entry: Mapping) -> Reference:
    missing = {"kind", "value", "unit", "meaning", "source"} - set(entry)
    if missing:
        raise ValueError(f"reference.toml [benchmark.{name}] lacks {sorted(missing)}")
    if entry["kind"] not in _KINDS:
        raise ValueError(f"reference.toml [benchmark.{name}] kind must be one of {sorted(_KINDS)}, got {entry['kind']!r}")
    value = entry["value"]
    low, high = (float(value[0]), float(value[1])) if isinstance(value, list) else (float(value), float(value))
    return Reference(name, entry["kind"], low, high, entry["unit"], entry["meaning"], entry["source"])


@functools.cache
def load_references(path: Path = _TOML) -> Mapping[str, Reference]:
    """Read the ``[benchmark.*]`` tables of ``reference.toml`` (once per process; the mapping is read-only).

    A file without a ``benchmark`` table is read as a flat table of benchmarks (the old ``benchmarks.toml``
    layout).

    Examples
    --------
    >>> refs = load_references()
    >>> refs["prp_density_increase"].low, refs["prp_density_increase"].high
    (30.0, 40.0)
    >>> refs["minoxidil_regrow_rate"].kind
    'responder_rate_pct'
    """
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    raw = raw.get("benchmark", raw)
    return MappingProxyType({name: _parse(name, entry) for name, entry in raw.items()})


# Which density range each treatment is held against. EV is held against PRP (issue 4): matching or
# beating PRP means it performs well; far below it, the cost-benefit favours PRP.
_DENSITY_FOR = {
    TreatmentKind.PRP: "prp_density_increase",
    TreatmentKind.EV: "prp_density_increase",
    TreatmentKind.FINASTERIDE: "finasteride_density_increase_1y",
}


def density_benchmark(kind: TreatmentKind | None) -> DensityBenchmark | None:
    """The density benchmark for a treatment, or None where the literature gives no density range."""
    name = _DENSITY_FOR.get(kind) if kind is not None else None
    if name is None:
        return None
    ref = load_references()[name]
    return DensityBenchmark(name, (ref.low, ref.high), ref.meaning, ref.source)


def prp_course_cost_usd() -> tuple[float, float]:
    """Cost of a typical PRP course in USD: cheapest short course to dearest long one."""
    refs = load_references()
    price, n = refs["prp_price_per_session"], refs["prp_sessions_per_course"]
    return price.low * n.low, price.high * n.high
