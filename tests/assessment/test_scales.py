"""BASP, Ludwig and Sinclair from densities relative to the donor, and the SVG diagrams."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hairtrack.assessment.basp import basp_from_density, basp_from_norwood, basp_to_dict
from hairtrack.assessment.diagrams import (
    LUDWIG_DIAGRAM_STAGES,
    NORWOOD_DIAGRAM_STAGES,
    all_diagrams,
    ludwig_svg,
    norwood_svg,
)
from hairtrack.assessment.female import (
    female_stage_from_coverage,
    female_stage_from_density,
    female_stage_to_dict,
)
from hairtrack.assessment.norwood import STAGES
from hairtrack.errors import InputError

DONOR = 200.0


@pytest.mark.parametrize(
    ("zones", "code"),
    [
        ({"hairline": 195, "temples": 190, "mid_scalp": 198, "crown": 196}, "L"),
        ({"hairline": 190, "temples": 150, "mid_scalp": 195, "crown": 195}, "M1"),  # temples at 0.75
        ({"hairline": 185, "temples": 100, "mid_scalp": 190, "crown": 150}, "M2V1"),
        ({"hairline": 60, "temples": 60, "mid_scalp": 150, "crown": 190}, "C3F1"),
        ({"hairline": 20, "temples": 10, "mid_scalp": 20, "crown": 30}, "U3"),
    ],
)
def test_basp_from_density(zones, code):
    res = basp_from_density(donor=DONOR, **zones)
    assert res.code == code
    assert res.ratios_to_donor["hairline"] == pytest.approx(zones["hairline"] / DONOR, abs=1e-3)


def test_basp_grades_grow_with_loss():
    grades = [basp_from_density(donor=DONOR, crown=c).vertex_grade for c in (200, 160, 120, 80, 0)]
    assert grades == sorted(grades) and grades[0] == 0 and grades[-1] == 3


def test_basp_from_every_norwood_stage():
    codes = {s: basp_from_norwood(s).code for s in STAGES}
    assert codes["III vertex"] == "M2V1" and codes["I"] == "L" and codes["VII"].startswith("U")
    assert basp_to_dict(basp_from_norwood("IV"))["source"] == "norwood"


@pytest.mark.parametrize(("kwargs", "match"), [({"donor": 0, "crown": 3}, "donor density"),
                                                ({"donor": 100}, "at least one"),
                                                ({"donor": 100, "crown": -5}, "crown must be")])
def test_basp_bad_input(kwargs, match):
    with pytest.raises(InputError, match=match):
        basp_from_density(**kwargs)


@pytest.mark.parametrize(
    ("mid", "sinclair", "ludwig"),
    [(200, 1, None), (170, 2, "I"), (130, 3, "I"), (100, 4, "II"), (40, 5, "III")],
)
def test_sinclair_and_ludwig_from_density(mid, sinclair, ludwig):
    s = female_stage_from_density(mid_scalp=mid, donor=DONOR)
    assert (s.sinclair, s.ludwig) == (sinclair, ludwig)
    assert female_stage_to_dict(s)["share_left"] == pytest.approx(mid / DONOR, abs=1e-3)


def test_female_from_coverage_is_monotone():
    grades = [female_stage_from_coverage(mid_scalp_coverage_pct=c, donor_coverage_pct=95).sinclair
              for c in (95, 80, 65, 50, 20)]
    assert grades == [1, 2, 3, 4, 5]
    with pytest.raises(InputError, match="percentage"):
        female_stage_from_coverage(mid_scalp_coverage_pct=140)


def test_every_diagram_is_valid_svg():
    d = all_diagrams()
    assert set(d["norwood"]) == set(NORWOOD_DIAGRAM_STAGES) == set(STAGES)
    assert set(d["ludwig"]) == set(LUDWIG_DIAGRAM_STAGES)
    ids = set()
    for scale in d.values():
        for stage, svg in scale.items():
            root = ET.fromstring(svg)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert stage in root.find("{http://www.w3.org/2000/svg}title").text
            clip = root.find(".//{http://www.w3.org/2000/svg}clipPath").get("id")
            assert clip not in ids  # several diagrams share one web page
            ids.add(clip)


def test_more_advanced_stages_show_more_skin():
    # independent check of the drawing: the skin-coloured share of the SVG's shapes grows with the stage
    assert norwood_svg("VII").count("#e9c6a5") >= 3
    assert len(norwood_svg("I")) < len(norwood_svg("IV"))
    with pytest.raises(InputError, match="stage must be one of"):
        norwood_svg("VIII")
    with pytest.raises(InputError, match="stage must be one of"):
        ludwig_svg("IV")
