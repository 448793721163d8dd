"""The learned hair detector: the model ships and loads, and behaves on synthetic scalps."""

from __future__ import annotations

import numpy as np
import pytest

from hairtrack.errors import InputError
from hairtrack.imaging.analyze import analyze
from hairtrack.imaging.hairs import Hair
from hairtrack.imaging.learned import (
    _CENTRE_PX, _LONE_GAP_PX, _LONE_MIN, _PARTED_RATIO, _WIDTH_PCT, DEFAULT_MODELS, FLOAT_MODELS, MODEL_PATH,
    _gate_peaks, _load_net, _lone_shafts, _photo_blur_px, _shaft_nms, _shaft_widths, _unblurred_width,
    detect_hairs_learned, predict_maps,
)
from hairtrack.synth.scalp import render_scalp
from tests.helpers import matched, to_shaft

SHAPE = (512, 640)
PPM = 179.0  # the network's own scale (a 1280 x 1024 dermoscope photo at half size): the photo goes in as it is
SEEDS = range(6)


def test_model_ships_small_and_loads():
    for path in (*FLOAT_MODELS, *DEFAULT_MODELS):
        assert path.is_file()
        assert path.stat().st_size < 3_000_000
        assert _load_net(str(path)) is not None
    assert all(p.stat().st_size < 400_000 for p in DEFAULT_MODELS)  # 8-bit weights


def test_the_8_bit_pair_gives_the_float_pairs_maps_and_hairs(scenes):
    """The default 8-bit pair is the float pair up to rounding: its heatmap stays within 0.1 of the float one
    (the mean difference is a few thousandths) and it finds the same hairs but for one or two per scene."""
    for sc in scenes:
        _, q, _ = predict_maps(sc.image, 1.0)
        _, f, _ = predict_maps(sc.image, 1.0, model_path=FLOAT_MODELS)
        assert np.abs(q[0] - f[0]).max() < 0.1
        assert np.abs(q[0] - f[0]).mean() < 0.01
        assert np.abs(q[3] - f[3])[f[0] > 0.3].mean() < 0.05  # log length where there are hairs
    for sc, hairs in zip(scenes, [detect_hairs_learned(sc.image, px_per_mm=PPM, model_path=FLOAT_MODELS) for sc in scenes]):
        assert abs(len(detect_hairs_learned(sc.image, px_per_mm=PPM)) - len(hairs)) <= 2


@pytest.fixture(scope="module")
def scenes():
    return [render_scalp(seed=s, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty="easy") for s in SEEDS]


@pytest.fixture(scope="module")
def found(scenes):
    return [detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm) for sc in scenes]


# Tolerances are what the shipped model achieves today, and they are loose: at the threshold chosen on
# the real tune fold (0.30) it under-counts these easy presets by about a quarter (0.75 of the hairs on
# 2026-11-26; see docs/hair_detector_card.md). They guard against a broken model or decoding (no hairs,
# or a flood of peaks along shafts), not for the 5% target.
def test_counts_on_seeded_synthetic_scalps_within_tolerance(scenes, found):
    truth = [len(sc.hairs) for sc in scenes]
    got = [len(f) for f in found]
    assert all(g >= 0.55 * t for g, t in zip(got, truth)), (truth, got)
    assert 0.65 <= sum(got) / sum(truth) <= 1.5, (truth, got)
    # both ways: at least the hairs wholly in the frame (the labels' rule it was tuned to; 69 of them, it
    # finds 81 on 2026-11-28), at most every visible hair (102), so a fifth more or fewer fails
    whole = [sum(not h.at_border for h in sc.hairs) for sc in scenes]
    assert sum(whole) <= sum(got) <= sum(truth), (whole, got, truth)


def test_returns_hairs_with_widths_from_the_image(found):
    hairs = [h for f in found for h in f]
    assert hairs and all(isinstance(h, Hair) for h in hairs)
    widths = np.array([h.width_um for h in hairs])
    assert np.all(widths > 0)
    assert 25 <= np.median(widths) <= 110  # the easy preset draws 55-100 um shafts, a few thin ones
    assert all(0 <= h.angle_deg < 180 for h in hairs)


def test_widths_of_crowded_hard_units_within_10_pct_median() -> None:
    """Shafts of a unit lie on or cross each other near their opening; a profile across one there adds its
    neighbours' darkness. Reading the width over most of the shaft's length (-0.45..+0.45, where they part)
    gave these crowded hard scenes 7.5% median |error|; over -0.3..+0.3 it was 11.9%; with the photo's blur taken
    out and the profiles' 35th percentile, 6.1% (bias -0.6%; 2026-11-28); with a shaft read at the end where it
    has parted from its neighbour, 4.9% (bias -1.5%; thirty-first session). Matching is one to one, a found
    midpoint within half a hair's length of a true one and near its shaft."""
    rel = []
    for seed in range(8):
        sc = render_scalp(seed=seed, shape=SHAPE, px_per_mm=PPM, n_units=8, difficulty="hard")
        found = detect_hairs_learned(sc.image, px_per_mm=PPM)
        for r, c in matched(found, sc.hairs, PPM):
            if sc.hairs[c].width_um >= 20:
                rel.append(found[r].width_um / sc.hairs[c].width_um - 1.0)
    rel = np.array(rel)
    assert len(rel) >= 60
    assert np.median(np.abs(rel)) <= 0.10, np.round(np.sort(rel), 2)
    assert abs(np.median(rel)) <= 0.06


def _box_row(x: np.ndarray, lo: float, hi: float, sigma_px: float, dark: float = 0.6) -> np.ndarray:
    """Darkness at ``x`` (px) of a box from ``lo`` to ``hi`` blurred by a Gaussian of ``sigma_px``."""
    from scipy.special import erf

    k = np.sqrt(2.0) * sigma_px
    return dark * 0.5 * (erf((x - lo) / k) - erf((x - hi) / k))


def _blurred_box(width_px: float, sigma_px: float, offset_px: float) -> np.ndarray:
    """A profile 29 px long across a box of darkness 0.6 blurred by a Gaussian, sampled 1 px apart."""
    return _box_row(np.arange(-14, 15) - offset_px, -width_px / 2, width_px / 2, sigma_px)


@pytest.mark.parametrize("sigma_px", [0.8, 1.5, 2.5])
def test_a_blurred_shaft_reads_back_its_width_at_the_photos_blur(sigma_px):
    """The photo's blur, from the edges of its wide shafts, then each shaft's width with that blur taken out:
    within 6% from three sigmas wide, 12% from two, and under a third of the error before the correction
    below that (where the blurred profile's shape says little of the width: a 3-px shaft at 2.5 px reads 6 px),
    at an offset the tables did not sample."""
    from hairtrack.imaging.hairs import _lobe_stats

    wide = np.stack([_blurred_box(w, sigma_px, o) for w in (10.0, 14.0, 18.0) for o in (-0.37, 0.0, 0.21)])
    integral, peak, edge = _lobe_stats(wide, edges=True)
    sigma = _photo_blur_px(list(integral / peak), list(edge))
    assert sigma == pytest.approx(sigma_px, rel=0.03)
    for w in (3.0, 5.0, 8.0, 14.0):
        integral, peak = _lobe_stats(_blurred_box(w, sigma_px, 0.13)[None, :])
        read = float(integral[0] / peak[0])
        after = _unblurred_width(read, sigma)
        if w >= 2 * sigma_px:
            assert after == pytest.approx(w, rel=0.06 if w >= 3 * sigma_px else 0.12)
        else:
            assert abs(after - w) < abs(read - w) / 3
    assert _photo_blur_px([12.0], [2.0]) is None  # one wide shaft is not enough to say


def test_a_blurred_edges_width_is_its_peak_over_its_steepest_fall_over_4_px():
    """The edge statistic the blur is read from: on a wide box blurred by a Gaussian of sigma, 4 / erf(sqrt(2) /
    sigma) px (the fall over 4 px centred on the edge), whatever the box's offset; NaN where the lobe has no
    slope."""
    from math import erf, sqrt

    from hairtrack.imaging.hairs import _lobe_stats

    for sigma_px in (1.0, 1.5, 2.5):  # a 14-px box's edges meet from about 3 sigmas
        prof = np.stack([_blurred_box(14.0, sigma_px, o) for o in (-0.4, 0.0, 0.3)])
        assert np.allclose(_lobe_stats(prof, edges=True)[2], 4.0 / erf(sqrt(2.0) / sigma_px), rtol=0.03)
    flat = np.full((1, 29), 0.5)
    assert np.isnan(_lobe_stats(flat, edges=True)[2]).all()
    assert _photo_blur_px([10.0, 12.0], [np.inf, 6.0]) is None  # an edge read as no slope is no reading


@pytest.mark.parametrize("sigma_px", [1.5, 2.5, 3.0])
def test_the_photos_blur_reads_the_same_from_narrow_and_wide_shafts(sigma_px):
    """Each shaft's blur is read against boxes of its own width: a narrow box's blurred edges meet and a wide one
    fills the profile, which read a 2.5-px blur as 2.2 from 8-px shafts when one 14-px box stood for all
    (2026-11-29). Shafts wider than the profile allows are left out."""
    from hairtrack.imaging.hairs import _lobe_stats

    for widths in ((8.0, 8.5, 9.0), (12.0, 13.0), (15.0, 16.0), (8.0, 16.0, 26.0, 27.0, 28.0)):
        prof = np.stack([_blurred_box(w, sigma_px, o) for w in widths for o in (-0.37, 0.0, 0.21)])
        integral, peak, edge = _lobe_stats(prof, edges=True)
        sigma = _photo_blur_px(list(integral / peak), list(edge))
        assert sigma == pytest.approx(sigma_px, rel=0.03), widths


def test_lone_shafts_are_those_no_other_comes_near():
    """Segment to segment: a shaft crossing another, touching it end to end, or running beside it closer than the
    gap is not lone, whatever the distance between the midpoints; one further off is."""
    def lone(*segments):  # (row, col) of each end
        ends = np.array(segments, np.float64).reshape(-1, 2, 2)
        return list(_lone_shafts(ends.mean(axis=1), (ends[:, 1] - ends[:, 0]) / 2))

    far = ((500.0, 500.0), (500.0, 580.0))
    assert lone(((0.0, 0.0), (0.0, 100.0)), ((-50.0, 50.0), (50.0, 50.0)), far) == [False, False, True]  # crossing
    assert lone(((0.0, 0.0), (0.0, 100.0)), ((0.0, 100.0), (90.0, 160.0)), far) == [False, False, True]  # a unit
    beside = _LONE_GAP_PX - 1.0
    assert lone(((0.0, 0.0), (0.0, 100.0)), ((beside, 20.0), (beside, 120.0)), far) == [False, False, True]
    apart = _LONE_GAP_PX + 1.0
    assert lone(((0.0, 0.0), (0.0, 100.0)), ((apart, 20.0), (apart, 120.0)), far) == [True, True, True]
    # the long shaft's end lies near the short one's middle: far from its own middle
    assert lone(((0.0, 0.0), (0.0, 300.0)), ((-40.0, 310.0), (40.0, 310.0))) == [False, False]
    assert lone(((0.0, 0.0), (0.0, 100.0))) == [True]
    assert lone() == []


def test_the_photos_blur_is_read_from_its_lone_shafts_when_it_has_enough():
    """A unit's shafts lying on each other in different tones read the blur low (hard renders at 100 px/mm:
    2.0-2.2 input px against 2.6; docs/hair_detector_card.md, thirtieth session). With enough lone shafts the
    blur is theirs; with fewer, a median over so few would be noisier than the bias, and every shaft counts."""
    from hairtrack.imaging.hairs import _lobe_stats

    def shafts(sigma_px, n):
        prof = np.stack([_blurred_box(w, sigma_px, 0.1 * k) for k, w in enumerate(np.linspace(8.0, 15.0, n))])
        integral, peak, edge = _lobe_stats(prof, edges=True)
        return list(integral / peak), list(edge)

    for n_lone in (_LONE_MIN, _LONE_MIN + 4):
        (r1, e1), (r2, e2) = shafts(2.6, n_lone), shafts(1.8, 3 * n_lone)  # the unit's: sharper
        lone = np.array([True] * n_lone + [False] * (3 * n_lone))
        assert _photo_blur_px(r1 + r2, e1 + e2) < 2.0
        assert _photo_blur_px(r1 + r2, e1 + e2, lone) == pytest.approx(2.6, rel=0.03)
    (r1, e1), (r2, e2) = shafts(2.6, _LONE_MIN - 1), shafts(1.8, 20)
    lone = np.array([True] * (_LONE_MIN - 1) + [False] * 20)
    assert _photo_blur_px(r1 + r2, e1 + e2, lone) == _photo_blur_px(r1 + r2, e1 + e2)
    # lone shafts too narrow or too wide to show the blur do not count towards the least number
    (r1, e1), (r2, e2) = shafts(2.6, _LONE_MIN), shafts(1.8, 20)
    r1[0] = 30.0
    lone = np.array([True] * _LONE_MIN + [False] * 20)
    assert _photo_blur_px(r1 + r2, e1 + e2, lone) == _photo_blur_px(r1 + r2, e1 + e2)


def test_sensor_noise_sharpens_the_photos_blur_less():
    """The steepest fall is a maximum, which noise steepens. Over 2 px, against one 14-px box, these noisy
    profiles read a 2.5-px blur as 2.16 (-14%); the fall over 4 px, against each shaft's own box, reads it within
    8% (-3.5% median over 30 noise draws, -6.7% at worst; 2026-11-29)."""
    from hairtrack.imaging.hairs import _lobe_stats

    rng = np.random.default_rng(3)
    for sigma_px in (1.5, 2.5):
        clean = np.stack([_blurred_box(w, sigma_px, o) for w in (9.0, 12.0, 15.0)
                          for o in rng.uniform(-0.5, 0.5, 12)])
        prof = clean + rng.normal(0.0, 0.015, clean.shape)  # a hard render's darkness map at 100 px/mm: 0.015
        integral, peak, edge = _lobe_stats(prof, edges=True)
        sigma = _photo_blur_px(list(integral / peak), list(edge))
        assert sigma == pytest.approx(sigma_px, rel=0.08)


def test_a_shaft_found_off_its_middle_is_read_from_its_middle():
    """The network's midpoint may lie a few px to one side of a shaft. A profile centred there takes the lobe's
    peak from the shaft's edge: an 8-px shaft at a 2.5-px blur, 4 px off, reads 11.6 px wide with edges of 4.6 px
    instead of 8.0 and 6.3, and five such shafts read the photo's blur as 2.14 (2026-11-29). A shaft's profiles
    climb together to the nearest peak of their mean, up to 4 px, so a shaft found up to 4 px off reads as if
    found on its middle, and one found further off is moved those 4 px."""
    sigma_px, widths, cols = 2.5, (8.0, 10.0, 12.0, 14.0, 16.0), (40.0, 110.0, 180.0, 250.0, 320.0)
    x = np.arange(400, dtype=np.float64)
    d = sum(_box_row(x, c - w / 2, c + w / 2, sigma_px) for w, c in zip(widths, cols))
    d = np.repeat(d[None, :], 120, axis=0).astype(np.float32)

    def read(off: float, centre_px: int = _CENTRE_PX) -> np.ndarray:
        recs = [(60.0, c + off, np.pi / 2, 80.0, np.array([-1.0, 0.0]), 0.0, 0.0, 0.5) for c in cols]
        return _shaft_widths(d, recs, width_pct=35.0, edges=True, centre_px=centre_px)

    middle = read(0.0, 0)
    assert np.allclose(middle[:, 0], [8.05, 9.6, 11.34, 13.19, 15.08], atol=0.02)
    assert _photo_blur_px(list(middle[:, 0]), list(middle[:, 2])) == pytest.approx(sigma_px, rel=0.01)
    for off in (-_CENTRE_PX, -2.0, 1.0, 3.0, _CENTRE_PX):
        assert np.array_equal(read(off), middle), off
    off_middle = read(4.0, 0)  # without: wider, sharper, and the blur read low
    assert off_middle[0, 0] > 1.4 * middle[0, 0] and off_middle[0, 2] < 0.8 * middle[0, 2]
    assert _photo_blur_px(list(off_middle[:, 0]), list(off_middle[:, 2])) < 0.9 * sigma_px
    near = read(_CENTRE_PX + 1.0)  # past the reach: moved as far as it goes, read as a shaft found 1 px off
    assert np.allclose(near, read(1.0, 0), rtol=1e-6, atol=1e-6)


def test_a_thin_shaft_beside_a_thick_one_stays_on_its_own_peak():
    """A thin, light shaft with a thick, dark neighbour whose blurred edge lies within the 4 px: the darkest point
    in reach is that edge, and moving there read a 30-um shaft of the method guard's hard scene as 73 um
    (2026-11-29). The profiles climb from the found line to the nearest peak instead: found on its middle the
    thin shaft is not moved, and found 2 px off (away from the neighbour) it climbs back to its middle."""
    x = np.arange(200, dtype=np.float64)
    row = _box_row(x, 98.0, 102.0, 1.5, dark=0.25) + _box_row(x, 104.0, 118.0, 1.5, dark=0.6)
    d = np.repeat(row[None, :], 80, axis=0).astype(np.float32)
    assert np.argmax(d[0, 96:105]) == 8  # the darkest point in reach is the neighbour's edge, 4 px off

    def read(col: float, centre_px: int = _CENTRE_PX) -> np.ndarray:
        rec = (40.0, col, np.pi / 2, 40.0, np.array([-1.0, 0.0]), 0.0, 0.0, 0.5)
        return _shaft_widths(d, [rec], width_pct=35.0, edges=True, centre_px=centre_px)[0]

    on_middle = read(100.0, 0)
    assert np.array_equal(read(100.0), on_middle)
    assert np.array_equal(read(98.0), on_middle)
    assert read(104.0, 0)[1] > 1.4 * on_middle[1]  # read at the edge, its contrast would be the neighbour's


@pytest.mark.parametrize("splay_deg", [5.0, 7.0])
def test_a_thin_shaft_parting_from_its_neighbour_is_read_where_it_has_parted(splay_deg):
    """Two shafts of a unit leave one opening: a thin, light one (4 px) at a few degrees from a thick, dark one
    (12 px). Near the opening the thin one's profiles take in its neighbour; towards its tip it is clear. At 5
    degrees most of its profiles read the neighbour, so their 35th percentile does too (11.5 px); its three
    profiles at the tip read it alone, 1.3x or more narrower than at the opening, and the shaft takes their
    reading: what it reads with no neighbour at all. Where the 35th percentile is already clear (7 degrees), or
    the shaft is alone, nothing changes."""
    import cv2

    from hairtrack.synth.scalp import _segment_coverage

    shape, root, length = (200, 300), (120.0, 40.0), 200.0
    ang = np.radians(splay_deg)
    tip = (root[0] - length * np.sin(ang), root[1] + length * np.cos(ang))
    thin = np.zeros(shape, np.float32)
    _segment_coverage(shape, root, tip, 4.0, thin, 0.3)
    pair = thin.copy()
    _segment_coverage(shape, root, (root[0], root[1] + length), 12.0, pair, 0.6)
    rec = ((root[0] + tip[0]) / 2, (root[1] + tip[1]) / 2, 0.0, length, np.array([-np.sin(ang), np.cos(ang)]),
           0.0, 0.0, 0.5)

    def read(d, ratio):
        d = cv2.GaussianBlur(d, (0, 0), 1.5)
        return _shaft_widths(d, [rec], width_pct=_WIDTH_PCT, edges=True, centre_px=_CENTRE_PX, parted_ratio=ratio)[0]

    alone = read(thin, _PARTED_RATIO)
    assert np.array_equal(alone, read(thin, 0.0))
    assert alone[0] == pytest.approx(4.0 / 0.818, rel=0.05)  # a 4-px box at 1.5 px of blur: w / erf(w / 2.83 sigma)
    before, after = read(pair, 0.0), read(pair, _PARTED_RATIO)
    if splay_deg == 5.0:
        assert before[0] > 2.0 * alone[0]
    else:
        assert before[0] == pytest.approx(alone[0], rel=0.02)
    assert after[0] == pytest.approx(alone[0], rel=0.02)
    assert np.array_equal(after[1:], before[1:])  # contrast and edges: as before


def test_a_reading_sharper_than_the_blur_allows_shrinks_in_proportion():
    """A shaft narrower than the photo's blur allows (a profile more peaked than a Gaussian) is scaled down by
    the factor at 1.5 sigmas, continuously, instead of collapsing to a width near zero as a blur-undoing width
    read per profile did on real thin hairs (2026-11-28)."""
    readings = np.linspace(0.5, 12.0, 200)
    widths = np.array([_unblurred_width(float(r), 2.5) for r in readings])
    assert np.all(np.diff(widths) >= 0) and np.all(widths > 0) and np.all(widths <= 1.06 * readings)
    assert np.max(np.diff(widths)) < 0.5  # no jump: steps of 0.058 px in the reading
    low = readings < 5.0
    assert np.allclose(widths[low] / readings[low], widths[low][0] / readings[low][0])  # in proportion there
    assert widths[low][0] / readings[low][0] > 0.5


@pytest.mark.parametrize("sigma_px", [0.3, 0.35, 1.0, 2.5, 4.0])
def test_the_unblurred_width_is_continuous_and_unclamped_at_every_blur(sigma_px):
    """No jump where a thin shaft's reading meets the table (at the least blur a box under 0.8 px reads 1 px
    whatever its width, and the first inversion jumped from 0.45 to 0.8 px there), and a reading past the
    widest box (28 px) is scaled, not clamped at 28 (a review found both, 2026-11-28)."""
    readings = np.linspace(0.2, 45.0, 8000)  # steps of 0.0056 px
    widths = np.array([_unblurred_width(float(r), sigma_px) for r in readings])
    assert np.all(np.diff(widths) >= 0)
    assert np.max(np.diff(widths)) < 0.2
    assert widths[-1] > 40.0 and len(np.unique(np.round(widths[-100:], 6))) == 100


def test_all_shafts_widths_in_one_pass_equal_each_shafts_own():
    """The detector reads every peak's profiles in one pass; each shaft's row is what it reads alone, to the bit,
    its median reading is the classical pipeline's one-shaft reading at the same points, and a shaft across bare
    skin reads 0."""
    from hairtrack.imaging.hairs import _profile_width

    rng = np.random.default_rng(5)
    d = np.zeros((200, 300), np.float32)
    d[:, 140:152] = 0.6  # one vertical shaft, 12 px wide
    d += rng.uniform(0, 0.02, d.shape).astype(np.float32)
    recs = []
    for r, c, theta, length in [(100.0, 146.0, np.pi / 2, 60.0), (20.3, 143.7, 1.3, 35.0), (150.0, 60.0, 0.4, 40.0),
                                (199.0, 299.0, 2.0, 90.0)]:
        axis = np.array([-np.sin(theta), np.cos(theta)])
        recs.append((r, c, theta, length, axis, 0.0, 0.0, 0.5))
    got = _shaft_widths(d, recs, span=0.45, width_pct=35.0)
    median = _shaft_widths(d, recs, span=0.45)
    for i, rec in enumerate(recs):
        assert tuple(_shaft_widths(d, [rec], span=0.45, width_pct=35.0)[0]) == tuple(got[i])
        t = np.linspace(-0.45, 0.45, 9)[:, None] * rec[3]
        pts = np.array(rec[:2])[None, :] + t * rec[4][None, :]
        pts[:, 0] = np.clip(pts[:, 0], 0, d.shape[0] - 1)
        pts[:, 1] = np.clip(pts[:, 1], 0, d.shape[1] - 1)
        assert tuple(median[i, :2]) == _profile_width(d, pts, rec[4])
    assert got[0, 0] == pytest.approx(12.0, abs=0.5) and got[0, 1] == pytest.approx(0.6, abs=0.03)
    assert tuple(got[2]) == (0.0, 0.0, 0.0)  # bare skin: no profile peaks
    assert _shaft_widths(d, []).shape == (0, 3)


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


def _rec(r, c, theta_deg, length, score):
    th = np.radians(theta_deg)
    return (r, c, th, length, np.array([-np.sin(th), np.cos(th)]), 3.0, 0.5, score)


def test_shaft_nms_keeps_one_peak_per_shaft():
    strong = _rec(100.0, 100.0, 0.0, 60.0, 0.6)  # a horizontal shaft, 60 input px long
    on_shaft = _rec(101.0, 125.0, 5.0, 30.0, 0.4)  # a weaker peak 25 px along it: the same hair
    beside = _rec(115.0, 110.0, 0.0, 60.0, 0.3)  # parallel, 15 px across: another hair
    crossing = _rec(100.0, 115.0, 90.0, 60.0, 0.3)  # across it: another hair
    beyond = _rec(100.0, 145.0, 0.0, 20.0, 0.3)  # past the strong peak's reach (0.6 x 60 px)
    kept = _shaft_nms([strong, on_shaft, beside, crossing, beyond])
    assert [k[7] for k in kept] == [0.6, 0.3, 0.3, 0.3]
    assert on_shaft not in kept
    assert _shaft_nms([strong, on_shaft], along=0.0) == [strong, on_shaft]  # switched off


def _contrast(rec, contrast):
    return rec[:6] + (contrast, rec[7])


def test_weak_peaks_count_only_where_the_image_shows_a_dark_shaft():
    confident = [_contrast(_rec(100.0 + 40 * i, 200.0, 0.0, 60.0, 0.6), 0.5) for i in range(3)]
    dark = _contrast(_rec(300.0, 300.0, 30.0, 60.0, 0.26), 0.48)  # weak, as dark as the confident ones
    faint = _contrast(_rec(300.0, 100.0, 30.0, 60.0, 0.26), 0.30)  # weak and faint: skin, not a hair
    too_weak = _contrast(_rec(200.0, 300.0, 30.0, 60.0, 0.20), 0.9)  # under 0.8 x the threshold
    kept = _gate_peaks(confident + [dark, faint, too_weak], 0.30, (512, 640))
    assert kept == confident + [dark]
    # the reference is the confident peaks' contrast: a photo of faint hairs keeps its faint weak peaks
    pale = [_contrast(r, 0.3) for r in confident]
    assert _gate_peaks(pale + [faint], 0.30, (512, 640)) == pale + [faint]


def test_peaks_near_the_frame_count_only_when_confident():
    inner = _rec(200.0, 200.0, 0.0, 60.0, 0.4)
    edge_weak = _rec(10.0, 200.0, 0.0, 60.0, 0.4)  # 10 input px from the top of the frame
    edge_sure = _rec(200.0, 630.0, 0.0, 60.0, 0.7)  # 9 px from the right, but confident
    past_band = _rec(200.0, 610.0, 0.0, 60.0, 0.4)  # 29 px from the right: outside the band
    kept = _gate_peaks([inner, edge_weak, edge_sure, past_band], 0.30, (512, 640))
    assert kept == [inner, edge_sure, past_band]
    assert _gate_peaks([], 0.30, (512, 640)) == []


def test_the_learned_detector_is_safe_in_parallel_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from hairtrack.imaging.analyze import analyze
    from hairtrack.synth import render_scalp

    scenes = [np.asarray(render_scalp(seed=s, shape=(512, 640), px_per_mm=220.0, n_units=10, difficulty="easy").image) for s in range(4)]
    alone = [analyze(img, 220.0, detector="learned").hair_count for img in scenes]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda img: analyze(img, 220.0, detector="learned").hair_count, scenes * 3))
    assert together == alone * 3


def test_one_network_with_its_flip_gives_a_mirror_image_the_mirrored_hairs(scenes):
    """Test-time flip: with one network, the maps of a photo and of its mirror image are the same, mirrored."""
    for sc in scenes[:3]:
        hairs = detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm, model_path=MODEL_PATH)
        mirrored = detect_hairs_learned(np.ascontiguousarray(sc.image[:, ::-1]), px_per_mm=sc.px_per_mm,
                                        model_path=MODEL_PATH)
        assert len(hairs) == len(mirrored) > 0
        a = sorted((round(h.row_px), round(h.col_px)) for h in hairs)
        b = sorted((round(h.row_px), round(SHAPE[1] - 1 - h.col_px)) for h in mirrored)
        assert all(abs(p[0] - q[0]) <= 1 and abs(p[1] - q[1]) <= 1 for p, q in zip(a, b)), (a, b)


def test_the_pair_gives_a_mirror_image_nearly_the_same_hairs(scenes):
    """The default pair runs each network on one side of the mirror, so a mirror image swaps their roles:
    the count stays within two hairs of 16 and most hairs in place (not all: where the two networks
    disagree on a shaft's midpoint, the mean of their maps peaks elsewhere). Measured on these scenes:
    counts differ by up to 2 of 16, and 75-100% of the midpoints are within 6 px."""
    for sc in scenes[:3]:
        hairs = detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm)
        mirrored = detect_hairs_learned(np.ascontiguousarray(sc.image[:, ::-1]), px_per_mm=sc.px_per_mm)
        assert len(hairs) > 0
        assert abs(len(hairs) - len(mirrored)) <= max(2, round(0.15 * len(hairs)))
        a = np.array([(h.row_px, h.col_px) for h in hairs])
        b = np.array([(h.row_px, SHAPE[1] - 1 - h.col_px) for h in mirrored])
        nearest = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).min(axis=1)
        assert np.median(nearest) <= 1.0 and np.mean(nearest <= 6.0) >= 0.65, nearest


def test_a_pair_of_models_runs_each_on_its_side(scenes):
    """``model_path`` as a pair: the first network on the photo, the second on its mirror image."""
    sc = scenes[0]
    pair = detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm, model_path=DEFAULT_MODELS)
    swapped = detect_hairs_learned(np.ascontiguousarray(sc.image[:, ::-1]), px_per_mm=sc.px_per_mm,
                                   model_path=DEFAULT_MODELS[::-1])
    a = sorted((round(h.row_px), round(h.col_px)) for h in pair)
    b = sorted((round(h.row_px), round(SHAPE[1] - 1 - h.col_px)) for h in swapped)
    assert len(a) == len(b) and all(abs(p[0] - q[0]) <= 1 and abs(p[1] - q[1]) <= 1 for p, q in zip(a, b))
    with pytest.raises(InputError, match="one model or a pair"):
        detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm, model_path=(MODEL_PATH,) * 3)


def test_sessions_follow_the_thread_setting_and_refuse_bad_counts(monkeypatch, image_threads):
    from hairtrack.imaging import learned, set_threads

    monkeypatch.setattr(learned, "_SESSIONS", {})
    set_threads(1)
    one = _load_net(str(MODEL_PATH))
    assert one.get_session_options().intra_op_num_threads == 1
    assert _load_net(str(MODEL_PATH)) is one  # made once per model and thread count
    for n in (2, 3, 1):
        set_threads(n)
        assert _load_net(str(MODEL_PATH)).get_session_options().intra_op_num_threads == n
    assert len(learned._SESSIONS) == 1  # replaced, not added
    with pytest.raises(InputError, match="at least 1"):
        set_threads(0)


def test_a_model_file_replaced_on_disk_is_loaded_again(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(FLOAT_MODELS[0].read_bytes())
    first = _load_net(str(path))
    path.write_bytes(FLOAT_MODELS[1].read_bytes())
    import os

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert _load_net(str(path)) is not first
    assert _load_net(str(tmp_path / "." / "m.onnx")) is _load_net(str(path))  # one session per file, however named


def test_a_model_that_cannot_take_the_input_is_named():
    from hairtrack.imaging.learned import _run_net

    with pytest.raises(InputError, match="hair_centernet.onnx cannot run on a 64 x 64 input"):
        _run_net(str(MODEL_PATH), np.zeros((1, 4, 64, 64), np.float32))


def test_a_file_that_is_not_a_model_is_refused_by_name(tmp_path, scenes):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a network")
    with pytest.raises(InputError, match="broken.onnx cannot be loaded"):
        detect_hairs_learned(scenes[0].image, px_per_mm=PPM, model_path=bad)
    with pytest.raises(InputError, match="not found"):
        detect_hairs_learned(scenes[0].image, px_per_mm=PPM, model_path=tmp_path / "missing.onnx")


_FORK_SCRIPT = """
import multiprocessing, sys
import cv2
from hairtrack.imaging import learned
from hairtrack.synth.scalp import render_scalp

# OpenCV's own thread pool does not survive a fork either (cv2.setNumThreads hangs in such a child, which is
# why the CLI's workers are spawned); this test is about the detector's sessions, so OpenCV runs serially.
cv2.setNumThreads(0)
image = render_scalp(seed=1, shape=(512, 640), px_per_mm=110.0, n_units=8, difficulty="easy").image

def count(threads):
    learned._THREADS = threads  # the child asks for another count: it makes its own sessions
    return len(learned.detect_hairs_learned(image, px_per_mm=110.0))

if __name__ == "__main__":
    here = count(2)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        there = pool.apply_async(count, (1,)).get(timeout=60)
    print(here, there)
    sys.exit(0 if here == there else 1)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_a_forked_child_makes_its_own_sessions(tmp_path):
    """A process forked after the detector ran (gunicorn's preload, a fork pool) gets the same hairs; the
    sessions it inherited, whose thread pools stayed with the parent, are not freed there (that crashed).
    Run in a fresh interpreter, so no other test's threads are around at the fork."""
    import subprocess
    import sys

    script = tmp_path / "fork_check.py"
    script.write_text(_FORK_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("models", ["int8", "float"])
def test_tile_by_tile_maps_equal_one_pass(monkeypatch, models):
    """A large input (a 48 MP photo at 70 px/mm took 6.7 GB in one pass) runs tile by tile; with the margin
    beyond the network's reach the maps are those of one pass, to the last bit."""
    import hairtrack.imaging.learned as learned

    model = learned.DEFAULT_MODELS[0] if models == "int8" else learned.FLOAT_MODELS[0]
    image = render_scalp(seed=3, shape=(1000, 1400), px_per_mm=110.0, difficulty="medium").image
    monkeypatch.setattr(learned, "_PAIR_MAX_INPUT_PX", 100_000)  # one pass, then 3 x 5 tiles over 1008 x 1408
    _, whole, stride = learned.predict_maps(image, 1.0, model_path=(model, model))
    monkeypatch.setattr(learned, "_TILE_MIN_INPUT_PX", 500_000)
    rows, cols = learned._tile_grid(1008, 1408)
    assert len(rows) >= 2 and len(cols) >= 2  # seams both ways
    _, tiled, tiled_stride = learned.predict_maps(image, 1.0, model_path=(model, model))
    assert tiled_stride == stride and tiled.shape == whole.shape == (4, 250, 350)
    np.testing.assert_array_equal(tiled, whole)
    monkeypatch.setattr(learned, "_TILE_MARGIN_PX", 64)  # within the network's reach: the seams show
    assert not np.array_equal(learned.predict_maps(image, 1.0, model_path=(model, model))[1], whole)


@pytest.mark.parametrize("shape", [(4896, 6528), (8000, 7984), (4000, 4016), (1008, 1408), (16, 9000)])
@pytest.mark.parametrize("budget", [16_000_000, 2_000_000, 500_000])
def test_the_tile_grid_covers_the_input_within_the_budget_and_runs_few_seams(shape, budget):
    """Every tile starts on a whole block, the tiles cover the input once, no pass (margins included) runs
    more pixels than the budget, and the grid runs fewer pixels than squares of 2048 did."""
    from hairtrack.imaging.learned import _MULTIPLE, _TILE_MARGIN_PX as m, _tile_grid

    h, w = shape
    rows, cols = _tile_grid(h, w, budget)
    assert rows[0] == 0 and cols[0] == 0 and rows == sorted(set(rows)) and cols == sorted(set(cols))
    assert all(r % _MULTIPLE == 0 and r < h for r in rows) and all(c % _MULTIPLE == 0 and c < w for c in cols)

    def spans(starts, length):
        return [(max(a - m, 0), min(b + m, length)) for a, b in zip(starts, starts[1:] + [length])]

    passes = [(yb - ya) * (xb - xa) for ya, yb in spans(rows, h) for xa, xb in spans(cols, w)]
    assert max(passes) <= budget or (len(rows) == -(-h // _MULTIPLE) and len(cols) == -(-w // _MULTIPLE))
    if budget == 16_000_000 and h * w > budget:
        squares = (sum(b - a for a, b in spans(list(range(0, h, 2048)), h))
                   * sum(b - a for a, b in spans(list(range(0, w, 2048)), w)))
        assert sum(passes) < squares
    if shape == (4896, 6528) and budget == 16_000_000:  # a 12 MP photo at 110 px/mm: 36% more before, 12% now
        assert sum(passes) <= 1.12 * h * w


def test_a_photo_far_larger_than_a_close_up_is_refused_with_its_area():
    """A 48 MP photo at 60 px/mm is 128 M pixels at the network's scale (gigabytes): no close-up, refused
    with what it covers, before any work."""
    photo = np.zeros((6000, 8000, 3), np.uint8)
    photo[::7] = 90
    with pytest.raises(InputError, match=r"at 60 px/mm this 8000 x 6000 px photo covers 133 cm² of scalp, more "
                                         r"than a close-up \(20 cm² at most\)"):
        detect_hairs_learned(photo, px_per_mm=60.0)


def test_the_networks_input_is_the_exposure_formula_to_the_bit():
    """_blob reads each channel from a 256-entry table into the channel-first array (fast on 12 MP photos); it
    must give exactly clip(photo x gain, 0, 255) in float32, transposed, for any gain and any (sliced) part."""
    from hairtrack.imaging.learned import _blob, _exposed

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    for gain in (np.array([1.3, 0.7, 2.0], np.float32), np.array([0.5, 1.0, 1.87], np.float32)):
        for part in (photo, photo[17:250, 33:401]):  # a tile is a slice of the padded photo
            want = np.ascontiguousarray(_exposed(part, gain).transpose(2, 0, 1)[None])
            got = _blob(part, gain)
            assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"] and np.array_equal(got, want)


def test_a_photo_reaches_the_networks_scale_from_half_of_it():
    from hairtrack.imaging.learned import reads_at_network_scale

    assert reads_at_network_scale(358.0) and reads_at_network_scale(89.5)
    assert not reads_at_network_scale(89.4) and not reads_at_network_scale(8.0)


def test_the_mirrored_input_is_numpys_reversed_copy():
    from hairtrack.imaging.learned import _mirrored

    blob = np.random.default_rng(1).random((1, 3, 48, 80)).astype(np.float32)
    got = _mirrored(blob)
    assert got.flags["C_CONTIGUOUS"] and np.array_equal(got, blob[..., ::-1]) and not np.shares_memory(got, blob)


def test_thin_shafts_of_a_blurred_phone_macro_read_nearer_their_width() -> None:
    """At 100 px/mm (a phone macro, enlarged 1.8x to the network's scale) the hard preset's blur is about 2.7
    input px; the photo's noise steepened the 2-px slope it was read from, and reading it against one 14-px box
    for every shaft read it low again: the 21 shafts of 20-45 um apart from any other on these scenes read +23%
    (median). Read from the fall over 4 px against boxes of each shaft's width, +16% (2026-11-29); with each
    shaft's profiles moved to the nearest peak of their mean (found off its middle, a wide shaft read an edge as
    its peak, and so the blur low), +13% (thirtieth session); with the blur read from the lone shafts (a unit's
    shafts lying on each other read it low), +9.1%, and with a shaft read at the end where it has parted from
    its neighbour, +7.7% (thirty-first session). What is left is mostly the noise, which still steepens the fall
    a little (a 75-25% crossing reads them at +1% here but takes the real photos' rounded shafts for blur;
    docs/hair_detector_card.md, twenty-ninth session). Shafts lying on a neighbour are left out: they read it."""
    ppm = 100.0
    rel = []
    for seed in range(5):
        sc = render_scalp(seed=seed, shape=(768, 960), px_per_mm=ppm, difficulty="hard")
        found = detect_hairs_learned(sc.image, px_per_mm=ppm)
        for r, c in matched(found, sc.hairs, ppm):
            h = sc.hairs[c]
            mid = np.array([[h.row_px, h.col_px]])
            apart = all(to_shaft(mid, o)[0] >= 0.06 * ppm for j, o in enumerate(sc.hairs) if j != c)
            if 20 <= h.width_um < 45 and apart:
                rel.append(found[r].width_um / h.width_um - 1.0)
    rel = np.array(rel)
    assert len(rel) >= 15, len(rel)
    assert abs(np.median(rel)) <= 0.10, np.round(np.sort(rel), 2)
