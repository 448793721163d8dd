"""The statistics pieces against independently derived values."""

import datetime as dt

import numpy as np
import pytest

from hairtrack.analysis.model import (
    ContrastModel, NoisePrior, Phase, fit_replicates, group_key, phase_at, seasonal_shape,
)
from hairtrack.domain import Measurement, Zone

D0 = dt.date(2024, 1, 10)


def _rows(values_by_day, zone=Zone.CROWN):
    return [Measurement("p", D0 + dt.timedelta(days=day), zone, r, v)
            for day, values in values_by_day.items() for r, v in enumerate(values, 1)]


def test_outlier_replicate_is_down_weighted_and_flagged():
    fit = fit_replicates(_rows({0: [150.0, 153.0, 95.0]}))
    (visit,) = fit.visits
    assert visit.hairs_per_cm2 == pytest.approx(np.sqrt(150.0 * 153.0), rel=1e-3)  # geometric mean of the two
    assert visit.n_effective == pytest.approx(2.0)
    assert [(o.replicate, o.resolved) for o in fit.outliers] == [(3, True)]


def test_two_disagreeing_replicates_are_settled_by_the_other_visits():
    # 152 against 330: twice the photo-to-photo noise hairtrack measures (12%) would not reach it
    fit = fit_replicates(_rows({0: [150.0, 151.0, 149.0], 30: [152.0, 330.0], 60: [148.0, 150.0]}))
    by_day = {v.date: v for v in fit.visits}
    assert by_day[D0 + dt.timedelta(days=30)].hairs_per_cm2 == pytest.approx(152.0)
    assert [(o.replicate, o.resolved) for o in fit.outliers] == [(2, True)]


def test_unresolvable_pair_is_kept_and_reported():
    fit = fit_replicates(_rows({0: [150.0, 330.0]}))
    assert fit.visits[0].hairs_per_cm2 == pytest.approx(np.sqrt(150.0 * 330.0), rel=1e-6)
    assert [o.resolved for o in fit.outliers] == [False]


@pytest.mark.parametrize("true_sd", [0.03, 0.10])
def test_replicate_sd_recovered_from_many_visits(true_sd):
    rng = np.random.default_rng(3)
    values = {30 * i: list(np.exp(5.0 + rng.normal(0, 0.2) + rng.normal(0, true_sd, 3))) for i in range(200)}
    fit = fit_replicates(_rows(values))
    # 400 degrees of freedom: the estimate is within ~15% of the truth (the prior's 4 pseudo-replicates at
    # 12% still pull a true 3% up by about 7%).
    assert fit.replicate_sd_log == pytest.approx(true_sd, rel=0.15)


def test_replicate_sd_is_the_prior_without_replicates():
    fit = fit_replicates(_rows({0: [150.0], 30: [170.0]}))
    assert fit.replicate_sd_log == pytest.approx(NoisePrior().replicate_sd_log)
    assert fit.single_image_visits == 2


def test_contrast_model_matches_hand_computed_difference_of_means():
    # Two groups, equal variance units: estimate = difference of means; phi from the pooled SS.
    base, post = np.array([0.0, 0.1, -0.1]), np.array([0.3, 0.2])
    d = np.concatenate([base, post])
    x = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]], float)
    c = 0.004
    est = ContrastModel(d, np.full(5, c), x, np.array([-1.0, 1.0]), prior_dof=6.0).fit()
    ss = (np.sum((base - base.mean()) ** 2) + np.sum((post - post.mean()) ** 2)) / c
    phi = (6.0 + ss) / (6.0 + 3)
    assert est.change_log == pytest.approx(post.mean() - base.mean())
    assert est.se_log == pytest.approx(np.sqrt(phi * c * (1 / 3 + 1 / 2)))
    assert est.dof == 9.0
    lo, hi = est.conf_int_log(0.95)
    assert (lo + hi) / 2 == pytest.approx(est.change_log)
    assert 0.5 < est.probability_increase < 1.0


def test_seasonal_shape_is_lowest_on_1_september_and_highest_half_a_year_away():
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    shape = seasonal_shape(days)
    assert days[int(np.argmin(shape))] == dt.date(2024, 9, 1) or abs(
        (days[int(np.argmin(shape))] - dt.date(2024, 9, 1)).days) <= 1
    assert shape.min() == pytest.approx(-1.0, abs=1e-4)
    assert shape.max() == pytest.approx(0.0, abs=1e-4)
    assert abs((days[int(np.argmax(shape))] - dt.date(2024, 3, 2)).days) <= 2


@pytest.mark.parametrize(("days", "phase"), [
    (-10, Phase.BASELINE), (0, Phase.BASELINE), (1, Phase.MONTHS_1_2), (75, Phase.MONTHS_1_2),
    (77, Phase.MONTHS_3_4), (136, Phase.MONTHS_3_4), (138, Phase.MONTHS_5_6), (197, Phase.MONTHS_5_6),
    (199, Phase.AFTER_6), (400, Phase.AFTER_6),
])
def test_phase_from_days(days, phase):
    # Months rounded to the nearest whole one: 2.5 months = 76.1 days, 4.5 = 137.0, 6.5 = 197.8.
    assert phase_at(days) is phase


def test_after_6_groups_are_six_month_blocks_back_from_as_of():
    start, as_of = dt.date(2024, 1, 1), dt.date(2025, 6, 1)
    assert group_key(as_of, start, as_of) == ("after_6", 0)
    assert group_key(as_of - dt.timedelta(days=200), start, as_of) == ("after_6", 1)
    assert group_key(start, start, as_of) == ("baseline", 0)


def _donor_weight_for(shared_sd):
    from hairtrack.analysis.model import fit_donor_weight
    from hairtrack.domain import Sex, TreatmentKind
    from hairtrack.synth import ClinicNoise, simulate_patient

    bs = []
    for seed in range(8):
        p = simulate_patient(seed, effect_pct=0.0, treatment=TreatmentKind.FINASTERIDE, sex=Sex.MALE, stack=(),
                             noise=ClinicNoise(shared_sd_log=shared_sd, missed_visit_rate=0.0), months=12)
        fit = fit_replicates(p.measurements)
        by_zone = {}
        for v in fit.visits:
            by_zone.setdefault(v.zone, {})[v.date] = v
        treated = [z for z in by_zone if z is not Zone.DONOR]
        as_of = max(v.date for v in fit.visits)
        bs.append(fit_donor_weight(by_zone, treated, p.truth.start, as_of, fit.replicate_sd_log).b)
    return float(np.median(bs))


def test_donor_weight_follows_the_share_of_visit_noise():
    # Independent truth: b* = u² / (u² + d²) with d² = 0.04² + 0.05²/3 = 0.00243.
    low, high = _donor_weight_for(0.03), _donor_weight_for(0.12)
    assert 0.15 < low < 0.5  # b* = 0.0009 / 0.0033 ~ 0.27 (+ season); prior 0.001 / 0.0034 ~ 0.29
    assert high > 0.6  # b* = 0.0144 / 0.0168 ~ 0.86, shrunk towards the prior by 8 pseudo-visits
