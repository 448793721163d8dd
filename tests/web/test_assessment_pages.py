"""Head photos on the web and the command line: stage with probabilities, diagrams, graft estimate."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import Result

from tests.assessment.conftest import render_head
from tests.web.conftest import tokens

Cli = Callable[..., Result]


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_norwood_page_and_api(local_client: TestClient) -> None:
    photos = [("top.jpg", _jpeg(render_head(hair_from=f, seed=i)[0]), "image/jpeg") for i, f in enumerate((0.05, 0.5))]
    page = local_client.post("/norwood", files=[("images", p) for p in photos], data=tokens(local_client.get("/").text))
    assert page.status_code == 200
    assert len(re.findall(r'class="card norwood-result"', page.text)) == 2
    assert "data:image/png;base64," in page.text and "probability" in page.text
    api = local_client.post("/api/norwood", files=[("images", p) for p in photos], data={"combine": "true"})
    body = api.json()
    assert api.status_code == 200 and {"image", "view", "stage", "stage_number", "probabilities", "warnings"} <= set(body)
    # Drawn heads are far from any real photo: the model must say so rather than guess.
    assert (body["stage"] == "unknown" and body["unknown_reason"]) or abs(sum(body["probabilities"].values()) - 1) < 1e-3
    refused = local_client.post("/api/norwood", files=[("images", ("x.jpg", b"not a photo", "image/jpeg"))])
    assert refused.status_code == 400 and "not an image" in refused.json()["detail"]


def test_black_and_tiny_images_never_get_a_confident_stage(local_client: TestClient) -> None:
    black = _jpeg(np.zeros((200, 200, 3), np.uint8))
    body = local_client.post("/api/norwood", files=[("images", ("black.jpg", black, "image/jpeg"))]).json()
    assert body[0]["stage"] == "unknown" and body[0]["unknown_reason"]


def test_diagrams_and_graft_estimate_pages(local_client: TestClient) -> None:
    stages = local_client.get("/stages")
    assert stages.status_code == 200 and stages.text.count("data:image/svg+xml;base64,") == 15
    form = local_client.get("/grafts?stage=IV")
    result = local_client.post("/grafts", data={"stage": "IV", "area_hairline": "25", "area_mid_scalp": "30", "area_crown": "20",
                                                **tokens(form.text)})
    assert result.status_code == 200 and "About 2,600 grafts (2,300-2,900)" in result.text
    empty = local_client.post("/grafts", data={"stage": "IV", **tokens(form.text)})
    assert empty.status_code == 400 and "at least one zone" in empty.text


def test_norwood_grafts_and_diagrams_commands(local_cli: Cli, tmp_path: Path) -> None:
    photo = tmp_path / "top.jpg"
    photo.write_bytes(_jpeg(render_head(hair_from=0.3)[0]))
    (tmp_path / "notes.jpg").write_text("not a photo")
    result = local_cli("norwood", str(photo), str(tmp_path / "notes.jpg"), "--json")
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert lines[0] == {"image": str(tmp_path / "notes.jpg"), "error": "not an image hairtrack can read (it looks like a text file)"}
    assert lines[1]["image"] == str(photo) and (lines[1]["stage"] == "unknown" or set(lines[1]["probabilities"]) == {str(n) for n in range(1, 8)})
    grafts = json.loads(local_cli("grafts", "--area", "hairline=25", "--area", "mid_scalp=30", "--area", "crown=20", "--stage", "IV", "--json").stdout)
    assert (grafts["grafts"], grafts["grafts_low"], grafts["grafts_high"]) == (2600, 2300, 2900)
    bad = local_cli("grafts", "--area", "crown=lots")
    assert bad.exit_code == 1 and "ZONE=NUMBER" in bad.stderr
    assert local_cli("diagrams", "--out", str(tmp_path / "d")).exit_code == 0
    svgs = sorted(p.name for p in (tmp_path / "d").glob("*.svg"))
    assert len(svgs) == 15 and "norwood-IV.svg" in svgs and "ludwig-III.svg" in svgs


DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "norwood-photos-dev"


@pytest.mark.skipif(not (DATASET / "labels.csv").exists(), reason="norwood-photos-dev is not beside the project")
def test_real_head_photos_get_a_stage_with_probabilities(local_client: TestClient) -> None:
    import csv

    rows = list(csv.DictReader((DATASET / "labels.csv").open()))[:5]
    files = [("images", (r["file"], (DATASET / "images" / r["file"]).read_bytes(), "image/jpeg")) for r in rows]
    body = local_client.post("/api/norwood", files=files).json()
    assert [b["image"] for b in body] == [r["file"] for r in rows]
    for b in body:
        assert b["stage"] != "unknown" and abs(sum(b["probabilities"].values()) - 1) < 1e-3  # rounded to 4 places and 1 <= b["stage_number"] <= 7


def test_graft_form_takes_measured_areas_from_the_link(local_client: TestClient) -> None:
    page = local_client.get("/grafts?stage=IV&area_crown=12.5&area_hairline=20")
    assert page.status_code == 200
    assert 'name="area_crown" inputmode="decimal" value="12.5"' in page.text
    assert 'name="area_hairline" inputmode="decimal" value="20"' in page.text
    assert 'name="area_mid_scalp" inputmode="decimal" value=""' in page.text


@pytest.mark.skipif(not (DATASET / "labels.csv").exists(), reason="norwood-photos-dev is not beside the project")
def test_a_head_photo_with_the_card_links_its_bare_areas_to_the_graft_form(local_client: TestClient) -> None:
    import csv

    import cv2

    from hairtrack.imaging.card import render_card
    from hairtrack.imaging.io import load_image

    row = next(r for r in csv.DictReader((DATASET / "labels.csv").open()) if r["view"] == "Top-Down")
    rgb = cv2.resize(load_image(DATASET / "images" / row["file"]).rgb, (1600, 1600), interpolation=cv2.INTER_CUBIC)
    card = render_card(dpi=150)[0]
    rgb[-card.shape[0] - 4 : -4, 4 : 4 + card.shape[1]] = card
    body = local_client.post("/api/norwood", files=[("images", ("top.jpg", _jpeg(rgb), "image/jpeg"))]).json()[0]
    assert body["bare_areas_cm2"] and all(a >= 0 for a in body["bare_areas_cm2"].values())
    assert any("calibration card" in w for w in body["warnings"])
    page = local_client.post("/norwood", files=[("images", ("top.jpg", _jpeg(rgb), "image/jpeg"))],
                             data=tokens(local_client.get("/").text))
    assert "Bare area measured with the calibration card" in page.text and "&amp;area_" in page.text
