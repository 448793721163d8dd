"""`hairtrack compare`, `card` and `schedule` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import Result

from hairtrack.imaging.card import detect_card, render_card
from hairtrack.synth import render_scalp

Cli = Callable[..., Result]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    a = render_scalp(seed=4, shape=(512, 640), px_per_mm=150.0, n_units=30, difficulty="easy").image
    m = cv2.getRotationMatrix2D((320, 256), 10, 1.0)
    m[0, 2] += 30
    b = cv2.warpAffine(np.asarray(a), m, (640, 512), borderMode=cv2.BORDER_REFLECT)
    other = render_scalp(seed=99, shape=(512, 640), px_per_mm=150.0, n_units=30, difficulty="easy").image
    paths = (folder / "a.jpg", folder / "b.jpg", folder / "other.jpg")
    for path, img in zip(paths, (a, b, other), strict=True):
        Image.fromarray(np.asarray(img)).save(path, quality=92)
    return paths


def test_compare_finds_the_same_field_and_its_transform(local_cli: Cli, pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, _ = pair
    result = local_cli("compare", str(a), str(b), "--json", "--side-by-side", str(tmp_path / "sbs.png"))
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    assert {"overlap_pct", "transform", "kept", "lost", "new", "flags"} <= set(obj)
    assert "different_field" not in obj["flags"] and obj["overlap_pct"] > 70
    # The transform maps A's (x, y) to B's: check it against the rotation that made B.
    m = cv2.getRotationMatrix2D((320, 256), 10, 1.0)
    m[0, 2] += 30
    t = np.asarray(obj["transform"])
    for x, y in ((100.0, 100.0), (500.0, 400.0)):
        want = m @ (x, y, 1.0)
        got = t @ (x, y, 1.0)
        assert np.hypot(*(got[:2] / got[2] - want)) < 3.0
    assert len(obj["kept"]) >= 0.5 * (len(obj["kept"]) + len(obj["lost"]))
    picture = np.asarray(Image.open(tmp_path / "sbs.png"))
    assert picture.shape[0] == 512 and picture.shape[1] > 1280


def test_compare_flags_a_different_patch(local_cli: Cli, pair: tuple[Path, Path, Path]) -> None:
    a, _, other = pair
    obj = json.loads(local_cli("compare", str(a), str(other), "--json").stdout)
    assert "different_field" in obj["flags"] and obj["kept"] == [] and obj.get("change_pct") is None
    human = local_cli("compare", str(a), str(other)).stdout
    assert "do not show the same patch" in human


def test_blind_side_by_side_hides_the_order_in_a_key_file(local_cli: Cli, pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, _ = pair
    out = tmp_path / "blind.png"
    assert local_cli("compare", str(a), str(b), "--side-by-side", str(out), "--blind").exit_code == 0
    key = (tmp_path / "blind.png.key.txt").read_text().splitlines()
    assert sorted(line.split(" = ")[1] for line in key) == sorted([str(a), str(b)])


def test_card_pdf_is_printable_and_its_render_reads_back(local_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    result = local_cli("card", "--out", str(out))
    assert result.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    rgb, layout = render_card(dpi=300)
    reading = detect_card(rgb)
    assert reading.px_per_mm == pytest.approx(300 / 25.4, rel=0.01)
    assert local_cli("card", "--out", str(tmp_path / "card.png")).exit_code == 1
    bad = local_cli("card", "--out", str(tmp_path / "odd.pdf"), "--dpi", "300")
    assert bad.exit_code == 1 and "600, 1200, 2400 dpi" in bad.output and not (tmp_path / "odd.pdf").exists()


def test_schedule_writes_an_icalendar_with_the_baseline_window(cli: Cli, tmp_path: Path) -> None:
    cli("profile", "add", "p1")
    start = dt.date.today() + dt.timedelta(days=30)
    cli("session", "add", "-p", "p1", "--treatment", "prp", "--date", start.isoformat())
    out = tmp_path / "scans.ics"
    result = cli("schedule", "-p", "p1", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    baseline = [s for s in plan["scans"] if s["kind"] == "baseline"]
    days = sorted(dt.date.fromisoformat(s["date"]) for s in baseline)
    assert len(days) >= 2 and days[0] <= start - dt.timedelta(days=14) and days[-1] < start  # >= 2 weeks of baseline
    text = out.read_bytes().decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.rstrip().endswith("END:VCALENDAR")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.count("BEGIN:VEVENT") == len(plan["scans"])
    missing = cli("schedule", "-p", "ghost", "--out", str(out))
    assert missing.exit_code == 1 and "no profile named 'ghost'" in missing.stderr
