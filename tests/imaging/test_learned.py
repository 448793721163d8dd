"""The learned hair detector: the model ships and loads, and behaves on synthetic scalps."""

from __future__ import annotations

import numpy as np
import pytest

from hairtrack.errors import InputError
from hairtrack.imaging.analyze import analyze
from hairtrack.imaging.hairs import Hair
from hairtrack.imaging.learned import MODEL_PATH, _load_net, detect_hairs_learned
from hairtrack.synth.scalp import render_scalp

SHAPE = (512, 640)
PPM = 110.0  # the network's own scale: a 1280 x 1024 dermoscope photo at half size
SEEDS = range(6)


def test_model_ships_small_and_loads():
    assert MODEL_PATH.is_file()
    assert MODEL_PATH.stat().st_size < 3_000_000
    assert _load_net(str(MODEL_PATH)) is not None


@pytest.fixture(scope="module")
def scenes():
    return [render_scalp(seed=s, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty="easy") for s in SEEDS]


@pytest.fixture(scope="module")
def found(scenes):
    return [detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm) for sc in scenes]


# Tolerances are what the shipped model achieves today, and they are loose: it over-counts the plain
# synthetic presets about 2x (several heatmap peaks along one long shaft; see docs/hair_detector_card.md).
# They guard against a broken model or decoding (no hairs, or a flood), not for the 5% target.
def test_counts_on_seeded_synthetic_scalps_within_tolerance(scenes, found):
    truth = [len(sc.hairs) for sc in scenes]
    got = [len(f) for f in found]
    assert all(g >= 0.8 * t for g, t in zip(got, truth)), (truth, got)
    assert 0.8 <= sum(got) / sum(truth) <= 2.5, (truth, got)


def test_returns_hairs_with_widths_from_the_image(found):
    hairs = [h for f in found for h in f]
    assert hairs and all(isinstance(h, Hair) for h in hairs)
    widths = np.array([h.width_um for h in hairs])
    assert np.all(widths > 0)
    assert 25 <= np.median(widths) <= 110  # the easy preset draws 55-100 um shafts, a few thin ones
    assert all(0 <= h.angle_deg < 180 for h in hairs)


def test_blank_image_has_no_hairs():
    assert detect_hairs_learned(np.full((480, 640, 3), 200, np.uint8)) == ()
    assert detect_hairs_learned(np.zeros((480, 640, 3), np.uint8)) == ()


@pytest.mark.parametrize("axis", [0, 1])
def test_count_invariant_to_flips(scenes, found, axis):
    got, flipped_got = [], []
    for sc, f in zip(scenes, found):
        flipped = np.ascontiguousarray(np.flip(sc.image, axis=axis))
        got.append(len(f))
        flipped_got.append(len(detect_hairs_learned(flipped, px_per_mm=sc.px_per_mm)))
    assert abs(sum(flipped_got) - sum(got)) <= 0.15 * sum(got), (got, flipped_got)
    # per image the shipped model is far from invariant (up to ~45% apart, e.g. 32 vs 18 hairs): loose bound
    assert all(abs(g - h) <= 0.5 * g + 1 for g, h in zip(got, flipped_got)), (got, flipped_got)


def test_analyze_takes_a_detector(scenes):
    sc = scenes[0]
    a = analyze(sc.image, sc.px_per_mm, detector="learned")
    assert a.hair_count == len(detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm))
    with pytest.raises(InputError, match="detector must be one of"):
        analyze(sc.image, sc.px_per_mm, detector="yolo")


def test_bad_threshold_is_refused(scenes):
    with pytest.raises(InputError, match="threshold must be between 0 and 1"):
        detect_hairs_learned(scenes[0].image, threshold=1.5)
