"""Norwood from zone scans: the rule table, probabilities from measurement noise, the photo combination
and the command line."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from hairtrack.assessment.norwood import STAGES
from hairtrack.assessment.norwood_scans import (
    combine_photo_and_scans,
    norwood_from_density,
    norwood_with_scans_to_dict,
    WORKED_SHARES,
    stage_from_ratios,
)
from hairtrack.assessment.record import norwood_from_scans
from hairtrack.domain import Measurement, Zone
from hairtrack.errors import InputError


@pytest.mark.parametrize("stage", STAGES)
def test_every_named_stage_has_a_worked_example(stage: str) -> None:
    assert stage_from_ratios(*WORKED_SHARES[stage]) == stage


def test_the_a_variants_need_the_midline_to_recede_with_the_temples_and_a_spared_crown() -> None:
    assert stage_from_ratios(hairline=0.55, temples=0.6, crown=0.95) == "IIIa"
    assert stage_from_ratios(hairline=0.9, temples=0.6, crown=0.95) == "III"  # temples lead: M-shaped
    assert stage_from_ratios(hairline=0.55, temples=0.6, crown=0.5) != "IIIa"  # crown involved: not an a variant
    # without a temple or a crown scan nothing shows the pattern: the standard name
    assert stage_from_ratios(hairline=0.55, crown=0.95) == "III"
    assert stage_from_ratios(hairline=0.55, temples=0.6) == "III"


def test_more_loss_never_lowers_the_level() -> None:
    rng = np.random.default_rng(3)
    level = {s: n for n, s in zip((1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7), STAGES)}
    for _ in range(3000):
        r = rng.uniform(0.0, 1.1, 4)
        worse = r * rng.uniform(0.3, 1.0, 4)
        assert level[stage_from_ratios(*worse)] >= level[stage_from_ratios(*r)], (r, worse)


def test_probabilities_come_from_the_noise_and_concentrate_with_replicates() -> None:
    one = norwood_from_density(donor=180, hairline=100, temples=104, crown=176)
    assert not any(w.startswith("pattern_unknown") for w in one.warnings)
    many = norwood_from_density(donor=[180, 176, 184, 178], hairline=[100, 96, 104, 99], temples=[104, 110, 101, 106],
                                crown=[176, 170, 181, 174])
    for s in (one, many):
        assert s.stage == "IIIa" and s.stage_number == 3
        assert abs(sum(s.probabilities.values()) - 1) < 1e-3 and abs(sum(s.stage_probabilities.values()) - 1) < 1e-3
    assert many.stage_probabilities["IIIa"] > one.stage_probabilities["IIIa"]
    assert many.ratio_se_log["hairline"] < one.ratio_se_log["hairline"]
    assert one.zones_missing == ("mid_scalp",) and one.ratios_to_donor["hairline"] == pytest.approx(100 / 180, abs=1e-3)
    # the same inputs give the same answer
    assert norwood_from_density(donor=180, hairline=100, temples=104, crown=176) == one


def test_missing_zones_and_borderline_shares_are_said() -> None:
    s = norwood_from_density(donor=180, hairline=153)  # 0.85: on the grade boundary
    assert any(w.startswith("crown_not_scanned") for w in s.warnings)
    assert any(w.startswith("temples_not_scanned") for w in s.warnings)
    assert any(w.startswith("borderline") for w in s.warnings)
    assert any(w.startswith("pattern_unknown") for w in s.warnings)


@pytest.mark.parametrize("kwargs, message", [
    (dict(donor=0, crown=10), "donor density must be > 0"),
    (dict(donor=180), "at least one of hairline"),
    (dict(donor=180, crown=[10, float("nan")]), "crown: densities must be finite"),
    (dict(donor=180, crown=-3), "crown: densities must be finite and >= 0"),
])
def test_bad_densities_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        norwood_from_density(**kwargs)


def test_scans_tell_stage_one_and_the_a_variants_that_photos_cannot() -> None:
    photo = {1: 0.0, 2: 0.55, 3: 0.35, 4: 0.1, 5: 0.0, 6: 0.0, 7: 0.0}  # the photo model never says 1
    none = norwood_from_density(donor=[180, 184, 178], hairline=[178, 182, 176], temples=[176, 180, 172],
                                mid_scalp=[178, 180, 181], crown=[176, 179, 181])
    assert combine_photo_and_scans(photo, none)[:2] == ("I", 1)
    anterior = norwood_from_density(donor=[180, 176, 184], hairline=[100, 96, 104], temples=[104, 110, 101],
                                    crown=[176, 170, 181])
    stage, number, probs = combine_photo_and_scans(photo, anterior)
    assert (stage, number) == ("IIIa", 3) and abs(sum(probs.values()) - 1) < 1e-3
    # scans cannot veto what the photos see: every level the photos allow keeps some probability
    assert all(probs[lvl] > 0 for lvl in (2, 3, 4))


def test_combined_answer_keeps_the_photo_answer_beside_it() -> None:
    scans = norwood_from_density(donor=180, hairline=100, temples=104, crown=176)
    photo = {"image": ["a.jpg"], "view": "combined", "stage": "III", "stage_number": 3,
             "probabilities": {"1": 0.0, "2": 0.3, "3": 0.5, "4": 0.2, "5": 0.0, "6": 0.0, "7": 0.0},
             "warnings": ["crown_not_visible: x"], "unknown_reason": None}
    d = norwood_with_scans_to_dict(photo, scans)
    assert d["stage_source"] == "photos+scans" and d["photo_stage"] == "III" and d["stage"] == "IIIa"
    assert d["scans"]["ratios_to_donor"]["hairline"] == pytest.approx(0.556, abs=1e-3)
    assert "crown_not_visible: x" in d["warnings"] and any(w.startswith("scans: ") for w in d["warnings"])
    alone = norwood_with_scans_to_dict(None, scans)
    assert alone["stage_source"] == "scans" and alone["stage"] == scans.stage and alone["photo_stage"] is None
    unknown = norwood_with_scans_to_dict(photo | {"stage": "unknown", "probabilities": {}}, scans)
    assert unknown["stage_source"] == "scans"


def _m(zone: Zone, date: dt.date, replicate: int, hairs: float | None, coverage: float | None = None) -> Measurement:
    return Measurement("p", date, zone, replicate, hairs_per_cm2=hairs, coverage_pct=coverage)


def test_profile_scans_use_the_latest_visit_of_each_zone() -> None:
    d1, d2 = dt.date(2025, 1, 1), dt.date(2025, 6, 1)
    rows = [_m(Zone.DONOR, d1, 1, 120.0), _m(Zone.DONOR, d2, 1, 180.0), _m(Zone.DONOR, d2, 2, 184.0),
            _m(Zone.HAIRLINE, d1, 1, 175.0), _m(Zone.HAIRLINE, d2, 1, 100.0), _m(Zone.TEMPLES, d2, 1, 104.0),
            _m(Zone.CROWN, d2, 1, 178.0)]
    s = norwood_from_scans(rows)
    assert s is not None and s.stage == "IIIa"
    assert s.ratios_to_donor["hairline"] == pytest.approx(100 / 182, abs=1e-3)
    assert norwood_from_scans([r for r in rows if r.zone is Zone.DONOR]) is None
    # coverage only (overview photos) works too, in its own unit
    cov = [_m(Zone.DONOR, d2, 1, None, 90.0), _m(Zone.CROWN, d2, 1, None, 30.0)]
    assert norwood_from_scans(cov).ratios_to_donor == {"crown": pytest.approx(0.333, abs=1e-3)}


Cli = Callable[..., Result]
CSV = ("date,zone,replicate,hairs_per_cm2\n"
       "2025-06-01,donor,1,180\n2025-06-01,donor,2,176\n2025-06-01,hairline,1,100\n2025-06-01,hairline,2,96\n"
       "2025-06-01,temples,1,104\n2025-06-01,temples,2,110\n2025-06-01,crown,1,176\n2025-06-01,crown,2,170\n")


def test_norwood_command_stages_from_a_profile(local_cli: Cli, tmp_path: Path) -> None:
    assert local_cli("profile", "add", "p1").exit_code == 0
    (tmp_path / "m.csv").write_text(CSV)
    assert local_cli("import", "measurements", str(tmp_path / "m.csv"), "--profile", "p1").exit_code == 0
    result = local_cli("norwood", "--profile", "p1", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["stage"] == "IIIa" and body["stage_source"] == "scans" and body["scans"]["zones_missing"] == ["mid_scalp"]
    text = local_cli("norwood", "--profile", "p1")
    assert "IIIa" in text.stdout and "hairline 55%" in text.stdout
    from PIL import Image

    from tests.assessment.conftest import render_head

    Image.fromarray(render_head(hair_from=0.3)[0]).save(tmp_path / "top.png")
    both = local_cli("norwood", str(tmp_path / "top.png"), "--profile", "p1", "--json")
    assert both.exit_code == 0, both.stderr
    lines = both.stdout.splitlines()
    assert len(lines) == 1  # the photos are the profile's person: one answer
    joined = json.loads(lines[0])
    assert joined["image"] == [str(tmp_path / "top.png")] and joined["scans"]["stage"] == "IIIa"
    # a drawn head is unlike any real photo: the photos add nothing, the scans decide
    assert (joined["photo_stage"], joined["stage_source"]) in {("unknown", "scans")} or joined["stage_source"] == "photos+scans"
    assert local_cli("profile", "add", "p2").exit_code == 0
    empty = local_cli("norwood", "--profile", "p2")
    assert empty.exit_code == 1 and "needs a donor scan" in empty.stderr
    nothing = local_cli("norwood")
    assert nothing.exit_code == 1 and "give head photos" in nothing.stderr
