"""The command line as a user meets it: help, import/export round trips, refusals that change nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from hairtrack import __version__
from hairtrack.tracking.io import MEASUREMENT_COLUMNS
from tests.conftest import snapshot

Cli = Callable[..., Result]

MEASUREMENTS = (
    "date,zone,replicate,hairs_per_cm2,fu_per_cm2,hairs_per_fu,mean_width_um,terminal_fraction,coverage_pct,"
    "capture_time,hair_length_mm,device,lighting,image,note,method\n"
    "2025-01-06,crown,1,104.2,50.1,2.08,58.2,0.68,,08:12,1,dermlite,led,IMG_1.jpg,,learned/f588b811d0/r2\n"
    "2025-01-06,crown,2,101.7,49.3,2.06,57.9,0.7,,08:12,1,dermlite,led,IMG_2.jpg,,learned/f588b811d0/r2\n"
    "2025-01-06,donor,1,190.5,80.1,2.38,70.1,0.91,,08:14,1,dermlite,led,IMG_3.jpg,,TrichoScan 3.0\n"
    '2025-02-03,crown,1,106,51,2.08,58,0.7,,08:30,1.5,dermlite,led,,"wet, after ""shower""",\n'
    "2025-02-03,donor,1,188.25,79,2.38,71,0.9,,08:31,1.5,dermlite,led,,,\n"
    "2025-03-03,crown,1,,,,,,41.5,,,phone,,,overview only,overview/r1\n"
)
TREATMENTS = (
    "profile,treatment,date,end_date,dose,cost,currency,provider,note\n"
    "p1,finasteride,2024-03-01,,1 mg daily,,,,\n"
    "p1,ev,2025-01-27,,2 ml,2500,USD,Clinic A,first\n"
    "p1,ev,2025-02-24,,2 ml,2500.5,USD,Clinic A,\n"
)


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def test_version_and_help_explain_themselves(cli: Cli) -> None:
    assert cli("--version").stdout == f"hairtrack {__version__}\n"
    top = cli("--help")
    assert top.exit_code == 0
    for command in ("profile", "treatment", "session", "import", "export", "device", "demo", "db-info"):
        assert command in top.stdout
    for args in (["profile", "add"], ["profile", "list"], ["profile", "show"], ["profile", "delete"], ["treatment", "add"],
                 ["treatment", "list"], ["session", "add"], ["import", "measurements"], ["import", "treatments"],
                 ["export"], ["device", "add"], ["device", "list"], ["demo"], ["db-info"]):
        result = cli(*args, "--help")
        assert result.exit_code == 0, result.output
        assert "Usage: hairtrack " + " ".join(args) in result.stdout
        assert "--db" in result.stdout


def test_import_then_export_gives_back_the_same_rows(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", "measurements", write(tmp_path, "x.csv", MEASUREMENTS), "--profile", "p1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 6 measurements (new profiles: p1)\n"
    exported = cli("export", "--profile", "p1", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    header, *rows = MEASUREMENTS.splitlines()
    assert exported.stdout.splitlines() == ["profile," + header] + ["p1," + row for row in rows]


def test_export_into_an_empty_database_gives_the_same_record(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("import", "measurements", write(tmp_path, "m.csv", MEASUREMENTS), "-p", "p1")
    cli("import", "treatments", write(tmp_path, "t.csv", TREATMENTS))
    first = {
        "m": cli("export", "--table", "measurements").stdout,
        "t": cli("export", "--table", "treatments").stdout,
        "j": json.loads(cli("export", "--format", "json").stdout),
    }
    monkeypatch.setenv("HAIRTRACK_DB", str(tmp_path / "second.sqlite3"))
    assert cli("import", "measurements", write(tmp_path, "m2.csv", first["m"])).exit_code == 0
    assert cli("import", "treatments", write(tmp_path, "t2.csv", first["t"])).exit_code == 0
    second = {
        "m": cli("export", "--table", "measurements").stdout,
        "t": cli("export", "--table", "treatments").stdout,
        "j": json.loads(cli("export", "--format", "json").stdout),
    }
    assert second["m"] == first["m"] and second["t"] == first["t"] == TREATMENTS
    for doc in (first["j"], second["j"]):
        doc.pop("exported_at")
    assert second["j"] == first["j"]
    (profile,) = first["j"]["profiles"]
    assert profile["measurements"][0]["hairs_per_cm2"] == 104.2 and profile["treatments"][1]["cost"] == "2500"


BAD_MEASUREMENTS = [
    ("date,zone,hairs_per_cm2\n2025-03-01,crown,1\n2025-03-01,nape,1\n", "line 3: unknown zone 'nape'"),
    ("date,zone,hairs_per_cm2\n2025-02-30,crown,1\n", "line 2: date '2025-02-30' is not a real date"),
    ("date,zone,hairs_per_cm2\n2025-03-01,crown,1\n2025-03-02,crown,-12\n", "line 3: hairs_per_cm2 -12 is negative"),
    ("date,zone,hairs_per_cm2\n2025-03-01,crown,lots\n", "line 2: hairs_per_cm2 'lots' is not a number"),
    ("zone,hairs_per_cm2\ncrown,1\n", "line 1: missing required column 'date'"),
    ("date,zone,zone,hairs_per_cm2\n2025-03-01,crown,crown,1\n", "line 1: column 'zone' appears twice"),
    ("", "line 1: the file is empty"),
    ("date,zone,hairs_per_cm2,method\n2025-03-01,crown,1," + "x" * 101 + "\n", "line 2: method is longer than 100 characters"),
    ("date,zone,hairs_per_cm2,note\n2025-03-01,crown,1,caf\u00e9\n".encode("cp1252"), "line 2: the file is not UTF-8 text"),
    ("date,zone,hairs_per_cm2\n2025-03-01,crown,1\n".encode("utf-16"), "line 1: the file is UTF-16 or UTF-32 encoded"),
    ("date,zone,replicate,hairs_per_cm2\n2025-03-05,crown,1,1\n2025-01-06,crown,1,1\n", "line 3: p1 2025-01-06 crown replicate 1 is already stored"),
]


@pytest.mark.parametrize(("content", "message"), BAD_MEASUREMENTS, ids=lambda x: str(x)[:30])
def test_a_bad_file_is_rejected_whole_and_the_database_is_unchanged(
    cli: Cli, tmp_path: Path, db_url: str, content: str | bytes, message: str
) -> None:
    assert cli("import", "measurements", write(tmp_path, "good.csv", MEASUREMENTS), "-p", "p1").exit_code == 0
    before = snapshot(db_url)
    result = cli("import", "measurements", write(tmp_path, "bad.csv", content), "-p", "p1")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "rejected, nothing was imported" in result.stderr
    assert result.stdout == ""
    assert snapshot(db_url) == before


def test_a_bad_treatment_file_is_rejected_whole(cli: Cli, tmp_path: Path, db_url: str) -> None:
    cli("import", "treatments", write(tmp_path, "t.csv", TREATMENTS))
    before = snapshot(db_url)
    bad = TREATMENTS.replace("p1,ev,2025-02-24,,2 ml,2500.5,USD", "p1,ev,2025-03-24,,2 ml,2500.5,US$") + "p1,prp,2025-04-01,,,,,,\n"
    result = cli("import", "treatments", write(tmp_path, "bad.csv", bad))
    assert result.exit_code == 1
    assert "line 2: p1 finasteride started on 2024-03-01 is already stored" not in result.stderr  # parse errors come first
    assert "line 4: currency 'US$' is unknown" in result.stderr
    assert snapshot(db_url) == before


def test_profile_commands_and_deletion_report(cli: Cli, tmp_path: Path, db_url: str) -> None:
    assert cli("profile", "add", "p1", "--sex", "male").exit_code == 0
    assert cli("profile", "add", "p1").stderr == "hairtrack: error: profile 'p1' already exists\n"
    cli("import", "measurements", write(tmp_path, "m.csv", MEASUREMENTS), "-p", "p1")
    cli("import", "treatments", write(tmp_path, "t.csv", TREATMENTS))
    listed = json.loads(cli("profile", "list", "--json").stdout)
    assert listed == [{"name": "p1", "sex": "male", "note": None, "scans": 6, "visits": 3, "first_scan": "2025-01-06",
                       "last_scan": "2025-03-03", "zones": ["crown", "donor"], "treatments": 2, "sessions": 2}]
    shown = cli("profile", "show", "p1")
    assert "total spent on ev: 5000.5 USD" in shown.stdout
    refused = cli("profile", "delete", "p1")
    assert refused.exit_code == 1 and "needs confirmation: add --yes" in refused.stderr
    deleted = cli("profile", "delete", "p1", "--yes")
    assert deleted.exit_code == 0
    assert deleted.stdout == "deleted profile p1: 6 scans, 6 measurements, 2 treatments, 2 sessions, 1 providers, 0 image files\n"
    assert all(rows == [] for rows in snapshot(db_url).values())
    assert cli("profile", "list", "--json").stdout == "[]\n"


def test_treatment_and_session_commands_check_the_kind(cli: Cli) -> None:
    cli("profile", "add", "p1")
    ok = cli("treatment", "add", "-p", "p1", "--treatment", "finasteride", "--start", "2024-03-01", "--dose", "1 mg daily")
    assert ok.exit_code == 0, ok.output
    wrong = cli("treatment", "add", "-p", "p1", "--treatment", "prp", "--start", "2025-01-01")
    assert wrong.exit_code == 1 and "use 'hairtrack session add'" in wrong.stderr
    wrong = cli("session", "add", "-p", "p1", "--treatment", "finasteride", "--date", "2025-01-01")
    assert wrong.exit_code == 1 and "use 'hairtrack treatment add'" in wrong.stderr
    half = cli("session", "add", "-p", "p1", "--treatment", "prp", "--date", "2025-01-01", "--cost", "800")
    assert half.exit_code == 1 and "--cost and --currency go together" in half.stderr
    ok = cli("session", "add", "-p", "p1", "--treatment", "prp", "--date", "2025-01-01", "--cost", "800", "--currency", "usd")
    assert ok.exit_code == 0, ok.output
    again = cli("session", "add", "-p", "p1", "--treatment", "prp", "--date", "2025-01-01")
    assert again.exit_code == 1 and "session on 2025-01-01 is already stored" in again.stderr
    nobody = cli("session", "add", "-p", "ghost", "--treatment", "prp", "--date", "2025-01-01")
    assert nobody.exit_code == 1 and "no profile named 'ghost'" in nobody.stderr
    assert cli("treatment", "list", "-p", "p1").stdout.splitlines()[1:] == [
        "p1,finasteride,2024-03-01,,1 mg daily,,,,", "p1,prp,2025-01-01,,,800,USD,,"
    ]


def test_json_output_is_clean(cli: Cli, tmp_path: Path) -> None:
    cli("import", "measurements", write(tmp_path, "m.csv", MEASUREMENTS), "-p", "p1")
    for args in (["profile", "list"], ["profile", "show", "p1"], ["device", "list"], ["db-info"]):
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.output
        json.loads(result.stdout)
        assert "\x1b[" not in result.stdout and result.stderr == ""


def test_devices_from_the_command_line(cli: Cli) -> None:
    assert cli("device", "add", "dermlite", "--px-per-mm", "152.5").stdout == "saved device dermlite: 152.5 px/mm\n"
    bad = cli("device", "add", "x", "--px-per-mm", "-3.2")
    assert bad.exit_code == 1 and "px_per_mm must be a finite number > 0, got -3.2" in bad.stderr
    assert json.loads(cli("device", "list", "--json").stdout)[0]["px_per_mm"] == 152.5
    # a measured scale's 15 digits are shown to 0.01 px/mm in the table, and kept whole in the JSON
    cli("device", "add", "measured", "--px-per-mm", "19.999476412", "--uncertainty", "0.0123456")
    table = cli("device", "list").stdout
    assert "20" in table and "0.01" in table and "19.9994" not in table
    assert json.loads(cli("device", "list", "--json").stdout)[1]["px_per_mm"] == 19.999476412


def test_a_device_too_coarse_for_close_ups_is_noted_when_saved(cli: Cli) -> None:
    """Under 80 px/mm the learned detector misses thin hairs: saying so when the device is saved spares a
    baseline of scans that would each be named coarse_scale. The device is saved all the same."""
    coarse = cli("device", "add", "weak-macro", "--px-per-mm", "60")
    assert coarse.exit_code == 0 and coarse.stdout == "saved device weak-macro: 60 px/mm\n"
    assert coarse.stderr.startswith("note: At 60 px/mm a hair 60 µm wide is only 3.6 px across")
    assert "named coarse_scale" in coarse.stderr
    assert cli("device", "add", "phone-macro", "--px-per-mm", "110").stderr == ""
    as_json = cli("device", "add", "json-macro", "--px-per-mm", "60", "--json")
    assert json.loads(as_json.stdout)["px_per_mm"] == 60 and "named coarse_scale" in as_json.stderr
    assert cli("device", "add", "near-limit", "--px-per-mm", "79.7").stderr.startswith("note: At 79.7 px/mm")


def test_missing_file_and_folder_are_named(cli: Cli, tmp_path: Path) -> None:
    missing = cli("import", "measurements", str(tmp_path / "nope.csv"), "-p", "p1")
    assert missing.exit_code == 1 and re.search(r"nope\.csv: no such file", missing.stderr)
    folder = cli("import", "measurements", str(tmp_path), "-p", "p1")
    assert folder.exit_code == 1 and "is a folder, not a file" in folder.stderr


def test_demo_loads_the_sample_and_can_run_again(cli: Cli) -> None:
    for _ in range(2):
        result = cli("demo")
        assert result.exit_code == 0, result.output
        assert "sample: 144 scans over 12 visits" in result.stdout
    assert [p["name"] for p in json.loads(cli("profile", "list", "--json").stdout)] == ["sample"]


def test_demo_never_replaces_a_real_profile_named_sample(cli: Cli, db_url: str) -> None:
    cli("profile", "add", "sample")
    before = snapshot(db_url)
    result = cli("demo")
    assert result.exit_code == 1 and "is not the sample" in result.stderr
    assert snapshot(db_url) == before


def test_export_columns_follow_the_contract(cli: Cli, tmp_path: Path) -> None:
    cli("import", "measurements", write(tmp_path, "m.csv", MEASUREMENTS), "-p", "p1")
    assert cli("export").stdout.splitlines()[0] == ",".join(MEASUREMENT_COLUMNS)
    out = tmp_path / "out.csv"
    assert cli("export", "--out", str(out)).exit_code == 0
    assert out.read_text() == cli("export").stdout


def test_demo_keep_rebuilds_an_interrupted_sample(cli: Cli) -> None:
    cli("profile", "add", "sample", "--note", "hairtrack's bundled sample history (made up; safe to delete)")
    result = cli("demo", "--keep")
    assert result.exit_code == 0, result.output
    assert "sample: 144 scans over 12 visits" in result.stdout
    again = cli("demo", "--keep")
    assert "loaded the sample history" not in again.stderr  # complete now: kept as it is


def test_output_and_setting_mistakes_get_one_line_errors(local_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = local_cli("export", "--out", str(tmp_path / "no" / "such" / "folder.csv"))
    assert missing.exit_code == 1 and "No such file or directory" in missing.stderr and "Traceback" not in missing.stderr
    folder = local_cli("export", "--out", str(tmp_path))
    assert folder.exit_code == 1 and "Traceback" not in folder.stderr
    monkeypatch.setenv("HAIRTRACK_BUSY_TIMEOUT_S", "abc")
    bad = local_cli("profile", "list")
    assert bad.exit_code == 1 and "bad setting: HAIRTRACK_BUSY_TIMEOUT_S" in bad.stderr
