"""Overview coverage on rendered heads: it follows the true hair share, survives rotation, refuses junk."""

from __future__ import annotations

import numpy as np
import pytest

from hairtrack.errors import InputError
from hairtrack.imaging.coverage import (
    coverage_to_dict,
    feature_names,
    overview_coverage,
    overview_features,
    segment_head,
)

from .conftest import render_head


@pytest.mark.parametrize("hair_from", [0.0, 0.3, 0.6])
def test_coverage_matches_true_hair_share(hair_from):
    img, truth = render_head(hair_from=hair_from)
    cov = overview_coverage(img, view="top")
    assert cov.head_found
    assert cov.coverage_pct == pytest.approx(100 * truth, abs=8.0)


def test_coverage_moves_the_right_way():
    values = [overview_coverage(render_head(hair_from=f)[0], view="top").coverage_pct for f in (0.0, 0.25, 0.5, 0.75)]
    assert values == sorted(values, reverse=True)
    assert values[0] - values[-1] > 40


def test_head_mask_finds_the_ellipse():
    img, _ = render_head(hair_from=0.4)
    seg = segment_head(img)
    true_fraction = np.pi * 0.36 * 0.30
    assert seg.head_fraction == pytest.approx(true_fraction, rel=0.12)
    assert np.array_equal(seg.hair_mask | seg.skin_mask, seg.head_mask)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rotation_invariance(k):
    img, _ = render_head(hair_from=0.45, seed=3)
    base = overview_coverage(img, view="top")
    turned = overview_coverage(np.ascontiguousarray(np.rot90(img, k)), view="top")
    assert turned.coverage_pct == pytest.approx(base.coverage_pct, abs=2.0)
    # the hairiest side is turned up whichever way the photo came
    zones = {z.zone: z.coverage_pct for z in turned.zones}
    assert zones["hairline"] > zones["crown"] - 1e-9 or zones["hairline"] >= 50
    f0, f1 = overview_features(img), overview_features(np.ascontiguousarray(np.rot90(img, k)))
    assert np.allclose(f0, f1, atol=0.02)


def test_vertex_bare_area_grows_with_bald_crown():
    # hair only at the top of the image = front once upright, bare below = crown
    def bare_crown(frac):
        img, _ = render_head(hair_from=0.0, seed=5)
        rows = np.arange(img.shape[0])[:, None]
        bald, _ = render_head(hair_from=1.0, seed=5)
        cut = int(img.shape[0] * (1 - frac))
        return np.where((rows >= cut)[..., None], bald, img).astype(np.uint8)

    small = overview_coverage(bare_crown(0.2), view="top").vertex_bald_area_rel
    large = overview_coverage(bare_crown(0.35), view="top").vertex_bald_area_rel
    assert large > small


def test_cm_need_a_scale():
    img, _ = render_head(hair_from=0.5)
    rel = overview_coverage(img, view="top")
    cm = overview_coverage(img, view="top", px_per_mm=2.0)
    assert rel.frontal_recession_cm is None and cm.frontal_recession_cm is not None
    assert all(z.area_cm2 is None for z in rel.zones) and all(z.area_cm2 > 0 for z in cm.zones)
    d = coverage_to_dict(cm)
    assert set(d["zones"]) == {z.zone for z in cm.zones}


def test_blank_image_has_no_head():
    cov = overview_coverage(np.full((100, 100, 3), 128, np.uint8), view="front")
    assert not cov.head_found and cov.coverage_pct is None and cov.issues


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"view": "sideways"}, "view must be one of"), ({"view": "top", "px_per_mm": -3.2}, "px_per_mm must be")],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(InputError, match=match):
        overview_coverage(render_head(hair_from=0.5)[0], **kwargs)


def test_tiny_image_is_refused():
    with pytest.raises(InputError, match="at least 32 px"):
        overview_coverage(np.zeros((10, 10, 3), np.uint8), view="top")


def test_feature_vector_length():
    assert overview_features(render_head(hair_from=0.5)[0]).shape == (len(feature_names()),)


def test_float_images_in_0_1_are_the_same_photo():
    img, _ = render_head(hair_from=0.5)
    a = overview_coverage(img, view="top").coverage_pct
    b = overview_coverage(img.astype(np.float64) / 255.0, view="top").coverage_pct
    assert a == pytest.approx(b, abs=1.0)


def test_overlay_tints_hair_and_skin_in_the_photo_frame():
    from hairtrack.imaging.coverage import coverage_overlay

    img, _ = render_head(hair_from=0.5)
    turned = np.ascontiguousarray(np.rot90(img))
    over = coverage_overlay(turned)
    assert over.shape == turned.shape and over.dtype == np.uint8
    changed = np.any(over != turned, axis=2)
    # the head (about a third of the image) is tinted, the background corners are not
    assert 0.2 < changed.mean() < 0.6 and not changed[:10, :10].any()
