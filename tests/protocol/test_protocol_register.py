"""Registration of two close-ups and one-to-one hair matching (hairtrack.imaging.register)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hairtrack.errors import InputError
from hairtrack.imaging.register import (
    _overlap_pct, common_field_mask, compare, comparison_to_dict, match_hairs, register,
)

from . import _patch

FRAME = (240, 300)


@pytest.fixture(scope="module")
def scalp() -> tuple[np.ndarray, np.ndarray]:
    canvas, hairs = _patch.world(seed=11)
    return _patch.draw(canvas, hairs), hairs


def _corner_error(t_est, t_true, shape) -> float:
    rows, cols = shape
    pts = np.array([[0, 0, 1], [cols, 0, 1], [cols, rows, 1], [0, rows, 1]], dtype=float)
    a, b = pts @ np.asarray(t_est).T, pts @ t_true.T
    return float(np.max(np.linalg.norm(a[:, :2] / a[:, 2:] - b[:, :2] / b[:, 2:], axis=1)))


@pytest.mark.parametrize(
    ("shift", "angle", "scale"),
    [((25, -40), 0.0, 1.0), ((10, 15), 30.0, 1.0), ((-15, 5), -10.0, 1.2)],
    ids=["shift", "rotation", "scale"],
)
def test_register_recovers_known_transform(scalp, shift, angle, scale):
    img, _ = scalp
    ma = _patch.pose((350, 350), 0, 1.0, FRAME)
    mb = _patch.pose((350 + shift[0], 350 + shift[1]), angle, scale, FRAME)
    reg = register(_patch.photo(img, ma, FRAME, seed=1), _patch.photo(img, mb, FRAME, gain=0.85, seed=2))
    t_true = mb @ np.linalg.inv(ma)
    assert not reg.different_field, reg.reasons
    assert _corner_error(reg.transform, t_true, FRAME) < 1.5
    assert reg.scale == pytest.approx(scale, rel=0.01)
    assert reg.rotation_deg == pytest.approx(angle, abs=0.5)
    assert reg.overlap_pct == pytest.approx(_overlap_pct(t_true, FRAME, FRAME), abs=1.0)
    assert 0.5 < reg.confidence <= 1.0


def test_unrelated_patches_are_a_different_field(scalp):
    img, _ = scalp
    other_canvas, other_hairs = _patch.world(seed=99)
    other = _patch.draw(other_canvas, other_hairs)
    m = _patch.pose((350, 350), 0, 1.0, FRAME)
    a, b = _patch.photo(img, m, FRAME), _patch.photo(other, m, FRAME)
    cmp = compare(a, b, [[10.0, 10.0]], [[10.0, 10.0]])
    assert cmp.registration.different_field and cmp.registration.reasons
    assert cmp.flags == ("different_field",)
    # kept out of any change estimate
    assert cmp.change_pct is None and cmp.count_a_common is None and cmp.kept_px == ()


def test_far_apart_views_of_one_scalp_are_a_different_field(scalp):
    img, _ = scalp
    a = _patch.photo(img, _patch.pose((150, 150), 0, 1.0, FRAME), FRAME)
    b = _patch.photo(img, _patch.pose((550, 550), 0, 1.0, FRAME), FRAME)
    assert register(a, b).different_field


def test_blank_image_is_a_different_field_not_an_error():
    blank = np.full((200, 200, 3), 180, dtype=np.uint8)
    reg = register(blank, blank)
    assert reg.different_field and reg.transform is None and reg.overlap_pct == 0.0


def test_match_hairs_kept_lost_new_on_known_sets():
    # B is A shifted 20 px to the right (x_b = x_a + 20)
    t = np.array([[1, 0, 20], [0, 1, 0], [0, 0, 1]], dtype=float)
    a = np.array([[50, 50], [100, 100], [150, 60], [60, 150]], dtype=float)
    b = np.array([[51, 71], [99, 121], [120, 200], [61, 169]], dtype=float)  # a0, a1, new, a3 (a2 lost)
    m = match_hairs(a, b, t, tol_px=4)
    assert sorted(map(tuple, m.kept.tolist())) == [(0, 0), (1, 1), (3, 3)]
    assert m.lost.tolist() == [2] and m.new.tolist() == [2]
    assert (m.count_a, m.count_b) == (4, 4)


def test_match_hairs_is_one_to_one():
    a = np.array([[10, 10], [10, 13]], dtype=float)
    b = np.array([[10, 11]], dtype=float)
    m = match_hairs(a, b, np.eye(3), tol_px=5)
    assert len(m.kept) == 1 and len(m.lost) == 1 and len(m.new) == 0


def test_match_hairs_counts_only_the_common_field():
    t = np.array([[1, 0, -50], [0, 1, 0], [0, 0, 1]], dtype=float)  # B shows A columns 50-149; A has 0-119
    a = np.array([[50, 20], [50, 100]], dtype=float)       # the first is outside B
    b = np.array([[50, 50], [50, 90]], dtype=float)        # a1, and one at A col 140: outside A
    m = match_hairs(a, b, t, tol_px=3, shape_a=(100, 120), shape_b=(100, 100), margin_px=2)
    assert m.kept.tolist() == [[1, 0]] and m.lost.size == 0 and m.new.size == 0
    assert (m.count_a, m.count_b) == (1, 1)
    assert m.common_area_px == int(common_field_mask(t, (100, 120), (100, 100), margin_px=2).sum())


def test_compare_counts_removed_and_added_hairs(scalp):
    canvas, hairs = _patch.world(seed=5)
    rng = np.random.default_rng(0)
    removed = rng.uniform(size=len(hairs)) < 0.15
    added = _patch.world(seed=6)[1][:20]
    hairs_b = np.vstack([hairs[~removed], added])
    ma = _patch.pose((350, 350), 0, 1.0, FRAME)
    mb = _patch.pose((365, 330), 12, 1.05, FRAME)
    img_a = _patch.photo(_patch.draw(canvas, hairs), ma, FRAME)
    img_b = _patch.photo(_patch.draw(canvas, hairs_b), mb, FRAME)
    pa, pb = _patch.midpoints(hairs, ma, FRAME), _patch.midpoints(hairs_b, mb, FRAME)
    cmp = compare(img_a, img_b, pa, pb, tol_px=4.0)
    # independent truth: hairs inside the true common field (same margin)
    t_true = mb @ np.linalg.inv(ma)
    mask = common_field_mask(t_true, FRAME, FRAME, margin_px=4.0)
    xy = np.c_[hairs[:, 1], hairs[:, 0], np.ones(len(hairs))] @ ma.T
    r, c = xy[:, 1].astype(int), xy[:, 0].astype(int)
    ok = (r >= 0) & (r < FRAME[0]) & (c >= 0) & (c < FRAME[1])
    inside = np.zeros(len(hairs), dtype=bool)
    inside[ok] = mask[r[ok], c[ok]]
    assert len(cmp.lost_px) == int((inside & removed).sum())
    assert len(cmp.kept_px) == int((inside & ~removed).sum())
    assert cmp.count_a_common == int(inside.sum())


def test_comparison_to_dict_has_the_contract_keys_and_is_json(scalp):
    img, hairs = scalp
    ma, mb = _patch.pose((350, 350), 0, 1.0, FRAME), _patch.pose((360, 340), 5, 1.0, FRAME)
    cmp = compare(_patch.photo(img, ma, FRAME), _patch.photo(img, mb, FRAME),
                  _patch.midpoints(hairs, ma, FRAME), _patch.midpoints(hairs, mb, FRAME))
    d = json.loads(json.dumps(comparison_to_dict(cmp)))
    assert {"overlap_pct", "transform", "kept", "lost", "new", "flags", "count_a_common", "count_b_common",
            "common_area_px"} <= set(d)
    assert len(d["transform"]) == 3 and d["flags"] == [] and d["lost"] == [] and d["new"] == []
    assert set(d["kept"][0]) == {"a", "b"} and set(d["kept"][0]["a"]) == {"x_px", "y_px"}


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tol_px": -1}, "tol_px must be"),
    ({"tol_px": 3, "transform": np.zeros((3, 3))}, "transform must be"),
    ({"tol_px": 3, "points_a": np.zeros((3, 3))}, "points_a must be"),
])
def test_match_hairs_rejects_bad_input(kwargs, match):
    args = {"points_a": np.zeros((1, 2)), "points_b": np.zeros((1, 2)), "transform": np.eye(3)} | kwargs
    with pytest.raises(InputError, match=match):
        match_hairs(args.pop("points_a"), args.pop("points_b"), args.pop("transform"), **args)


def test_register_rejects_bad_input():
    with pytest.raises(InputError, match="image_a must be"):
        register(np.zeros((10, 10, 2)), np.zeros((50, 50)))
    with pytest.raises(InputError, match="model must be"):
        register(np.zeros((50, 50)), np.zeros((50, 50)), model="affine")  # type: ignore[arg-type]


def test_each_photos_keypoints_are_found_once_while_it_is_recent(scalp, monkeypatch):
    from hairtrack.imaging import register as reg_mod

    img, _ = scalp
    shots = [_patch.photo(img, _patch.pose((350 + 6 * k, 350 - 4 * k), 3.0 * k, 1.0, FRAME), FRAME, seed=k) for k in range(4)]
    monkeypatch.setattr(reg_mod, "_FEATURE_CACHE_SIZE", 0)
    fresh = [reg_mod.register(shots[0], shot) for shot in shots[1:]]  # the results without the cache's help
    monkeypatch.setattr(reg_mod, "_FEATURE_CACHE_SIZE", 8)
    monkeypatch.setattr(reg_mod, "_feature_cache", type(reg_mod._feature_cache)())
    found: list[int] = []
    real = reg_mod._sift_features
    monkeypatch.setattr(reg_mod, "_sift_features", lambda gray, side: found.append(id(gray)) or real(gray, side))
    again = [reg_mod.register(shots[0], shot) for shot in shots[1:]]  # a history: each to the first visit
    assert len(found) == 4  # shots[0] once, not three times
    assert [r.transform for r in again] == [r.transform for r in fresh]
    # the cache holds content, not arrays: the same pixels in a new array are found, changed pixels are not
    assert reg_mod.register(shots[0].copy(), shots[1].copy()).transform == fresh[0].transform and len(found) == 4
    changed = shots[1].copy()
    changed[0, 0] = 255 - changed[0, 0]
    reg_mod.register(shots[0], changed)
    assert len(found) == 5
    for k in range(16):  # bounded
        reg_mod._features(np.full((40, 50), k, np.uint8), 1024)
    assert len(reg_mod._feature_cache) == 8
