"""Provider files: malformed ones get one clear error naming every problem."""

import json
from pathlib import Path

import pytest

from hairtrack.analysis.providers import load_provider, parse_provider, provider_from_mapping
from hairtrack.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "providers"


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_json_and_toml_give_the_same_profile(tmp_path):
    import tomllib
    data = tomllib.loads((EXAMPLES / "good_clinic.toml").read_text())
    as_json = load_provider(_write(tmp_path, "c.json", json.dumps(data)))
    assert as_json == load_provider(EXAMPLES / "good_clinic.toml")


@pytest.mark.parametrize("data, match", [
    ({"name": "x", "particles_per_dose": "lots"}, r"particles_per_dose must be a number of particles, got 'lots' \(text\)"),
    ({"name": "x", "particles_per_dose": True}, r"particles_per_dose must be a number .* \(true/false\)"),
    ({"name": "x", "protein_ug_per_dose": -5}, r"protein_ug_per_dose must be a finite number of micrograms > 0, got -5"),
    ({"name": "x", "size_distribution_nm": {"mode": -100}}, r"size_distribution_nm.mode must be .* > 0, got -100"),
    ({"name": "x", "size_distribution_nm": {"d10": 200, "d90": 90}}, r"d10 \(200 nm\) must not exceed d90 \(90 nm\)"),
    ({"name": "x", "size_distribution_nm": {"d10": 50, "mode": 40, "d90": 90}}, r"d10 \(50 nm\) must not exceed mode \(40 nm\)"),
    ({"name": "x", "size_distribution_nm": {"mode": 120, "d90": 100}}, r"mode \(120 nm\) must not exceed d90"),
    ({"name": "x", "size_distribution_nm": 110}, r"size_distribution_nm must be a table with mode, d10, d90"),
    ({"name": "x", "price_per_session": {"amount": 100, "currency": "EUX"}}, r"unknown currency 'EUX'.*did you mean 'EUR'"),
    ({"name": "x", "price_per_session": {"amount": -1, "currency": "USD"}}, r"amount must be a finite amount >= 0, got -1"),
    ({"name": "x", "price_per_session": {"amount": "12a", "currency": "USD"}}, r"amount must be a number, got '12a'"),
    ({"name": "x", "price_per_session": {"amount": 100}}, r"needs both amount and currency; missing currency"),
    ({"name": "x", "guarantees_results": "no"}, r"guarantees_results must be true or false, got 'no'"),
    ({"name": "x", "characterization_methods": "NTA, TEM"}, r"characterization_methods must be a list of text"),
    ({"name": "x", "fda_claim": "sort of"}, r"fda_claim must be one of none, approved"),
    ({"name": "x", "particle_per_dose": 1e9}, r"unknown field 'particle_per_dose' \(did you mean 'particles_per_dose'\?\)"),
    ({"name": "x", "size_mode_nm": 100}, r"unknown field 'size_mode_nm' \(did you mean 'size_distribution_nm.mode'\?\)"),
    ({"name": "x", "size_distribution_nm": {"mdoe": 100}}, r"unknown field 'size_distribution_nm.mdoe' \(did you mean 'mode'\?\)"),
    ({"name": "x", "size_distribution_nm": {"median": 100}}, r"unknown field 'size_distribution_nm.median'; known fields: mode, d10, d90"),
    ({"ev_source": "cord"}, r"name is required"),
    ({"name": 7}, r"name must be text, got 7"),
])
def test_bad_fields_are_refused_with_a_clear_message(data, match):
    with pytest.raises(InputError, match=match):
        provider_from_mapping(data)


def test_every_problem_is_listed_at_once():
    with pytest.raises(InputError) as e:
        provider_from_mapping({"name": "x", "particles_per_dose": -1, "protein_ug_per_dose": "a", "colour": 1})
    assert str(e.value).startswith("provider has 3 problems:") and str(e.value).count("\n- ") == 3


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="provider file empty.toml is empty"):
        load_provider(_write(tmp_path, "empty.toml", "  \n"))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_provider(tmp_path / "nope.json")


def test_bad_json_gives_line_and_column(tmp_path):
    with pytest.raises(InputError, match=r"bad.json is not valid JSON: .* at line 3, column \d+"):
        load_provider(_write(tmp_path, "bad.json", '{\n  "name": "x",\n  "particles_per_dose": ,\n}'))


def test_json_nan_and_duplicates_are_refused():
    with pytest.raises(InputError, match="NaN"):
        parse_provider('{"name": "x", "particles_per_dose": NaN}', fmt="json")
    with pytest.raises(InputError, match="'name' appears twice"):
        parse_provider('{"name": "x", "name": "y"}', fmt="json")


def test_json_must_be_an_object():
    with pytest.raises(InputError, match="must hold a table of fields"):
        parse_provider('["name", "x"]', fmt="json")


def test_bad_toml_gives_the_line(tmp_path):
    with pytest.raises(InputError, match=r"bad.toml is not valid TOML: .*line 2"):
        load_provider(_write(tmp_path, "bad.toml", 'name = "x"\nparticles_per_dose = = 3\n'))


def test_unknown_suffix_is_sniffed(tmp_path):
    assert load_provider(_write(tmp_path, "p.txt", '{"name": "x"}')).name == "x"
    assert load_provider(_write(tmp_path, "q.txt", 'name = "y"')).name == "y"


def test_values_are_normalised():
    prof = provider_from_mapping({"name": "  x  ", "ev_source": "  ", "particles_per_dose": 10,
                                  "price_per_session": {"amount": 1999.99, "currency": "usd"},
                                  "marketed_as": "Small Extracellular Vesicles"})
    assert prof.name == "x" and prof.ev_source is None and prof.particles_per_dose == 10.0
    assert str(prof.price_per_session.amount) == "1999.99" and prof.price_per_session.currency == "USD"
    assert prof.marketed_as == "small_extracellular_vesicles"
