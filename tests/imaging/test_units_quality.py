"""Follicular units from hair ends; quality issues and the usable field."""

from __future__ import annotations

import numpy as np
import pytest

from hairtrack.imaging.hairs import Hair
from hairtrack.imaging.quality import assess_quality, scan_field
from hairtrack.imaging.units import group_units
from hairtrack.synth.scalp import render_scalp


def _hair(a, b, width=6.0):
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    return Hair(mid[0], mid[1], width, float(np.hypot(b[0] - a[0], b[1] - a[1])), 0.0, a, b, 0.6)


def test_units_group_hairs_sharing_an_exit_point():
    exit_a, exit_b = (100.0, 100.0), (300.0, 400.0)
    hairs = [_hair(exit_a, (100, 250)), _hair((102, 101), (60, 240)), _hair((98, 99), (140, 245)),
             _hair(exit_b, (300, 550)), _hair((200, 50), (200, 150))]
    units = group_units(hairs, max_gap_px=10)
    assert sorted(u.hairs for u in units) == [1, 1, 3]
    three = next(u for u in units if u.hairs == 3)
    assert three.row_px == pytest.approx(100, abs=2) and three.col_px == pytest.approx(100, abs=2)
    assert sorted(m for u in units for m in u.members) == list(range(5))


def test_without_a_scale_units_join_within_two_and_a_half_shaft_widths():
    def pair(gap_px):
        return [_hair((50.0, 20.0), (50.0, 100.0), width=4.0), _hair((50.0 + gap_px, 20.0), (50.0 + gap_px, 100.0), width=4.0)]

    assert [u.hairs for u in group_units(pair(9.5))] == [2]  # 2.5 x 4 px = 10 px
    assert [u.hairs for u in group_units(pair(10.5))] == [1, 1]


def test_units_use_the_scale():
    hairs = [_hair((100, 100), (100, 250)), _hair((100, 115), (40, 240))]
    # the exit points are 15 px apart: 100 um at 200 px/mm is 20 px (one unit), 50 um is 10 px (two)
    assert len(group_units(hairs, px_per_mm=200.0, max_gap_um=100.0)) == 1
    assert len(group_units(hairs, px_per_mm=200.0, max_gap_um=50.0)) == 2


def test_hairs_of_two_openings_whose_tips_meet_are_two_units():
    """Tip to tip, the shafts come to the meeting point from opposite sides (a review found one unit in ten of
    ideal synthetic hairs mixed that way); a lone hair's unit sits at its middle, since nothing says which end
    leaves the skin."""
    hairs = [_hair((100, 100), (100, 250)), _hair((100, 400), (101, 252))]  # exits 300 px apart, tips 2 px
    units = group_units(hairs, max_gap_px=10)
    assert [u.hairs for u in units] == [1, 1]
    assert {(round(u.row_px), round(u.col_px)) for u in units} == {(100, 175), (100, 326)}
    splayed = [_hair((100, 100), (100, 250)), _hair((101, 102), (30, 240))]  # one opening, 27 degrees apart
    assert [u.hairs for u in group_units(splayed, max_gap_px=10)] == [2]


def _exact_hairs(scene):
    """The scene's drawn hairs (those of a unit) as detector output, and the unit each belongs to."""
    hairs, unit = [], []
    for hr in scene.hairs:
        if hr.unit < 0:
            continue
        a = np.radians(hr.angle_deg)
        half = 0.5 * hr.length_px * np.array([-np.sin(a), np.cos(a)])
        mid = np.array([hr.row_px, hr.col_px])
        hairs.append(Hair(hr.row_px, hr.col_px, hr.width_px, hr.length_px, hr.angle_deg, tuple(mid - half),
                          tuple(mid + half), 0.6))
        unit.append(hr.unit)
    return hairs, np.array(unit)


def test_units_of_a_dense_scalp_stay_apart_where_their_tips_meet():
    """At a normal scalp's 90 units/cm² hairs lying the same way meet tip to tip all over the frame; grouping
    through both ends of a hair chained neighbouring units: on these scenes' exact hairs 71% of the pairs put in
    one unit shared an opening (100% now), and 70 units were found of 74 (64% and 69 of 78 with the 0.6-1.6 mm
    shafts the renderer drew until 2026-11-28)."""
    found = shared = true = 0
    n_units = n_true = 0
    for seed in range(3):
        scene = render_scalp(seed=40 + seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium", n_units=24)
        hairs, unit = _exact_hairs(scene)
        units = group_units(hairs, px_per_mm=220.0)
        label = np.empty(len(hairs), int)
        for k, u in enumerate(units):
            label[list(u.members)] = k
        pairs = np.triu_indices(len(hairs), 1)
        same_found = (label[:, None] == label[None, :])[pairs]
        same_true = (unit[:, None] == unit[None, :])[pairs]
        found += int(same_found.sum())
        shared += int((same_found & same_true).sum())
        true += int(same_true.sum())
        n_units += len(units)
        n_true += len(set(unit.tolist()))
    assert shared / found >= 0.9  # pairs put together that share an opening
    assert shared / true >= 0.85  # pairs sharing an opening put together
    assert n_units == pytest.approx(n_true, rel=0.1)


def test_grouping_thousands_of_hairs_is_quick_and_small():
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    starts = rng.uniform(0, 4000, (3000, 2))
    ang = rng.uniform(0, np.pi, 3000)
    hairs = [_hair(tuple(a), (a[0] + 60 * np.sin(t), a[1] + 60 * np.cos(t))) for a, t in zip(starts, ang)]
    tracemalloc.start()
    t0 = time.perf_counter()
    units = group_units(hairs, max_gap_px=10)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sum(u.hairs for u in units) == 3000
    assert peak < 50e6 and elapsed < 5.0  # the distance matrix took ~1 GB here


def test_no_hairs_no_units():
    assert group_units([]) == ()


def test_banner_is_masked():
    sc = render_scalp(seed=1, shape=(384, 480), banner=True)
    field = scan_field(sc.image)
    assert field.banner_rows > 0
    assert not field.usable[: field.banner_rows].any()
    assert field.usable_fraction > 0.7


@pytest.mark.parametrize("gain, offset", [(0.5, -20.0), (0.4, -30.0)])
def test_a_dark_photo_keeps_its_top_and_its_banner(gain, offset):
    """Every row of a dark photo is dark and grey, as a banner's are; taken for one, its top 9% was cut from
    the field (benchmarks/exposure.py: usable 0.90, density |error| 11%, until 2026-11-28). A banner it does
    have is still found: "dark" follows the photo's own brightness."""
    for banner in (False, True):
        sc = render_scalp(seed=1, shape=(384, 480), banner=banner)
        dark = np.clip(sc.image * gain + offset, 0, 255).astype(np.uint8)
        lit, dim = scan_field(sc.image), scan_field(dark)
        if banner:
            assert dim.banner_rows > 0 and abs(dim.banner_rows - lit.banner_rows) <= 3, (lit.banner_rows, dim.banner_rows)
        else:
            assert dim.banner_rows == 0
            assert dim.usable_fraction > 0.98


def test_red_circle_is_an_overlay():
    sc = render_scalp(seed=2, shape=(384, 480), red_circle=True)
    assert scan_field(sc.image).overlay.sum() > 200


def _drawn_label_pixels(plain: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The pixels of the circle's blue label text: where the drawn render differs from the plain one, and blue."""
    im = drawn.astype(int)
    return (plain != drawn).any(-1) & (im[..., 2] - np.maximum(im[..., 0], im[..., 1]) > 60)


def test_the_circles_label_text_is_overlay_and_not_taken_for_hairs():
    """The label beside the measurement circle is bright grey with blue letters. At a phone macro's scale the
    photo is enlarged for the network and the letters' strokes are as wide as hairs: the network took them for
    short ones (on these three renders 11 hairs lay on the text, on seeds 1000-1011 48). Its text now joins the
    drawing the shafts' darkness leaves out, which the found hairs' profiles must show."""
    from hairtrack.imaging.analyze import analyze

    on_text = 0
    for seed in (1000, 1002, 1003):
        kw = dict(seed=seed, shape=(1024, 1280), px_per_mm=100.0, difficulty="easy")
        plain, drawn = render_scalp(**kw), render_scalp(**kw, red_circle=True)
        text = _drawn_label_pixels(plain.image, drawn.image)
        assert text.sum() > 1000
        assert scan_field(drawn.image).overlay[text].mean() > 0.85
        for h in analyze(drawn.image, 100.0).hairs:
            r, c = int(h.row_px), int(h.col_px)
            on_text += bool(text[max(r - 3, 0):r + 4, max(c - 3, 0):c + 4].any())
    assert on_text <= 1, on_text


def test_the_dev_photos_label_is_found_at_their_size_and_blue_that_is_no_text_is_not():
    """The dev photos' label has four lines of letters twice the renderer's size, which it finds too. Blue that is
    no text stays hair and skin: a dermoscope's blue light over a whole photo, and dark blue shafts on pale grey
    skin (as light and grey as the label's box, at a phone macro's scale and a dermoscope's), each with the
    circle and the renderer's label drawn over it."""
    import cv2

    for ppm in (100.0, 358.0):
        kw = dict(seed=2, shape=(1024, 1280), px_per_mm=ppm, difficulty="hard")
        plain, drawn = render_scalp(**kw), render_scalp(**kw, red_circle=True)
        drawing = (plain.image != drawn.image).any(-1)
        text = _drawn_label_pixels(plain.image, drawn.image)
        hair = (plain.image.max(axis=-1) < 90) & ~cv2.dilate(drawing.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)
        assert hair.sum() > 2000
        tinted = np.clip(plain.image * np.array([0.55, 0.7, 1.35]), 0, 255).astype(np.uint8)
        im = tinted.astype(int)
        assert (im[..., 2] - np.maximum(im[..., 0], im[..., 1]) > 60).mean() > 0.5
        navy = np.repeat(plain.image.mean(axis=-1, keepdims=True), 3, axis=-1).astype(np.uint8)  # grey skin
        navy[plain.image.max(axis=-1) < 90] = (40, 60, 130)
        for photo in (tinted, navy):
            photo[drawing] = drawn.image[drawing]
            overlay = scan_field(photo).overlay
            assert overlay[text].mean() > 0.85 and overlay[hair].mean() < 0.005
    # the dev photos' label: four lines, letters about 40 px high in a 1280 x 1024 photo
    image = render_scalp(seed=5, shape=(1024, 1280), px_per_mm=358.0, difficulty="easy").image
    labelled = image.copy()
    box = (slice(300, 520), slice(800, 1240))
    labelled[box] = (0.5 * labelled[box] + 0.5 * 215).astype(np.uint8)
    for k, line in enumerate(("RC0", "C=15.848 mm", "A=19.988 mm^2", "r=2.522 mm")):
        cv2.putText(labelled, line, (810, 350 + 52 * k), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 235), 3, cv2.LINE_AA)
    text = _drawn_label_pixels(image, labelled)
    assert scan_field(labelled).overlay[text].mean() > 0.85 and not scan_field(image).overlay.any()


def test_label_letters_of_any_height_form_their_line_whatever_other_lines_lie_between():
    """Letters are linked along a line in the order of their columns, and another line's letters fall between them:
    a short letter of a line below once ended the search before a taller letter of the line it belonged to (found
    by review), and the whole label was lost."""
    import cv2

    from hairtrack.imaging.quality import _label_text as label_text

    canvas = np.full((512, 640, 3), 200, np.uint8)
    cv2.rectangle(canvas, (100, 100), (105, 105), (20, 20, 235), 1)  # a 6-px letter, then five of 12 px 8 px on
    for k in range(5):
        cv2.rectangle(canvas, (114 + 12 * k, 94), (121 + 12 * k, 105), (20, 20, 235), 1)
    assert label_text(canvas)[94:106, 100:174].mean() > 0.3  # one line of six
    # a short letter of a line far below, 7 px on from the first letter: between it and its neighbour in x, and
    # farther from it than the short letters' height
    cv2.rectangle(canvas, (113, 180), (118, 185), (20, 20, 235), 1)
    assert label_text(canvas)[94:106, 100:174].mean() > 0.3


def test_pure_blue_that_is_not_lines_of_letters_is_not_label_text():
    """Pure blue shapes that pass the letters' colour but are no text: scattered specks, long strands, letters side
    by side in one line of three (no second line above or below), and a pattern of thousands of letter-sized bars,
    which would cost seconds to pair and is refused at once (over ``_LABEL_MAX_LETTERS``)."""
    import cv2

    from hairtrack.imaging.quality import _label_text as label_text

    rng = np.random.default_rng(0)
    specks = np.full((512, 640, 3), 200, np.uint8)
    for r, c in rng.integers(10, 500, (200, 2)):
        cv2.circle(specks, (int(c), int(r)), int(rng.integers(2, 5)), (20, 20, 235), -1)
    strands = np.full((512, 640, 3), 200, np.uint8)
    for _ in range(30):
        r, c, a = rng.integers(40, 470), rng.integers(40, 600), rng.uniform(0, np.pi)
        cv2.line(strands, (int(c), int(r)), (int(c + 60 * np.cos(a)), int(r + 60 * np.sin(a))), (20, 20, 235), 3)
    three = np.full((512, 640, 3), 200, np.uint8)
    for k in range(3):
        cv2.rectangle(three, (100 + 14 * k, 100), (108 + 14 * k, 111), (20, 20, 235), 2)
    bars = np.full((512, 640, 3), 200, np.uint8)
    for top in range(10, 490, 12):  # rows of 2 x 6 px bars 4 px apart: 6,400 "letters" in 40 lines
        bars[top:top + 6, 0:640:4] = (20, 20, 235)
        bars[top:top + 6, 1:640:4] = (20, 20, 235)
    for image in (specks, strands, three, bars):
        assert not label_text(image).any()


def test_red_skin_is_not_a_drawn_circle():
    """Inflamed, red skin is as red as the measurement circle's stroke, but in patches. Taken for drawing, it
    had the hairs' darkness read against skin filled in from elsewhere: on the second of these renders with
    its skin reddened, 96% of the frame was overlay, the learned widths read +35% and the classical pipeline
    found 9 hairs instead of 12."""
    from hairtrack.imaging.analyze import analyze

    for seed in (5001, 5003):
        sc = render_scalp(seed=seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", red_circle=True)
        plain = analyze(sc.image, 220.0)
        circle = scan_field(sc.image).overlay
        red = sc.image.astype(np.float32) * np.array([1.0, 0.7, 0.7], np.float32)  # skin R-G about 70-95
        red = red.astype(np.uint8)
        field = scan_field(red)
        assert field.overlay.mean() < 1.5 * circle.mean() and circle.mean() < 0.02  # the circle, not the skin
        reddened = analyze(red, 220.0)
        assert abs(reddened.mean_width_um / plain.mean_width_um - 1) < 0.08
        assert abs(reddened.hair_count - plain.hair_count) <= 1
        classical = [analyze(im, 220.0, detector="classical").hair_count for im in (sc.image, red)]
        assert abs(classical[1] - classical[0]) <= 1


def test_a_photo_mostly_of_dark_border_is_a_small_field():
    """A close-up whose lens vignette leaves a disc of scalp covering a quarter of the frame: the field is that disc,
    and the report names it, with a sentence, where a well-filled frame is not named."""
    sc = render_scalp(seed=3, shape=(512, 640), px_per_mm=220.0, difficulty="easy")
    rows, cols = np.mgrid[0:512, 0:640]
    disc = np.hypot(rows - 256, cols - 320) <= np.sqrt(0.25 * 512 * 640 / np.pi)
    vignetted = np.where(disc[..., None], sc.image, 8).astype(np.uint8)
    field = scan_field(vignetted)
    # (the vignette is found on a 1/16 copy, blurred: its edge reaches a little past the disc's)
    assert 0.15 < field.usable_fraction < 0.35 and (field.usable & ~disc).mean() < 0.05
    rep = assess_quality(vignetted, field, ())
    assert "small_field" in rep.issues
    assert any(w.startswith(f"Only {field.usable_fraction:.0%} of the picture is usable scalp") for w in rep.warnings)
    assert "small_field" not in assess_quality(sc.image, scan_field(sc.image), ()).issues


def test_blur_and_exposure_issues():
    sc = render_scalp(seed=3, shape=(384, 480), difficulty="easy")
    import cv2

    blurred = cv2.GaussianBlur(sc.image, (0, 0), 6)
    rep = assess_quality(blurred, scan_field(blurred), ())
    assert "blurry" in rep.issues and any("blurry" in w for w in rep.warnings)
    bright = np.clip(sc.image.astype(np.int16) + 90, 0, 255).astype(np.uint8)
    assert "overexposed" in assess_quality(bright, scan_field(bright), ()).issues
    dark = (sc.image // 12).astype(np.uint8)
    assert "underexposed" in assess_quality(dark, scan_field(dark), ()).issues


@pytest.mark.parametrize("shaft_mm", [None, (0.6, 1.6)], ids=["clipped hair", "grown-out hair"])
def test_letterbox_strips_are_cut_but_skin_clipped_white_is_not(shaft_mm):
    """Flat rows and columns are a letterbox only when they run in from the frame's edge. Skin clipped
    white by too much light is flat too, but hairs still show on it: the field keeps it, so the density of
    an overexposed photo stays near the well-exposed one's (it once tripled: the field fell into strips).
    Short clipped hair leaves most rows of such skin flat out to the frame's edge; until 2026-11-28 they were
    cut as a letterbox (37% of the field left, the density doubled). A clipped band is a bar only where the
    picture past it is not clipped."""
    from hairtrack.imaging.analyze import analyze

    kw = {} if shaft_mm is None else {"shaft_mm": shaft_mm}
    sc = render_scalp(seed=1, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", **kw)
    boxed = sc.image.copy()
    boxed[:30] = 0
    boxed[:, -25:] = 40
    field = scan_field(boxed)
    assert not field.usable[:30].any() and not field.usable[:, -25:].any()
    assert field.usable[60:-30, 30:-55].all()  # the edge's few px of ringing aside
    import cv2

    captioned = sc.image.copy()  # a white caption bar whose line of text breaks its flat rows
    captioned[-120:] = 255
    cv2.putText(captioned, "Patient 123  2024-05-01  crown", (40, 1024 - 50), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
    assert not scan_field(captioned).usable[-120:].any()
    for gain, offset in ((1.25, 5), (1.35, 10)):  # overexposed, the skin past the bar clipped in red: still a bar
        assert not scan_field(np.clip(captioned * gain + offset, 0, 255).astype(np.uint8)).usable[-120:].any()
    right = analyze(sc.image, 220.0)
    # 6% / 59% of the pixels clipped in some channel (a yellow-white), then pure white nearly throughout
    for gain, offset in ((1.25, 5), (1.35, 10), (2.0, 60)):
        bright = np.clip(sc.image * gain + offset, 0, 255).astype(np.uint8)
        a = analyze(bright, 220.0)
        assert "overexposed" in a.quality.issues and "blank" not in a.quality.issues
        assert a.quality.figures["usable_fraction"] > 0.85
        assert abs(a.hairs_per_cm2 / right.hairs_per_cm2 - 1) < 0.3


def test_a_drawn_scale_bar_is_overlay_but_shafts_along_the_rows_or_columns_are_not():
    """A software scale bar (thin, ruler-straight) is left out of the hairs' darkness, crossed by a shaft or not.
    Shafts lying near the rows or columns once passed for such lines too: on 1,269 of the 1,324 dev photos
    (which show 144 bars), and on this render two upright single hairs were filled in with skin and lost
    (7 of its 13 hairs found)."""
    from hairtrack.imaging.analyze import analyze

    sc = render_scalp(seed=4, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy")
    assert not scan_field(sc.image).overlay.any()
    assert analyze(sc.image, 220.0).hair_count >= len(sc.hairs) - 1
    import cv2

    im = render_scalp(seed=2, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy").image.copy()
    im[924:926, 37:395] = 30  # an L of 2-px lines, as the dev photos' dermoscope draws its 1 mm bar
    im[566:926, 37:39] = 30
    cv2.line(im, (200, 880), (230, 980), (40, 30, 25), 14)  # a shaft across the bar
    overlay = scan_field(im).overlay
    bar = np.zeros(im.shape[:2], bool)
    bar[924:926, 37:395] = True
    bar[566:926, 37:39] = True
    assert overlay[bar].mean() > 0.9
    shaft = np.zeros(im.shape[:2], np.uint8)
    cv2.line(shaft, (200, 880), (230, 980), 1, 14)
    away = shaft.astype(bool) & (np.abs(np.arange(1024)[:, None] - 925) > 20)
    assert not overlay[away].any()


def test_short_shafts_cut_by_the_frame_are_not_drawn_lines():
    """A level or upright shaft running out of the frame is as thin as a scale bar at a phone macro's scale.
    Beyond the frame counts as nothing for the line's length: OpenCV's erosion took it for foreground, and
    these shafts, under half the length asked of a line, were covered (on the synthetic 110 px/mm scenes,
    seeds 5000-5019, 41 of the 60 hairs whose middle lay under the overlay)."""
    import cv2

    im = render_scalp(seed=2, shape=(1024, 1280), px_per_mm=110.0, n_units=0, difficulty="easy").image.copy()
    shafts = np.zeros(im.shape[:2], np.uint8)
    for p0, p1 in (((0, 500), (60, 500)), ((700, 0), (700, 60)), ((1279, 300), (1215, 300)), ((300, 1023), (300, 960))):
        cv2.line(im, p0, p1, (40, 30, 25), 7)
        cv2.line(shafts, p0, p1, 1, 7)
    assert not scan_field(im).overlay[shafts.astype(bool)].any()


def test_a_label_box_is_overlay_but_a_unit_on_white_skin_is_not():
    """The dark label box beside a scale bar is told by the white text it encloses. On pale, bright skin the
    skin between the shafts of a unit is as white, and units passed for label boxes: on these two renders
    (bright skin, a banner, whose edge is a drawn line) 7 and 3 hairs lay under the overlay and 9 of 16 and
    8 of 11 were found."""
    import cv2

    from hairtrack.imaging.analyze import analyze

    for seed, hairs in ((5006, 16), (5012, 11)):
        sc = render_scalp(seed=seed, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", banner=True)
        assert len(sc.hairs) == hairs
        overlay = scan_field(sc.image).overlay
        assert sum(overlay[int(h.row_px), int(h.col_px)] for h in sc.hairs) <= 1  # a thin level shaft
        assert analyze(sc.image, 220.0).hair_count >= hairs - 2

    im = render_scalp(seed=2, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy").image.copy()
    im[924:926, 37:395] = 30  # the bar, and its label as the dev photos' dermoscope draws it
    im[566:926, 37:39] = 30
    cv2.rectangle(im, (400, 900), (530, 936), (40, 40, 50), -1)
    cv2.putText(im, "1.0 mm", (408, 930), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    assert scan_field(im).overlay[900:937, 400:531].all()


def test_scale_mismatch_is_named():
    hairs = tuple(_hair((10.0 * k, 0.0), (10.0 * k, 100.0), width=15.0) for k in range(6))
    sc = render_scalp(seed=4, shape=(256, 320))
    ok = assess_quality(sc.image, scan_field(sc.image), hairs, px_per_mm=200.0)   # 75 um: plausible
    wrong = assess_quality(sc.image, scan_field(sc.image), hairs, px_per_mm=20.0)  # 750 um: another device
    assert "scale_mismatch" not in ok.issues
    assert "scale_mismatch" in wrong.issues


@pytest.mark.parametrize(("median_um", "flagged"), [(19.0, True), (21.0, False), (149.0, False), (151.0, True)])
def test_scale_mismatch_band_is_20_to_150_um(median_um, flagged):
    """The band's edges: adult scalp shafts have medians of 20-150 um; outside it the scale is suspect."""
    hairs = tuple(_hair((10.0 * k, 0.0), (10.0 * k, 100.0), width=median_um / 5.0) for k in range(6))
    sc = render_scalp(seed=4, shape=(256, 320))
    report = assess_quality(sc.image, scan_field(sc.image), hairs, px_per_mm=200.0)  # 5 um a pixel
    assert report.figures["median_width_um"] == pytest.approx(median_um)
    assert ("scale_mismatch" in report.issues) is flagged


def test_few_hairs_gives_the_counts_uncertainty_not_a_verdict_on_the_photo():
    scene = render_scalp(seed=3, shape=(256, 320), px_per_mm=110.0, n_units=1, difficulty="easy")
    q = assess_quality(scene.image, scan_field(scene.image), [_hair((100, 100), (100, 150))] * 2)
    sentence = next(w for w in q.warnings if w.startswith("Only 2 hairs found"))
    assert "could as well show 0 to 7" in sentence and "if the spot is not bald" in sentence
    none = assess_quality(scene.image, scan_field(scene.image), [])
    assert any(w.startswith("No hairs found") and "0 to 4" in w for w in none.warnings)


def test_a_field_too_thin_to_count_in_says_so():
    from hairtrack.imaging.analyze import analyze

    scene = render_scalp(seed=3, shape=(256, 320), px_per_mm=110.0, difficulty="easy")
    mask = np.ones((256, 320), bool)
    mask[120:122, :] = False  # a 2-px strip is all that is left: the edge margin takes it all
    a = analyze(scene.image, 110.0, exclude=mask)
    assert a.area_cm2 > 0 and a.hairs_per_cm2 is None
    assert any("too thin a strip" in w for w in a.warnings)


@pytest.mark.parametrize("seed", range(8))
def test_the_fields_line_figures_are_numpys_to_the_bit(seed):
    """scan_field reads flat lines (std under 2 levels) and clipped shares per row and column from OpenCV's
    integer sums; they must decide as numpy's float64 std and mean do, at the threshold too."""
    from hairtrack.imaging.quality import _flat_lines, _line_shares

    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 120, 2))
    v = rng.integers(0, 256, (h, w)).astype(np.uint8)
    v[rng.random(h) < 0.3] = rng.integers(0, 256)  # flat rows
    v[:, rng.random(w) < 0.3] = rng.integers(250, 256)  # flat columns, clipped
    if h >= 2:
        v[0, :] = np.where(np.arange(w) % 2 == 0, 0, 4)  # std exactly 2 for an even width: not flat
        v[1, :] = 100 + (np.arange(w) % 3 == 0)  # a near-flat row
    for axis in (0, 1):
        assert np.array_equal(_flat_lines(v, axis), v.std(axis=axis) < 2.0), axis
        clipped = v >= 250
        assert np.array_equal(_line_shares(clipped, axis), clipped.mean(axis=axis)), axis


def test_the_span_of_values_is_the_brightest_less_the_darkest():
    from hairtrack.imaging.quality import value_span

    rng = np.random.default_rng(3)
    photo = rng.integers(40, 45, (37, 53, 3)).astype(np.uint8)
    assert value_span(photo) == int(photo.max()) - int(photo.min())
    photo[5, 7, 2] = 250  # one bright sample in one channel
    assert value_span(photo) == int(photo.max()) - int(photo.min())


def test_masks_go_to_opencv_as_0_1_bytes_without_a_copy_when_bool():
    from hairtrack.imaging.quality import mask_bytes

    mask = np.array([[True, False], [False, True]])
    as_bytes = mask_bytes(mask)
    assert as_bytes.dtype == np.uint8 and np.shares_memory(as_bytes, mask) and as_bytes.tolist() == [[1, 0], [0, 1]]
    assert mask_bytes(np.array([[0, 255], [3, 0]], np.int32)).tolist() == [[0, 1], [1, 0]]  # any other: 0/1


def test_a_line_whose_variance_is_exactly_4_is_judged_as_numpy_judges_it():
    """A review's case: the exact integer test calls it not flat, numpy's rounded std flat; the field keeps
    numpy's verdict (the method guard's figures rest on it)."""
    from hairtrack.imaging.quality import _flat_lines

    tie = np.array([[10, 10, 11, 15, 10, 11, 15, 10, 13]], np.uint8)
    assert _flat_lines(tie, 1).tolist() == (tie.std(axis=1) < 2).tolist() == [True]
    assert _flat_lines(tie.T.copy(), 0).tolist() == [True]
    rows = np.tile(tie, (5, 40))  # ties across 360 columns, and 5 x 360 lines of columns
    for axis in (0, 1):
        assert np.array_equal(_flat_lines(rows, axis), rows.std(axis=axis) < 2.0)
