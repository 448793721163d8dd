"""The treatment reference: every entry sourced, every TreatmentKind covered, benchmarks from the same data."""

import json
import tomllib
from pathlib import Path

import pytest

import hairtrack.analysis
from hairtrack.analysis.benchmarks import density_benchmark, load_references
from hairtrack.analysis.reference import (
    INFO_TOPICS, claims, ev_types, mechanisms, prp_vs_ev, reference_to_dict, render_info, treatment_info,
)
from hairtrack.domain import TreatmentKind
from hairtrack.errors import InputError

TOML = Path(hairtrack.analysis.__file__).with_name("reference.toml")


def test_every_treatment_kind_has_an_entry_with_every_field_sourced():
    for kind in TreatmentKind:
        info = treatment_info(kind)
        assert info.kind is kind and info.name
        for field in (info.what, info.dose, info.effect, info.time_to_effect, info.early_shed, info.evidence,
                      info.fda_status):
            assert field.text.strip() and field.source.strip()


def test_every_reference_item_has_a_source():
    for item in (*ev_types(), *mechanisms(), *claims()):
        assert item.source.strip()
    for row in prp_vs_ev():
        assert row.prp.source.strip() and row.ev.source.strip()
    assert {c.status for c in claims()} == {"established", "not_established"}


def test_benchmarks_are_the_reference_values():
    raw = tomllib.loads(TOML.read_text())["benchmark"]
    refs = load_references()
    assert set(refs) == set(raw)
    for name, entry in raw.items():
        v = entry["value"]
        lo, hi = (v[0], v[1]) if isinstance(v, list) else (v, v)
        assert (refs[name].low, refs[name].high, refs[name].source) == (lo, hi, entry["source"])


def test_treatment_benchmarks_are_the_verdicts_own_objects():
    refs = load_references()
    for kind in TreatmentKind:
        for b in treatment_info(kind).benchmarks:
            assert b is refs[b.name]
    prp = {b.name: b for b in treatment_info("prp").benchmarks}["prp_density_increase"]
    assert (prp.low, prp.high) == density_benchmark(TreatmentKind.PRP).range_pct
    row = next(r for r in prp_vs_ev() if r.aspect == "density increase")
    assert row.prp_benchmark is refs["prp_density_increase"] and row.ev_benchmark is refs["ev_density_increase"]


def test_benchmark_values_stay_as_before():
    refs = load_references()
    expected = {"prp_density_increase": (30.0, 40.0), "ev_density_increase": (10.0, 20.0),
                "finasteride_density_vs_placebo_1y": (21.0, 21.0), "finasteride_density_increase_1y": (10.0, 14.0),
                "finasteride_halt_rate": (80.0, 90.0), "finasteride_regrow_rate": (65.0, 65.0),
                "minoxidil_topical_density_48w": (18.6, 18.6), "minoxidil_regrow_rate": (40.0, 60.0),
                "prp_price_per_session": (500.0, 2000.0), "prp_sessions_per_course": (3.0, 4.0),
                "seasonal_dip": (-5.0, -1.0), "early_shed_minoxidil": (-10.0, 0.0), "early_shed_procedure": (-5.0, 0.0)}
    assert {k: (r.low, r.high) for k, r in refs.items()} == expected


def test_ev_types_are_the_three_kinds_with_their_sizes():
    assert [(t.key, t.size_nm) for t in ev_types()] == [
        ("exosomes", (30.0, 150.0)), ("microvesicles", (100.0, 1000.0)), ("apoptotic_bodies", (500.0, 2000.0))]
    assert "multivesicular" in ev_types()[0].origin


def test_mechanisms_cover_the_four_named_in_the_issue():
    keys = {m.key for m in mechanisms()}
    assert keys == {"wnt_beta_catenin", "dermal_papilla_growth_factors", "angiogenesis", "anti_inflammatory"}
    assert all(m.status == "preclinical" for m in mechanisms())


def test_prp_vs_ev_has_the_seven_aspects():
    assert [r.aspect for r in prp_vs_ev()] == ["mechanism", "evidence level", "density increase", "cost per session",
                                               "FDA status", "source material", "sessions needed"]


def test_ev_is_not_fda_approved_and_its_evidence_is_very_low():
    ev = treatment_info(TreatmentKind.EV)
    assert ev.evidence_level == "very_low" and "No exosome product is FDA-approved" in ev.fda_status.text
    assert "FDA" in ev.fda_status.source


@pytest.mark.parametrize("name, kind", [("PRP", "prp"), ("exosomes", "ev"), ("Platelet-rich plasma", "prp"),
                                        ("minoxidil topical", "minoxidil_topical"), ("rogaine", "minoxidil_topical")])
def test_names_people_type(name, kind):
    assert treatment_info(name).kind.value == kind


@pytest.mark.parametrize("name, match", [("finasterid", "did you mean 'finasteride'"),
                                         ("minoxidil", "minoxidil_topical or minoxidil_oral"), ("", "treatment")])
def test_unknown_names_are_refused(name, match):
    with pytest.raises(InputError, match=match):
        treatment_info(name)


def test_render_info_shows_sources_and_benchmark_numbers():
    text = render_info("ev")
    assert text.startswith("Extracellular vesicles") and "source:" in text and "10 to 20" in text
    for topic in INFO_TOPICS:
        assert "source:" in render_info(topic)
    overview = render_info()
    assert all(k.value in overview for k in TreatmentKind) and "30-150 nm" in overview


def test_reference_to_dict_is_json():
    d = json.loads(json.dumps(reference_to_dict()))
    assert set(d["treatments"]) == {k.value for k in TreatmentKind}
    assert d["prp_vs_ev"][2]["prp_benchmark"]["low"] == 30.0
    one = reference_to_dict(treatment_info("prp"))
    assert one == d["treatments"]["prp"]
