"""The change measured on matched hairs: the network of visit steps, its noise, and its place in the verdict."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from hairtrack.analysis import judge, verdict_to_dict
from hairtrack.analysis.matched import MatchedPair, MatchedPrior, zone_contrast, combine_contrasts, matched_steps
from hairtrack.domain import Sex, TreatmentKind, Zone
from hairtrack.synth import simulate_patient

D = [dt.date(2025, 1, 1) + dt.timedelta(days=30 * i) for i in range(7)]
LEVEL = [0.0, 0.01, -0.02, 0.05, 0.10, 0.18, 0.20]  # true log level of each visit, relative to the first


def _pair(ref: int, to: int, replicate: int = 1, *, noise: float = 0.0, n: int = 1000, **kw) -> MatchedPair:
    """Counts whose log ratio is exactly the level difference (plus ``noise``) on ``n`` hairs."""
    after = round(n * math.exp(LEVEL[to] - LEVEL[ref] + noise))
    kept = min(int(0.95 * n), after)
    return MatchedPair(Zone.CROWN, D[to], replicate, D[ref], kept, n - kept, after - kept, kw.pop("overlap", 80.0),
                       **kw)


def test_a_chain_and_a_star_both_recover_the_contrast() -> None:
    base, window = D[:2], D[5:]
    want = np.mean(LEVEL[5:]) - np.mean(LEVEL[:2])
    chain = matched_steps([_pair(i - 1, i) for i in range(1, 7)])
    star = matched_steps([_pair(0, i) for i in range(1, 7)] + [_pair(i - 1, i) for i in range(2, 7)])
    got_chain = zone_contrast(Zone.CROWN, chain, D, base, window)
    got_star = zone_contrast(Zone.CROWN, star, D, base, window)
    assert got_chain.value == pytest.approx(want, abs=2e-3)
    assert got_star.value == pytest.approx(want, abs=2e-3)
    # steps straight to the first visit keep the error from piling up along the chain
    assert got_star.pair_var < 0.5 * got_chain.pair_var
    assert got_chain.coef[D[0]] == pytest.approx(-0.5) and got_chain.coef[D[6]] == pytest.approx(0.5)


def test_a_visit_without_a_valid_step_breaks_the_network() -> None:
    pairs = [_pair(i - 1, i) for i in range(1, 7) if i != 4]
    assert zone_contrast(Zone.CROWN, matched_steps(pairs), D, D[:2], D[5:]) is None
    # a step that exists but shows another patch, or too little of the same one, does not count either
    for bad in (_pair(3, 4, different_field=True), _pair(3, 4, overlap=30.0), _pair(3, 4, n=6)):
        steps = matched_steps(pairs + [bad])
        assert steps.rejected == 1 and zone_contrast(Zone.CROWN, steps, D, D[:2], D[5:]) is None
    assert zone_contrast(Zone.CROWN, matched_steps(pairs + [_pair(3, 4)]), D, D[:2], D[5:]) is not None


def test_pair_noise_is_pooled_from_the_spread_of_replicates() -> None:
    rng = np.random.default_rng(0)
    # 1000 hairs per field: kappa (1/n_a + 1/n_b) = 0.3 * 0.002 -> a 2.4% prior sd per pair; 8% is seen
    pairs = [_pair(i - 1, i, r, noise=float(rng.normal(0, 0.08))) for i in range(1, 7) for r in (1, 2, 3)]
    steps = matched_steps(pairs)
    assert steps.dof == pytest.approx(MatchedPrior().pair_prior_dof + 12)
    assert 1.0 < steps.inconsistency < 5.0  # pulled from the 0.3 prior towards the 3.2 the spread shows
    quiet = matched_steps([_pair(i - 1, i, r) for i in range(1, 7) for r in (1, 2, 3)])
    assert quiet.inconsistency < MatchedPrior().inconsistency


def test_a_pair_of_few_hairs_counts_for_less() -> None:
    few = matched_steps([_pair(0, 1, n=20)])
    many = matched_steps([_pair(0, 1, n=400)])
    (_, w_few), = few.steps.values()
    (_, w_many), = many.steps.values()
    assert w_many == pytest.approx(20 * w_few, rel=0.1)
    # a visit pair of 12-hair photos: noisier than the independent counts, so the verdict does not use it
    assert math.sqrt(few.inconsistency / w_few) > 0.15


def test_the_donor_chain_takes_out_what_a_visit_shares() -> None:
    pairs = [_pair(0, i) for i in range(1, 7)]
    donor_pairs = [MatchedPair(Zone.DONOR, p.date, 1, p.reference_date, 950, 50, 50, 80.0) for p in pairs]
    steps = matched_steps(pairs + donor_pairs)
    zone = zone_contrast(Zone.CROWN, steps, D, D[:2], D[5:])
    donor = zone_contrast(Zone.DONOR, steps, D, D[:2], D[5:])
    alone, b0 = combine_contrasts([zone], None, shared_var_log2=0.03**2, pair_dof=steps.dof)
    both, b = combine_contrasts([zone], donor, shared_var_log2=0.03**2, pair_dof=steps.dof)
    # one image pair per step: the donor's own 3% pair error and the visit-shared 3% weigh about the same
    assert b0 == 0.0 and 0.3 < b < 0.9
    assert both.se_log < 0.9 * alone.se_log
    # with three images per step the donor is the better measure of what the visit shared
    many = matched_steps(pairs + [MatchedPair(Zone.DONOR, p.date, r, p.reference_date, 950, 50, 50, 80.0)
                                  for p in pairs for r in (1, 2, 3)])
    _, b3 = combine_contrasts([zone], zone_contrast(Zone.DONOR, many, D, D[:2], D[5:]), shared_var_log2=0.03**2,
                           pair_dof=many.dof)
    assert b3 > b
    # a visit that broke a capture rule counts for less: a wider interval
    worse, _ = combine_contrasts([zone], None, shared_var_log2=0.03**2, pair_dof=steps.dof,
                              capture_weights={D[6]: 0.25})
    assert worse.se_log > alone.se_log


def test_the_verdict_uses_matched_hairs_and_narrows_the_interval() -> None:
    p = simulate_patient(3, effect_pct=20.0, treatment=TreatmentKind.PRP, sex=Sex.MALE, matched=True)
    day = p.truth.start + dt.timedelta(days=280)
    plain = verdict_to_dict(judge(p.measurements, p.treatments, as_of=day, sex=Sex.MALE, today=dt.date(2030, 1, 1)))
    matched = verdict_to_dict(judge(p.measurements, p.treatments, as_of=day, sex=Sex.MALE,
                                    today=dt.date(2030, 1, 1), matched=p.matched))
    assert plain["overall"]["estimator"] == "independent" and matched["overall"]["estimator"] == "matched"
    assert {z["estimator"] for z in matched["zones"].values()} == {"matched"}
    assert matched["overall"]["mdc95_pct"] < 0.6 * plain["overall"]["mdc95_pct"]
    lo, hi = matched["overall"]["change_pct_ci95"]
    assert lo < p.truth.true_change_pct(day) + 3.0 and hi > p.truth.true_change_pct(day) - 3.0
    assert any("same hairs" in m for m in matched["messages"])


def test_matched_counts_that_contradict_the_independent_ones_are_not_trusted() -> None:
    p = simulate_patient(3, effect_pct=0.0, treatment=TreatmentKind.PRP, sex=Sex.MALE, matched=True)
    day = p.truth.start + dt.timedelta(days=280)
    # a detector that "finds" 60% more hairs at every later visit of the crown than the counts show
    fake = [MatchedPair(m.zone, m.date, m.replicate, m.reference_date, m.kept, m.lost,
                        m.new + round(0.6 * (m.kept + m.lost)), m.overlap_pct, m.different_field)
            if m.zone is not Zone.DONOR and m.date > p.truth.start else m for m in p.matched]
    v = verdict_to_dict(judge(p.measurements, p.treatments, as_of=day, sex=Sex.MALE, today=dt.date(2030, 1, 1),
                              matched=fake))
    assert "matched_disagrees" in {f["code"] for f in v["flags"]}
    assert v["overall"]["estimator"] == "independent" and v["overall"]["verdict"] != "responding"


def test_matched_counts_keep_false_responding_rare_and_find_more_responders() -> None:
    """A small cohort at month 9 (the benchmark runs thousands): no false alarms, more +10% responders."""
    hits = {0.0: [0, 0], 10.0: [0, 0]}
    for i in range(40):
        effect = (0.0, 10.0)[i % 2]
        p = simulate_patient(1000 + i, effect_pct=effect, sex=Sex.MALE, matched=True)
        day = p.truth.start + dt.timedelta(days=284)
        for j, pairs in enumerate((None, p.matched)):
            v = judge(p.measurements, p.treatments, as_of=day, sex=Sex.MALE, today=dt.date(2030, 1, 1), matched=pairs)
            hits[effect][j] += v.overall.verdict.value == "responding"
    assert hits[0.0][1] <= 1
    assert hits[10.0][1] > hits[10.0][0]


def test_simulated_matched_pairs_do_not_change_the_measurements() -> None:
    a = simulate_patient(11)
    b = simulate_patient(11, matched=True)
    assert a.measurements == b.measurements and a.treatments == b.treatments and not a.matched and b.matched


def test_the_matched_interval_keeps_at_least_the_prior_share_of_a_visit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A treated-donor covariance that noisy counts drive to 0 must not shrink the matched interval below the
    prior's shared part (it did: false `responding` 8.0% on hairtrack's own photo noise, 4.6% with the floor)."""
    import dataclasses

    from hairtrack.analysis import verdict as verdict_module
    from hairtrack.analysis.model import NoisePrior

    p = simulate_patient(3, effect_pct=20.0, treatment=TreatmentKind.PRP, sex=Sex.MALE, matched=True)
    day = p.truth.start + dt.timedelta(days=280)

    real = verdict_module.fit_donor_weight

    def mdc(shared_var: float | None) -> float:
        def fitted(*args, **kwargs):
            weight = real(*args, **kwargs)
            return weight if shared_var is None else dataclasses.replace(weight, shared_var_log2=shared_var)

        monkeypatch.setattr(verdict_module, "fit_donor_weight", fitted)
        v = judge(p.measurements, p.treatments, as_of=day, sex=Sex.MALE, today=dt.date(2030, 1, 1), matched=p.matched)
        assert v.overall.estimator == "matched"
        return v.overall.mdc95_pct

    prior = NoisePrior()
    floor = prior.shared_sd_log**2 + prior.seasonal_residual_sd_log**2
    assert mdc(0.0) == pytest.approx(mdc(floor))  # a covariance of 0 counts as the prior's value
    assert mdc(4 * floor) > mdc(floor)  # a larger estimate is used as it is
