"""Provider check: one file per flag raises exactly that flag; a well-characterized provider raises none."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from hairtrack.analysis.benchmarks import load_references
from hairtrack.analysis.providers import (
    EXTREME_PRICE_USD, SEVERITIES, check_provider, fx_table, load_provider, parse_rate, provider_check_to_dict,
    provider_from_mapping, provider_record_fields,
)
from hairtrack.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "providers"
TODAY = dt.date(2025, 6, 1)
FLAG_FILES = sorted((EXAMPLES / "flags").glob("*.toml"))


def _good() -> dict:
    import tomllib
    return tomllib.loads((EXAMPLES / "good_clinic.toml").read_text())


def test_good_clinic_raises_no_flag():
    check = check_provider(load_provider(EXAMPLES / "good_clinic.toml"), today=TODAY)
    assert check.flags == () and check.misev_missing == ()
    assert check.price_usd == Decimal("2500.00") and check.rate_origin == "usd"


def test_there_is_a_file_for_every_flag():
    assert {p.stem for p in FLAG_FILES} >= {"no_characterization", "size_inconsistent", "guaranteed_results",
                                            "no_tracking_protocol", "extreme_pricing", "fda_approval_claimed",
                                            "stem_cell_claims"}


@pytest.mark.parametrize("path", FLAG_FILES, ids=lambda p: p.stem)
def test_each_flag_file_raises_exactly_its_flag(path):
    check = check_provider(load_provider(path), today=TODAY)
    assert [f.code for f in check.flags] == [path.stem]
    flag = check.flags[0]
    assert flag.severity in SEVERITIES and flag.message.endswith(".") and flag.source


def test_no_characterization_names_what_is_missing():
    data = _good()
    for k in ("ev_source", "protein_ug_per_dose", "markers"):
        del data[k]
    data["characterization_methods"] = ["NTA"]
    check = check_provider(provider_from_mapping(data), today=TODAY)
    (flag,) = check.flags
    assert flag.code == "no_characterization" and flag.severity == "high"  # 4 items missing
    for item in ("source of the vesicles", "protein content", "imaging method", "CD63"):
        assert item in flag.message
    assert "MISEV2023" in flag.source and len(check.misev_missing) == 4


def test_markers_need_a_tetraspanin_a_negative_marker_and_a_method():
    data = _good()
    data["markers"] = ["CD63", "TSG101"]  # no negative marker
    assert [f.code for f in check_provider(provider_from_mapping(data)).flags] == ["no_characterization"]
    data["markers"] = ["cd-63", "Calnexin"]  # spelling is normalised
    assert check_provider(provider_from_mapping(data)).flags == ()
    data["characterization_methods"] = ["NTA", "TEM"]  # markers named, but no method that shows them
    assert check_provider(provider_from_mapping(data)).misev_missing[-1].startswith("EV marker proteins")


@pytest.mark.parametrize("size, flagged", [
    ({"mode": 150.0, "d10": 30.0, "d90": 400.0}, False),   # edges of 30-150 nm are inside
    ({"mode": 151.0}, True),
    ({"mode": 25.0, "d10": 10.0, "d90": 60.0}, True),
    ({"d10": 150.0, "d90": 600.0}, True),                   # 90% above the exosome range
    ({"d10": 5.0, "d90": 30.0}, True),                      # 90% below it
])
def test_size_rule_uses_the_reference_exosome_range(size, flagged):
    data = _good() | {"size_distribution_nm": size}
    codes = [f.code for f in check_provider(provider_from_mapping(data)).flags]
    assert ("size_inconsistent" in codes) is flagged


def test_size_rule_applies_only_to_products_sold_as_exosomes():
    data = _good() | {"size_distribution_nm": {"mode": 400.0}, "marketed_as": "extracellular_vesicles"}
    assert check_provider(provider_from_mapping(data)).flags == ()


def test_guarantee_message_quotes_the_reference_responder_rate():
    data = _good() | {"guarantees_results": True}
    (flag,) = check_provider(provider_from_mapping(data)).flags
    rate = load_references()["finasteride_regrow_rate"]
    assert f"{rate.low:g}%" in flag.message and flag.source == rate.source


def test_tracking_not_stated_is_a_low_flag_and_refused_is_medium():
    data = _good()
    del data["encourages_tracking"]
    (flag,) = check_provider(provider_from_mapping(data)).flags
    assert (flag.code, flag.severity) == ("no_tracking_protocol", "low")


@pytest.mark.parametrize("amount, rate, flagged", [("4900", "1.00", False), ("4900", "1.05", True),
                                                    ("5000", "1", False), ("5001", "1", True)])
def test_extreme_pricing_with_a_given_rate(amount, rate, flagged):
    data = _good() | {"price_per_session": {"amount": amount, "currency": "GBP"}}
    check = check_provider(provider_from_mapping(data), rates={"GBP": rate}, today=TODAY)
    assert check.price_usd == Decimal(amount) * Decimal(rate) and check.rate_origin == "given"
    assert ("extreme_pricing" in [f.code for f in check.flags]) is flagged


def test_shipped_table_converts_and_its_date_is_in_the_message():
    table = fx_table()
    data = _good() | {"price_per_session": {"amount": "6000", "currency": "EUR"}}
    check = check_provider(provider_from_mapping(data), today=TODAY)
    assert check.rate_origin == "table" and check.rate_as_of == table.as_of
    assert check.price_usd == Decimal("6000") * table.usd_per_unit["EUR"]
    (flag,) = check.flags
    assert flag.code == "extreme_pricing" and table.as_of.isoformat() in flag.message
    assert "approximate" in flag.message and "--rate EUR=" in flag.message


def test_given_rate_beats_the_table():
    data = _good() | {"price_per_session": {"amount": "6000", "currency": "EUR"}}
    check = check_provider(provider_from_mapping(data), rates={"eur": 0.5}, today=TODAY)
    assert check.price_usd == Decimal("3000.0") and check.flags == ()


def test_unknown_rate_is_said_to_be_unknown_never_guessed():
    data = _good() | {"price_per_session": {"amount": "99999999", "currency": "ARS"}}
    check = check_provider(provider_from_mapping(data), today=TODAY)
    assert "ARS" not in fx_table().usd_per_unit
    assert check.price_usd is None and check.usd_per_unit is None and check.rate_origin is None
    (flag,) = check.flags
    assert flag.code == "price_not_converted" and flag.severity == "info"
    assert "no rate for ARS" in flag.message and "will not guess" in flag.message


def test_usd_needs_no_rate_and_threshold_is_5000():
    assert EXTREME_PRICE_USD == Decimal(5000)
    assert fx_table().usd_per_unit["USD"] == 1


@pytest.mark.parametrize("text", ["EUR", "EUR=", "EUR=abc", "EUR=-1", "EUR=0", "XXY=1.0", "EUR=nan"])
def test_bad_rates_are_refused(text):
    with pytest.raises(InputError, match="rate|ISO 4217"):
        parse_rate(text)
    assert parse_rate("gbp = 1.27") == ("GBP", Decimal("1.27"))


def test_bad_rate_mapping_is_refused():
    data = _good() | {"price_per_session": {"amount": "10", "currency": "EUR"}}
    with pytest.raises(InputError, match="EURO"):
        check_provider(provider_from_mapping(data), rates={"EURO": 1.1})


def test_red_flags_example_raises_every_red_flag_high_first():
    check = check_provider(load_provider(EXAMPLES / "red_flags.json"), today=TODAY)
    codes = [f.code for f in check.flags]
    assert set(codes) == {"no_characterization", "size_inconsistent", "guaranteed_results", "no_tracking_protocol",
                          "extreme_pricing", "fda_approval_claimed", "stem_cell_claims"}
    severities = [SEVERITIES.index(f.severity) for f in check.flags]
    assert severities == sorted(severities) and check.flags[0].severity == "high"


def test_check_to_dict_is_json_and_money_is_exact():
    check = check_provider(load_provider(EXAMPLES / "flags" / "extreme_pricing.toml"), rates={"EUR": "1.085"})
    d = json.loads(json.dumps(provider_check_to_dict(check)))
    assert d["price_usd"] == "6510.00" and d["usd_per_unit"] == "1.085" and d["rate_origin"] == "given"
    assert d["flags"][0]["code"] == "extreme_pricing" and set(d["flags"][0]) == {"code", "severity", "message",
                                                                                  "source"}


def test_record_fields_match_the_providers_table():
    from hairtrack.tracking.models import Provider
    fields = provider_record_fields(load_provider(EXAMPLES / "good_clinic.toml"))
    columns = set(Provider.__table__.columns.keys()) - {"id", "created_at", "document", "owner_id"}  # set by the store
    assert set(fields) == columns
    assert fields["size_d10_nm"] == 70.0 and fields["price_amount"] == Decimal("2500.00")
