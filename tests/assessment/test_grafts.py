"""Graft estimate: the worked example of issue 6 and the properties any estimate must have."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hairtrack.assessment.grafts import (
    CV_FLOOR,
    FIRST_SESSION_RANGES,
    DonorProfile,
    estimate_grafts,
    graft_estimate_to_dict,
)
from hairtrack.errors import InputError


def test_worked_example_norwood_iv_with_crown():
    # 25 cm² x 45 + 30 cm² x 32.5 + 20 cm² x 25 units/cm² (mid targets, nothing left) = 2,600
    est = estimate_grafts({"hairline": 25, "mid_scalp": 30, "crown": 20}, stage="IV")
    assert est.grafts == 2600
    assert (est.grafts_low, est.grafts_high) == (25 * 40 + 30 * 30 + 20 * 20, 25 * 50 + 30 * 35 + 20 * 30)
    lo, hi = FIRST_SESSION_RANGES["IV"]
    assert lo <= est.grafts <= hi
    assert est.limited_by == "need" and not est.warnings
    assert est.assumptions  # defaults were used and are said


def test_donor_capacity_follows_erdogan_floor():
    donor = DonorProfile(donor_units_per_cm2=80, hairs_per_unit=2.0, shaft_width_mm=0.06, safe_donor_area_cm2=150)
    est = estimate_grafts({"crown": 10}, donor=donor)
    cv = 80 * 2.0 * 0.06  # 9.6
    assert est.donor_coverage_value == pytest.approx(cv)
    assert est.donor_capacity_grafts == int(150 * 80 * (1 - CV_FLOOR / cv))


def test_donor_limits_large_areas():
    donor = DonorProfile(donor_units_per_cm2=50, hairs_per_unit=1.8, shaft_width_mm=0.07, safe_donor_area_cm2=120)
    est = estimate_grafts({"hairline": 60, "mid_scalp": 80, "crown": 60}, donor=donor, stage="VII")
    assert est.limited_by == "donor"
    assert est.grafts == est.donor_capacity_grafts < est.needed_grafts
    assert any("donor supplies" in w for w in est.warnings)


def test_thin_donor_gives_nothing():
    est = estimate_grafts({"crown": 20}, donor=DonorProfile(donor_units_per_cm2=30, hairs_per_unit=1.5,
                                                            shaft_width_mm=0.05))
    assert est.donor_capacity_grafts == 0 and est.grafts == 0
    assert any("floor" in w for w in est.warnings)


def test_thicker_hair_needs_fewer_grafts():
    thin = estimate_grafts({"crown": 20}, donor=DonorProfile(shaft_width_mm=0.05, hairs_per_unit=1.8))
    thick = estimate_grafts({"crown": 20}, donor=DonorProfile(shaft_width_mm=0.09, hairs_per_unit=2.6))
    assert thick.needed_grafts < thin.needed_grafts


def test_far_from_published_range_warns():
    est = estimate_grafts({"hairline": 5}, stage="IV")
    assert any("published first-session range" in w for w in est.warnings)


AREAS = (0.0, 5.0, 12.5, 30.0, 70.0)
EXISTING = (0.0, 10.0, 25.0)
DONORS = (
    DonorProfile(),
    DonorProfile(donor_units_per_cm2=55, hairs_per_unit=1.9, shaft_width_mm=0.055, safe_donor_area_cm2=140),
    DonorProfile(donor_hairs_per_cm2=220, shaft_width_mm=0.08),
)


@pytest.mark.parametrize("donor", DONORS)
@pytest.mark.parametrize("zone", ["hairline", "mid_scalp", "crown"])
def test_more_bald_area_never_fewer_grafts(donor, zone):
    for have in EXISTING:
        got = [estimate_grafts({zone: a, "crown" if zone != "crown" else "hairline": 10.0},
                               existing_units_per_cm2={zone: have}, donor=donor).grafts for a in AREAS]
        assert got == sorted(got)
    # less hair left in the zone never means fewer grafts either
    got = [estimate_grafts({zone: 20.0}, existing_units_per_cm2={zone: h}, donor=donor).grafts
           for h in sorted(EXISTING, reverse=True)]
    assert got == sorted(got)


@pytest.mark.parametrize("donor", DONORS)
def test_never_more_than_donor_supply(donor):
    rng = np.random.default_rng(7)
    for _ in range(60):
        areas = dict(zip(("hairline", "mid_scalp", "crown"), rng.uniform(0, 120, 3).round(1).tolist()))
        est = estimate_grafts(areas, donor=donor)
        assert 0 <= est.grafts_low <= est.grafts <= est.grafts_high <= est.donor_capacity_grafts


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ({}, {}, "non-empty"),
        ({"forehead": 3}, {}, "not a recipient zone"),
        ({"crown": -1}, {}, "must be a number of cm² between 0 and 600"),
        ({"crown": 1e308}, {}, "must be a number of cm² between 0 and 600"),
        ({"crown": 5}, {"donor": DonorProfile(shaft_width_mm=65)}, "in mm"),
        ({"crown": 5}, {"donor": DonorProfile(donor_units_per_cm2=-2)}, "donor_units_per_cm2 must be"),
        ({"crown": 5}, {"stage": "8"}, "stage must be"),
    ],
)
def test_bad_input_is_named(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        estimate_grafts(args, **kwargs)


def test_to_dict_has_the_cli_keys():
    d = graft_estimate_to_dict(estimate_grafts({"front": 25, "vertex": 20}))
    assert {"grafts", "grafts_low", "grafts_high", "donor_capacity_grafts", "limited_by", "zones", "warnings"} <= set(d)
    assert [z["zone"] for z in d["zones"]] == ["hairline", "crown"]
    assert list(itertools.chain(d["assumptions"]))


def test_bare_areas_come_from_photos_with_a_scale() -> None:
    from hairtrack.assessment.grafts import bare_areas_from_photos
    from hairtrack.imaging.coverage import OverviewCoverage, ZoneCoverage

    def cov(zones):
        return OverviewCoverage("top", 0, True, 50.0, tuple(zones), None, None, None, None, None, None, ())

    top = cov([ZoneCoverage("hairline", 20.0, 0.1, 30.0), ZoneCoverage("crown", 50.0, 0.1, 40.0),
               ZoneCoverage("donor", 10.0, 0.1, 50.0)])
    back = cov([ZoneCoverage("crown", 25.0, 0.1, 40.0)])
    unscaled = cov([ZoneCoverage("mid_scalp", 0.0, 0.2, None)])
    # the fullest view of each zone counts; the donor and zones without a scale never
    assert bare_areas_from_photos([top, back, unscaled, None]) == {"hairline": 24.0, "crown": 30.0}
    assert bare_areas_from_photos([unscaled]) == {}


def test_grafts_command_measures_areas_on_a_photo_or_says_what_it_needs(local_cli, tmp_path) -> None:
    import json

    from PIL import Image

    from tests.assessment.conftest import render_head

    plain = tmp_path / "top.png"
    Image.fromarray(render_head(hair_from=0.4, side=400)[0]).save(plain)
    refused = local_cli("grafts", "--photo", str(plain))
    assert refused.exit_code == 1 and "calibration card must be in the photo" in refused.stderr
    assert local_cli("grafts").exit_code == 1
    dev = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "norwood-photos-dev"
    if not (dev / "labels.csv").exists():
        return
    import csv

    import cv2

    from hairtrack.imaging.card import render_card
    from hairtrack.imaging.io import load_image

    row = next(r for r in csv.DictReader((dev / "labels.csv").open()) if r["view"] == "Top-Down" and r["norwood_level"] == "5")
    rgb = cv2.resize(load_image(dev / "images" / row["file"]).rgb, (1600, 1600), interpolation=cv2.INTER_CUBIC)
    card = render_card(dpi=150)[0]
    rgb[-card.shape[0] - 4 : -4, 4 : 4 + card.shape[1]] = card
    Image.fromarray(rgb).save(tmp_path / "card.png")
    result = local_cli("grafts", "--photo", str(tmp_path / "card.png"), "--area", "crown=10", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    zones = {z["zone"]: z for z in body["zones"]}
    assert zones["crown"]["area_cm2"] == 10.0  # --area overrides the measured zone
    assert len(zones) >= 2 and "measured bare areas" in result.stderr
