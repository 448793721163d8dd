"""The sourced reference values."""

import datetime as dt
from decimal import Decimal

import pytest

from hairtrack.analysis import density_benchmark, load_references, summarize_cost
from hairtrack.domain import Money, Treatment, TreatmentKind


def test_every_reference_has_value_unit_meaning_and_source():
    refs = load_references()
    assert len(refs) >= 10
    for ref in refs.values():
        assert ref.low <= ref.high and ref.unit and ref.meaning and ref.source


def test_responder_rates_are_not_density_changes():
    refs = load_references()
    for name in ("minoxidil_regrow_rate", "finasteride_halt_rate", "finasteride_regrow_rate"):
        assert refs[name].kind == "responder_rate_pct" and "responder rate" in refs[name].unit
    assert (refs["finasteride_halt_rate"].low, refs["finasteride_halt_rate"].high) == (80.0, 90.0)
    assert refs["finasteride_regrow_rate"].low == 65.0
    assert refs["finasteride_density_vs_placebo_1y"].low == pytest.approx(21.0)


def test_ev_is_held_against_prp_and_minoxidil_has_no_density_range():
    assert density_benchmark(TreatmentKind.EV).range_pct == (30.0, 40.0)
    assert density_benchmark(TreatmentKind.PRP).standing(25.0) == "below"
    assert density_benchmark(TreatmentKind.PRP).standing(35.0) == "within"
    assert density_benchmark(TreatmentKind.MINOXIDIL_TOPICAL) is None


def test_cost_without_gain_has_no_cost_per_point():
    rows = [Treatment("p", TreatmentKind.EV, dt.date(2025, 1, 1), cost=Money(Decimal("1200.50"), "EUR"))]
    c = summarize_cost(rows, change_pct=-2.0, change_pct_ci95=(-8.0, 4.0))
    assert c.total == Decimal("1200.50") and c.currency == "EUR"
    assert c.cost_per_pct_point is None
    assert c.cost_per_pct_point_ci95 == (Decimal("300.13"), None)  # 1200.50 / 4, unbounded above
    assert "USD" in c.note
