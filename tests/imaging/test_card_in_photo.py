"""A photo with the calibration card in view gets its scale from the card, and the card is not counted."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from hairtrack.imaging.card import render_card
from hairtrack.imaging.measure import measure_upload, scale_from_card
from hairtrack.synth import render_scalp


def photo_with_card(px_per_mm: float) -> np.ndarray:
    scene = np.asarray(render_scalp(seed=3, shape=(900, 1200), px_per_mm=px_per_mm * 20, n_units=10, difficulty="easy").image).copy()
    card, layout = render_card(dpi=px_per_mm * 25.4)
    h, w = card.shape[:2]
    # A little perspective, as a hand-held phone gives.
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[60, 330], [60 + w, 340], [50 + w, 340 + h], [70, 330 + h]])
    warped = cv2.warpPerspective(card, cv2.getPerspectiveTransform(src, dst), (1200, 900), borderValue=(0, 0, 0))
    inside = cv2.warpPerspective(np.ones((h, w), np.uint8), cv2.getPerspectiveTransform(src, dst), (1200, 900)).astype(bool)
    scene[inside] = warped[inside]
    return scene


def test_the_card_gives_the_scale_and_is_masked() -> None:
    rgb = photo_with_card(8.0)
    calibration, masked, notes, covered = scale_from_card(rgb)
    assert calibration is not None and calibration.source == "card"
    assert covered is not None and covered[400:700, 100:600].all() and not covered[:, 900:].any()
    assert calibration.px_per_mm == pytest.approx(8.0, rel=0.03)
    assert "scale read from the calibration card" in notes[0]
    assert masked[400:700, 100:600].std() < rgb[400:700, 100:600].std() / 3  # the card's marks are gone


def test_measure_upload_uses_the_card_when_no_scale_is_given() -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo_with_card(8.0)).save(buffer, "PNG")
    result = measure_upload(buffer.getvalue(), "with-card.png", overlay=False).result
    assert result["px_per_mm"] == pytest.approx(8.0, rel=0.03)
    assert any("calibration card" in w for w in result["warnings"])
    # the card is no part of the field: the area is the scalp's beside it, not the whole frame's
    covered = scale_from_card(photo_with_card(8.0))[3]
    assert covered is not None and 0.15 < covered.mean() < 0.5
    frame_cm2 = 1200 * 900 / result["px_per_mm"] ** 2 / 100
    assert result["area_cm2"] == pytest.approx(frame_cm2 * (1 - covered.mean()), rel=0.05)
    plain = io.BytesIO()
    Image.fromarray(np.asarray(render_scalp(seed=3, shape=(300, 400)).image)).save(plain, "PNG")
    assert measure_upload(plain.getvalue(), "no-card.png", overlay=False).result["px_per_mm"] is None


def test_a_card_is_left_out_of_the_field_when_a_scale_is_given_too_and_checks_it() -> None:
    """Saved scans always carry a scale (the device's): the card in the photo must still be no part of the
    field, and a card that disagrees with the scale given says so."""
    buffer = io.BytesIO()
    Image.fromarray(photo_with_card(8.0)).save(buffer, "PNG")
    read = measure_upload(buffer.getvalue(), "card.png", overlay=False).result
    given = measure_upload(buffer.getvalue(), "card.png", px_per_mm=read["px_per_mm"], overlay=False).result
    assert given["area_cm2"] == pytest.approx(read["area_cm2"])
    assert given["hair_count"] == read["hair_count"]
    assert any("left out of the field" in w for w in given["warnings"])
    assert not any("reads" in w for w in given["warnings"])
    other = measure_upload(buffer.getvalue(), "card.png", px_per_mm=10.0, overlay=False).result
    assert any("the calibration card in the photo reads 8." in w and "not the 10 given" in w for w in other["warnings"])
