"""`hairtrack verdict` and `hairtrack report` on simulated people with a known effect."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader
from typer.testing import Result

from hairtrack.domain import TreatmentKind
from hairtrack.synth import simulate_patient
from hairtrack.tracking import write_measurements_csv, write_treatments_csv

Cli = Callable[..., Result]
START = dt.date(2024, 1, 15)


def _people(tmp_path: Path) -> tuple[Path, Path]:
    strong = simulate_patient(3, effect_pct=35.0, treatment=TreatmentKind.PRP, profile="strong", start=START, months=12)
    none = simulate_patient(4, effect_pct=0.0, treatment=TreatmentKind.EV, profile="none", start=START, months=12)
    m, t = tmp_path / "m.csv", tmp_path / "t.csv"
    m.write_text(write_measurements_csv(strong.measurements + none.measurements))
    t.write_text(write_treatments_csv(strong.treatments + none.treatments))
    return m, t


def test_verdict_from_csv_gives_one_json_line_per_profile(local_cli: Cli, tmp_path: Path) -> None:
    m, t = _people(tmp_path)
    result = local_cli("verdict", "--measurements", str(m), "--treatments", str(t), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["profile"] for v in lines] == ["none", "strong"]
    by_name = {v["profile"]: v for v in lines}
    assert by_name["strong"]["overall"]["verdict"] == "responding"
    assert by_name["none"]["overall"]["verdict"] != "responding"
    assert by_name["strong"]["evaluated_treatment"]["treatment"] == "prp"
    assert set(by_name["strong"]) >= {"profile", "as_of", "evaluated_treatment", "months_on_treatment", "phase", "zones", "overall", "cost", "flags", "messages"}


def test_verdict_as_of_judges_the_record_as_it_stood(local_cli: Cli, tmp_path: Path) -> None:
    m, t = _people(tmp_path)
    early = START + dt.timedelta(days=40)
    result = local_cli("verdict", "--measurements", str(m), "--treatments", str(t), "--as-of", early.isoformat(), "--json")
    for v in map(json.loads, result.stdout.splitlines()):
        assert v["as_of"] == early.isoformat() and v["phase"] == "months_1_2"
        assert v["overall"]["verdict"] in ("too_early", "insufficient_data")


def test_verdict_of_a_stored_profile_and_the_report(cli: Cli, tmp_path: Path) -> None:
    m, t = _people(tmp_path)
    assert cli("import", "measurements", str(m)).exit_code == 0
    assert cli("import", "treatments", str(t)).exit_code == 0
    human = cli("verdict", "--profile", "strong")
    assert human.exit_code == 0 and "responding" in human.stdout
    pdf, html = tmp_path / "r.pdf", tmp_path / "r.html"
    assert cli("report", "--profile", "strong", "--out", str(pdf)).exit_code == 0
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Hair density report: strong" in text and "not medical advice" in text and "Overall verdict: responding" in text
    assert len(PdfReader(pdf).pages) >= 3
    assert cli("report", "--profile", "strong", "--out", str(html)).exit_code == 0
    assert "Hair density report: strong" in html.read_text() and "data:image/svg+xml;base64," in html.read_text()


def test_verdict_refuses_unclear_requests(local_cli: Cli, tmp_path: Path) -> None:
    m, t = _people(tmp_path)
    neither = local_cli("verdict")
    assert neither.exit_code == 1 and "give either --profile or --measurements" in neither.stderr
    lonely = local_cli("verdict", "--profile", "x", "--treatments", str(t))
    assert lonely.exit_code == 1
    bad = local_cli("verdict", "--measurements", str(m), "--treatment", "minoxidil")
    assert bad.exit_code == 1 and "did you mean minoxidil_topical or minoxidil_oral" in bad.stderr
    (tmp_path / "bad.csv").write_text("profile,date,zone,hairs_per_cm2\np,2025-02-30,crown,1\n")
    broken = local_cli("verdict", "--measurements", str(tmp_path / "bad.csv"))
    assert broken.exit_code == 1 and "line 2: date '2025-02-30' is not a real date" in broken.stderr
    wrong = local_cli("report", "--profile", "strong", "--out", str(tmp_path / "r.docx"))
    assert wrong.exit_code == 1 and "must end in .pdf or .html" in wrong.stderr


def test_a_csv_method_column_feeds_the_capture_checks(local_cli: Cli, tmp_path: Path) -> None:
    days = ["2025-01-06", "2025-01-20", "2025-02-20", "2025-03-20", "2025-04-20", "2025-05-20"]
    rows = [f"p,{d},crown,{150 + i},{'learned/aaaa/r2' if i < 4 else 'learned/bbbb/r2'},08:00" for i, d in enumerate(days)]
    measurements = tmp_path / "m.csv"
    measurements.write_text("profile,date,zone,hairs_per_cm2,method,capture_time\n" + "\n".join(rows) + "\n")
    treatments = tmp_path / "t.csv"
    treatments.write_text("profile,treatment,date\np,finasteride,2025-02-01\n")
    result = local_cli("verdict", "--measurements", str(measurements), "--treatments", str(treatments), "--json")
    assert result.exit_code == 0, result.output
    flags = {f["code"]: f["message"] for f in json.loads(result.stdout)["flags"]}
    assert flags["capture_down_weighted"].startswith("2 zone visits") and "measurement method" in flags["capture_down_weighted"]
    same = measurements.read_text().replace("bbbb", "aaaa")
    measurements.write_text(same)
    flags = {f["code"] for f in json.loads(local_cli("verdict", "--measurements", str(measurements), "--treatments",
                                                     str(treatments), "--json").stdout)["flags"]}
    assert "capture_down_weighted" not in flags
