"""The calibration card: render, PDF size, detection, named problems (hairtrack.imaging.card)."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from hairtrack.errors import InputError
from hairtrack.imaging.card import _local_scale, card_pdf, detect_card, render_card

BACKGROUND = (120, 90, 80)


@pytest.fixture(scope="module")
def card():
    return render_card(dpi=300)


def _warp(card_rgb, corners_px, size=(1100, 800)):
    h, w = card_rgb.shape[:2]
    hm = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(corners_px))
    photo = cv2.warpPerspective(card_rgb, hm, size, flags=cv2.INTER_AREA, borderValue=BACKGROUND)
    return photo, hm


@pytest.mark.parametrize("corners", [
    [[100, 100], [800, 100], [800, 542], [100, 542]],            # head-on, scaled
    [[120, 90], [860, 140], [830, 600], [150, 560]],             # perspective
    [[300, 60], [950, 323], [784, 733], [134, 470]],             # rotated ~22 degrees
])
def test_px_per_mm_recovered_within_2_percent_after_warp_and_blur(card, corners):
    rgb, layout = card
    photo, hm = _warp(rgb, corners)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.2)
    reading = detect_card(photo, layout=layout)
    assert reading.found and reading.problems == ()
    mm = np.array([p for i in reading.marker_ids for p in layout.markers[i]])
    truth = _local_scale(hm @ np.diag([layout.px_per_mm, layout.px_per_mm, 1]), *mm.mean(axis=0))[0]
    assert reading.px_per_mm == pytest.approx(truth, rel=0.02)
    assert 0 < reading.px_per_mm_sd < 0.02 * truth


def test_white_balance_gains_undo_a_colour_cast(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[100, 100], [800, 100], [800, 542], [100, 542]])
    lin = (photo / 255.0) ** 2.2                        # close enough to sRGB for a cast
    cast = np.array([1.2, 1.0, 0.8])
    cast_photo = np.clip((lin * cast) ** (1 / 2.2) * 255, 0, 255).astype(np.uint8)
    gains = np.array(detect_card(cast_photo, layout=layout).white_balance_gains)
    assert gains * cast / cast[1] == pytest.approx([1, 1, 1], abs=0.03)


def test_blank_photo_is_not_found():
    reading = detect_card(np.full((400, 600, 3), 200, dtype=np.uint8))
    assert not reading.found and [p.code for p in reading.problems] == ["not_found"]


def test_cut_off_card_is_reported(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[100, 100], [800, 100], [800, 542], [100, 542]])
    reading = detect_card(photo[:, :600], layout=layout)
    assert "cut_off" in [p.code for p in reading.problems]
    assert reading.px_per_mm is not None   # still read from the markers in view


def test_stretched_print_is_wrong_scale(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[100, 100], [800, 100], [800, 600], [100, 600]])   # y stretched ~13%
    assert [p.code for p in detect_card(photo, layout=layout).problems] == ["wrong_scale"]


def test_scale_far_from_the_devices_is_wrong_scale(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[100, 100], [800, 100], [800, 542], [100, 542]])
    ok = detect_card(photo, layout=layout)
    off = detect_card(photo, layout=layout, expected_px_per_mm=ok.px_per_mm * 1.10)
    assert ok.problems == () and [p.code for p in off.problems] == ["wrong_scale"]


def test_bent_card_is_reported(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[100, 100], [800, 100], [800, 542], [100, 542]])
    rows, cols = photo.shape[:2]
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float32)
    bent = cv2.remap(photo, cc, rr - 50.0 * ((cc - 450) / 350) ** 2 + 25, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND)
    assert "bent" in [p.code for p in detect_card(bent, layout=layout).problems]


def test_tiny_card_is_too_small(card):
    rgb, layout = card
    photo, _ = _warp(rgb, [[300, 300], [470, 300], [470, 407], [300, 407]])
    assert "too_small" in [p.code for p in detect_card(photo, layout=layout).problems]


def test_card_pdf_page_has_the_physical_size(tmp_path):
    path = tmp_path / "card.pdf"
    layout = card_pdf(path, dpi=600)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    box = [float(v) for v in re.search(rb"/MediaBox \[\s*([\d.\s]+)\]", data).group(1).split()]
    pt_per_mm = 72 / 25.4
    assert box[2] - box[0] == pytest.approx(layout.width_mm * pt_per_mm, abs=0.5)
    assert box[3] - box[1] == pytest.approx(layout.height_mm * pt_per_mm, abs=0.5)
    assert layout.width_mm == pytest.approx(85.6, abs=0.1)


def test_one_geometry_at_every_resolution_so_a_close_up_reads_true():
    """The small markers were drawn on each resolution's own pixels (2.54 mm at 300 dpi, 2.50 at 600) and read
    against the 300-dpi layout: a close-up of the default 600-dpi print read 1% low (densities 2% high)."""
    from hairtrack.imaging.measure import scale_from_card
    from hairtrack.synth import render_scalp

    layouts = [render_card(dpi=dpi)[1] for dpi in (300, 600, 1200)]
    assert all(lay.markers == layouts[0].markers for lay in layouts)
    for dpi in (600, 1200):
        printed, layout = render_card(dpi=dpi)
        for ppm in (40.0, 100.0):  # only the small markers in view
            photo = np.ascontiguousarray(render_scalp(seed=2, shape=(1024, 1280), px_per_mm=ppm).image)
            s = ppm / layout.px_per_mm
            shift = np.array([640.0, 768.0]) - s * np.array([40.0, 8.0]) * layout.px_per_mm
            m = np.float32([[s, 0, shift[0]], [0, s, shift[1]]])
            warped = cv2.warpAffine(printed, m, (1280, 1024), flags=cv2.INTER_AREA)
            inside = cv2.warpAffine(np.ones(printed.shape[:2], np.uint8), m, (1280, 1024)).astype(bool)
            photo[inside] = warped[inside]
            calibration = scale_from_card(photo)[0]
            assert calibration is not None and calibration.px_per_mm == pytest.approx(ppm, rel=0.003), (dpi, ppm)


def test_the_card_prints_where_its_markers_are_whole_pixels(tmp_path):
    with pytest.raises(InputError, match="prints at 600, 1200, 2400 dpi"):
        card_pdf(tmp_path / "card.pdf", dpi=300)


def test_render_card_validates():
    with pytest.raises(InputError, match="dpi must be"):
        render_card(dpi=10)
    with pytest.raises(InputError, match="rgb must be"):
        detect_card(np.zeros((10, 10)))


def test_a_mirrored_card_is_read_from_the_mirror_image(card):
    """A front camera saves a mirror image. Mirrored, the default card showed one marker (17, which reads as itself
    in a mirror): no scale, and a plane fitted to that one marker masked most of the photo."""
    from hairtrack.imaging.measure import scale_from_card
    from hairtrack.synth import render_scalp

    rgb, layout = card
    photo, _ = _warp(rgb, [[120, 90], [860, 140], [830, 600], [150, 560]])
    straight = detect_card(photo, layout=layout)
    mirrored = detect_card(np.ascontiguousarray(photo[:, ::-1]), layout=layout)
    assert not straight.mirrored and mirrored.mirrored and mirrored.problems == ()
    assert mirrored.marker_ids == straight.marker_ids
    assert mirrored.px_per_mm == pytest.approx(straight.px_per_mm, rel=1e-3)
    assert mirrored.grey_rgb == pytest.approx(straight.grey_rgb, abs=1.0)
    assert np.linalg.det(np.asarray(mirrored.homography)[:2, :2]) < 0 < np.linalg.det(np.asarray(straight.homography)[:2, :2])

    # on scalp, the card is left out of the field where it lies, not over most of the photo
    scalp = np.ascontiguousarray(render_scalp(seed=3, shape=(1024, 1280), px_per_mm=60.0).image)
    small = cv2.resize(rgb, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    scalp[50:50 + small.shape[0], 60:60 + small.shape[1]] = small
    for flipped in (False, True):
        shot = np.ascontiguousarray(scalp[:, ::-1]) if flipped else scalp
        calibration, _, notes, covered = scale_from_card(shot)
        assert calibration is not None and calibration.px_per_mm == pytest.approx(0.4 * layout.px_per_mm, rel=0.01)
        assert covered is not None and 0.9 < covered.sum() / small.shape[0] / small.shape[1] < 1.3
        assert any("mirrored" in n for n in notes) == flipped


def test_the_mirror_image_is_read_only_where_the_photo_shows_a_mirrored_code(card, monkeypatch):
    """The search reads the card's codes and their mirror images in one pass; the mirror image itself (a second
    pass, as long again) is read only where a mirrored code of the card is in view. An OpenCV without the
    two-dictionary detector reads the mirror image whenever the photo shows under two markers, as before."""
    import hairtrack.imaging.card as card_module
    from hairtrack.synth import render_scalp

    if not hasattr(cv2.aruco.ArucoDetector, "detectMarkersMultiDict"):
        pytest.skip("this OpenCV has no two-dictionary detector")
    rgb, layout = card
    passes = []
    real = card_module._detect
    monkeypatch.setattr(card_module, "_detect", lambda gray: passes.append(gray.shape) or real(gray))
    scalp = np.ascontiguousarray(render_scalp(seed=5, shape=(600, 800), px_per_mm=100.0).image)
    assert not detect_card(scalp, layout=layout).found and passes == []
    photo, _ = _warp(rgb, [[120, 90], [860, 140], [830, 600], [150, 560]])
    assert not detect_card(photo, layout=layout).mirrored and passes == []
    reading = detect_card(np.ascontiguousarray(photo[:, ::-1]), layout=layout)
    assert reading.mirrored and reading.problems == () and len(passes) == 1

    real_detector = cv2.aruco.ArucoDetector

    class OlderDetector:  # an OpenCV before the two-dictionary detector (4.12)
        def __init__(self, dictionary, params):
            self._inner = real_detector(dictionary, params)

        def detectMarkers(self, gray):
            return self._inner.detectMarkers(gray)

    monkeypatch.setattr(cv2.aruco, "ArucoDetector", OlderDetector)
    passes.clear()
    assert not detect_card(scalp, layout=layout).found and len(passes) == 2  # the photo, then its mirror image
    assert detect_card(np.ascontiguousarray(photo[:, ::-1]), layout=layout).mirrored
