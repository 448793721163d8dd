"""Verdicts on simulated people with known truth, rules, flags, messages and the JSON view."""

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pytest

from hairtrack.analysis import Phase, VerdictKind, judge, verdict_to_dict
from hairtrack.domain import Measurement, Money, Sex, Treatment, TreatmentKind, Zone
from hairtrack.errors import InputError
from hairtrack.synth import ClinicNoise, simulate_patient

TODAY = dt.date(2030, 1, 1)


def _at(p, months: float) -> dt.date:
    return p.truth.start + dt.timedelta(days=round(months * 30.4375) + 10)


def _judge(p, months, **kw):
    return judge(p.measurements, p.treatments, as_of=_at(p, months), today=TODAY, **kw)


def _clean(seed, **kw):
    """A man without natural loss, so the truth is the treatment's effect alone."""
    kw.setdefault("sex", Sex.MALE)
    kw.setdefault("natural_loss_pct_per_year", 0.0)
    kw.setdefault("stack", ())
    return simulate_patient(seed, **kw)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_known_effect_recovered_inside_its_interval(seed):
    p = _clean(seed, effect_pct=35.0, treatment=TreatmentKind.PRP)
    v = _judge(p, 12)
    lo, hi = v.overall.change_pct_ci95
    assert lo < p.truth.true_change_pct(_at(p, 12)) < hi
    assert v.overall.verdict is VerdictKind.RESPONDING
    assert v.phase is Phase.AFTER_6


def test_interval_coverage_over_many_people():
    # Independent truth: the 95% interval should hold the simulated effect about 95% of the time.
    inside = []
    for seed in range(60):
        p = _clean(1000 + seed, effect_pct=20.0, treatment=TreatmentKind.FINASTERIDE)
        lo, hi = _judge(p, 12).overall.change_pct_ci95
        inside.append(lo < p.truth.true_change_pct(_at(p, 12)) < hi)
    assert 0.85 <= np.mean(inside) <= 1.0


@pytest.mark.parametrize("seed", [21, 22, 23, 24, 25])
def test_no_effect_person_is_not_responding_at_any_look(seed):
    p = _clean(seed, effect_pct=0.0, treatment=TreatmentKind.EV)
    for m in (3, 6, 9, 12):
        assert _judge(p, m).overall.verdict is not VerdictKind.RESPONDING


def test_outlier_replicate_is_flagged_in_the_verdict():
    p = _clean(31, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE, replicates=3)
    rows = list(p.measurements)
    i = next(k for k, m in enumerate(rows) if m.zone is Zone.CROWN or m.zone is not Zone.DONOR)
    rows[i] = Measurement(rows[i].profile, rows[i].date, rows[i].zone, rows[i].replicate,
                          rows[i].hairs_per_cm2 * 0.5)
    v = judge(rows, p.treatments, as_of=_at(p, 6), today=TODAY)
    hits = [f for f in v.flags if f.code == "outlier_replicate" and rows[i].date.isoformat() in f.message]
    assert hits and f"image {rows[i].replicate}" in hits[0].message


def test_missing_and_irregular_visits_are_fine():
    p = _clean(41, effect_pct=35.0, treatment=TreatmentKind.MINOXIDIL_TOPICAL)
    rng = np.random.default_rng(0)
    dates = sorted({m.date for m in p.measurements if m.date > p.truth.start})
    dropped = set(rng.choice(len(dates), len(dates) // 2, replace=False))
    keep = {d for k, d in enumerate(dates) if k not in dropped} | {dates[-1]}
    rows = [m for m in p.measurements if m.date <= p.truth.start or m.date in keep]
    v = judge(rows, p.treatments, as_of=_at(p, 12), today=TODAY)
    assert v.overall.change_pct is not None
    lo, hi = v.overall.change_pct_ci95
    assert lo < p.truth.true_change_pct(_at(p, 12)) < hi


def test_single_baseline_scan_is_insufficient_and_says_what_to_scan():
    p = _clean(51, effect_pct=20.0, treatment=TreatmentKind.PRP, baseline_visits=2)
    first = min(m.date for m in p.measurements)
    rows = [m for m in p.measurements if m.date != first]
    v = judge(rows, p.treatments, as_of=_at(p, 6), today=TODAY)
    assert v.overall.verdict is VerdictKind.INSUFFICIENT_DATA
    assert all(z.verdict is VerdictKind.INSUFFICIENT_DATA for z in v.zones)
    assert "at least 2" in v.messages[0] and "Scan" in v.messages[0]


def test_no_scan_at_all_gives_a_message_not_an_error():
    v = judge([], [Treatment("p", TreatmentKind.PRP, dt.date(2024, 1, 1))], profile="p", today=TODAY)
    assert v.overall.verdict is VerdictKind.INSUFFICIENT_DATA and v.zones == ()
    assert "scan" in v.messages[0]


@pytest.mark.parametrize(("months", "phase", "verdict"), [
    (0.5, Phase.MONTHS_1_2, VerdictKind.TOO_EARLY), (1.7, Phase.MONTHS_1_2, VerdictKind.TOO_EARLY),
    (3, Phase.MONTHS_3_4, None), (6, Phase.MONTHS_5_6, None), (9, Phase.AFTER_6, None),
])
def test_phase_from_dates(months, phase, verdict):
    p = _clean(61, effect_pct=10.0, treatment=TreatmentKind.FINASTERIDE)
    v = _judge(p, months)
    assert v.phase is phase
    assert v.months_on_treatment == pytest.approx(round((_at(p, months) - p.truth.start).days / 30.4375, 1))
    if verdict is not None:
        assert v.overall.verdict is verdict


def test_may_not_be_effective_after_6_months_and_3_sessions():
    p = _clean(71, effect_pct=0.0, treatment=TreatmentKind.PRP)
    v9 = _judge(p, 9)
    assert v9.evaluated_treatment.sessions >= 3
    assert v9.overall.verdict in (VerdictKind.NO_MEASURABLE_CHANGE, VerdictKind.DECLINING)
    assert v9.overall.may_not_be_effective
    assert any("may not be effective" in m for m in v9.messages)
    assert not _judge(p, 4).overall.may_not_be_effective
    two_sessions = [t for t in p.treatments if t.date <= p.truth.start + dt.timedelta(days=35)]
    v = judge(p.measurements, two_sessions, as_of=_at(p, 9), today=TODAY)
    assert v.evaluated_treatment.sessions == 2 and not v.overall.may_not_be_effective


def test_may_not_be_effective_for_a_continuous_treatment_after_6_months():
    p = _clean(72, effect_pct=0.0, treatment=TreatmentKind.MINOXIDIL_TOPICAL)
    assert _judge(p, 7).overall.may_not_be_effective
    assert not _judge(p, 5).overall.may_not_be_effective


def test_oral_minoxidil_falls_back_from_the_donor_control():
    # Oral minoxidil grows the donor zone too: against the donor the gain would vanish.
    p = _clean(81, effect_pct=35.0, treatment=TreatmentKind.MINOXIDIL_ORAL, seasonal_dip_pct=2.0)
    v = _judge(p, 12)
    assert v.overall.control == "seasonal_prior" and v.overall.donor_weight is None
    assert any(f.code == "donor_control_unavailable" for f in v.flags)
    lo, hi = v.overall.change_pct_ci95
    assert lo < p.truth.true_change_pct(_at(p, 12), relative_to_donor=False) < hi
    assert v.overall.verdict is VerdictKind.RESPONDING


def test_women_fall_back_from_the_donor_control_when_sex_is_given():
    p = _clean(82, effect_pct=20.0, treatment=TreatmentKind.PRP, sex=Sex.FEMALE)
    assert _judge(p, 12, sex=Sex.FEMALE).overall.control == "seasonal_prior"
    assert _judge(p, 12).overall.control == "donor"


@pytest.mark.parametrize("seed", [91, 92, 93])
def test_early_shed_is_too_early_not_declining(seed):
    p = _clean(seed, effect_pct=20.0, treatment=TreatmentKind.MINOXIDIL_TOPICAL, shed_pct=8.0,
               replicates=3, noise=ClinicNoise(missed_visit_rate=0.0))
    for m in (1, 2):
        v = _judge(p, m)
        assert v.phase is Phase.MONTHS_1_2
        assert v.overall.verdict is VerdictKind.TOO_EARLY
        assert all(z.verdict is VerdictKind.TOO_EARLY for z in v.zones)


def test_strong_early_decline_beyond_the_shed_is_declining():
    p = _clean(94, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE, noise=ClinicNoise(missed_visit_rate=0.0))
    rows = [Measurement(m.profile, m.date, m.zone, m.replicate,
                        m.hairs_per_cm2 * (0.6 if m.date > p.truth.start and m.zone is not Zone.DONOR else 1.0))
            for m in p.measurements]
    v = judge(rows, p.treatments, as_of=_at(p, 2), today=TODAY)
    assert v.overall.verdict is VerdictKind.DECLINING


def test_cost_per_percentage_point():
    p = _clean(101, effect_pct=35.0, treatment=TreatmentKind.PRP)
    v = _judge(p, 12)
    sessions = [t for t in p.treatments if t.date <= _at(p, 12)]
    total = sum(t.cost.amount for t in sessions)
    assert v.evaluated_treatment.total_cost == total and v.evaluated_treatment.currency == "USD"
    assert float(v.cost.cost_per_pct_point) == pytest.approx(float(total) / v.overall.change_pct, abs=0.01)
    lo, hi = v.cost.cost_per_pct_point_ci95
    assert float(lo) == pytest.approx(float(total) / v.overall.change_pct_ci95[1], abs=0.01)
    assert float(hi) == pytest.approx(float(total) / v.overall.change_pct_ci95[0], abs=0.01)
    assert v.cost.prp_benchmark_per_pct_point == (Decimal("37.50"), Decimal("266.67"))  # 1500/40, 8000/30


def test_mixed_currencies_and_missing_costs_are_reported_not_converted():
    p = _clean(102, effect_pct=20.0, treatment=TreatmentKind.PRP)
    ts = list(p.treatments)
    ts[0] = Treatment(ts[0].profile, ts[0].treatment, ts[0].date, cost=Money(Decimal("700"), "EUR"))
    ts[1] = Treatment(ts[1].profile, ts[1].treatment, ts[1].date, cost=None)
    v = judge(p.measurements, ts, as_of=_at(p, 6), today=TODAY)
    assert v.evaluated_treatment.total_cost is None
    codes = {f.code for f in v.flags}
    assert {"mixed_currencies", "sessions_without_cost"} <= codes


def test_as_of_cuts_the_record():
    p = _clean(111, effect_pct=20.0, treatment=TreatmentKind.PRP)
    cut = _at(p, 6)
    a = judge(p.measurements, p.treatments, as_of=cut, today=TODAY)
    b = judge([m for m in p.measurements if m.date <= cut], [t for t in p.treatments if t.date <= cut],
              today=TODAY)
    assert b.as_of <= cut
    da, db = verdict_to_dict(a), verdict_to_dict(b)
    da.pop("as_of"), db.pop("as_of"), da.pop("months_on_treatment"), db.pop("months_on_treatment")
    assert da["zones"] == db["zones"] and da["overall"] == db["overall"]
    assert judge(p.measurements, p.treatments, as_of=cut, today=TODAY).as_of == cut


def test_verdict_to_dict_has_exactly_the_contract_keys():
    p = _clean(121, effect_pct=20.0, treatment=TreatmentKind.EV)
    d = verdict_to_dict(_judge(p, 9))
    json.dumps(d)  # plain JSON
    assert set(d) == {"profile", "as_of", "evaluated_treatment", "months_on_treatment", "phase", "zones",
                      "overall", "cost", "flags", "messages"}
    assert set(d["evaluated_treatment"]) == {"treatment", "start", "sessions", "total_cost", "currency"}
    for zone in d["zones"].values():
        assert set(zone) == {"baseline_hairs_per_cm2", "baseline_scans", "latest_hairs_per_cm2", "change_pct",
                             "change_pct_ci95", "change_hairs_per_cm2", "change_hairs_per_cm2_ci95", "mdc95_pct",
                             "probability_increase", "verdict", "benchmark", "estimator"}
        assert zone["estimator"] == "independent"  # no matched hairs in this record
        assert set(zone["benchmark"]) == {"name", "range_pct", "standing"}
    assert {"verdict", "may_not_be_effective"} <= set(d["overall"])
    assert all(set(f) == {"code", "message"} for f in d["flags"])
    assert d["as_of"] == _at(p, 9).isoformat() and isinstance(d["evaluated_treatment"]["total_cost"], str)
    assert d["phase"] in {"baseline", "months_1_2", "months_3_4", "months_5_6", "after_6"}


def test_deterministic():
    a = simulate_patient(131)
    b = simulate_patient(131)
    assert a == b
    assert verdict_to_dict(_judge(a, 6)) == verdict_to_dict(_judge(b, 6))


def test_no_treatment_judges_the_trend():
    p = _clean(141, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE, natural_loss_pct_per_year=0.0)
    v = judge(p.measurements, [], today=TODAY)
    assert v.phase is Phase.BASELINE and v.evaluated_treatment.treatment is None
    assert v.overall.verdict in (VerdictKind.NO_MEASURABLE_CHANGE, VerdictKind.DECLINING)
    assert v.messages[0].startswith("No treatment is being evaluated")


def test_evaluated_treatment_is_the_last_started_and_the_stack_is_baseline():
    p = _clean(151, effect_pct=20.0, treatment=TreatmentKind.PRP, stack=(TreatmentKind.FINASTERIDE,))
    v = _judge(p, 6)
    assert v.evaluated_treatment.treatment is TreatmentKind.PRP
    assert v.evaluated_treatment.start == p.truth.start
    v2 = _judge(p, 6, treatment=TreatmentKind.FINASTERIDE)
    assert v2.evaluated_treatment.treatment is TreatmentKind.FINASTERIDE
    assert any(f.code == "other_treatment_started_later" for f in v2.flags)


def test_ev_is_compared_with_prp():
    good = _judge(_clean(161, effect_pct=35.0, treatment=TreatmentKind.EV), 12)
    assert good.overall.benchmark.name == "prp_density_increase"
    assert any("performs well" in m or "below PRP" in m for m in good.messages)
    poor = _judge(_clean(162, effect_pct=0.0, treatment=TreatmentKind.EV), 12)
    assert poor.overall.benchmark.standing == "below"
    assert any("switching to or adding PRP" in m for m in poor.messages)


def test_bad_input_is_reported():
    p = _clean(171, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE)
    other = [Measurement("someone-else", m.date, m.zone, m.replicate, m.hairs_per_cm2) for m in p.measurements[:3]]
    with pytest.raises(InputError, match="profiles"):
        judge(list(p.measurements) + other, p.treatments, today=TODAY)
    with pytest.raises(InputError, match="'prp' is not in this profile"):
        judge(p.measurements, p.treatments, treatment=TreatmentKind.PRP, today=TODAY)
    bad = [Treatment(p.truth.profile, TreatmentKind.FINASTERIDE, p.truth.start,
                     end_date=p.truth.start - dt.timedelta(days=3))]
    future = [Measurement(p.truth.profile, TODAY + dt.timedelta(days=5), Zone.CROWN, 1, 100.0)]
    v = judge(list(p.measurements) + future, bad, today=TODAY)
    assert {"treatment_ends_before_start", "future_dates"} <= {f.code for f in v.flags}


def test_coverage_only_rows_are_flagged():
    rows = [Measurement("p", dt.date(2024, 1, d), Zone.CROWN, 1, coverage_pct=40.0) for d in (1, 15, 29)]
    v = judge(rows, [], today=TODAY)
    assert any(f.code == "coverage_only" for f in v.flags)
    assert v.overall.verdict is VerdictKind.INSUFFICIENT_DATA


def test_short_baseline_and_large_gap_are_flagged():
    p = _clean(181, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE, noise=ClinicNoise(missed_visit_rate=0.0))
    start = p.truth.start
    base = sorted({m.date for m in p.measurements if m.date <= start})
    # Keep two baseline days 1 week apart, and drop months 2-4 after the start.
    moved = {base[0]: start - dt.timedelta(days=7), base[-1]: start}
    rows = [Measurement(m.profile, moved[m.date], m.zone, m.replicate, m.hairs_per_cm2) for m in p.measurements
            if m.date in moved]
    rows += [m for m in p.measurements if m.date > start and not 45 < (m.date - start).days < 130]
    v = judge(rows, p.treatments, as_of=_at(p, 6), today=TODAY)
    codes = {f.code for f in v.flags}
    assert {"baseline_too_short", "large_visit_gap"} <= codes
    assert v.overall.verdict is not VerdictKind.INSUFFICIENT_DATA
