"""Overview photos of the head: find the head, segment hair from scalp skin, scalp coverage per zone.

An overview photo is a phone picture of the whole head from the front, the top, the left, the right or
the back, in any of the four 90-degree rotations. This module turns one into measurements:

* a head mask (GrabCut [1]_ started from a centred rectangle: phone photos of a head put it in the middle),
* a hair/skin segmentation inside it: a pixel is *bare skin* when its colour lies in the skin chroma box
  of Chai & Ngan [2]_ (YCrCb) and its fine texture is low (a bald scalp is smooth, hair is a field of
  edges); everything else inside the head is hair,
* an orientation: the 90-degree turn that puts the hairiest side up (hair sits above a face, a neck or an
  ear in every view but the top-down one, where it is a guess),
* ``coverage_pct`` (hair share of the visible head) overall and per zone of the view, and the geometry the
  scales need (frontal recession, temporal recession, vertex bald area, the bridge between them), in
  units of the head radius, or in cm when a scale (px/mm) is given,
* a rotation-invariant feature vector (:func:`overview_features`) the Norwood model reads.

Everything is computed at a working size of :data:`WORK_SIDE_PX` pixels, so time per photo is flat.
It is weak where the assumptions are: a head not near the centre, hair the colour of skin (blond or grey
on fair skin), a face-only selfie (which shows no crown), heavy shadows.

References
----------
.. [1] Rother C, Kolmogorov V, Blake A. "GrabCut": interactive foreground extraction using iterated graph
   cuts. ACM Trans Graph 2004;23(3):309-314.
.. [2] Chai D, Ngan KN. Face segmentation using skin-color map in videophone applications. IEEE Trans
   Circuits Syst Video Technol 1999;9(4):551-564.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hairtrack.errors import InputError
from hairtrack.imaging.calibration import check_px_per_mm

__all__ = [
    "WORK_SIDE_PX",
    "VIEWS",
    "HeadSegmentation",
    "ZoneCoverage",
    "OverviewCoverage",
    "segment_head",
    "overview_coverage",
    "overview_features",
    "feature_names",
    "coverage_to_dict",
    "coverage_overlay",
]

WORK_SIDE_PX = 160
MIN_SIDE_PX = 32
VIEWS = ("front", "top", "left", "right", "back")

# Chai & Ngan's skin box in YCrCb (ref [2]): 133 <= Cr <= 173, 77 <= Cb <= 127.
_CR_RANGE = (133.0, 173.0)
_CB_RANGE = (77.0, 127.0)
# Local standard deviation of lightness (0-255, 5x5 window) above which a skin-coloured pixel counts as
# hair-textured; chosen on the dev photos by eye (smooth bald scalp ~2-5, short hair ~9-20).
_TEXTURE_HAIR = 7.0

# Zones each view can show, by band of the upright head (top to bottom), see `_zone_masks`.
_VIEW_ZONES = {
    "front": ("hairline", "temples", "mid_scalp"),
    "top": ("hairline", "mid_scalp", "crown"),
    "left": ("hairline", "temples", "mid_scalp", "crown", "donor"),
    "right": ("hairline", "temples", "mid_scalp", "crown", "donor"),
    "back": ("crown", "donor"),
}


@dataclass(frozen=True, slots=True)
class HeadSegmentation:
    """Pixel maps of one overview photo at working size, rotated upright.

    Attributes
    ----------
    head_mask, hair_mask, skin_mask : ndarray of bool
        ``WORK_SIDE_PX`` square maps; ``hair_mask | skin_mask == head_mask``.
    orientation_deg : int
        Counter-clockwise turn (0, 90, 180, 270) applied to the photo to put the hairiest side up.
    head_fraction : float
        Share of the image the head covers (0-1).
    center_rc : tuple of float
        Head centroid (row, col) in the upright working image.
    radius_px : float
        Radius of the disc with the head's area, in working pixels.
    head_assumed : bool
        GrabCut found no head-sized object and a centred disc was assumed (a head filling the frame).
    grabcut_mask : ndarray of bool or None
        GrabCut's own mask before that assumption (what the Norwood features read).
    """

    head_mask: np.ndarray
    hair_mask: np.ndarray
    skin_mask: np.ndarray
    orientation_deg: int
    head_fraction: float
    center_rc: tuple[float, float]
    radius_px: float
    head_assumed: bool = False
    grabcut_mask: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class ZoneCoverage:
    """Hair coverage of one zone as the photo shows it."""

    zone: str
    coverage_pct: float
    area_rel: float  # zone area / head disc area
    area_cm2: float | None


@dataclass(frozen=True, slots=True)
class OverviewCoverage:
    """Coverage and geometry of one overview photo.

    Lengths ending ``_rel`` are in head radii (1.0 = the radius of a disc with the head's area); areas
    ending ``_rel`` are shares of that disc. ``_cm`` / ``_cm2`` values need ``px_per_mm`` and are ``None``
    without one.
    """

    view: str
    orientation_deg: int
    head_found: bool
    coverage_pct: float | None
    zones: tuple[ZoneCoverage, ...]
    frontal_recession_rel: float | None
    temporal_recession_rel: float | None
    vertex_bald_area_rel: float | None
    bridge_coverage_pct: float | None
    frontal_recession_cm: float | None
    vertex_bald_area_cm2: float | None
    issues: tuple[str, ...]


def _as_rgb(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"image must be an H x W x 3 RGB array, got shape {arr.shape}")
    if min(arr.shape[:2]) < MIN_SIDE_PX:
        raise InputError(
            f"image is {arr.shape[1]} x {arr.shape[0]} px; an overview photo needs at least "
            f"{MIN_SIDE_PX} px a side (a phone photo of the whole head)"
        )
    arr = arr[..., :3]
    if arr.dtype != np.uint8:
        f = np.nan_to_num(arr.astype(np.float64))
        if np.issubdtype(arr.dtype, np.floating) and f.max(initial=0.0) <= 1.0:
            f = f * 255.0  # floats in 0-1, as scikit-image writes them
        arr = np.clip(np.rint(f), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _maps(rgb_small: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pixel maps at working size: lightness, chroma, skin colour, texture, specular."""
    lab = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2LAB).astype(np.float32)
    ycc = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    hsv = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2HSV).astype(np.float32)
    lum = lab[..., 0]
    cr, cb = ycc[..., 1], ycc[..., 2]
    skin_colour = (
        (cr >= _CR_RANGE[0]) & (cr <= _CR_RANGE[1]) & (cb >= _CB_RANGE[0]) & (cb <= _CB_RANGE[1]) & (lum > 40)
    )
    mean = cv2.blur(lum, (5, 5))
    sq = cv2.blur(lum * lum, (5, 5))
    texture = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    gx = cv2.Sobel(cv2.GaussianBlur(lum, (0, 0), 2.0), cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(cv2.GaussianBlur(lum, (0, 0), 2.0), cv2.CV_32F, 0, 1)
    coarse_grad = np.hypot(gx, gy)
    specular = (lum > 200) & (hsv[..., 1] < 60)
    return {
        "lum": lum / 255.0,
        "a": (lab[..., 1] - 128.0) / 128.0,
        "b": (lab[..., 2] - 128.0) / 128.0,
        "skin_colour": skin_colour.astype(np.float32),
        "texture": np.minimum(texture / 30.0, 1.0),
        "coarse_grad": np.minimum(coarse_grad / 100.0, 1.0),
        "specular": specular.astype(np.float32),
        "dark": (lum < 70).astype(np.float32),
    }


_MIN_HEAD_SHARE = 0.08  # below this GrabCut has lost the head (a head filling the frame, say)


def _head_mask(rgb_small: np.ndarray) -> np.ndarray:
    """The GrabCut head mask as found (empty for a flat image); the Norwood features read this one."""
    if float(rgb_small.std()) < 2.0:  # flat image: GrabCut has nothing to separate
        return np.zeros(rgb_small.shape[:2], bool)
    return _grabcut_head(rgb_small)


def _head_mask_and_flag(raw: np.ndarray, flat: bool) -> tuple[np.ndarray, bool]:
    """The GrabCut mask, or a centred disc when it holds nothing head-sized (flag True).

    Phone photos of a head put it in the middle; when it fills the frame the rectangle's margin is head
    too and GrabCut may keep nothing. A flat image keeps its empty mask (there is nothing to assume).
    """
    if flat or raw.mean() >= _MIN_HEAD_SHARE:
        return raw, False
    side = raw.shape[0]
    rows, cols = np.mgrid[0:side, 0:side]
    c = (side - 1) / 2.0
    return np.hypot(rows - c, cols - c) <= 0.4 * side, True


def _grabcut_head(rgb_small: np.ndarray) -> np.ndarray:
    side = rgb_small.shape[0]
    mask = np.zeros((side, side), np.uint8)
    margin = side // 10
    rect = (margin, margin, side - 2 * margin, side - 2 * margin)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    try:
        cv2.setRNGSeed(0)  # GrabCut's k-means start draws from OpenCV's global RNG: fix it
        cv2.grabCut(cv2.cvtColor(rgb_small, cv2.COLOR_RGB2BGR), mask, rect, bgd, fgd, 3, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return np.zeros((side, side), bool)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    # keep the component nearest the centre, fill holes (a bald patch is still head)
    n, lab, stats, cents = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros((side, side), bool)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    dist = np.hypot(cents[1:, 0] - side / 2, cents[1:, 1] - side / 2)
    best = 1 + int(np.argmax(areas / (1.0 + dist / side * 4)))
    comp = (lab == best).astype(np.uint8)
    comp = cv2.morphologyEx(comp, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(comp)
    cv2.drawContours(filled, contours, -1, 1, thickness=-1)
    return filled.astype(bool)


def _upright_turns(hair: np.ndarray, head: np.ndarray) -> int:
    """Number of counter-clockwise quarter turns that put the hairiest side of the head up."""
    side = hair.shape[0]
    rows, cols = np.mgrid[0:side, 0:side]
    c = (side - 1) / 2.0
    dy, dx = (rows - c) / side, (cols - c) / side
    w = hair & head
    # hair mass per side: up, left, down, right (in the unrotated image)
    scores = [float((-dy)[w].sum()), float((-dx)[w].sum()), float(dy[w].sum()), float(dx[w].sum())]
    # counter-clockwise quarter turns that bring each side to the top: up 0, left 3, down 2, right 1
    return (0, 3, 2, 1)[int(np.argmax(scores))]


def segment_head(image: np.ndarray) -> HeadSegmentation:
    """Find the head, segment hair from bare skin and turn the maps upright.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 photo (any size >= 32 px a side; it is resized to a square working size).

    Returns
    -------
    HeadSegmentation

    Examples
    --------
    >>> import numpy as np
    >>> seg = segment_head(np.zeros((64, 64, 3), np.uint8))
    >>> seg.head_fraction
    0.0
    """
    rgb = _as_rgb(image)
    small = cv2.resize(rgb, (WORK_SIDE_PX, WORK_SIDE_PX), interpolation=cv2.INTER_AREA)
    m = _maps(small)
    raw = _head_mask(small)
    head, assumed = _head_mask_and_flag(raw, float(small.std()) < 2.0)
    skin = head & (m["skin_colour"] > 0) & (m["texture"] * 30.0 < _TEXTURE_HAIR)
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    hair = head & ~skin
    k = _upright_turns(hair, head) if head.any() else 0
    head, hair, skin, raw = (np.rot90(a, k).copy() for a in (head, hair, skin, raw))
    frac = float(head.mean())
    if head.any():
        rr, cc = np.nonzero(head)
        center = (float(rr.mean()), float(cc.mean()))
    else:
        center = ((WORK_SIDE_PX - 1) / 2.0, (WORK_SIDE_PX - 1) / 2.0)
    radius = float(np.sqrt(head.sum() / np.pi)) if head.any() else 0.0
    return HeadSegmentation(head, hair, skin, 90 * k, frac, center, radius, assumed, raw)


def _zone_masks(seg: HeadSegmentation, view: str) -> dict[str, np.ndarray]:
    """Split the upright head into the zones its view shows, by horizontal bands and side strips."""
    head = seg.head_mask
    if not head.any():
        return {}
    rr, cc = np.nonzero(head)
    top, bottom = rr.min(), rr.max() + 1
    left, right = cc.min(), cc.max() + 1
    rows, cols = np.mgrid[0 : head.shape[0], 0 : head.shape[1]]
    v = (rows - top) / max(bottom - top, 1)  # 0 at the top of the head, 1 at the bottom
    u = (cols - left) / max(right - left, 1)  # 0 left, 1 right
    side = (u < 0.2) | (u > 0.8)
    zones: dict[str, np.ndarray] = {}
    if view == "front":  # upper half is scalp; the face is below
        zones["hairline"] = head & (v < 0.25) & ~side
        zones["temples"] = head & (v < 0.45) & side
        zones["mid_scalp"] = head & (v < 0.12) & ~side
    elif view == "top":  # face side is up once upright (hair mass up is the front)
        zones["hairline"] = head & (v < 0.25)
        zones["mid_scalp"] = head & (v >= 0.25) & (v < 0.6)
        zones["crown"] = head & (v >= 0.6)
    elif view == "back":
        zones["crown"] = head & (v < 0.35)
        zones["donor"] = head & (v >= 0.35) & (v < 0.75)
    else:  # left / right profile; which end is the face depends on the side
        front_is_right = view == "left"
        f = u if front_is_right else 1.0 - u
        upper = v < 0.45
        zones["hairline"] = head & upper & (f > 0.75)
        zones["temples"] = head & (v >= 0.25) & (v < 0.55) & (f > 0.55) & (f <= 0.75)
        zones["mid_scalp"] = head & (v < 0.25) & (f > 0.35) & (f <= 0.75)
        zones["crown"] = head & (v < 0.35) & (f <= 0.35)
        zones["donor"] = head & (v >= 0.35) & (v < 0.75) & (f <= 0.3)
    return {z: m for z, m in zones.items() if m.sum() >= 10}


def overview_coverage(
    image: np.ndarray,
    *,
    view: str,
    px_per_mm: float | None = None,
    segmentation: HeadSegmentation | None = None,
) -> OverviewCoverage:
    """Scalp coverage per visible zone and the recession geometry of one overview photo.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 photo of the whole head.
    view : {'front', 'top', 'left', 'right', 'back'}
        Which side of the head the photo shows (:func:`hairtrack.assessment.norwood.predict_view`
        estimates it).
    px_per_mm : float, optional
        Scale of the original photo at the scalp; with it, lengths come in cm and areas in cm².
    segmentation : HeadSegmentation, optional
        :func:`segment_head` of this image when the caller has it already (saves a GrabCut).

    Returns
    -------
    OverviewCoverage

    Examples
    --------
    >>> import numpy as np
    >>> cov = overview_coverage(np.zeros((64, 64, 3), np.uint8), view="top")
    >>> cov.head_found, cov.coverage_pct
    (False, None)
    """
    if view not in VIEWS:
        raise InputError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    px_per_mm = check_px_per_mm(px_per_mm)
    rgb = _as_rgb(image)
    seg = segmentation if segmentation is not None else segment_head(rgb)
    issues: list[str] = []
    if seg.head_assumed:
        issues.append("head_outline_assumed: no head outline found; a head filling the middle of the photo is assumed")
    if seg.head_fraction < _MIN_HEAD_SHARE:
        issues.append("no_head_found: no head-sized object near the centre of the photo")
        return OverviewCoverage(view, seg.orientation_deg, False, None, (), None, None, None, None, None, None,
                                tuple(issues))
    # working px -> original px (the photo is stretched to a square; use the mean scale)
    scale_orig = float(np.sqrt(rgb.shape[0] * rgb.shape[1])) / WORK_SIDE_PX
    mm_per_work_px = scale_orig / px_per_mm if px_per_mm else None
    disc = np.pi * seg.radius_px**2
    zones = []
    for z, m in _zone_masks(seg, view).items():
        area = float(m.sum())
        cov = 100.0 * float((seg.hair_mask & m).sum()) / area
        area_cm2 = area * mm_per_work_px**2 / 100.0 if mm_per_work_px else None
        zones.append(ZoneCoverage(z, round(cov, 1), round(area / disc, 3), area_cm2))
    head = seg.head_mask
    coverage = 100.0 * float(seg.hair_mask.sum()) / float(head.sum())
    # geometry, upright: frontal recession = bare band from the top of the head down the midline
    rr, cc = np.nonzero(head)
    top = rr.min()
    mid_c = int(round(seg.center_rc[1]))
    strip = slice(max(mid_c - 3, 0), mid_c + 4)
    frontal = temporal = vertex = bridge = None
    if view in ("front", "left", "right", "top"):
        col_hair = seg.hair_mask[:, strip].any(axis=1) & head[:, strip].any(axis=1)
        below = np.nonzero(col_hair[top:])[0]
        frontal = float(below[0]) / seg.radius_px if below.size else 2.0
        if view == "front":
            w = max(int((cc.max() - cc.min()) * 0.2), 1)
            lefts = seg.hair_mask[:, cc.min() : cc.min() + w].any(axis=1)
            first = np.nonzero(lefts[top:])[0]
            temporal = float(first[0]) / seg.radius_px if first.size else 2.0
    if view in ("top", "back"):
        crown = _zone_masks(seg, view).get("crown")
        if crown is not None:
            vertex = float((seg.skin_mask & crown).sum()) / disc
    if view == "top":
        mid = _zone_masks(seg, view).get("mid_scalp")
        if mid is not None:
            bridge = round(100.0 * float((seg.hair_mask & mid).sum()) / float(mid.sum()), 1)
    frontal_cm = frontal * seg.radius_px * mm_per_work_px / 10.0 if (frontal is not None and mm_per_work_px) else None
    vertex_cm2 = vertex * disc * mm_per_work_px**2 / 100.0 if (vertex is not None and mm_per_work_px) else None
    if view == "front" and seg.head_fraction > 0.6:
        issues.append("face_only: a close front photo shows no crown")
    return OverviewCoverage(
        view, seg.orientation_deg, True, round(coverage, 1), tuple(zones),
        None if frontal is None else round(frontal, 3), None if temporal is None else round(temporal, 3),
        None if vertex is None else round(vertex, 3), bridge, frontal_cm, vertex_cm2, tuple(issues),
    )


def coverage_to_dict(cov: OverviewCoverage) -> dict:
    """The JSON view of :class:`OverviewCoverage` (zones as ``{zone: coverage_pct}`` plus areas)."""
    return {
        "view": cov.view,
        "orientation_deg": cov.orientation_deg,
        "head_found": cov.head_found,
        "coverage_pct": cov.coverage_pct,
        "zones": {z.zone: {"coverage_pct": z.coverage_pct, "area_rel": z.area_rel, "area_cm2": z.area_cm2}
                  for z in cov.zones},
        "frontal_recession_rel": cov.frontal_recession_rel,
        "temporal_recession_rel": cov.temporal_recession_rel,
        "vertex_bald_area_rel": cov.vertex_bald_area_rel,
        "bridge_coverage_pct": cov.bridge_coverage_pct,
        "frontal_recession_cm": cov.frontal_recession_cm,
        "vertex_bald_area_cm2": cov.vertex_bald_area_cm2,
        "issues": list(cov.issues),
    }


def coverage_overlay(image: np.ndarray, segmentation: HeadSegmentation | None = None, *,
                     alpha: float = 0.45) -> np.ndarray:
    """The photo with hair tinted blue, bare scalp tinted orange and the head outlined (for the web page).

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 photo, as given to :func:`segment_head`.
    segmentation : HeadSegmentation, optional
        Its segmentation; computed when not given.
    alpha : float
        Opacity of the tints, 0-1.

    Returns
    -------
    ndarray
        H x W x 3 uint8 RGB, the same size and orientation as ``image``.

    Examples
    --------
    >>> import numpy as np
    >>> coverage_overlay(np.zeros((40, 60, 3), np.uint8)).shape
    (40, 60, 3)
    """
    if not (0.0 <= alpha <= 1.0):
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    rgb = _as_rgb(image)
    seg = segmentation if segmentation is not None else segment_head(rgb)
    k = -(seg.orientation_deg // 90)  # back to the photo's own frame
    h, w = rgb.shape[:2]

    def up(mask: np.ndarray) -> np.ndarray:
        m = np.ascontiguousarray(np.rot90(mask, k)).astype(np.uint8)
        return cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)

    out = rgb.astype(np.float32)
    for mask, colour in ((up(seg.hair_mask), (40, 110, 255)), (up(seg.skin_mask), (255, 140, 0))):
        out[mask] = (1 - alpha) * out[mask] + alpha * np.array(colour, np.float32)
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours(up(seg.head_mask).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), max(1, round(min(h, w) / 200)))
    return out


# --- features for the Norwood model ---------------------------------------------------------------

_MAP_NAMES = ("lum", "a", "b", "skin_colour", "texture", "coarse_grad", "specular", "dark", "bare")
_RINGS = ((0.0, 0.15), (0.15, 0.3), (0.3, 0.45), (0.45, 0.62))
_N_SECTORS = 8


def feature_names() -> tuple[str, ...]:
    """Names of the entries of :func:`overview_features`, in order."""
    names = [f"ring{i}_{m}" for i in range(len(_RINGS)) for m in _MAP_NAMES]
    names += [f"sector{s}_{m}" for s in range(_N_SECTORS) for m in ("bare", "skin_colour", "texture", "lum")]
    names += [f"hist_skin{i}_tex{j}" for i in range(3) for j in range(4)]
    names += [f"lum_q{q}" for q in (10, 50, 90)] + [f"tex_q{q}" for q in (10, 50, 90)]
    names += ["head_fraction", "head_bare_share", "head_hair_share", "upper_bare_share", "lower_bare_share",
              "largest_bare_blob", "bare_blob_centrality"]
    names += [f"{where}_{what}" for where in ("head", "core")
              for what in ("fine_tex_q10", "fine_tex_q25", "fine_tex_q50", "bare_fine3", "bare_fine5", "bare_fine8",
                           "near_skin10", "near_skin20", "specular", "dark")]
    return tuple(names)


def _fine_features(rgb: np.ndarray, head_small: np.ndarray) -> list[float]:
    """Texture at twice the working size (hair strands), bare-skin shares and closeness to the person's
    own skin colour, inside the head mask and inside the central disc."""
    side = 2 * WORK_SIDE_PX
    big = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(big, cv2.COLOR_RGB2LAB).astype(np.float32)
    ycc = cv2.cvtColor(big, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    hsv = cv2.cvtColor(big, cv2.COLOR_RGB2HSV)
    lum = lab[..., 0]
    mean = cv2.blur(lum, (3, 3))
    fine = np.sqrt(np.maximum(cv2.blur(lum * lum, (3, 3)) - mean * mean, 0.0))
    skin_col = ((ycc[..., 1] >= _CR_RANGE[0]) & (ycc[..., 1] <= _CR_RANGE[1]) & (ycc[..., 2] >= _CB_RANGE[0])
                & (ycc[..., 2] <= _CB_RANGE[1]) & (lum > 40))
    head = cv2.resize(head_small.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST).astype(bool)
    c = (side - 1) / 2.0
    rows, cols = np.mgrid[0:side, 0:side]
    core = np.hypot(rows - c, cols - c) / side < 0.3
    ref_px = skin_col & (fine < 3.0)
    ref = np.median(lab[ref_px], axis=0) if ref_px.sum() > 50 else np.array([170.0, 150.0, 150.0])
    dist = np.sqrt(((lab - ref) ** 2).sum(axis=2))
    spec = (lum > 200) & (hsv[..., 1] < 60)
    out: list[float] = []
    for region in (head, core):
        if region.sum() < 50:
            out += [0.0] * 10
            continue
        ft = fine[region]
        out += list(np.percentile(ft, (10, 25, 50)) / 30.0)
        out += [float((skin_col & (fine < t))[region].mean()) for t in (3.0, 5.0, 8.0)]
        out += [float((dist < t)[region].mean()) for t in (10.0, 20.0)]
        out += [float(spec[region].mean()), float((lum < 60)[region].mean())]
    return out


def overview_features(image: np.ndarray, *, segmentation: HeadSegmentation | None = None) -> np.ndarray:
    """A rotation-invariant feature vector of one overview photo for the Norwood model.

    Maps (lightness, Lab chroma, skin colour [2]_, fine texture, coarse gradient, specular highlights,
    darkness, bare skin) are averaged over concentric rings about the image centre (invariant to any
    rotation), over eight sectors turned so that the hairiest quarter is first (invariant to 90-degree
    turns), and summarised by a skin-colour x texture histogram and quantiles; head-mask figures follow.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 photo.
    segmentation : HeadSegmentation, optional
        :func:`segment_head` of this image when the caller has it already (saves a GrabCut).

    Returns
    -------
    ndarray of float64, shape (len(feature_names()),)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)
    >>> f0 = overview_features(img); f1 = overview_features(np.rot90(img).copy())
    >>> f0.shape == (len(feature_names()),), bool(np.allclose(f0, f1))
    (True, True)
    """
    rgb = _as_rgb(image)
    small = cv2.resize(rgb, (WORK_SIDE_PX, WORK_SIDE_PX), interpolation=cv2.INTER_AREA)
    m = _maps(small)
    if segmentation is not None:  # its maps are upright: turn the head mask back to the photo's frame
        found = segmentation.grabcut_mask if segmentation.grabcut_mask is not None else segmentation.head_mask
        head = np.rot90(found, -(segmentation.orientation_deg // 90))
    else:
        head = _head_mask(small)
    bare_px = (m["skin_colour"] > 0) & (m["texture"] * 30.0 < _TEXTURE_HAIR)
    m["bare"] = bare_px.astype(np.float32)
    side = WORK_SIDE_PX
    c = (side - 1) / 2.0
    rows, cols = np.mgrid[0:side, 0:side]
    r = np.hypot(rows - c, cols - c) / side
    feats: list[float] = []
    for lo, hi in _RINGS:
        ring = (r >= lo) & (r < hi)
        feats += [float(m[name][ring].mean()) for name in _MAP_NAMES]
    # sectors over the disc 0.1 < r < 0.45; angle measured so that a quarter turn shifts by 2 sectors
    ang = np.arctan2(-(rows - c), cols - c)  # counter-clockwise from +x
    sector = ((ang + np.pi) / (2 * np.pi) * _N_SECTORS).astype(int) % _N_SECTORS
    disc = (r > 0.1) & (r < 0.45)
    sec_vals = np.zeros((_N_SECTORS, 4))
    for s in range(_N_SECTORS):
        sel = disc & (sector == s)
        sec_vals[s] = [m["bare"][sel].mean(), m["skin_colour"][sel].mean(), m["texture"][sel].mean(),
                       m["lum"][sel].mean()]
    # canonical start: of the four quarter-turn rotations of the sector table, the one whose bare-skin
    # (then texture) column is lexicographically smallest, i.e. the least bare side first; a quarter turn
    # of the photo only rotates the table, so the choice is invariant (ties are identical tables)
    rolled = [np.roll(sec_vals, -2 * q, axis=0) for q in range(4)]
    keys = [tuple(np.round(t[:, 0], 6)) + tuple(np.round(t[:, 2], 6)) for t in rolled]
    feats += list(rolled[min(range(4), key=lambda q: keys[q])].ravel())
    core = r < 0.45
    skin_soft = cv2.GaussianBlur(m["skin_colour"], (0, 0), 2.0)[core]
    tex = m["texture"][core]
    hist, _, _ = np.histogram2d(skin_soft, tex, bins=(3, 4), range=((0, 1.0001), (0, 1.0001)))
    feats += list((hist / max(tex.size, 1)).ravel())
    feats += list(np.percentile(m["lum"][core], (10, 50, 90))) + list(np.percentile(tex, (10, 50, 90)))
    hf = float(head.mean())
    if head.any():
        bare_head = bare_px & head
        hb = float(bare_head.sum()) / float(head.sum())
        rr = np.nonzero(head)[0]
        # upper/lower halves after the upright turn are not rotation invariant; use the halves of the head
        # split perpendicular to the axis from the bare centroid to the head centroid instead
        hc = np.array([rows[head].mean(), cols[head].mean()])
        if bare_head.any():
            bc = np.array([rows[bare_head].mean(), cols[bare_head].mean()])
            axis = bc - hc
            proj = (rows - hc[0]) * axis[0] + (cols - hc[1]) * axis[1]
            toward = head & (proj > 0)
            away = head & (proj <= 0)
            ub = float((bare_head & toward).sum()) / max(float(toward.sum()), 1.0)
            lb = float((bare_head & away).sum()) / max(float(away.sum()), 1.0)
            n, lab, stats, cents = cv2.connectedComponentsWithStats(bare_head.astype(np.uint8), connectivity=8)
            big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            largest = float(stats[big, cv2.CC_STAT_AREA]) / float(head.sum())
            centr = float(np.hypot(*(cents[big][::-1] - hc))) / np.sqrt(head.sum() / np.pi)
        else:
            ub = lb = largest = 0.0
            centr = 1.0
        del rr
    else:
        hb = ub = lb = largest = 0.0
        centr = 1.0
    feats += [hf, hb, 1.0 - hb if head.any() else 0.0, ub, lb, largest, centr]
    feats += _fine_features(rgb, head)
    return np.asarray(feats, dtype=np.float64)
