"""The frame's edge correction (imaging.density): unbiased where a plain count is not, and not fooled by length."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hairtrack.imaging.density import edge_corrected_density


def _field() -> np.ndarray:
    """A 400 x 500 field less a 60-row banner and a vignetted corner: not a rectangle."""
    usable = np.ones((400, 500), bool)
    usable[:60] = False
    rr, cc = np.mgrid[0:400, 0:500]
    usable[(rr - 400) ** 2 + (cc - 500) ** 2 < 120 ** 2] = False
    return usable


def _scatter(rng: np.random.Generator, usable: np.ndarray, per_px2: float, length: tuple[float, float]):
    """Shafts whose midpoints fall uniformly (a stationary scalp) over the field and well beyond it; the truth is
    the number of midpoints inside the usable field."""
    h, w = usable.shape
    pad = 200
    n = rng.poisson(per_px2 * (h + 2 * pad) * (w + 2 * pad))
    mid = np.column_stack([rng.uniform(-pad, h + pad, n), rng.uniform(-pad, w + pad, n)])
    ang = rng.uniform(0, math.pi, n)
    half = rng.uniform(*length, n)[:, None] / 2 * np.column_stack([np.sin(ang), np.cos(ang)])
    shapes = [np.array([m - d, m + d]) for m, d in zip(mid, half)]
    inside = (mid[:, 0] >= 0) & (mid[:, 0] < h) & (mid[:, 1] >= 0) & (mid[:, 1] < w)
    truth = int(usable[mid[inside, 0].astype(int), mid[inside, 1].astype(int)].sum())
    return shapes, truth


@pytest.mark.parametrize("length", [(30.0, 60.0), (120.0, 240.0)], ids=["short", "long"])
def test_the_estimate_is_unbiased_where_a_plain_count_of_whole_hairs_is_not(length):
    usable = _field()
    rng = np.random.default_rng(5)
    est, whole, truth = 0.0, 0, 0
    for _ in range(120):
        shapes, t = _scatter(rng, usable, 2.5e-4, length)
        d = edge_corrected_density(shapes, usable, margin_px=0)
        est += d.per_px2 * usable.sum()
        whole += d.whole
        truth += t
    assert est == pytest.approx(truth, rel=0.04)
    if length[0] > 100:
        assert whole < 0.75 * truth  # the frame cuts a quarter and more of the long shafts
    else:
        assert whole < 0.95 * truth


def test_the_density_does_not_fall_as_the_hair_grows():
    """The same follicles with short and with long shafts: the plain count per area drops by a third, the
    corrected density stays."""
    usable = _field()
    out = {}
    for name, length in (("short", (30.0, 50.0)), ("long", (180.0, 260.0))):
        rng = np.random.default_rng(8)  # the same midpoints and angles for both
        per_px2 = whole = 0.0
        for _ in range(100):
            shapes, _ = _scatter(rng, usable, 2.5e-4, length)
            d = edge_corrected_density(shapes, usable)
            per_px2 += d.per_px2
            whole += d.whole
        out[name] = (per_px2, whole)
    assert out["long"][0] == pytest.approx(out["short"][0], rel=0.06)
    assert out["long"][1] < 0.7 * out["short"][1]


def test_one_hair_in_a_rectangle_counts_as_the_closed_form():
    """In a W x H window a shaft of extent a x b fits in (W - a)(H - b) places (Miles 1974)."""
    field = np.ones((300, 400), bool)
    shaft = np.array([[150.0, 150.0], [210.0, 230.0]])  # extent 60 x 80 px
    d = edge_corrected_density([shaft], field, margin_px=0)
    assert d.whole == 1
    assert d.estimate == pytest.approx(300 * 400 / ((300 - 60) * (400 - 80)), rel=0.03)
    centred = edge_corrected_density([np.array([[150.0, 200.0]])], field, margin_px=0)
    assert centred.estimate == pytest.approx(1.0, rel=0.02)  # a point fits everywhere


def test_cut_shafts_and_margins():
    field = np.ones((300, 400), bool)
    field[:50] = False  # a banner
    under_banner = np.array([[40.0, 100.0], [120.0, 100.0]])
    at_frame = np.array([[150.0, 350.0], [150.0, 399.5]])
    near_frame = np.array([[150.0, 300.0], [150.0, 398.7]])  # its end found a pixel short of the frame
    inside = np.array([[150.0, 100.0], [150.0, 200.0]])
    assert edge_corrected_density([under_banner, at_frame, inside], field).whole == 1
    assert edge_corrected_density([near_frame], field, margin_px=0).whole == 1
    assert edge_corrected_density([near_frame], field).whole == 0  # default margin: 0.3% of 400 px, rounded to 1
    three_short = np.array([[150.0, 300.0], [150.0, 396.0]])
    assert edge_corrected_density([three_short], field).whole == 1
    assert edge_corrected_density([three_short], field, margin_px=5).whole == 0


def test_a_unit_counts_by_its_whole_shape():
    """A unit of three hairs (their six ends) fits in fewer places than any one of its hairs, so counts more."""
    field = np.ones((300, 400), bool)
    exit_point = np.array([150.0, 200.0])
    tips = [exit_point + 90 * np.array([math.sin(a), math.cos(a)]) for a in (0.3, 0.8, 1.3)]
    unit = np.array([p for t in tips for p in (exit_point, t)])
    one = edge_corrected_density([np.array([exit_point, tips[1]])], field)
    three = edge_corrected_density([unit], field)
    assert three.whole == 1 and three.per_px2 > one.per_px2


def test_very_long_shafts_are_bounded_and_empty_fields_are_zero():
    field = np.ones((100, 400), bool)
    nearly_across = np.array([[50.0, 5.0], [50.0, 395.0]])
    d = edge_corrected_density([nearly_across], field, margin_px=0)
    assert d.whole == 1 and d.estimate == pytest.approx(5.0, rel=0.01)  # counted as if a fifth of the field fit
    empty = edge_corrected_density([nearly_across], np.zeros((100, 400), bool))
    assert (empty.whole, empty.per_px2, empty.window_px2) == (0, 0.0, 0.0)
    assert edge_corrected_density([], field).estimate == 0.0


@pytest.mark.parametrize(("shapes", "usable", "kw", "message"), [
    ([], np.ones((4, 4, 3), bool), {}, "2-D mask"),
    ([np.array([[1.0, float("nan")]])], np.ones((8, 8), bool), {}, "finite"),
    ([np.zeros((0, 2))], np.ones((8, 8), bool), {}, "one or more"),
    ([], np.ones((8, 8), bool), {"margin_px": -1.0}, "margin_px"),
])
def test_bad_input_is_refused_with_its_reason(shapes, usable, kw, message):
    with pytest.raises(ValueError, match=message):
        edge_corrected_density(shapes, usable, **kw)


def test_far_points_are_cut_without_sampling_their_path():
    """A shape with a point far outside the picture is cut, at once (no path of a billion pixels is sampled)."""
    field = np.ones((100, 200), bool)
    far = np.array([[50.0, 100.0], [50.0, 1e12]])
    inside = np.array([[50.0, 90.0], [50.0, 110.0]])
    d = edge_corrected_density([far, inside], field)
    assert d.whole == 1 and d.estimate == pytest.approx(edge_corrected_density([inside], field).estimate)


def test_several_sets_share_one_window_and_count_as_apart():
    """Hairs and units of one field in one call: each set counts as it would alone."""
    from hairtrack.imaging.density import edge_corrected_densities

    usable = _field()
    hairs, _ = _scatter(np.random.default_rng(3), usable, 2.5e-4, (40.0, 160.0))
    units = [np.concatenate([a, b]) for a, b in zip(hairs[::2], hairs[1::2])]
    both = edge_corrected_densities([hairs, units, []], usable)
    assert both[0] == edge_corrected_density(hairs, usable)
    assert both[1] == edge_corrected_density(units, usable)
    assert both[2].whole == 0 and both[2].per_px2 == 0.0 and both[2].window_px2 == both[0].window_px2
    with pytest.raises(ValueError, match="finite"):
        edge_corrected_densities([hairs, [np.array([[np.nan, 1.0]])]], usable)


def test_one_window_made_once_counts_later_sets_as_a_fresh_one():
    """analyze() counts hairs, then units, in one counting window: its kept erosions change nothing."""
    from hairtrack.imaging.density import counting_window

    usable = _field()
    hairs, _ = _scatter(np.random.default_rng(4), usable, 2.5e-4, (40.0, 160.0))
    units = [np.concatenate([a, b]) for a, b in zip(hairs[::2], hairs[1::2])] + hairs[:5]
    window = counting_window(usable)
    first, = window.densities([hairs])
    later = window.densities([units, hairs])
    assert first == edge_corrected_density(hairs, usable)
    assert later == (edge_corrected_density(units, usable), first)
    nothing = counting_window(np.zeros((50, 60), bool))
    assert nothing.window_px2 == 0.0 and nothing.densities([hairs])[0].per_px2 == 0.0
    with pytest.raises(ValueError, match="finite"):
        window.densities([[np.array([[1.0, np.inf]])]])
    with pytest.raises(ValueError, match="2-D"):
        counting_window(np.zeros(5, bool))


@pytest.mark.parametrize("shape", [(1024, 1280), (200, 6000), (6000, 300)])
def test_the_erosion_is_exact_enough_on_long_narrow_fields(shape):
    """A hair's weight is 1 / |W ⊖ O|, for a segment (H - |dy|)(W - |dx|). The coarse grid had 160 cells along
    the long side, so 5-8 across a strip: |W ⊖ O| was off by up to 165% and the density read 22% low."""
    h, w = shape
    field = np.ones(shape, bool)
    for dy, dx in ((0, 120), (90, 0), (60, 80), (-40, 30)):
        hair = np.array([[h / 2 - dy / 2, w / 2 - dx / 2], [h / 2 + dy / 2, w / 2 + dx / 2]])
        d = edge_corrected_density([hair], field, margin_px=0)
        exact = 1.0 / ((h - abs(dy)) * (w - abs(dx)))
        assert d.whole == 1 and d.per_px2 == pytest.approx(exact, rel=0.04), (shape, dy, dx)
