"""Hairs, widths and units recovered from synthetic scalps with exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from hairtrack.imaging.analyze import analyze
from hairtrack.imaging.hairs import detect_hairs
from hairtrack.synth.scalp import (
    SynthHair, _rising_shaft, _side_by_side_offset, add_defocused_shafts, render_scalp, shafts_cross,
)
from tests.helpers import matched

SHAPE = (480, 600)
PPM = 150.0  # >= 100 px/mm, where the width target applies
SEEDS = range(6)


def _scenes(difficulty: str):
    return [render_scalp(seed=s, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty=difficulty) for s in SEEDS]


@pytest.fixture(scope="module")
def easy():
    return [(sc, analyze(sc.image, sc.px_per_mm, detector="classical")) for sc in _scenes("easy")]


@pytest.fixture(scope="module")
def hard():
    return [(sc, analyze(sc.image, sc.px_per_mm, detector="classical")) for sc in _scenes("hard")]


# Tolerances are what the classical pipeline with its real-data defaults achieves today (it undercounts
# units that leave one opening together); the issue's target (5%) is not met yet.
def test_easy_counts_within_6_per_image_and_22_pct_overall(easy):
    errors = [a.hair_count - len(sc.hairs) for sc, a in easy]
    truth = sum(len(sc.hairs) for sc, _ in easy)
    assert max(abs(e) for e in errors) <= 6, errors
    assert sum(abs(e) for e in errors) / truth <= 0.22, errors


def test_hard_counts_within_37_pct_overall(hard):
    """36 of 103 hairs off until 2026-11-28, 37 since shafts along the rows are no longer taken for drawn lines
    (which filled some of them darker; the learned detector's 38 fell to 35 with the same change)."""
    errors = [a.hair_count - len(sc.hairs) for sc, a in hard]
    truth = sum(len(sc.hairs) for sc, _ in hard)
    assert sum(abs(e) for e in errors) / truth <= 0.37, errors


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_counts_lie_between_the_whole_hairs_and_every_visible_hair(easy, hard, difficulty):
    """Two-sided: the count tests above allow an over-count as much as an under-count, and the pipeline
    under-counts by about a fifth, so they alone would pass a detector that counted a fifth too many. It
    counts hairs cut by the frame too, and misses some whole ones, so it lies between two thirds of the whole
    hairs and all that show (easy 71 of 71-72, hard 67 of 90-103 on 2026-11-28, short clipped hair)."""
    pairs = easy if difficulty == "easy" else hard
    found = sum(a.hair_count for _, a in pairs)
    whole = sum(not h.at_border for sc, _ in pairs for h in sc.hairs)
    assert 2 / 3 * whole <= found <= sum(len(sc.hairs) for sc, _ in pairs), (whole, found)


def _width_errors(pairs):
    rel = []
    for sc, a in pairs:
        if not a.hairs:
            continue
        det = np.array([[h.row_px, h.col_px] for h in a.hairs])
        for h in sc.hairs:
            if h.width_um < 20 or h.at_border:
                continue
            d = np.hypot(det[:, 0] - h.row_px, det[:, 1] - h.col_px)
            k = int(np.argmin(d))
            if d[k] < 0.5 * h.length_px / 2:
                rel.append(a.hairs[k].width_um / h.width_um - 1.0)
    return np.array(rel)


def test_widths_within_10_pct_median_for_hairs_of_20um_and_more(easy):
    rel = _width_errors(easy)
    assert len(rel) >= 30
    assert np.median(np.abs(rel)) <= 0.10, np.round(rel, 2)
    assert abs(np.median(rel)) <= 0.10


def test_unit_sizes_close_to_truth(easy):
    truth = [u.hairs for sc, _ in easy for u in sc.units if u.hairs]
    found = [u.hairs for _, a in easy for u in a.units]
    assert abs(np.mean(found) - np.mean(truth)) <= 0.4, (np.mean(found), np.mean(truth))
    assert max(found) >= 2


def test_overlays_do_not_add_hairs():
    for seed in (0, 3):
        plain = render_scalp(seed=seed, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty="easy")
        drawn = render_scalp(seed=seed, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty="easy", banner=True,
                             red_circle=True)
        n_plain = len(detect_hairs(plain.image, px_per_mm=PPM))
        n_drawn = len(detect_hairs(drawn.image, px_per_mm=PPM))
        assert abs(n_drawn - n_plain) <= 2, (n_plain, n_drawn)


def test_render_is_seeded():
    a = render_scalp(seed=5, shape=(128, 160))
    b = render_scalp(seed=5, shape=(128, 160))
    assert np.array_equal(a.image, b.image) and a.hairs == b.hairs


def test_rendered_skin_is_skin_coloured_for_the_quality_check() -> None:
    """No scene's skin is greener than it is red (seed 126 once was: the quality check called it not scalp)."""
    from hairtrack.imaging.quality import assess_quality, scan_field

    for seed in range(0, 240, 3):
        scene = render_scalp(seed=seed, shape=(96, 120), px_per_mm=100.0, n_units=0, difficulty=("easy", "medium", "hard")[seed % 3])
        r, g, _ = np.median(scene.image.reshape(-1, 3), axis=0)
        assert g <= r + 2, seed
    scene = render_scalp(seed=126, shape=(256, 320), px_per_mm=100.0, n_units=0, difficulty="easy")
    assert "not_scalp" not in assess_quality(scene.image, scan_field(scene.image), ()).issues


def test_hidden_hairs_leave_the_same_scalp_without_them() -> None:
    """The same scalp at a later visit: the hairs named in hide_hairs are shed, nothing else moves."""
    full = render_scalp(seed=21, shape=(240, 300), px_per_mm=100.0, n_units=12, difficulty="medium")
    gone = [(h.unit, h.index_in_unit) for h in full.hairs[::3]]
    later = render_scalp(seed=21, shape=(240, 300), px_per_mm=100.0, n_units=12, difficulty="medium",
                         hide_hairs=gone)
    assert len(later.hairs) == len(full.hairs) - len(gone)
    assert {(h.unit, h.index_in_unit) for h in later.hairs} == {(h.unit, h.index_in_unit) for h in full.hairs} - set(gone)
    assert later.hairs == tuple(h for h in full.hairs if (h.unit, h.index_in_unit) not in set(gone))
    changed = np.any(np.abs(full.image.astype(int) - later.image) > 12, axis=2)
    assert changed.any() and changed.mean() < 0.2  # only where the shed shafts were
    with pytest.raises(ValueError, match="varied"):
        render_scalp(seed=1, shape=(64, 64), varied=True, hide_hairs=[(0, 0)])


def test_training_scenes_can_carry_fragments_and_cut_hairs_at_the_bottom_strip() -> None:
    """The fragment network's scenes: loose fragments are truth hairs of no unit, and the grey strip at the
    bottom is the frame's edge (hairs it cuts are border hairs, none lies under it)."""
    fragments = stripped = 0
    for seed in range(120):
        scene = render_scalp(seed=seed, shape=(256, 256), px_per_mm=220.0, varied=True, fragments_per_mm2=0.5,
                             strip_edge=True)
        fragments += sum(h.unit == -1 for h in scene.hairs)
        assert sum(u.hairs for u in scene.units) == sum(not h.at_border and h.unit >= 0 for h in scene.hairs)
        strip = scene.image[-3:].reshape(-1, 3).astype(int)
        if np.abs(strip - 200).max() <= 12:  # this scene has the strip
            stripped += 1
            rows = np.nonzero(np.abs(scene.image.astype(int) - 200).max(axis=(1, 2)) > 12)[0]
            top = rows.max() + 1  # first strip row
            for h in scene.hairs:
                a = np.radians(h.angle_deg)
                reach = h.row_px + abs(np.sin(a)) * h.length_px / 2
                assert reach <= top + 1.5, (seed, h)
                if reach > top - 1.5 and h.unit >= 0:
                    assert h.at_border, (seed, h)
    assert fragments > 20 and stripped >= 5
    # off by default: these varied scenes keep their look (the pixels the main network was trained on, commit
    # fd844ce; the fixes of 2026-11-28 to broken stubs and side-by-side shafts changed 8 of 40 other scenes)
    # and their truth, pinned since the banner became the frame's edge for the truth (2026-11-28)
    pinned = {5: (2, (33.92, 434.33, 21.4), 183.27), 6: (5, (128.05, 418.82, 21.68), 154.89)}
    for seed, (n, first, mean) in pinned.items():
        sc = render_scalp(seed=seed, shape=(512, 512), px_per_mm=220.0, difficulty="hard", banner=True,
                          red_circle=True, varied=True)
        assert len(sc.hairs) == n
        assert (sc.hairs[0].row_px, sc.hairs[0].col_px, sc.hairs[0].width_px) == pytest.approx(first, abs=0.01)
        assert float(sc.image.mean()) == pytest.approx(mean, abs=0.1)  # not bitwise: OpenCV may differ by CPU
    assert all(h.unit >= 0 for s in range(10) for h in render_scalp(seed=s, shape=(256, 256), varied=True).hairs)
    with pytest.raises(ValueError, match="varied"):
        render_scalp(seed=1, shape=(64, 64), fragments_per_mm2=0.1)
    with pytest.raises(ValueError, match="varied"):
        render_scalp(seed=1, shape=(64, 64), strip_edge=True)
    with pytest.raises(ValueError, match="fragments_per_mm2"):
        render_scalp(seed=1, shape=(64, 64), varied=True, fragments_per_mm2=float("nan"))
    for bad in ((0.9, 0.2), (0.0, 1.0), (float("nan"), 1.0)):
        with pytest.raises(ValueError, match="varied_shaft_mm"):
            render_scalp(seed=1, shape=(64, 64), varied=True, varied_shaft_mm=bad)
        with pytest.raises(ValueError, match="varied_zoom"):
            render_scalp(seed=1, shape=(64, 64), varied=True, varied_zoom=bad)
        with pytest.raises(ValueError, match="varied_width_gain"):
            render_scalp(seed=1, shape=(64, 64), varied=True, varied_width_gain=bad)


def test_defocused_shafts_are_broad_soft_dark_bands_and_leave_the_input_alone() -> None:
    """Hairs lying above the focal plane, for training a detector to pass over them: broad, soft-edged and
    dark, seeded, with the image given left as it was; a rate of 0 returns the same pixels."""
    scene = render_scalp(seed=3, shape=(256, 256), px_per_mm=110.0, n_units=0, difficulty="easy", jpeg=False)
    before = scene.image.copy()
    out = add_defocused_shafts(scene.image, 110.0, np.random.default_rng(4), max_per_mm2=3.0)
    again = add_defocused_shafts(scene.image, 110.0, np.random.default_rng(4), max_per_mm2=3.0)
    assert np.array_equal(scene.image, before) and np.array_equal(out, again)
    darker = before.astype(float).mean(axis=2) - out.astype(float).mean(axis=2)
    assert darker.min() > -1.0  # only ever darkens
    band = darker > 0.5 * darker.max()
    assert darker.max() > 40 and 0.02 < band.mean() < 0.9
    # soft edges: the darkening falls off over several pixels, not in one step as a focused shaft's does
    steps = np.abs(np.diff(darker, axis=1))
    assert steps.max() < 0.35 * darker.max()
    assert np.array_equal(add_defocused_shafts(before, 110.0, np.random.default_rng(4), max_per_mm2=0.0), before)
    for bad, match in [((before[..., 0], 110.0, 0.1), "uint8"), ((before, 0.0, 0.1), "px_per_mm"),
                       ((before, 110.0, float("nan")), "max_per_mm2")]:
        with pytest.raises(ValueError, match=match):
            add_defocused_shafts(bad[0], bad[1], np.random.default_rng(0), max_per_mm2=bad[2])


def test_rising_hairs_are_sharp_at_the_skin_and_soft_at_the_tip() -> None:
    """rising_p: some shafts leave the focal plane, so they blur towards the tip; the truth is the same hairs,
    and at 0 the pixels are those without the option."""
    cov = _rising_shaft((100.0, 20.0), (100.0, 220.0), 8.0, (200, 240), sigma_tip=10.0)
    near, far = cov[:, 40], cov[:, 200]  # across the shaft, near the skin and near the tip
    assert near.max() > 0.95 and far.max() < 0.8  # the soft end is fainter
    assert (near > 0.5).sum() <= 9 and (far > 0.05).sum() > 2 * (near > 0.05).sum()  # and spread wider
    assert np.abs(np.diff(near)).max() > 2.5 * np.abs(np.diff(far)).max()  # and its edges are soft
    along = cov[100, 30:210]
    assert np.abs(np.diff(along)).max() < 0.1  # no seam between the pieces
    changed = 0
    for seed in range(4):
        kw = dict(seed=seed, shape=(256, 256), px_per_mm=220.0, n_units=5, difficulty="easy", varied=True)
        flat, rising = render_scalp(**kw), render_scalp(**kw, rising_p=1.0)
        assert rising.hairs == flat.hairs
        assert np.array_equal(render_scalp(**kw, rising_p=0.0).image, flat.image)
        changed += not np.array_equal(rising.image, flat.image)
    assert changed == 4
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="rising_p"):
            render_scalp(seed=1, shape=(64, 64), varied=True, rising_p=bad)
    with pytest.raises(ValueError, match="varied"):
        render_scalp(seed=1, shape=(64, 64), rising_p=0.5)


def _overlapping_pairs(scene) -> int:
    """Pairs of hairs of one unit, near-parallel, whose midpoints lie less than a shaft width apart across."""
    import math

    n = 0
    for i, a in enumerate(scene.hairs):
        for b in scene.hairs[i + 1:]:
            if a.unit != b.unit or a.unit < 0 or abs((a.angle_deg - b.angle_deg + 90) % 180 - 90) > 8:
                continue
            th = math.radians(a.angle_deg)
            across = abs(-(b.row_px - a.row_px) * math.cos(th) - (b.col_px - a.col_px) * math.sin(th))
            n += across < 0.75 * min(a.width_px, b.width_px)
    return n


def test_lifelike_scenes_keep_the_hairs_and_add_what_real_photos_show() -> None:
    """lifelike: creases, sheen, shaded shafts and halos change the pixels, not which hairs there are; stacked
    shafts of near-parallel units lie partly over each other more often. (That the option off leaves every
    pixel as before was checked against the renderer before it, on 180 scenes of every kind, when it landed.)"""
    from hairtrack.synth.scalp import _crease_network, _sheen

    stacked = {False: 0, True: 0}
    for seed in range(40):
        kw = dict(seed=seed, shape=(384, 384), px_per_mm=220.0, difficulty="medium", varied=True)
        plain, life = render_scalp(**kw), render_scalp(**kw, lifelike=True)
        if seed < 4:
            assert np.array_equal(render_scalp(**kw, lifelike=False).image, plain.image)
        # the same openings; only the splay and the shafts' spacing within a unit may differ
        assert [(u.row_px, u.col_px) for u in life.units] == [(u.row_px, u.col_px) for u in plain.units]
        assert not np.array_equal(life.image, plain.image)
        stacked[False] += _overlapping_pairs(plain)
        stacked[True] += _overlapping_pairs(life)
    assert stacked[True] >= 2 * stacked[False] and stacked[True] >= stacked[False] + 5, stacked
    with pytest.raises(ValueError, match="varied"):
        render_scalp(seed=1, shape=(64, 64), lifelike=True)

    crease = _crease_network(np.random.default_rng(3), (400, 400), 220.0)
    assert np.isfinite(crease).all() and 0.0 <= crease.min() and crease.max() <= 0.18
    lines = crease > 0.3 * crease.max()
    assert 0.01 < lines.mean() < 0.3  # thin lines, not a wash
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    assert stats[1:, cv2.CC_STAT_AREA].max() > 0.3 * lines.sum()  # a connected network, not specks
    sheen = _sheen(np.random.default_rng(3), (400, 400), 220.0)
    assert np.isfinite(sheen).all() and 0.0 <= sheen.min() and sheen.max() <= 1.0


def test_side_by_side_shafts_lie_edge_to_edge_so_none_hides_inside_another() -> None:
    widths = [13.4, 5.6, 10.7, 20.0]
    for gap in (0.8, 1.0, 1.3):
        offsets, prev = [], 0.0
        for i, w in enumerate(widths):
            prev = _side_by_side_offset(prev, widths[i - 1] if i else 0.0, w, i, len(widths), gap)
            offsets.append(prev)
        for i in range(1, len(widths)):
            assert offsets[i] - offsets[i - 1] == pytest.approx(gap * (widths[i - 1] + widths[i]) / 2)
            # edges overlap by at most (1 - gap) of the two half-widths: never the thin one's whole width
            overlap = (offsets[i - 1] + widths[i - 1] / 2) - (offsets[i] - widths[i] / 2)
            assert overlap <= max(0.0, (1 - gap) * (widths[i - 1] + widths[i]) / 2) + 1e-9
            assert overlap < min(widths[i - 1], widths[i])
        assert abs(np.mean(offsets)) < max(widths)  # about centred on the unit's opening


def test_training_truth_is_what_is_drawn_short_whole_hairs_in_light_stubs_darker_than_skin() -> None:
    """Varied (training) scenes: a short hair wholly in the frame is a hair of the truth (only border slivers
    are left out), and every truth hair is darker along its middle than the skin beside it (a pale broken stub
    once came out brighter than the skin)."""
    short_whole = 0
    for seed in range(60):
        sc = render_scalp(seed=seed, shape=(512, 512), px_per_mm=220.0, difficulty=("easy", "medium", "hard")[seed % 3],
                          varied=True, jpeg=False)
        grey = sc.image.astype(float).mean(axis=2)
        for h in sc.hairs:
            if h.unit < 0 or h.at_border:
                continue
            short_whole += h.length_px < 0.25 * sc.px_per_mm
            a = np.radians(h.angle_deg)
            along, across = np.array([-np.sin(a), np.cos(a)]), np.array([np.cos(a), np.sin(a)])
            pts = np.array([h.row_px, h.col_px]) + np.linspace(-0.25, 0.25, 11)[:, None] * h.length_px * along

            def sample(p: np.ndarray) -> float:
                r, c = (np.clip(p[:, k].round().astype(int), 0, 511) for k in (0, 1))
                return float(np.median(grey[r, c]))

            beside = h.width_px / 2 + 4
            lighter_side = max(sample(pts + beside * across), sample(pts - beside * across))
            assert sample(pts) <= lighter_side + 5, (seed, h.unit, h.index_in_unit)
    assert short_whole >= 1


def test_the_banner_is_the_frames_edge_for_the_truth() -> None:
    """Hairs under the burned-in banner are gone from the truth, hairs it cuts are border hairs seen below it
    (as analyze() leaves the banner out of the field)."""
    cut = 0
    for seed in (1003, 1021, 1030):
        plain = render_scalp(seed=seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy")
        sc = render_scalp(seed=seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", banner=True)
        dark = np.nonzero((np.abs(sc.image[:, :, :].astype(int) - 60).max(axis=2) <= 3).mean(axis=1) > 0.3)[0]
        bottom = dark.max() + 1  # the first row under the banner
        assert 30 <= bottom <= 60
        for h in sc.hairs:
            a = np.radians(h.angle_deg)
            reach = h.row_px - abs(np.sin(a)) * h.length_px / 2  # the visible shaft's top row
            assert reach >= bottom - 1.5, (seed, h)
            if reach < bottom + 1.5 and h.unit >= 0:
                assert h.at_border, (seed, h)
        cut += len(set(plain.hairs) - set(sc.hairs))  # removed or shortened by the banner
        assert set(sc.hairs) - set(plain.hairs) <= {h for h in sc.hairs if h.at_border}
        assert sum(u.hairs for u in sc.units) == sum(not h.at_border and h.unit >= 0 for h in sc.hairs)
    assert cut >= 1


def test_the_width_gain_thickens_the_shafts_and_nothing_else() -> None:
    """varied_width_gain multiplies each shaft's width (thin hairs apart, which keep their own 10-35 um) and
    draws from a generator of its own: the same hairs, the same places and lengths."""
    doubled = 0
    for seed in range(4):
        plain = render_scalp(seed=seed, shape=(640, 640), px_per_mm=220.0, varied=True)
        thick = render_scalp(seed=seed, shape=(640, 640), px_per_mm=220.0, varied=True, varied_width_gain=(2.0, 2.0))
        assert len(plain.hairs) == len(thick.hairs)
        for a, b in zip(plain.hairs, thick.hairs):
            # the same shaft, its visible length moved only where a thicker neighbour or the frame covers an end
            assert b.length_px == pytest.approx(a.length_px, abs=10.0) and b.unit == a.unit
            assert b.width_um == pytest.approx(a.width_um) or b.width_um == pytest.approx(2.0 * a.width_um)
        doubled += sum(b.width_um == pytest.approx(2.0 * a.width_um) for a, b in zip(plain.hairs, thick.hairs))
    assert doubled >= 3


def _angle_between(h1, h2) -> float:
    """Degrees (0-90) between two true hairs' shafts."""
    return abs((h1.angle_deg - h2.angle_deg + 90.0) % 180.0 - 90.0)


def test_shafts_cross_when_each_ones_ends_lie_on_either_side_of_the_other():
    def hair(row, col, length, angle):
        return SynthHair(row, col, 5.0, 50.0, length, angle, 0, row, col, False)

    across = hair(100.0, 100.0, 80.0, 0.0)
    assert np.allclose(across.ends, ((100.0, 60.0), (100.0, 140.0)))
    assert shafts_cross(across, hair(100.0, 110.0, 40.0, 90.0)) and shafts_cross(hair(100, 110, 40, 45), across)
    assert not shafts_cross(across, hair(130.0, 100.0, 40.0, 90.0))  # short of it
    assert not shafts_cross(across, hair(80.0, 100.0, 40.0, 90.0))  # its end on the shaft: touching
    assert not shafts_cross(across, hair(100.0, 150.0, 40.0, 0.0))  # on one line
    assert not shafts_cross(across, hair(110.0, 100.0, 80.0, 0.0))  # side by side


def test_crossing_hairs_cross_another_units_shaft_and_leave_the_rest_of_the_scene_as_it_was():
    """``crossing_hairs`` adds single hairs, each across a whole hair of another unit at 35-90 degrees, from a
    generator of its own: the scene's other hairs, units and draws stay as they were."""
    kw = dict(seed=3, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium")
    base, crossed = render_scalp(**kw), render_scalp(**kw, crossing_hairs=5)
    assert np.array_equal(render_scalp(**kw, crossing_hairs=0).image, base.image)
    n = len(base.hairs)
    assert crossed.hairs[:n] == base.hairs and crossed.units[:len(base.units)] == base.units
    added = crossed.hairs[n:]
    assert len(added) == 5 and len(crossed.units) == len(base.units) + 5
    for h in added:
        assert h.unit >= len(base.units) and not h.at_border
        angles = [_angle_between(h, g) for g in base.hairs if shafts_cross(h, g)]
        assert angles and max(angles) >= 34.9, (h, angles)
    # pixels change only about the added hairs (their shafts, the shade of their roots, JPEG's 8 x 8 blocks)
    changed = np.argwhere((crossed.image != base.image).any(axis=-1))
    reach = 0.7 * 220.0  # the root's shade runs 0.4 mm back from it, blurred, then JPEG's blocks
    near = np.zeros(len(changed), bool)
    for h in added:
        near |= np.hypot(changed[:, 0] - h.row_px, changed[:, 1] - h.col_px) <= h.length_px / 2 + reach
    assert near.all()
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="crossing_hairs"):
            render_scalp(**kw, crossing_hairs=bad)
    with pytest.raises(ValueError, match="crossing_hairs"):
        render_scalp(seed=3, shape=(256, 320), varied=True, crossing_hairs=2)


def test_hairs_crossing_another_units_are_found_by_the_learned_detector():
    """Shafts of different units crossing each other (renders at 220 px/mm, 6 crossing hairs a scene): the
    learned detector finds fewer of them than of other hairs, because its network often gives the pair one
    peak (docs/hair_detector_card.md, thirty-second session; `benchmarks/synthetic.py --crossings 6`). This
    holds what it does now: both the crossing hairs and those they cross are mostly found (matched one to one, as
    the benchmark matches)."""
    crossing, crossed = [0, 0], [0, 0]  # found, all
    for seed in (7000, 7001, 7002):
        kw = dict(seed=seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium")
        base, sc = render_scalp(**kw), render_scalp(**kw, crossing_hairs=6)
        hit = {c for _, c in matched(analyze(sc.image, 220.0).hairs, sc.hairs, 220.0)}
        n = len(base.hairs)
        for j, h in enumerate(sc.hairs):
            if h.at_border:
                continue
            if j >= n:
                tally = crossing
            elif any(shafts_cross(h, g) for g in sc.hairs[n:]):
                tally = crossed
            else:
                continue
            tally[0] += j in hit
            tally[1] += 1
    assert crossing[1] >= 15 and crossed[1] >= 15
    # 10 of 18 and 16 of 21 on this processor; 8-bit arithmetic differs a little between processors
    assert crossing[0] / crossing[1] >= 0.4 and crossed[0] / crossed[1] >= 0.6, (crossing, crossed)
