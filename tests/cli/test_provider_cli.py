"""`hairtrack provider-check` and `hairtrack info`, and the same on the web."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result


Cli = Callable[..., Result]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "providers"


@pytest.mark.parametrize("flag_file", sorted((EXAMPLES / "flags").glob("*.toml")), ids=lambda p: p.stem)
def test_each_example_file_raises_exactly_its_flag(local_cli: Cli, flag_file: Path) -> None:
    result = local_cli("provider-check", str(flag_file), "--json")
    assert result.exit_code == 0, result.output
    assert [f["code"] for f in json.loads(result.stdout)["flags"]] == [flag_file.stem]


def test_a_well_characterized_provider_raises_none_and_can_be_saved(cli: Cli) -> None:
    result = cli("provider-check", str(EXAMPLES / "good_clinic.toml"), "--save", "--json")
    body = json.loads(result.stdout)
    assert body["flags"] == [] and body["saved"] == "new"
    assert json.loads(cli("provider-check", str(EXAMPLES / "good_clinic.toml"), "--save", "--json").stdout)["saved"] == "updated"


def test_pricing_uses_a_given_rate_and_never_guesses_a_currency(local_cli: Cli, tmp_path: Path) -> None:
    red = local_cli("provider-check", str(EXAMPLES / "red_flags.json"), "--rate", "EUR=0.5", "--json")
    codes = [f["code"] for f in json.loads(red.stdout)["flags"]]
    assert "extreme_pricing" not in codes  # 7,500 EUR at 0.5 USD is 3,750 USD
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"name": "X", "price_per_session": {"amount": "100", "currency": "XYZ"}}))
    refused = local_cli("provider-check", str(odd))
    assert refused.exit_code == 1 and "XYZ" in refused.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "X", "size_distribution_nm": {"d10": 200, "d90": 90}}', "d10 (200 nm) must not exceed d90 (90 nm)"),
        ('{"name": "X", "particles_per_dose": "lots"}', "particles_per_dose"),
        ('{"name": "X", "particle_per_dose": 1e9}', "particles_per_dose"),
        ('{"name": "X",', "line 1"),
    ],
)
def test_malformed_provider_files_get_clear_errors(local_cli: Cli, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    result = local_cli("provider-check", str(path))
    assert result.exit_code == 1 and message in result.stderr


def test_info_shows_sourced_entries(local_cli: Cli) -> None:
    ev = local_cli("info", "ev")
    assert ev.exit_code == 0 and "source:" in ev.stdout and "benchmark ev_density_increase: 10 to 20" in ev.stdout
    kinds = local_cli("info", "ev-types").stdout
    assert "Exosomes (small EVs), 30-150 nm" in kinds and "Microvesicles (ectosomes), 100-1,000 nm" in kinds
    data = json.loads(local_cli("info", "prp", "--json").stdout)
    assert data and "source" in json.dumps(data)
    vague = local_cli("info", "minoxidil")
    assert vague.exit_code == 1 and "minoxidil_topical or minoxidil_oral" in vague.stderr
