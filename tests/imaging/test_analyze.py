"""The entry point: invariants, the JSON object, and bad input."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from hairtrack.domain import Zone
from hairtrack.errors import InputError
from hairtrack.imaging.analyze import analysis_to_dict, analyze
from hairtrack.imaging.hairs import Hair
from hairtrack.synth.scalp import render_scalp


def _hair(a, b, width_px=6.0, width_um=None):
    """A straight hair from end ``a`` to end ``b`` (row, col)."""
    from hairtrack.imaging.hairs import Hair

    return Hair((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, width_px, float(np.hypot(b[0] - a[0], b[1] - a[1])), 0.0,
                a, b, 0.6, width_um=width_um)


@pytest.fixture()
def classical_finds(monkeypatch):
    """``classical_finds(hairs)``: analyze(detector="classical") then finds exactly these hairs."""
    import importlib

    mod = importlib.import_module("hairtrack.imaging.analyze")  # the module; the package exports the function

    def use(hairs):
        monkeypatch.setattr(mod, "detect_hairs", lambda rgb, px_per_mm=None, field=None: tuple(hairs))

    use.undo = monkeypatch.undo
    return use

KEYS = ["image", "mode", "method", "hair_count", "hairs_whole", "hairs", "follicular_units", "px_per_mm", "area_cm2", "hairs_per_cm2",
        "fu_per_cm2", "hairs_per_fu", "mean_width_um", "terminal_fraction", "vellus_fraction", "coverage_pct",
        "quality", "warnings", "elapsed_ms"]


@pytest.fixture(scope="module")
def scene():
    return render_scalp(seed=11, shape=(480, 600), px_per_mm=179.0, n_units=8, difficulty="easy")


def test_blank_image_has_no_hairs_and_a_quality_issue():
    a = analyze(np.full((256, 256, 3), 190, np.uint8), 150.0)
    assert a.hair_count == 0 and a.units == ()
    assert "blank" in a.quality.issues and not a.quality.ok
    assert a.area_cm2 == 0.0 and a.hairs_per_cm2 is None  # a flat picture has no usable scalp at all
    assert a.mean_width_um is None


@pytest.mark.parametrize("transform", [np.rot90, np.fliplr, np.flipud, lambda im: np.rot90(im, 2)],
                         ids=["rot90", "fliplr", "flipud", "rot180"])
def test_count_survives_rotation_and_flips(transform):
    # Eight scenes of about ten whole hairs each. The network's grid does not turn with the photo (and
    # the padding to a multiple of 16 moves), so single counts move by a hair or three; totals stay close.
    # Weak peaks confirmed by the image (learned._gate_peaks) are most of the movement: they recover real
    # hairs, but their heat hovers near the floor and depends on the orientation. The pair of networks
    # steadies them (docs/hair_detector_card.md). With the twenty-second session's main network the totals
    # over these scenes and turns are 69-74 against 70 (over the first four alone, 36-40 against 36).
    base, moved = [], []
    for seed in range(11, 19):
        sc = render_scalp(seed=seed, shape=(480, 600), px_per_mm=179.0, n_units=8, difficulty="easy")
        base.append(analyze(sc.image, sc.px_per_mm).hair_count)
        moved.append(analyze(np.ascontiguousarray(transform(sc.image)), sc.px_per_mm).hair_count)
    assert all(abs(m - b) <= 3 for b, m in zip(base, moved)), (base, moved)
    assert abs(sum(moved) - sum(base)) <= 0.1 * sum(base), (base, moved)


@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_count_survives_brightness(scene, gain):
    base = analyze(scene.image, scene.px_per_mm).hair_count
    img = np.clip(scene.image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    assert abs(analyze(img, scene.px_per_mm).hair_count - base) <= 2


def test_density_scales_as_inverse_square_of_scale(scene):
    # the scale also sets the shortest hair kept, so the count may differ: compare per hair
    a1 = analyze(scene.image, 250.0, detector="classical")
    a2 = analyze(scene.image, 500.0, detector="classical")
    assert a1.hair_count > 0 and a2.hair_count > 0
    assert a2.area_cm2 == pytest.approx(a1.area_cm2 / 4.0, rel=1e-9)
    # the frame's correction is geometry in pixels (the same for the same hairs at any scale); these two scales
    # keep different sets of hairs, so compare per whole hair
    assert a2.hairs_per_cm2 / a2.hairs_whole == pytest.approx(4.0 * a1.hairs_per_cm2 / a1.hairs_whole, rel=0.1)
    h1 = {(h.row_px, h.col_px): h.width_um for h in a1.hairs}
    same = [(h1[(h.row_px, h.col_px)], h.width_um) for h in a2.hairs if (h.row_px, h.col_px) in h1]
    assert same and all(w2 == pytest.approx(w1 / 2.0, rel=0.02) for w1, w2 in same)


def test_no_scale_gives_none_and_a_warning(scene):
    a = analyze(scene.image)
    assert a.hair_count > 0
    for name in ("px_per_mm", "area_cm2", "hairs_per_cm2", "fu_per_cm2", "mean_width_um", "terminal_fraction",
                 "vellus_fraction"):
        assert getattr(a, name) is None, name
    assert all(h.width_um is None for h in a.hairs)
    assert any("No scale" in w for w in a.warnings)


def test_json_object_has_the_design_keys(scene):
    d = analysis_to_dict(analyze(scene.image, scene.px_per_mm), "scan.jpg")
    assert list(d) == KEYS
    assert d["image"] == "scan.jpg" and d["mode"] == "trichoscopy" and d["hair_count"] == len(d["hairs"])
    assert set(d["hairs"][0]) == {"x_px", "y_px", "width_px", "width_um", "length_px"}
    assert set(d["follicular_units"][0]) == {"x_px", "y_px", "hairs"}
    assert sum(u["hairs"] for u in d["follicular_units"]) == d["hair_count"]
    assert {"ok", "issues", "sharpness"} <= set(d["quality"])
    h = d["hairs"][0]
    assert 0 <= h["x_px"] < 600 and 0 <= h["y_px"] < 480


def test_width_classes(scene):
    a = analyze(scene.image, scene.px_per_mm, vellus_max_um=30.0, terminal_min_um=60.0)
    widths = np.array([h.width_um for h in a.hairs])
    assert a.terminal_fraction == pytest.approx(float((widths >= 60).mean()))
    assert a.vellus_fraction == pytest.approx(float((widths < 30).mean()))
    with pytest.raises(InputError, match="vellus_max_um"):
        analyze(scene.image, scene.px_per_mm, vellus_max_um=70.0, terminal_min_um=60.0)


@pytest.mark.parametrize("bad", [0, -3.2, math.nan, math.inf, "abc"])
def test_bad_scale_is_refused_naming_the_value(scene, bad):
    with pytest.raises(InputError, match="px_per_mm must be a finite number > 0, got"):
        analyze(scene.image, bad)


def test_one_pixel_image_is_refused():
    with pytest.raises(InputError, match="too small"):
        analyze(np.zeros((1, 1, 3), np.uint8))


def test_tiny_image_gives_an_issue_not_a_crash():
    a = analyze(np.random.default_rng(0).integers(0, 255, (20, 20, 3), dtype=np.uint8))
    assert "too_small" in a.quality.issues
    strip = render_scalp(seed=1, shape=(512, 640), px_per_mm=220.0, difficulty="easy").image
    for picture in (strip[:12, :400], strip[:20, :400]):  # too small to look for hairs in; then just enough
        b = analyze(picture, 220.0)
        assert "too_small" in b.quality.issues
        # too small to measure: no density, rather than 0 hairs/cm² (a bald spot); hairs seen are still listed
        assert b.hairs_per_cm2 is None and b.fu_per_cm2 is None
        if picture.shape[0] < 16:  # nothing looked for
            assert b.hair_count == 0


def test_hairs_of_an_enlarged_narrow_strip_stay_inside_it():
    """A 20-px strip at 358 px/mm is 10 px at the network's scale, enlarged to its least 16: hairs were mapped
    back with the nominal scale and lay up to 5 px outside the strip (a review)."""
    from hairtrack.imaging.learned import detect_hairs_learned

    found = 0
    for seed in range(3):
        # hairs long enough to show in a strip this thin at half size
        big = render_scalp(seed=seed, shape=(1024, 1280), px_per_mm=110.0, difficulty="easy", shaft_mm=(0.6, 1.6)).image
        for c0 in range(0, 1240, 40):
            strip = np.ascontiguousarray(big[:, c0:c0 + 20])
            hairs = detect_hairs_learned(strip, px_per_mm=358.0, gates=False, threshold=0.1)
            found += len(hairs)
            assert all(0 <= hr.col_px <= 19 and 0 <= hr.row_px <= 1023 for hr in hairs), (seed, c0)
    assert found >= 5  # hairs were found: the check above checked something


@pytest.mark.parametrize("shape", [(64, 64, 5), (64,), (4, 64, 64, 3)])
def test_not_a_picture_is_refused(shape):
    with pytest.raises(InputError, match="shape"):
        analyze(np.zeros(shape, np.uint8))


def test_zones_are_taken_by_name_in_any_spelling_and_others_refused():
    image = render_scalp(seed=2, shape=(128, 160)).image
    assert analyze(image, 150.0, "Mid-Scalp").zone == Zone.MID_SCALP and analyze(image, 150.0, " CROWN ").zone == Zone.CROWN
    with pytest.raises(InputError, match="unknown zone 'nape'; expected one of hairline, temples, mid_scalp, crown, donor"):
        analyze(image, 150.0, "nape")


def test_not_scalp_is_flagged():
    rng = np.random.default_rng(1)
    lawn = np.zeros((384, 480, 3), np.uint8)
    lawn[..., 1] = rng.integers(90, 200, (384, 480))
    lawn[..., 0] = lawn[..., 1] // 3
    lawn[..., 2] = lawn[..., 1] // 4
    a = analyze(lawn, 150.0)
    assert "not_scalp" in a.quality.issues and not a.quality.ok
    yy, xx = np.mgrid[0:384, 0:480]
    clouds = cv2.GaussianBlur(rng.normal(0, 1, (384, 480)), (0, 0), 60)
    clouds = 8 * clouds / clouds.std()  # soft clouds: some contrast (not blank), no texture
    sky = np.clip(np.stack([120 + clouds, 160 + clouds, 230 + 0 * xx + 0.3 * clouds], axis=-1), 0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, (384, 480, 3)).astype(np.uint8)
    page = np.full((384, 480, 3), 255, np.uint8)
    for top in range(20, 360, 24):  # lines of "text": black strokes on white paper
        page[top:top + 12, 30:450][rng.random((12, 420)) < 0.35] = 0
    chart = (((yy // 24) + (xx // 24)) % 2 * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    for picture, why in ((sky, "colours"), (noise, "noise, print or a test pattern"), (page, "print"),
                         (chart, "noise, print or a test pattern")):
        q = analyze(picture, 150.0).quality
        assert "not_scalp" in q.issues, why
        assert any(why in w for w in q.warnings), (why, q.warnings)


def test_a_dermoscope_that_tints_the_frame_blue_still_gives_scalp():
    """Some dermoscopes' light tints the whole frame blue (94 of the 1,324 real dev photos over a third of it):
    blue alone is not a reason to refuse a photo; neither is a grey one (a monochrome camera)."""
    scene = render_scalp(seed=3, shape=(512, 640), px_per_mm=220.0, difficulty="medium")
    blue = np.clip(scene.image.astype(np.float32) * (0.55, 0.8, 1.35), 0, 255).astype(np.uint8)
    grey = np.repeat(scene.image.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    blurred = cv2.GaussianBlur(blue, (0, 0), 4)  # out of focus too: blurry, not refused
    # overexposed, grey or in colour: a warning, not a refusal (a colourless-page rule once refused these)
    bright = [np.clip(x.astype(np.float32) * 1.6 + 20, 0, 255).astype(np.uint8) for x in (grey, scene.image)]
    for picture in (blue, grey, blurred, *bright):
        q = analyze(picture, 220.0).quality
        assert "not_scalp" not in q.issues
    assert "blurry" in analyze(blurred, 220.0).quality.issues
    assert analyze(blue, 220.0).quality.figures["foreign_colour_fraction"] > 0.35  # blue it is


def _head_overview(side: int = 480, seed: int = 0) -> np.ndarray:
    """A phone photo of a whole head, drawn: a dark, finely textured hair cap over a skin-toned head lit from
    above, against a grey wall."""
    rng = np.random.default_rng(seed)
    img = np.empty((side, side, 3), np.float64)
    img[:] = (90, 95, 100)
    rows, cols = np.mgrid[0:side, 0:side]
    head = ((rows - 0.52 * side) / (0.42 * side)) ** 2 + ((cols - side / 2) / (0.34 * side)) ** 2 <= 1
    hair = head & (rows < 0.55 * side)
    img[head] = (230, 185, 155)
    img *= (1.1 - 0.3 * rows / side)[..., None]  # the lamp's fall-off
    img[hair] = np.array((45, 35, 28)) + rng.normal(0, 18, (int(hair.sum()), 1))
    return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)


def test_a_photo_of_the_whole_head_is_named_and_close_ups_are_not():
    """A person may give an overview photo where a close-up belongs; the detector would still find "hairs" in
    it. The quality names it. Close-ups of every difficulty are not named, nor are those framed by a lens's
    black surround, letterbox strips, a banner or a red circle (the figure is read in the usable field)."""
    from hairtrack.imaging.quality import _MAX_CLOSEUP_LIGHTNESS_CV as limit
    from hairtrack.imaging.quality import _MAX_RING_FOREIGN_SHARE as ring_limit

    for seed in range(3):
        a = analyze(_head_overview(seed=seed))
        assert "overview_photo" in a.quality.issues and not a.quality.ok
        assert any("whole head" in w for w in a.quality.warnings)
        assert a.quality.figures["lightness_cv"] > limit + 0.05
    closeups = [render_scalp(seed=200 + seed, shape=(512, 640), px_per_mm=110.0,
                             difficulty=("easy", "medium", "hard")[seed % 3], varied=True).image for seed in range(6)]
    rows, cols = np.mgrid[0:512, 0:640]
    lens = closeups[0].copy()
    lens[np.hypot(rows - 256, cols - 320) > 280] = 0  # a round dermoscope's black surround
    strips = closeups[1].copy()
    strips[:40] = 0
    strips[-40:] = 0
    overlays = render_scalp(seed=207, shape=(512, 640), px_per_mm=110.0, difficulty="hard", varied=True,
                            banner=True, red_circle=True).image
    # dense thick dark shafts (8 units on 640 x 512 at 220 px/mm): the unblurred CV named these head photos
    dense = [render_scalp(seed=seed, shape=(512, 640), px_per_mm=220.0, n_units=8, difficulty="easy").image for seed in (1, 2)]
    for close in closeups + [lens, strips, overlays] + dense:
        q = analyze(close, 110.0, detector="classical").quality
        assert "overview_photo" not in q.issues and q.figures["lightness_cv"] < limit
        assert q.figures.get("ring_foreign_fraction", 0.0) < ring_limit - 0.2


def _bald_head(side: int = 480, seed: int = 0) -> np.ndarray:
    """A phone photo of a bald head against a pale wall: about as light as the wall, so the lightness varies
    little, but the wall's grey is a colour the head does not have."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:side, 0:side]
    img = np.empty((side, side, 3), np.float64)
    img[:] = (196, 196, 190)
    head = ((rows - 0.55 * side) / (0.40 * side)) ** 2 + ((cols - side / 2) / (0.33 * side)) ** 2 <= 1
    img[head] = (222, 176, 150)
    img *= (1.08 - 0.16 * rows / side)[..., None]
    return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)


def _bald_patch_close_up(seed: int) -> np.ndarray:
    """A close-up of a bald patch's edge: bare skin in the middle, dense dark shafts all round it."""
    rng = np.random.default_rng(seed)
    img = render_scalp(seed=70000 + seed, shape=(512, 640), px_per_mm=110.0, n_units=0, varied=True,
                       difficulty=("easy", "medium", "hard")[seed % 3]).image.copy()
    colour = np.array(((30, 25, 20), (60, 45, 35), (90, 70, 50))[seed % 3], float)
    drawn = 0
    while drawn < 120:
        y, x = rng.uniform(0, 512), rng.uniform(0, 640)
        if math.hypot(y - 256, x - 320) < 0.35 * 512:
            continue
        angle, length = rng.uniform(0, math.pi), rng.uniform(30, 160)
        shade = tuple(int(v) for v in np.clip(colour + rng.normal(0, 8), 0, 255))
        cv2.line(img, (int(x), int(y)), (int(x + length * math.cos(angle)), int(y + length * math.sin(angle))),
                 shade, int(rng.integers(2, 7)), cv2.LINE_AA)
        drawn += 1
    return cv2.GaussianBlur(img, (0, 0), 0.8)


def test_a_bald_head_against_a_wall_is_named_by_its_background_and_a_bald_patch_close_up_is_not():
    """A bald head lit like the wall behind it varies too little in lightness for the first cue; the wall's
    colour, all round the frame and nowhere in the middle, names it. A close-up of a bald patch ringed by dense
    hair is not named by the ring: dark shafts are left out of the comparison, so hair round bare skin is not
    background."""
    from hairtrack.imaging.quality import _MAX_CLOSEUP_LIGHTNESS_CV as cv_limit
    from hairtrack.imaging.quality import _MAX_RING_FOREIGN_SHARE as ring_limit

    for seed in range(2):
        q = analyze(_bald_head(seed=seed)).quality
        assert q.figures["lightness_cv"] < cv_limit  # the lightness cue alone would let it through
        assert q.figures["ring_foreign_fraction"] > ring_limit + 0.2
        assert "overview_photo" in q.issues and any("whole head" in w for w in q.warnings)
    for seed in range(3):
        q = analyze(_bald_patch_close_up(seed), 110.0, detector="classical").quality
        assert q.figures["ring_foreign_fraction"] < ring_limit - 0.2
        # the ring cue adds nothing here; the lightness cue alone may still name the darkest of these (a limit
        # of that cue, named in quality.py)
        assert ("overview_photo" in q.issues) == (q.figures["lightness_cv"] > cv_limit)


def test_grey_and_16_bit_input_are_accepted(scene):
    grey = scene.image.mean(axis=2).astype(np.uint8)
    assert analyze(grey).hair_count > 0
    assert analyze(scene.image.astype(np.uint16) * 257).hair_count == analyze(scene.image).hair_count


def test_density_counts_the_hairs_the_frame_cuts():
    """Four fields from the inside of one larger scalp of hair grown out to 0.4-1 mm, where hairs reach in from
    every side: the density analyze() reports is much closer to the clinical one (every hair whose follicle lies
    in the field) than hairs found / area, which misses the shafts the frame cuts. (What remains is the
    detector's own miss rate, large on shafts longer than the clipped ones it reads best: -50% found / area,
    -37% corrected, on 2026-11-28.)"""
    big = render_scalp(seed=2001, shape=(1536, 1920), px_per_mm=179.0, difficulty="easy", jpeg=False,
                       shaft_mm=(0.4, 1.0))
    px2_per_cm2 = (179.0 * 10) ** 2
    plain, corrected, truth = [], [], []
    for r0, c0 in ((256, 320), (256, 960), (768, 320), (768, 960)):
        a = analyze(np.ascontiguousarray(big.image[r0:r0 + 512, c0:c0 + 640]), 179.0)
        follicles = sum(1 for h in big.hairs if 0 <= h.exit_row_px - r0 < 512 and 0 <= h.exit_col_px - c0 < 640)
        assert a.area_cm2 == pytest.approx(512 * 640 / px2_per_cm2)  # the whole field is usable here
        assert a.hairs_whole <= a.hair_count
        plain.append(a.hair_count / a.area_cm2)
        corrected.append(a.hairs_per_cm2)
        truth.append(follicles / a.area_cm2)
    plain_err = abs(sum(plain) / sum(truth) - 1)
    corrected_err = abs(sum(corrected) / sum(truth) - 1)
    assert plain_err > 0.15 and corrected_err < plain_err - 0.08, (plain, corrected, truth)


def test_a_field_whose_every_hair_is_cut_gets_the_plain_density_named_as_such():
    """With no hair wholly inside the field the correction has nothing to weigh: it would say 0 hairs/cm² beside
    the hairs on show. The plain count over the area stands in, and the issue says so."""
    scene = render_scalp(seed=9, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", n_units=1, shaft_mm=(1.5, 3.0))
    a = analyze(scene.image, 220.0)
    assert a.hair_count >= 1 and a.hairs_whole == 0
    assert a.hairs_per_cm2 == pytest.approx(a.hair_count / a.area_cm2)
    assert a.fu_per_cm2 == pytest.approx(len(a.units) / a.area_cm2)
    assert "hairs_cut_by_field" in a.quality.issues
    assert any("Every hair found crosses the edge" in w for w in a.quality.warnings)
    bare = analyze(render_scalp(seed=4, shape=(512, 640), px_per_mm=220.0, difficulty="easy", n_units=0).image, 220.0)
    assert bare.hair_count == 0 and bare.hairs_per_cm2 == 0.0 and "hairs_cut_by_field" not in bare.quality.issues


def test_units_per_area_follow_the_hairs_when_no_unit_is_whole(classical_finds):
    """One whole hair shares its unit with a cut one; ten more, each its own unit, are cut: no unit is whole. The
    units' density then follows the hairs' through hairs per unit, never above the hairs' own (it once came out
    ten times the hairs' density: the plain count of units against a corrected count of hairs)."""
    hairs = [_hair((300.0, 400.0), (300.0, 500.0)), _hair((301.0, 401.0), (599.9, 401.0))]
    hairs += [_hair((40.0 + 50 * k, 100.0), (0.0, 100.0 + 20 * k)) for k in range(10)]
    classical_finds(hairs)
    a = analyze(render_scalp(seed=1, shape=(600, 800), difficulty="easy").image, 100.0, detector="classical")
    assert a.hairs_whole >= 1 and a.fu_per_cm2 <= a.hairs_per_cm2
    assert a.fu_per_cm2 == pytest.approx(a.hairs_per_cm2 / a.hairs_per_fu)


def test_one_more_whole_hair_never_cuts_the_density(classical_finds):
    """Ten long hairs run out of the frame (unclipped hair). One short whole hair more once switched the density
    from the plain count to the correction resting on that one hair alone: a tenth of it. Where most hairs are
    cut the plain count stands, named as such, and one hair more adds about one hair's share."""
    cut = [_hair((60.0 + 50 * k, 200.0 + 30 * k), (60.0 + 50 * k, 0.0)) for k in range(10)]
    image = render_scalp(seed=1, shape=(600, 800), difficulty="easy").image
    found = {}
    for label, hairs in (("cut", cut), ("one more", [*cut, _hair((300.0, 500.0), (300.0, 530.0))])):
        classical_finds(hairs)
        found[label] = analyze(image, 100.0, detector="classical")
    before, after = found["cut"], found["one more"]
    assert after.hairs_whole == 1 and "hairs_cut_by_field" in after.quality.issues
    assert after.hairs_per_cm2 == pytest.approx(before.hairs_per_cm2 * 11 / 10)
    assert any("Most hairs found cross the edge of the field (10 of 11)" in w and "plain count" in w
               for w in after.quality.warnings)
    assert after.fu_per_cm2 * after.hairs_per_fu == pytest.approx(after.hairs_per_cm2)
    # without a scale there is no density to speak of
    unscaled = analyze(image, None, detector="classical")
    sentence = next(w for w in unscaled.quality.warnings if "edge of the field" in w)
    assert "density" not in sentence and unscaled.hairs_per_cm2 is None


def test_units_per_area_times_hairs_per_unit_is_the_hair_density():
    for seed in (3, 7):
        a = analyze(render_scalp(seed=seed, shape=(512, 640), px_per_mm=110.0, difficulty="medium").image, 110.0)
        assert len(a.units) >= 3 and a.fu_per_cm2 <= a.hairs_per_cm2
        assert a.fu_per_cm2 * a.hairs_per_fu == pytest.approx(a.hairs_per_cm2)


def test_the_method_names_the_detector_its_networks_and_the_revision(tmp_path):
    from hairtrack.imaging.analyze import METHOD_REVISION, measurement_method
    from hairtrack.synth import render_scalp

    image = render_scalp(seed=3, shape=(256, 320)).image
    learned, classical = (analyze(image, 220.0, detector=d).method for d in ("learned", "classical"))
    assert learned == measurement_method() and learned.startswith("learned/") and learned.endswith(f"/r{METHOD_REVISION}")
    assert classical == f"classical/r{METHOD_REVISION}"
    assert len(set(learned.split("/")[1])) > 1  # a fingerprint of the networks, not a fixed word
    with pytest.raises(InputError):
        measurement_method("magic")


def test_other_network_weights_give_another_method(tmp_path, monkeypatch):
    import importlib

    mod = importlib.import_module("hairtrack.imaging.analyze")  # the module; the package exports the function

    shipped = mod.measurement_method("learned")
    copies = []
    for k, path in enumerate(mod.DEFAULT_MODELS):
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes() + (b"\0" if k == 1 else b""))
        copies.append(copy)
    monkeypatch.setattr(mod, "DEFAULT_MODELS", tuple(copies))
    mod.measurement_method.cache_clear()
    try:
        assert mod.measurement_method("learned") != shipped
    finally:
        monkeypatch.undo()
        mod.measurement_method.cache_clear()
    assert mod.measurement_method("learned") == shipped


def test_an_excluded_region_leaves_the_field_and_cuts_the_hairs_it_covers():
    scene = render_scalp(seed=5, shape=(512, 640), px_per_mm=110.0, difficulty="easy")
    whole = analyze(scene.image, 110.0)
    card = np.zeros((512, 640), bool)
    card[:, :320] = True  # the left half is something else (a calibration card)
    half = analyze(scene.image, 110.0, exclude=card)
    assert half.area_cm2 == pytest.approx(whole.area_cm2 / 2, rel=0.02)
    assert half.hairs_whole < whole.hairs_whole
    with pytest.raises(InputError, match="exclude must be a mask of the image's shape"):
        analyze(scene.image, 110.0, exclude=np.zeros((10, 10), bool))


def test_a_soft_exclude_mask_is_refused():
    scene = render_scalp(seed=5, shape=(128, 160), px_per_mm=110.0, difficulty="easy")
    with pytest.raises(InputError, match="True/False"):
        analyze(scene.image, 110.0, exclude=np.full((128, 160), 0.1))
    assert analyze(scene.image, 110.0, exclude=np.zeros((128, 160), np.uint8)).area_cm2 > 0


def test_a_field_too_thin_to_count_in_does_not_claim_a_plain_count(classical_finds):
    classical_finds([_hair((121.0, 25.0 + 50 * k), (121.0, 55.0 + 50 * k), width_px=4.0) for k in range(5)])
    mask = np.ones((256, 320), bool)
    mask[120:122, :] = False
    image = render_scalp(seed=3, shape=(256, 320), px_per_mm=110.0, difficulty="easy").image
    a = analyze(image, 110.0, detector="classical", exclude=mask)
    assert a.hairs_per_cm2 is None and any("too thin a strip" in w for w in a.warnings)
    assert not any("plain count" in w for w in a.warnings)


def test_width_classes_mean_width_and_coverage_from_known_hairs(classical_finds):
    """Hairs of known widths at 100 px/mm (10 um a pixel): 3 px is 30 um, which is not vellus (vellus is
    below 30 um), 6 px is 60 um, which is terminal; the mean width is the mean, not the median; coverage is
    the shafts' area over the field's."""
    widths_px = [2.0, 3.0, 3.0, 6.0, 11.0]  # 20, 30, 30, 60, 110 um
    classical_finds([_hair((100.0 + 60 * k, 175.0), (100.0 + 60 * k, 225.0), width_px=w, width_um=w * 10.0)
                     for k, w in enumerate(widths_px)])
    image = render_scalp(seed=1, shape=(600, 800), difficulty="easy").image
    a = analyze(image, 100.0, detector="classical")
    assert a.vellus_fraction == pytest.approx(1 / 5) and a.terminal_fraction == pytest.approx(2 / 5)
    assert a.mean_width_um == pytest.approx(50.0)  # the median would be 30
    usable_px = a.area_cm2 * 100 * 100.0 ** 2
    assert a.coverage_pct == pytest.approx(100 * sum(w * 50.0 for w in widths_px) / usable_px)
    classical_finds.undo()  # the real detector, on bare skin
    bare = analyze(np.full((256, 320, 3), (205, 170, 150), np.uint8), 100.0, detector="classical")
    assert bare.hair_count == 0 and bare.hairs_per_fu is None and bare.mean_width_um is None



def test_unusable_reason_gives_the_quality_sentence_for_either_kind_of_not_scalp():
    """The reason shown for a refused photo is the quality's own sentence (colours, or noise), found among the
    warnings even behind the loader's notes, and the generic words stand in when that sentence is missing."""
    from hairtrack.imaging.analyze import analysis_to_dict
    from hairtrack.imaging.measure import UNUSABLE_ISSUES, unusable_reason

    rng = np.random.default_rng(4)
    lawn = np.zeros((384, 480, 3), np.uint8)
    lawn[..., 1] = rng.integers(90, 200, (384, 480))
    noise = rng.integers(0, 256, (384, 480, 1)).repeat(3, axis=2).astype(np.uint8)  # grey: no colour to blame
    for picture, says in ((lawn, " (its colours are those of grass"), (noise, ": it changes from pixel to pixel")):
        result = analysis_to_dict(analyze(picture, 150.0), "x.png")
        result["warnings"] = ["The photo was turned upright (EXIF orientation 6)."] + result["warnings"]
        reason = unusable_reason(result)
        assert reason.startswith("this does not look like a close-up of scalp skin" + says), reason
        assert not reason.endswith("check the file.")
        result["warnings"] = []
        assert unusable_reason(result) == UNUSABLE_ISSUES["not_scalp"]
    scalp = analysis_to_dict(analyze(render_scalp(seed=3, shape=(384, 480), px_per_mm=220.0).image, 220.0), "s.png")
    assert unusable_reason(scalp) is None


def test_arrays_of_any_common_type_measure_like_the_8_bit_photo():
    """``as_rgb_uint8`` shifted uint16 right by 8 (12-bit samples became 0-15: no hairs, 0 hairs/cm²), clipped
    wider integers at 255 (blank), and took a [0, 1] float with one glint over 1.0 for [0, 255] (blank)."""
    from hairtrack.imaging.quality import as_rgb_uint8

    rgb = render_scalp(seed=4, shape=(384, 480), px_per_mm=220.0, difficulty="easy").image
    glint = rgb.astype(np.float32) / 255.0
    glint[5, 5] = 1.08  # as a cubic resize of a blown-out spot gives
    variants = {
        "12-bit in uint16": rgb.astype(np.uint16) * 16 + 15,
        "10-bit in uint16": rgb.astype(np.uint16) * 4,
        "16-bit in int32 (Pillow's I)": rgb.astype(np.int32) * 257,
        "8-bit in int64": rgb.astype(np.int64),
        "float [0, 1] with a glint": glint,
        "float [0, 255]": rgb.astype(np.float64),
    }
    reference = analyze(rgb, 220.0)
    for name, array in variants.items():
        expected = rgb.copy()
        expected[5, 5] = 255 if "glint" in name else rgb[5, 5]  # the glint clipped white
        assert np.abs(as_rgb_uint8(array).astype(int) - expected).max() <= 1, name
        a = analyze(array, 220.0)
        assert abs(a.hair_count - reference.hair_count) <= 1 and a.quality.issues == reference.quality.issues, name
    mask = as_rgb_uint8(rgb[..., 0] > 128)
    assert set(np.unique(mask)) == {0, 255}


def test_transparent_parts_of_a_photo_are_no_part_of_the_field():
    """An RGBA photo cut to a disc (a dermoscope's round field exported with transparent corners): the corners
    counted as scalp, hairs under them too, and the file route (flattened onto white) flagged it overexposed."""
    import io as _io

    from PIL import Image

    from hairtrack.imaging.io import load_image
    from hairtrack.imaging.measure import measure_upload

    rgb = render_scalp(seed=6, shape=(384, 480), px_per_mm=220.0, difficulty="easy").image
    yy, xx = np.mgrid[0:384, 0:480]
    disc = (yy - 192) ** 2 + (xx - 240) ** 2 < 200 ** 2
    rgba = np.dstack([rgb, np.where(disc, 255, 0).astype(np.uint8)])
    a = analyze(rgba, 220.0)
    assert abs(a.quality.figures["usable_fraction"] - disc.mean()) < 0.01
    assert all(disc[int(hr.row_px), int(hr.col_px)] for hr in a.hairs)
    buffer = _io.BytesIO()
    Image.fromarray(rgba).save(buffer, "PNG")
    loaded = load_image(buffer.getvalue())
    np.testing.assert_array_equal(loaded.transparent, ~disc)
    assert load_image(_io.BytesIO(buffer.getvalue()).getvalue()).rgb[0, 0].tolist() == [255, 255, 255]
    result = measure_upload(buffer.getvalue(), "disc.png", px_per_mm=220.0, overlay=False).result
    assert abs(result["quality"]["usable_fraction"] - disc.mean()) < 0.01
    assert "overexposed" not in result["quality"]["issues"]
    opaque = _io.BytesIO()
    Image.fromarray(rgb).save(opaque, "PNG")
    assert load_image(opaque.getvalue()).transparent is None


@pytest.mark.parametrize("factor", [0.1, 10.0])
def test_a_scale_many_times_wrong_is_named_even_where_it_hides_the_hairs(factor):
    """The learned detector resizes the photo by the scale: another device's scale, ten times wrong, left it
    finding nothing, and the photo read 0 hairs/cm² with only the bald spot's sentence (a review). The shafts'
    widths, measured without the scale, name it. (Read ten times too large, the photo still loses half its hairs:
    9 of 19 found since upright shafts are no longer taken for a drawn scale bar, 6 before.)"""
    photo = render_scalp(seed=1, difficulty="easy")
    right = analyze(photo.image, photo.px_per_mm)
    assert right.hair_count >= 5 and "scale_mismatch" not in right.quality.issues
    wrong = analyze(photo.image, photo.px_per_mm * factor)
    assert wrong.hair_count <= right.hair_count / 2 and "scale_mismatch" in wrong.quality.issues
    assert any(f"With {photo.px_per_mm * factor:g} px/mm the hairs would be" in w for w in wrong.warnings)


def test_a_nearly_bald_spot_at_its_own_scale_is_not_called_a_wrong_scale():
    for units in (0, 1, 2):
        bald = render_scalp(seed=2000 + units, shape=(512, 640), px_per_mm=110.0, n_units=units, difficulty="medium")
        a = analyze(bald.image, 110.0)
        assert a.hair_count < 5 and "scale_mismatch" not in a.quality.issues


def test_hairs_per_unit_come_from_the_units_seen_whole(classical_finds):
    """Units of three on a grid that the frame cuts: a cut unit shows one or two of its hairs, so over every unit
    on show hairs per unit read low and units/cm² high. The units seen whole say three, and units/cm² x hairs
    per unit stays hairs/cm²."""
    hairs = []
    for r in range(60, 460, 110):
        for c in range(-20, 700, 110):  # the first and last columns' openings lie outside the frame
            for dr, dc in ((60, 0), (55, 25), (55, -25)):
                # the part of the shaft inside the 512 x 640 frame, as a detector sees it
                t = np.linspace(0.0, 1.0, 201)
                pts = np.column_stack([r + dr * t, c + dc * t])
                inside = pts[(pts[:, 0] >= 0) & (pts[:, 0] <= 511) & (pts[:, 1] >= 0) & (pts[:, 1] <= 639)]
                if len(inside) < 10:
                    continue
                start, end = tuple(inside[0]), tuple(inside[-1])
                hairs.append(Hair((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, 6.0,
                                  float(np.hypot(end[0] - start[0], end[1] - start[1])), 90.0, start, end, 0.6))
    classical_finds(hairs)
    photo = render_scalp(seed=1, shape=(512, 640), px_per_mm=110.0, n_units=0, difficulty="easy").image
    a = analyze(photo, 110.0, detector="classical")
    shown = a.hair_count / len(a.units)
    assert shown < 2.9  # the cut units pull the plain ratio down
    assert a.hairs_per_fu == pytest.approx(3.0)
    assert a.fu_per_cm2 == pytest.approx(a.hairs_per_cm2 / 3.0)


def test_a_coarse_scale_is_named():
    """Under 80 px/mm the learned detector sees shafts thinner than any it was trained on: the same render,
    resampled from 110 to 60 px/mm, counts about a sixth fewer hairs. analyze() names such a photo, with the
    scale in its sentence; at 110 and 90 px/mm it is not named, nor is the classical pipeline's reading, whose
    density holds. Nor where a stronger lens is no answer: a blank picture, or a scale likely wrong. It is a
    warning, not a doubt for the verdict: a device is as coarse at every visit."""
    import cv2

    from hairtrack.analysis.protocol import _QUALITY_DOUBT

    scene = render_scalp(seed=5060, shape=(1024, 1280), px_per_mm=110.0, difficulty="medium")
    for px_per_mm, named in ((110.0, False), (90.0, False), (60.0, True)):
        f = px_per_mm / 110.0
        img = cv2.resize(scene.image, (round(1280 * f), round(1024 * f)), interpolation=cv2.INTER_AREA)
        a = analyze(img, px_per_mm)
        assert ("coarse_scale" in a.quality.issues) is named
        if named:
            assert any(w.startswith("At 60 px/mm a hair 60 µm wide is only 3.6 px across") for w in a.warnings)
            assert a.hairs_per_cm2 is not None  # still measured
            # the classical pipeline's density holds at these scales (benchmarks/coarse_scale.py)
            assert "coarse_scale" not in analyze(img, px_per_mm, detector="classical").quality.issues
    assert "coarse_scale" not in analyze(scene.image).quality.issues  # no scale: nothing to judge by
    # a 220 px/mm render given 40 px/mm: its shafts read 5x too wide, the scale is wrong, not the lens
    wrong = analyze(render_scalp(seed=5061, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy").image, 40.0)
    assert "scale_mismatch" in wrong.quality.issues and "coarse_scale" not in wrong.quality.issues
    blank = analyze(np.full((512, 640, 3), 128, np.uint8), 60.0)
    assert "blank" in blank.quality.issues and "coarse_scale" not in blank.quality.issues
    assert "coarse_scale" not in _QUALITY_DOUBT


def test_long_shafts_are_named_and_clipped_hair_is_not():
    """Hair grown out past what is clipped for a trichoscopy is counted low (the detector reads short shafts
    best): analyze() names it, with the median shaft in mm, and the verdict weighs such a scan as in doubt.
    Clipped hair and photos without a scale (no mm to judge by) are not named."""
    from hairtrack.analysis.protocol import _QUALITY_DOUBT

    grown, clipped = [], []
    for k in range(4):
        kw = dict(seed=5000 + k, shape=(1024, 1280), px_per_mm=220.0, difficulty="easy", n_units=12)
        grown.append(analyze(render_scalp(**kw, shaft_mm=(0.8, 1.6)).image, 220.0))
        clipped.append(analyze(render_scalp(**kw).image, 220.0))
    named = [a for a in grown if "long_shafts" in a.quality.issues]
    assert len(named) >= 3
    for a in named:
        sentence = next(w for w in a.quality.warnings if w.startswith("The hairs here are long"))
        median_mm = float(np.median([h.length_px for h in a.hairs])) / 220.0
        assert median_mm > 0.75 and f"median shaft {median_mm:.1f} mm" in sentence
    assert not any("long_shafts" in a.quality.issues for a in clipped)
    scene = render_scalp(seed=5001, shape=(1024, 1280), difficulty="easy", n_units=12, shaft_mm=(0.8, 1.6))
    assert "long_shafts" not in analyze(scene.image).quality.issues  # no scale, no millimetres
    # under 89.5 px/mm the photo cannot be enlarged to the network's scale and its predicted lengths say little:
    # clipped hair read at 8 px/mm (a phone photo's scale, as a calibration card beside it gives) would measure
    # several mm. Not named for the learned detector
    low = analyze(render_scalp(seed=3, shape=(900, 1200), px_per_mm=160.0, n_units=10, difficulty="easy").image, 8.0)
    assert len(low.hairs) >= 5 and np.median([h.length_px for h in low.hairs]) / 8.0 > 0.75
    assert "long_shafts" not in low.quality.issues
    assert "long_shafts" in _QUALITY_DOUBT
