"""What the evaluated treatment cost, and what each percentage point of density gained cost.

Amounts stay exact ``Decimal`` in their own currency; hairtrack never converts currencies. The PRP
benchmark is in USD at typical prices (``reference.toml``): a course of 3-4 sessions at 500-2,000 USD
for a 30-40% density increase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hairtrack.analysis.benchmarks import load_references, prp_course_cost_usd
from hairtrack.domain import Treatment

__all__ = ["CostSummary", "summarize_cost"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Cost of the evaluated treatment up to the verdict's date.

    ``cost_per_pct_point_ci95`` is ``(low, high)`` where ``high`` is None when the interval of the gain
    reaches 0 (a gain of nothing costs without bound); both are None when no gain is likely at all.
    """

    total: Decimal | None
    currency: str | None
    rows: int
    rows_without_cost: int
    currencies: tuple[str, ...]
    cost_per_pct_point: Decimal | None
    cost_per_pct_point_ci95: tuple[Decimal | None, Decimal | None]
    prp_benchmark_course_cost: tuple[Decimal, Decimal]
    prp_benchmark_per_pct_point: tuple[Decimal, Decimal]
    prp_benchmark_currency: str
    note: str | None


def _per_point(total: Decimal, pct: float | None) -> Decimal | None:
    if pct is None or pct <= 0:
        return None
    return (total / Decimal(repr(round(pct, 6)))).quantize(_CENT, rounding=ROUND_HALF_UP)


def summarize_cost(
    treatments: Sequence[Treatment],
    *,
    change_pct: float | None = None,
    change_pct_ci95: tuple[float, float] | None = None,
) -> CostSummary:
    """Total cost of ``treatments`` (the evaluated treatment's rows) and cost per percentage point gained.

    Parameters
    ----------
    treatments : sequence of Treatment
        Rows of the evaluated treatment up to the verdict's date (one per session).
    change_pct, change_pct_ci95 : float, (float, float), optional
        The overall density change and its 95% interval.

    Examples
    --------
    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> from hairtrack.domain import Money, Treatment, TreatmentKind
    >>> rows = [Treatment("p", TreatmentKind.PRP, dt.date(2025, m, 1), cost=Money(Decimal("800"), "USD"))
    ...         for m in (1, 2, 3)]
    >>> c = summarize_cost(rows, change_pct=12.0, change_pct_ci95=(4.0, 20.0))
    >>> c.total, c.cost_per_pct_point, c.cost_per_pct_point_ci95
    (Decimal('2400'), Decimal('200.00'), (Decimal('120.00'), Decimal('600.00')))
    """
    refs = load_references()
    n_lo, n_hi = refs["prp_sessions_per_course"].low, refs["prp_sessions_per_course"].high
    course_lo, course_hi = prp_course_cost_usd()
    gain_lo, gain_hi = refs["prp_density_increase"].low, refs["prp_density_increase"].high
    prp_course = (Decimal(repr(course_lo)).quantize(_CENT), Decimal(repr(course_hi)).quantize(_CENT))
    prp_per_point = (Decimal(repr(course_lo / gain_hi)).quantize(_CENT, rounding=ROUND_HALF_UP),
                     Decimal(repr(course_hi / gain_lo)).quantize(_CENT, rounding=ROUND_HALF_UP))
    priced = [t.cost for t in treatments if t.cost is not None]
    currencies = tuple(sorted({m.currency.upper() for m in priced}))
    missing = len(treatments) - len(priced)
    notes = []
    total: Decimal | None = None
    currency: str | None = None
    if len(currencies) > 1:
        notes.append(f"costs are in several currencies ({', '.join(currencies)}); hairtrack does not convert "
                     "them, so no total is given")
    elif currencies:
        currency = currencies[0]
        total = sum((m.amount for m in priced), Decimal(0))
    if missing and treatments:
        notes.append(f"{missing} of {len(treatments)} treatment rows have no cost; the total leaves them out")
    per_point = per_lo = per_hi = None
    if total is not None and change_pct is not None:
        per_point = _per_point(total, change_pct)
        if change_pct_ci95 is not None and change_pct_ci95[1] > 0:
            per_lo = _per_point(total, change_pct_ci95[1])
            per_hi = _per_point(total, change_pct_ci95[0])
        if per_point is None:
            notes.append("no density gain was measured, so there is no cost per percentage point")
    if currency is not None and currency != "USD":
        notes.append(f"the PRP benchmark is in USD and your costs in {currency}; compare with care")
    notes.append(f"PRP benchmark: {n_lo:.0f}-{n_hi:.0f} sessions at typical prices, "
                 f"{gain_lo:.0f}-{gain_hi:.0f}% density gain")
    return CostSummary(total, currency, len(treatments), missing, currencies, per_point, (per_lo, per_hi),
                       prp_course, prp_per_point, "USD", "; ".join(notes) if notes else None)
