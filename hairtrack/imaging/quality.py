"""Is this photo fit to be measured? The usable field, and the named issues that lower trust in a count.

Two stages. :func:`scan_field` runs before hair detection and finds what is not scalp: a burned-in text
banner at the top, the red measurement circle and its text box that dermoscope software draws, flat
letterbox strips, and the vignetted (dark) border of the lens. :func:`assess_quality` runs after it and
turns sharpness, exposure, usable area, the hairs found and the scale into named issues, each with a
sentence for a person.

Issues (``QualityReport.issues``):

- ``blank``: no texture at all (a flat or empty picture);
- ``not_scalp``: colours or structure unlike a trichoscopy of skin: over 35% of the field green (a lawn), or
  blue with no texture at all (the sky; a dermoscope's light may tint real photos blue), or pixel-to-pixel change
  beyond any scalp photo's (noise, print, a test chart);
- ``overview_photo``: a photo of the whole head, not a close-up of scalp: a hair count from it means nothing.
  Two cues, either suffices. Lightness varies across the usable field like hair, face and background (the
  coefficient of variation of CIE L*, blurred over 2% of the frame, above 0.25; real 70x close-ups of the dev set's
  tune fold reach 0.247). Or
  the frame's outer ring has colours the centre does not (a wall or clothes round a head; over half of the
  ring's lit pixels outside the centre's chroma; tune-fold close-ups reach 0.41). A warning, not a refusal: phone
  macros, not measured, may run closer to the limits than the dermoscope photos they were chosen on;
- ``blurry``: the variance of the Laplacian (Pech-Pacheco et al. 2000) of the grey image is low;
- ``overexposed`` / ``underexposed``: more than 5% of the field clipped at 250 / 5, or the field's median grey
  above 235 / below 40 (the real 70x dev photos: 112-174), a photo too dark or bright throughout to be clipped;
- ``small_field``: less than half of the picture is usable scalp;
- ``scale_mismatch``: with a scale, the median shaft width is outside 20-150 um, so the scale is likely
  that of another device or magnification;
- ``few_hairs``: under 5 hairs found: a count (and its density) is too uncertain to compare over time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hairtrack.imaging.quantiles import histogram_percentiles, uint8_histogram, uint8_percentiles

if TYPE_CHECKING:  # pragma: no cover
    from hairtrack.imaging.hairs import Hair

__all__ = ["ScanField", "QualityReport", "scan_field", "assess_quality", "as_rgb_uint8", "NOT_SCALP_SENTENCE_START"]

# How the sentence of ``not_scalp`` begins; ``imaging.measure.unusable_reason`` finds it by this among the warnings.
NOT_SCALP_SENTENCE_START = "This does not look like a close-up of scalp skin"

_MIN_SHARPNESS = 12.0  # Laplacian variance on the 640-px working image; real in-focus dev images are 30-300
_CLIP_FRACTION = 0.05
# not_scalp beyond foreign colours: a Laplacian variance (640-px image) above this, noise, print, test charts (the
# dev set's 70x photos reach 1,271, synthetic phone-macro close-ups at 30 px/mm 3,039; random noise 13,000, a page
# of text 8,300). Not used: colourless and clipped black and white (a page, a screen) also refused overexposed
# scalp photos, grey or colour (review: 11 of 34 grey copies of dev photos brightened 1.5x, 4 of 34 colour ones
# brightened 1.7x); a screenshot is measured with its warnings instead.
_MAX_SHARPNESS = 5000.0
_MAX_FOREIGN_SHARE = 0.35  # of the field green (or blue and without texture)
# Blue "without texture": a Laplacian variance under this (a photo of the sky: 0.47). Far under the blurry limit,
# so that a blurred photo from a blue-tinting dermoscope is called blurry, not refused: the real dev photos reach
# 21 at least, and 1.5 when blurred by 8 px (at 3.0, 25 of 32 blue ones blurred by 4 px were refused).
_MAX_TEXTURELESS_SHARPNESS = 0.75
_MIN_MEDIAN_GREY, _MAX_MEDIAN_GREY = 40.0, 235.0
_MIN_USABLE_FRACTION = 0.5
_BANNER_DARK_V, _BANNER_BRIGHT_BELOW_V = 100.0, 136.0  # a banner's dark V, in a photo this bright (median V)
# A drawn line's pixels have no dark this many px (of the ~640-px copy) to either side across it: dev photos'
# scale bars are 2 px thick at full size (1 at 640), shafts there 10-20.
_LINE_APART_PX = 3
# A label box's white text, enclosed by its dark box, as a share of the box (dev photos' labels: 0.04 and more
# for 9 in 10 of 200; a unit's shafts on white skin enclose none).
_LABEL_TEXT_SHARE = 0.02
# The measurement circle's label (dermoscope software draws it in blue letters on a light grey box), on the ~640-px
# copy: pixels with B over max(R, G) by _LABEL_BLUE, in letters _LABEL_CHAR_PX high (dev photos' labels about 20,
# the renderer's 10) whose thickest stroke is under twice _LABEL_STROKE_PX and whose bluest pixel reaches
# _LABEL_PEAK_BLUE. Dev photos' letters reach 184 or more (90th percentile of each letter's pixels, 1,494 letters);
# the blue specks of skin under a dermoscope's blue light (79% of every fifth dev photo has pixels over 60), 79 at
# most. Letters of one line share their top or bottom (2 px) and lie no farther apart than the taller one's height;
# a label is two lines of _LABEL_ROW_CHARS letters or more, one above the other, or one line of twice as many.
_LABEL_BLUE, _LABEL_PEAK_BLUE = 60, 150
_LABEL_CHAR_PX = (6, 32)
_LABEL_STROKE_PX = 3.5
_LABEL_ROW_CHARS = 3
_LABEL_MAX_LETTERS = 400  # more "letters" than that is blue noise or a pattern, and would cost seconds to pair
_MIN_HAIRS = 5
# Coefficient of variation of CIE L* over the usable field, blurred over 2% of the frame (13 px of the 640-px copy).
# A close-up is skin with shafts on it, which the blur averages (tune fold of the real dev set: largest 0.247); a
# photo of a head keeps hair, face and background apart (the CC BY Norwood photos: median about 0.3). Chosen just
# above every tune-fold close-up; benchmarks/closeup_check.py measures both sides. Until 2026-11-28 the CV was read
# unblurred (limit 0.29): dense dark shafts raised it, and half of 40 drawn close-ups with 8 units of thick dark
# hair were named head photos (0.30-0.35; none now), and fewer head photos were caught (93.2%; 95.1% now,
# benchmarks/closeup_check.py).
# A close-up of bare skin ringed by dense dark hair (the edge of a bald patch) can pass it too
# (tests/imaging/test_analyze.py); no real close-up of that kind was at hand to measure.
_MAX_CLOSEUP_LIGHTNESS_CV = 0.25
# Not used, measured 2026-11-27: a second cue, the share of the unblurred variance that large shapes carry (a ratio,
# where the CV above now reads the large shapes' variance itself; left after a 12-px Gaussian blur), flags smooth bald heads against a wall that the CV lets through
# (head photos 81% -> 85%, Norwood 7 53% -> 65%, no dev close-up flagged; tune-fold close-ups reach 0.829 against a
# limit of 0.85). But a close-up of a nearly bald zone, a few hairs on unevenly lit skin, reaches it too (a
# synthetic one with 3 hairs: 0.852; 5 of 240 varied renders, all with under 5 hairs found), and that is the photo a
# person with advanced loss takes of the crown: telling them it shows the whole head would be wrong where it matters
# most.
# The cue kept instead (fifteenth session): a head photo's outer ring shows background, its centre the head, so the
# ring holds colours the centre has not; a close-up is the same skin everywhere. Read on a 160-px copy, in the
# usable field less overlays: the ring within 12% of the frame's edge, the centre the middle 40% of each side.
# Pixels darker than 0.75 x the centre's median L* (hair shafts, shadows) are left out of both, so that hair round a
# bald patch does not count as background (drawn close-ups of a bald centre ringed by dense hair: 0.19 at most;
# 0.55 with them in). Share of the ring's pixels whose (a*, b*) lies outside the centre's 2-98% range grown by 3:
# tune-fold close-ups reach 0.405, report-fold 0.399, synthetic renders 0.126; head photos have a median of 0.68.
_RING_EDGE_SHARE = 0.12
_CENTRE_HALF_SIDE = 0.2
_RING_DARK_FRACTION = 0.75
_MAX_RING_FOREIGN_SHARE = 0.5
_WIDTH_RANGE_UM = (20.0, 150.0)  # median shafts of adult scalp hair: vellus ~ 20-30 um, terminal ~ 60-100 um


@dataclass(frozen=True, slots=True)
class ScanField:
    """What part of a photo is scalp, at the photo's own resolution.

    Attributes
    ----------
    usable : ndarray of bool, H x W
        True where hairs may be counted.
    banner_rows : int
        Rows at the top covered by a burned-in text banner (0 when none).
    overlay : ndarray of bool, H x W
        The red measurement drawing (circle, lines) and its label's blue text, and a scale bar with its label;
        hairs under it are still counted, the drawing itself never is. (The circle's label box is light grey,
        bright, but its letters were taken for hairs at a phone macro's scale.)
    usable_fraction : float
        Share of the picture that is usable.
    """

    usable: np.ndarray
    banner_rows: int
    overlay: np.ndarray
    usable_fraction: float


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Named issues, a sentence for each, and the figures behind them."""

    ok: bool
    issues: tuple[str, ...]
    warnings: tuple[str, ...]
    figures: dict[str, float] = field(default_factory=dict)


def mask_bytes(mask: np.ndarray) -> np.ndarray:
    """A mask as 0/1 bytes for OpenCV: a bool mask viewed as uint8 (no copy), any other made 0/1.

    A resize by nearest neighbour of these bytes keeps them 0/1, and ``.view(bool)`` takes them back.
    """
    mask = np.asarray(mask)
    return mask.view(np.uint8) if mask.dtype == bool else (mask != 0).view(np.uint8)


def value_span(rgb: np.ndarray) -> int:
    """The brightest sample of ``rgb`` (H x W x 3 uint8, contiguous) less the darkest, over every channel: a
    picture that spans fewer than 8 levels is blank. (OpenCV's min-max over the rows, at half numpy's time.)

    >>> value_span(np.full((4, 4, 3), 7, np.uint8)), value_span(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    (0, 47)
    """
    lo, hi, _, _ = cv2.minMaxLoc(np.ascontiguousarray(rgb).reshape(rgb.shape[0], -1))
    return int(hi - lo)


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as H x W x 3 uint8 RGB (grey is repeated; wider samples are rescaled).

    uint8 is taken as it is and bool as black and white. Floats are [0, 1] or [0, 255], told apart by their top
    (:func:`samples_top`: up to 1.5 is [0, 1], clipped); integers up to 255 are 8-bit values; 10- to 16-bit
    integer samples are scaled by the bit depth they use and others by their own range, as files are
    (:func:`hairtrack.imaging.io.samples_to_rgb8`).

    Raises
    ------
    hairtrack.errors.InputError
        When ``image`` is not a 2-D or 3-D array with 1, 3 or 4 channels, or is smaller than 2 x 2.
    """
    from hairtrack.errors import InputError

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"image must be an H x W x 3 RGB or H x W grey array, got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InputError(f"image is too small to measure: {arr.shape[1]} x {arr.shape[0]} px; "
                         "use a trichoscopy photo of at least 64 x 64 px")
    arr = arr[..., :3]
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == bool:
        return np.ascontiguousarray(arr.astype(np.uint8) * np.uint8(255))
    from hairtrack.imaging.io import samples_to_rgb8

    notes: list[str] = []
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise InputError("image holds NaN or infinite values")
        # [0, 1] or [0, 255], told by the top but a few samples: a glint a resize pushed past 1.0 no longer
        # turns a [0, 1] photo black
        return samples_to_rgb8(arr, "float", notes)
    if np.issubdtype(arr.dtype, np.integer):
        low = int(arr.min())
        if low >= 0 and int(arr.max()) <= 255:  # 8-bit values held in a wider type
            return np.ascontiguousarray(arr.astype(np.uint8))
        # 10-16-bit samples (a camera's 16-bit export, Pillow's 32-bit "I" mode): scaled by the bit depth they
        # use, as files are (imaging.io); anything else by its own range
        return samples_to_rgb8(arr, str(arr.dtype), notes, bit_depth=low >= 0 and samples_top(arr) <= 65535)
    raise InputError(f"image has an unsupported dtype {arr.dtype}")


def samples_top(values: np.ndarray) -> float:
    """The top of an image's samples but a few: the largest once the brightest max(3, 0.01%) are left out
    (hot pixels, a glint)."""
    flat = np.asarray(values).ravel()
    rank = max(flat.size - 1 - max(3, flat.size // 10_000), 0)
    return float(np.partition(flat, rank)[rank])


def _red_overlay(rgb: np.ndarray) -> np.ndarray:
    """Saturated red drawing pixels (the measurement circle), on the ~640-px copy: thin strokes only.

    Inflamed skin (erythema: seborrhoeic dermatitis, psoriasis, the days after PRP or microneedling) is as red,
    but in patches: those were taken for drawing, and the hairs' darkness was read against skin filled in from
    elsewhere (a render with its skin reddened: widths +35%, the classical pipeline finding 9 hairs of 12). A red
    region a 9 x 9 square fits in is such a patch; the dev photos' circles are 1-2 px strokes, and strokes up to
    about 8 px (16 px of a 1280-px photo) stay drawing.
    """
    r, g, b = cv2.split(rgb)
    # r - g > 70 only where r - g is positive: OpenCV's saturating uint8 difference (0 below) decides it as the
    # signed one does, without widening three planes to int16
    r_g, r_b = cv2.subtract(r, g), cv2.subtract(r, b)
    red = (r > 130) & (r_g > 70) & (r_b > 70)
    if not red.any():
        return red
    # the patches by a looser red, so that the noise of skin near the limit leaves no speckle of strokes
    reddish = ((r > 110) & (r_g > 45) & (r_b > 45)).view(np.uint8)
    square = np.ones((9, 9), np.uint8)
    patches = cv2.dilate(cv2.morphologyEx(reddish, cv2.MORPH_OPEN, square), np.ones((5, 5), np.uint8))
    return red & (patches == 0)


def _label_text(rgb: np.ndarray) -> np.ndarray:
    """The blue letters of the label the dermoscope software draws beside its measurement circle, on the ~640-px copy.

    The label ("RC0", "C=15.848 mm", "A=19.988 mm^2", "r=2.522 mm") is a light grey box with blue letters. The box
    is bright, but at a phone macro's scale (100-110 px/mm, enlarged 1.6-1.8x for the network) the letters' strokes
    are as wide as hairs, and the network took them for short ones: on twelve easy renders at 100 px/mm with a
    circle (seeds 1000-1011), 48 hairs were found within 3 px of the letters, 5 now (hairs seen through the box,
    and the letters of a line a hair crosses). The real 70x photos are reduced for the network, and there the
    letters were taken for a hair once in the tune fold's 640 photos.

    Blue alone is not enough: a dermoscope's blue light tints whole photos, skin shows blue specks, shafts blue
    glints. Letters are found as text is: small, thin-stroked, pure blue shapes standing in lines (module
    constants ``_LABEL_*``); then every blue pixel of such a line is text. On the 1,324 dev photos this finds the
    labels of 81 of the 324 photos with a circle, and nothing on any photo without one. One pixel of margin (on the
    640-px copy; the darkness's fill adds one more) takes in the letters' soft edges.
    """
    r, g, b = cv2.split(rgb)
    excess = cv2.subtract(b, cv2.max(r, g))  # B - max(R, G) where positive, else 0
    out = np.zeros(excess.shape, np.uint8)
    if int(excess.max()) < _LABEL_PEAK_BLUE:  # no letter's blue anywhere: most photos
        return out.view(bool)
    blue = (excess > _LABEL_BLUE).view(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(blue, connectivity=8)
    lo, hi = _LABEL_CHAR_PX
    letters = []
    # (up to 4 letters' width: thick letters touch and join, as "848" does at the dev photos' size)
    for i in np.flatnonzero((stats[1:, 3] >= lo) & (stats[1:, 3] <= hi) & (stats[1:, 2] <= 4 * stats[1:, 3])) + 1:
        x, y, w, h = (int(v) for v in stats[i, :4])
        mine = (lab[y:y + h, x:x + w] == i).view(np.uint8)
        if excess[y:y + h, x:x + w][mine.view(bool)].max() < _LABEL_PEAK_BLUE:
            continue
        # half the thickest stroke: the farthest a letter's pixel lies from its edge
        edge = cv2.distanceTransform(np.pad(mine, 1), cv2.DIST_L2, 3)
        if float(edge.max()) <= _LABEL_STROKE_PX:
            letters.append((x, y, w, h, i))
    if not _LABEL_ROW_CHARS <= len(letters) <= _LABEL_MAX_LETTERS:  # a label has under a hundred letters
        return out.view(bool)
    # lines: letters side by side (no farther apart than the taller one's height) sharing their top or bottom
    letters.sort()
    links = []
    for a, (xa, ya, wa, ha, _) in enumerate(letters):
        for c in range(a + 1, len(letters)):
            xc, yc, wc, hc, _ = letters[c]
            if xc - (xa + wa) > hi:  # sorted by x: no later letter lies within reach (other lines' interleave)
                break
            if xc - (xa + wa) > max(ha, hc):
                continue
            overlap = max(ya, yc) < min(ya + ha, yc + hc)
            if overlap and (abs(ya - yc) <= 2 or abs(ya + ha - yc - hc) <= 2):
                links.append((a, c))
    pairs = np.array(links, np.int64).reshape(-1, 2)
    _, line = connected_components(coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                                              shape=(len(letters), len(letters))), directed=False)
    lines: dict[int, list[int]] = {}
    for k, root in enumerate(line):
        lines.setdefault(int(root), []).append(k)
    rows = [ks for ks in lines.values() if len(ks) >= _LABEL_ROW_CHARS]
    spans = [(min(letters[k][0] for k in ks), max(letters[k][0] + letters[k][2] for k in ks),
              min(letters[k][1] for k in ks), max(letters[k][1] + letters[k][3] for k in ks)) for ks in rows]
    label = {p for p, ks in enumerate(rows) if len(ks) >= 2 * _LABEL_ROW_CHARS}
    for p, (x0, x1, y0, y1) in enumerate(spans):
        for q in range(p + 1, len(spans)):
            u0, u1, v0, v1 = spans[q]
            tall = max(y1 - y0, v1 - v0)
            # one line above the other (not beside it): overlapping across, starting within two line heights of
            # each other, at most two line heights apart
            gap = max(y0, v0) - min(y1, v1)
            if max(x0, u0) < min(x1, u1) and abs(x0 - u0) <= 2 * tall and -2 <= gap <= 2 * tall:
                label |= {p, q}
    for p in label:  # every blue pixel of the line: its "=", "." and "^" too, too small for letters
        x0, x1, y0, y1 = spans[p]
        out[y0:y1, x0:x1] |= blue[y0:y1, x0:x1]
    if out.any():
        out = cv2.dilate(out, np.ones((3, 3), np.uint8))
    return out.view(bool)


def _drawn_lines(v: np.ndarray, sat: np.ndarray) -> np.ndarray:
    """Thin, perfectly horizontal or vertical dark lines (a software scale bar) and the dark label box
    with white text beside them: lines up to 5 px thick on the ~640-px copy, as long as 6% of its side.

    A line's pixels are dark with skin a few pixels to either side across it. Without that test the edges and
    bodies of shafts lying near the rows or columns were taken for drawn lines (on 1,269 of the 1,324 dev photos,
    which have 144 scale bars), and a shaft wholly covered was filled in with skin and lost.
    """
    h, w = v.shape
    out = np.zeros((h, w), bool)
    run = max(int(0.06 * max(h, w)), 12)
    # (bg - v > 25 only where bg exceeds v: OpenCV's saturating difference decides it without int16 copies)
    dark = (cv2.subtract(cv2.medianBlur(v, 5), v) > 25) | (v < 70)
    apart = _LINE_APART_PX
    padded = np.pad(dark, apart)  # beyond the frame counts as not dark: a bar may lie at its very edge
    # dark, and not dark `apart` px above and below: a line along the rows; then the same across the columns
    across_rows = dark & ~padded[:-2 * apart, apart:-apart] & ~padded[2 * apart:, apart:-apart]
    across_cols = dark & ~padded[apart:-apart, :-2 * apart] & ~padded[apart:-apart, 2 * apart:]
    dark = dark.view(np.uint8)
    bridge = 4 * apart + 3  # a shaft crossing the line hides its skin to either side: bridge such gaps along it
    for kt, kw, kb, lines in (((1, run), (7, run), (1, bridge), across_rows),
                              ((run, 1), (run, 7), (bridge, 1), across_cols)):
        lines = cv2.morphologyEx(lines.view(np.uint8), cv2.MORPH_CLOSE, np.ones(kb, np.uint8)) & dark
        # An opening by the line, as its erosion then its dilation, so that a photo with no run that long (most:
        # no scale bar) stops after the erosion. Nothing beyond the frame: OpenCV's erosion takes it for
        # foreground, and a shaft cut by the frame, running across its edge, passed for a line half the length asked
        cores = cv2.erode(lines, np.ones(kt, np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
        if not cores.any():
            continue
        thin = cv2.dilate(cores, np.ones(kt, np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
        # (here beyond the frame stays dark, as OpenCV takes it: a shaft lying along the frame's edge, cut by it,
        # stays thick and no line)
        thick = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones(kw, np.uint8))
        thin &= ~cv2.dilate(thick, np.ones((5, 5), np.uint8))
        out |= thin.astype(bool)
    if not out.any():
        return out
    # label box: a dark, grey, nearly rectangular blob holding white text, near the lines. The text is white
    # enclosed by the blob (its holes). White anywhere in the blob's bounding box is not enough: on pale or
    # bright skin the skin between the shafts of a unit is white too, and a V of two thick shafts fills half its
    # box, so whole units passed for label boxes and were lost. The dev photos' labels hold such text at 0.04 of
    # their box or more for 9 in 10 of 200; units on white skin hold none.
    box = ((v < 110) & (sat < 60)).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(box, 8)
    white = (v > 200) & (sat < 40)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 40 or area < 0.5 * bw * bh:
            continue
        blob = lab[y:y + bh, x:x + bw] == i
        light = white[y:y + bh, x:x + bw]
        if light.mean() > 0.04 and (light & ndi.binary_fill_holes(blob) & ~blob).mean() > _LABEL_TEXT_SHARE:
            out[max(y - 2, 0):y + bh + 2, max(x - 2, 0):x + bw + 2] = True
    return cv2.dilate(out.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)


def _edge_runs(flags: np.ndarray, max_share: float = 0.25, clipped: np.ndarray | None = None,
               white: np.ndarray | None = None) -> np.ndarray:
    """The band at each end, at most ``max_share`` of the length, out to the farthest flag that keeps at least
    half of the band flagged: a letterbox strip or a caption bar, whose lines of text break its flat rows.
    A flag further in, among unflagged ones (skin clipped white inside the photo), is not part of it.

    ``clipped`` (the share of each line clipped in some channel) and ``white`` (clipped in every channel) tell a
    white bar from skin clipped out to the frame's edge. A band mostly clipped is a bar only as the run of white
    lines from the edge, and only where that run ends in a straight edge, the lines just past it hardly white:
    skin clipped in its red alone is a yellow-white, not a bar's white (an overexposed photo's skin past a white
    caption bar is such), and skin clipped white fades out past its last flat line.

    >>> _edge_runs(np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], bool)).astype(int).tolist()
    [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    >>> flat = np.arange(32) < 6  # six flat lines from the frame's edge, clipped
    >>> bar = np.where(flat, 1.0, 0.0)
    >>> skin = np.where(np.arange(32) < 12, 1.0, 0.2)  # clipped white on past the flat lines
    >>> int(_edge_runs(flat, clipped=bar, white=bar).sum()), int(_edge_runs(flat, clipped=skin, white=skin).sum())
    (6, 0)
    >>> int(_edge_runs(flat, clipped=np.ones(32), white=np.zeros(32)).sum())  # clipped in red only: skin
    0
    """
    n = len(flags)
    if flags.all():  # nothing but flat rows: a blank picture, no field at all
        return np.ones(n, bool)
    out = np.zeros_like(flags, bool)
    limit = max(1, int(max_share * n))
    past = max(2, n // 100)  # lines just past a band, where a white bar's straight edge has ended

    def band_end(run: np.ndarray) -> int:  # out to the farthest flag that keeps at least half of the band flagged
        ok = np.nonzero(run & (np.cumsum(run) / np.arange(1, len(run) + 1) >= 0.5))[0]
        return int(ok[-1]) + 1 if len(ok) else 0

    for order in (slice(None), slice(None, None, -1)):
        end = band_end(flags[order][:limit])
        if end and clipped is not None and white is not None and clipped[order][:end].mean() >= 0.5:
            # a bright band: a white bar is the run of white lines from the edge (skin clipped in red alone is
            # flat too and may run on past it), and its edge is straight: the lines just past it are hardly white
            wh = white[order]
            end = band_end(wh[:limit] >= 0.5)
            if end and (wh[:end].mean() < 0.8 or wh[end:end + past].mean() >= 0.2):
                end = 0  # skin clipped white, fading out past the band: scalp with hairs on it, not a bar
        if not end:
            continue
        band = np.zeros(n, bool)
        band[:end] = True
        out |= band[order]
    return out


def _flat_lines(v: np.ndarray, axis: int) -> np.ndarray:
    """The rows (``axis`` 1) or columns (``axis`` 0) of ``v`` (2-D uint8) whose standard deviation is under 2
    grey levels: numpy's ``v.std(axis=axis) < 2``, decided exactly from integer sums, n Σv² - (Σv)² < 4 n²,
    in under half numpy's time (which widens every pixel to float64). A line whose variance is exactly 4 gets
    numpy's own verdict, which its float64 rounding may make "flat".

    >>> v = np.array([[10, 10, 11, 10], [0, 4, 0, 4]], np.uint8)  # std 0.43 and exactly 2
    >>> _flat_lines(v, 1).tolist(), (v.std(axis=1) < 2).tolist()
    ([True, False], [True, False])
    >>> tie = np.array([[10, 10, 11, 15, 10, 11, 15, 10, 13]], np.uint8)  # variance 4, std read as 1.9999999999999998
    >>> bool(_flat_lines(tie, 1)[0]), bool(tie.std() < 2)
    (True, True)
    """
    n = v.shape[axis]
    s1 = cv2.reduce(v, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    # squares of uint8 are exact in float32, their sums in float64 (under 2^53)
    s2 = cv2.reduce(cv2.multiply(v, v, dtype=cv2.CV_32F), axis, cv2.REDUCE_SUM, dtype=cv2.CV_64F)
    s2 = s2.ravel().astype(np.int64)
    spread = n * s2 - s1 * s1  # n² times the variance, exactly
    flat = spread < 4 * n * n
    tie = spread == 4 * n * n
    if tie.any():  # a standard deviation of exactly 2, which numpy's float64 may round below 2: its verdict
        flat[tie] = np.take(v, np.nonzero(tie)[0], axis=1 - axis).std(axis=axis) < 2.0
    return flat


def _line_shares(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask.mean(axis=axis)`` of a 2-D bool mask, to the bit (an exact count over the line's length), from
    OpenCV's sums: a tenth of numpy's time."""
    return cv2.reduce(np.ascontiguousarray(mask).view(np.uint8), axis, cv2.REDUCE_SUM,
                      dtype=cv2.CV_32S).ravel() / mask.shape[axis]


def scan_field(image: np.ndarray) -> ScanField:
    """Find the usable scalp in a trichoscopy photo.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB (uint8 preferred) or H x W grey.

    Returns
    -------
    ScanField

    Examples
    --------
    >>> from hairtrack.synth import render_scalp
    >>> scene = render_scalp(seed=1, shape=(256, 320), banner=True)
    >>> field = scan_field(scene.image)
    >>> field.banner_rows > 0, round(field.usable_fraction, 1) >= 0.8
    (True, True)
    """
    full = as_rgb_uint8(image)
    fh, fw = full.shape[:2]
    f = min(1.0, 640.0 / max(fh, fw))  # masks are found on a ~640 px copy, then scaled back
    rgb = full if f >= 1.0 else cv2.resize(full, (max(int(fw * f), 2), max(int(fh * f), 2)),
                                          interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    r_, g_, b_ = cv2.split(rgb)
    v = cv2.max(cv2.max(r_, g_), b_)
    least = cv2.min(cv2.min(r_, g_), b_)  # each pixel's least channel
    sat = cv2.subtract(v, least)  # max - min, never negative: uint8 holds it
    s_low = sat < 45
    # Banner: dark, grey rows at the top (dev-set banners sit in rows ~8-42 of 1024, > 45% dark per row).
    # "Dark" is V < 100 in a photo as bright as the dev photos with a banner (median V below the top band 136
    # or more), and in proportion in a darker one: with 100 alone every row of a dark photo, or of dark skin,
    # was dark and grey, and its top 9% went as a banner.
    top = max(4, int(round(0.09 * h)))
    below = float(uint8_percentiles(v[top:] if h > top else v, [50.0])[0])  # the median
    dark_v = _BANNER_DARK_V * min(1.0, below / _BANNER_BRIGHT_BELOW_V)
    dark_rows = ((v[:top] < dark_v) & s_low[:top]).mean(axis=1) > 0.4
    banner_rows = 0
    if dark_rows.any():
        last = int(np.nonzero(dark_rows)[0].max())
        if dark_rows[: last + 1].mean() > 0.5:
            banner_rows = min(top, last + 1 + max(2, h // 200))
    red = _red_overlay(rgb)
    overlay = red | _drawn_lines(v, sat)
    overlay |= _label_text(rgb)
    usable = np.ones((h, w), bool)
    usable[:banner_rows] = False
    # Flat letterbox strips and caption bars (rows or columns of one grey level, in a band from the frame's
    # edge) and the vignetted border. Only bands from the edge: inside the picture a flat row is skin clipped
    # white by overexposure, on which the hairs still show; dropping it there cut the field into strips and the
    # edge correction then tripled the density (found by review).
    clipped = v >= 250  # in some channel
    white = least >= 250  # in every channel
    usable[_edge_runs(_flat_lines(v, 1), clipped=_line_shares(clipped, 1), white=_line_shares(white, 1)), :] = False
    usable[:, _edge_runs(_flat_lines(v, 0), clipped=_line_shares(clipped, 0), white=_line_shares(white, 0))] = False
    # a few px around flat strips and the banner: their edges ring dark after JPEG compression
    edge = max(3, max(h, w) // 150)
    usable = cv2.erode(usable.astype(np.uint8), np.ones((2 * edge + 1, 2 * edge + 1), np.uint8),
                       borderType=cv2.BORDER_CONSTANT, borderValue=1).astype(bool)
    small = cv2.resize(v, (max(w // 16, 1), max(h // 16, 1)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), 2.0)
    ref = float(np.percentile(small, 75))
    if ref > 0:
        vignette = cv2.resize((small < 0.45 * ref).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        usable &= vignette == 0
    fraction = float(np.count_nonzero(usable)) / usable.size
    if f < 1.0:  # (bool masks viewed as bytes both ways: no copies)
        usable = cv2.resize(usable.view(np.uint8), (fw, fh), interpolation=cv2.INTER_NEAREST).view(bool)
        overlay = cv2.resize(overlay.view(np.uint8), (fw, fh), interpolation=cv2.INTER_NEAREST).view(bool)
        banner_rows = int(round(banner_rows / f))
    return ScanField(usable=usable, banner_rows=banner_rows, overlay=overlay, usable_fraction=fraction)


def _lightness_blurred(rgb: np.ndarray, sigma_px: float) -> np.ndarray:
    """CIE lightness L* of ``rgb`` (uint8) blurred by a Gaussian of ``sigma_px``, float32 at ``rgb``'s size.

    A blur of 12.8 px on a 640-px image took 14 ms in OpenCV, the most of any step of a photo's quality. A blur
    that wide loses nothing by being done on a half-size copy (its 2 x 2 averaging counted into the blur), and
    L* is then read from that copy too: 3.3 ms in all. Over the 1,324 trichoscopy and 1,179 head dev photos the
    lightness CV read from it moved by at most 0.0023 (its threshold is 0.25) and no photo changed sides (a
    ``/tmp`` script, twenty-seventh session).
    """
    h, w = rgb.shape[:2]
    if sigma_px < 4.0 or min(h, w) < 16:
        return cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), (0, 0), sigma_px)
    half = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    lightness = cv2.cvtColor(half, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    # the 2 x 2 average is itself a blur of variance (2^2 - 1) / 12 px^2; the rest is done at half scale
    lightness = cv2.GaussianBlur(lightness, (0, 0), math.sqrt(sigma_px ** 2 - 0.25) / 2.0)
    return cv2.resize(lightness, (w, h), interpolation=cv2.INTER_LINEAR)


def _ring_foreign_share(rgb: np.ndarray, field: ScanField) -> float | None:
    """Share of the frame's outer ring (lit pixels of the usable field) whose chroma the centre does not show.

    ``rgb`` may be a reduced copy of the photo (``assess_quality`` passes its 640-px one); ``field`` is the
    photo's own. ``None`` when the usable field leaves fewer than 20 pixels of the ring or of the centre (a round
    lens's field, say), so that the cue says nothing rather than something from a handful of pixels.
    """
    h, w = rgb.shape[:2]
    f = 160.0 / max(h, w)
    size = (max(int(round(w * f)), 8), max(int(round(h * f)), 8))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)

    def nearest(mask: np.ndarray) -> np.ndarray:  # a bool array viewed as bytes: no full-size copy
        return cv2.resize(mask_bytes(mask), size, interpolation=cv2.INTER_NEAREST).view(bool)

    usable = nearest(field.usable) & ~nearest(field.overlay)
    lightness, chroma_a, chroma_b = cv2.split(cv2.cvtColor(small, cv2.COLOR_RGB2LAB))
    sh, sw = small.shape[:2]
    rows, cols = np.arange(sh)[:, None], np.arange(sw)[None, :]
    edge = np.minimum(np.minimum(rows, sh - 1 - rows) / sh, np.minimum(cols, sw - 1 - cols) / sw)
    ring = (edge < _RING_EDGE_SHARE) & usable
    centre = ((np.abs(rows - sh / 2) < _CENTRE_HALF_SIDE * sh) & (np.abs(cols - sw / 2) < _CENTRE_HALF_SIDE * sw)
              & usable)
    if centre.sum() < 20:
        return None
    # (Lab levels are whole numbers: their median and percentiles come from histograms, as numpy gives them for
    # the levels held as float32, and they are compared in float32 as they were)
    median_l = float(histogram_percentiles(uint8_histogram(lightness, centre), [50.0], np.float32)[0])
    lit = lightness >= np.float32(_RING_DARK_FRACTION * median_l)
    ring &= lit
    centre &= lit
    if ring.sum() < 20 or centre.sum() < 20:
        return None
    foreign = np.zeros_like(ring)
    for chroma in (chroma_a, chroma_b):
        counts = uint8_histogram(chroma, centre)
        lo = histogram_percentiles(counts, [2.0], np.float32)[0] - np.float32(3.0)
        hi = histogram_percentiles(counts, [98.0], np.float32)[0] + np.float32(3.0)
        foreign |= (chroma < lo) | (chroma > hi)
    return float(np.count_nonzero(foreign & ring) / np.count_nonzero(ring))


def assess_quality(image: np.ndarray, field: ScanField, hairs: "tuple[Hair, ...]", *,
                   px_per_mm: float | None = None, scale_free_widths_px: Sequence[float] | None = None) -> QualityReport:
    """Name what lowers trust in the measurement of ``image``.

    Parameters
    ----------
    image : ndarray
        The photo, H x W x 3 RGB.
    field : ScanField
        From :func:`scan_field`.
    hairs : tuple of Hair
        From :func:`hairtrack.imaging.hairs.detect_hairs`.
    px_per_mm : float, optional
        The scale, to check it against the shaft widths seen.
    scale_free_widths_px : sequence of float, optional
        Shaft widths (px) measured without the scale, for that check where ``hairs`` are too few to say: the
        learned detector resizes the photo by the scale, so a scale several times wrong hides the hairs from it
        and would leave a "bald" spot with no word on the scale.

    Returns
    -------
    QualityReport

    Examples
    --------
    >>> import numpy as np
    >>> blank = np.full((128, 128, 3), 200, np.uint8)
    >>> report = assess_quality(blank, scan_field(blank), ())
    >>> report.ok, report.issues
    (False, ('blank', 'few_hairs'))
    """
    rgb = as_rgb_uint8(image)
    h, w = rgb.shape[:2]
    f = 640.0 / max(h, w)
    small = cv2.resize(rgb, (max(int(w * f), 2), max(int(h * f), 2)), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    # the Laplacian of 8-bit grey fits 16 bits exactly; OpenCV's variance of it is numpy's of the float64 one to
    # 1e-15, at half the cost
    sharp = float(cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_16S))[1][0, 0]) ** 2
    if f >= 1:
        inside = field.usable.astype(bool, copy=False)
    else:
        inside = cv2.resize(mask_bytes(field.usable), grey.shape[::-1], interpolation=cv2.INTER_NEAREST).view(bool)
    # every figure is read over the usable field (the whole picture when none is): a lens's dark surround,
    # letterbox strips and banners say nothing of exposure, colour or whether this is a close-up
    if not inside.any():
        inside = np.ones_like(inside)
    # one histogram of the field's grey levels for the clipped shares, the median, the 1-99% spread and the
    # 0.1-99.9% tails (the same numbers as from the field's values picked out, without picking them)
    counts = uint8_histogram(grey, inside)
    n_inside = int(counts.sum())
    over = float(counts[250:].sum() / n_inside)
    under = float(counts[:6].sum() / n_inside)
    p_01, p_1, p_50, p_99, p_999 = (float(x) for x in histogram_percentiles(counts, [0.1, 1, 50, 99, 99.9]))
    median_grey = p_50
    spread = p_99 - p_1
    # Blank: no texture out to the 0.1% tails. A few hairs on skin clipped white fill under 1% of the field,
    # inside the 1-99% spread; they are texture, and the photo is overexposed, not blank.
    tails = p_999 - p_01
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    # large-scale lightness: blurred over 2% of the frame, so that shafts, however dense and dark, average into
    # the skin they lie on, while hair, face and background stay apart
    lightness_map = _lightness_blurred(small, 0.02 * max(small.shape[:2]))
    lightness = lightness_map[inside]
    lightness_cv = float(lightness.std() / max(float(lightness.mean()), 1.0))
    # Skin under a dermoscope is pale to brown (OpenCV hue 0-30 or 160-180) or grey; lawns, sky and
    # blue/green objects are not.
    hues = uint8_histogram(hsv[..., 0], inside & (hsv[..., 1] > 60))  # the coloured pixels' hues
    foreign = float(hues[36:150].sum() / n_inside)  # hue over 35 and under 150
    green = float(hues[36:86].sum() / n_inside)  # over 35, up to 85
    figures = {"sharpness": round(sharp, 2), "overexposed_fraction": round(over, 4),
               "underexposed_fraction": round(under, 4), "median_grey": round(median_grey, 1), "usable_fraction": round(field.usable_fraction, 4),
               "foreign_colour_fraction": round(foreign, 4), "contrast": round(spread, 1),
               "lightness_cv": round(lightness_cv, 4)}
    ring_foreign = _ring_foreign_share(small, field)
    if ring_foreign is not None:
        figures["ring_foreign_fraction"] = round(ring_foreign, 4)
    issues: list[str] = []
    words: list[str] = []
    widths = [hr.width_px for hr in hairs]
    if tails < 8:
        issues.append("blank")
        words.append("The picture is flat (no texture): nothing to measure.")
    else:
        # Blue alone is not foreign: some dermoscopes (polarised light, their white balance) tint the whole
        # frame blue, 94 of the 1,324 dev photos over a third of it; no scalp photo is green (dev: 6% at most).
        # Blue counts with no texture at all: the sky, a wall.
        if green > _MAX_FOREIGN_SHARE or (foreign > _MAX_FOREIGN_SHARE and sharp < _MAX_TEXTURELESS_SHARPNESS):
            issues.append("not_scalp")
            words.append(f"{NOT_SCALP_SENTENCE_START} (its colours are those of grass, sky or "
                         "other things, not skin); check the file.")
        elif sharp > _MAX_SHARPNESS:
            issues.append("not_scalp")
            words.append(f"{NOT_SCALP_SENTENCE_START}: it changes from pixel to pixel like "
                         f"noise, print or a test pattern (sharpness {sharp:.0f}; scalp photos stay under "
                         f"{_MAX_SHARPNESS:.0f}); check the file.")
        if lightness_cv > _MAX_CLOSEUP_LIGHTNESS_CV or (ring_foreign is not None
                                                        and ring_foreign > _MAX_RING_FOREIGN_SHARE):
            issues.append("overview_photo")
            words.append("This looks like a photo of the whole head, not a close-up of the scalp: a hair count from "
                         "it means nothing. Take a close-up of the zone (dermoscope or phone macro); for photos of the "
                         "head use `hairtrack analyze --overview VIEW`, `hairtrack norwood` or the start page's Head "
                         "photos form.")
        if sharp < _MIN_SHARPNESS:
            issues.append("blurry")
            words.append(f"The photo is blurry (sharpness {sharp:.1f} < {_MIN_SHARPNESS}); thin hairs may be missed.")
        if over > _CLIP_FRACTION or median_grey > _MAX_MEDIAN_GREY:
            issues.append("overexposed")
            words.append(f"{over:.0%} of the field is blown out; lower the light or exposure." if over > _CLIP_FRACTION else
                         f"The photo is too bright throughout (median grey {median_grey:.0f} of 255); lower the light or exposure.")
        if under > _CLIP_FRACTION or median_grey < _MIN_MEDIAN_GREY:
            issues.append("underexposed")
            words.append(f"{under:.0%} of the field is black; add light." if under > _CLIP_FRACTION else
                         f"The photo is too dark throughout (median grey {median_grey:.0f} of 255); add light.")
        if field.usable_fraction < _MIN_USABLE_FRACTION:
            issues.append("small_field")
            words.append(f"Only {field.usable_fraction:.0%} of the picture is usable scalp (the rest is border, overlay, "
                         "glare or flat skin); fill the frame with scalp.")
    if len(widths) < _MIN_HAIRS and scale_free_widths_px is not None and len(scale_free_widths_px) >= _MIN_HAIRS:
        widths = list(scale_free_widths_px)
    if px_per_mm is not None and len(widths) >= 3:
        med_um = float(np.median(widths)) / px_per_mm * 1000.0
        figures["median_width_um"] = round(med_um, 1)
        lo, hi = _WIDTH_RANGE_UM
        if not lo <= med_um <= hi:
            issues.append("scale_mismatch")
            words.append(f"With {px_per_mm:g} px/mm the hairs would be {med_um:.0f} um wide (expected {lo:.0f}-"
                         f"{hi:.0f}); the scale is probably that of another device or magnification.")
    if len(hairs) < _MIN_HAIRS:
        issues.append("few_hairs")
        # a bald spot is a true finding, not a failed photo: say how uncertain the count is, not that it is wrong
        from scipy.stats import chi2

        n = len(hairs)
        low = chi2.ppf(0.025, 2 * n) / 2 if n else 0.0
        high = chi2.ppf(0.975, 2 * n + 2) / 2  # the exact (Garwood) 95% interval of a Poisson count
        words.append(f"{'No hairs' if n == 0 else f'Only {n} hair' + ('' if n == 1 else 's')} found: a count this small is uncertain (the same spot "
                     f"could as well show {low:.0f} to {high:.0f}), too few to compare over time on its own; if the "
                     "spot is not bald, check focus and light and take another photo.")
    return QualityReport(ok=not issues, issues=tuple(issues), warnings=tuple(words), figures=figures)
