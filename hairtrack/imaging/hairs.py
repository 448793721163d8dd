"""Hair shafts in a trichoscopy photo: find each one, split the ones that touch or cross, measure them.

The classical pipeline (the documented fallback and the comparison for any learned detector):

1. brightness ``V = max(R, G, B)`` (the blue-grey of a shaft under the skin and the blue text of the
   software's labels are bright in ``V``, a pigmented shaft is dark in every channel); the drawing the field
   names (the measurement circle, its label's letters, a scale bar and its label) is filled in with skin;
2. relative darkness ``D = (B - V) / B`` against the background ``B``, a grey closing of ``V`` with a disc
   wider than any shaft (a black top-hat, Serra 1982);
3. hysteresis threshold of ``D`` (Canny 1986): strong shaft pixels grow into weak connected ones;
4. skeleton (Zhang & Suen 1984, as in scikit-image), cut at its junctions into segments; spurs are pruned,
   junctions joined by a segment shorter than a shaft width are one crossing; at each junction the two
   most nearly collinear segments are one hair (the continuation rule), the others end there: a V of two
   hairs leaving one opening gives two hairs sharing that end, an X gives two hairs;
5. each hair's width from its darkness profile: the integral of ``D`` across the shaft divided by the
   shaft's contrast, which is independent of blur (a blur spreads darkness, it does not add any);
   parallel hairs fused into one bar are split by width (a bar ``k`` times the image's median width
   holds ``k`` hairs).

Everything runs on a working copy about 640 px on its long side; positions and sizes are reported in
the input's pixels, (row, col).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from hairtrack.errors import InputError
from hairtrack.imaging.calibration import check_px_per_mm  # re-exported: the one scale check
from hairtrack.imaging.quality import ScanField, as_rgb_uint8, scan_field
from hairtrack.imaging.quantiles import nan_row_medians, nan_row_percentiles

__all__ = ["Hair", "detect_hairs", "check_px_per_mm", "WORK_SIDE_PX", "DERMOSCOPE_70X_PX_PER_MM"]

WORK_SIDE_PX = 640
# A 70x handheld dermoscope at 1280 x 1024 (3.6 x 2.9 mm): the 1.0 mm scale bar some of the real dev photos carry
# is 358 px long (benchmarks/scale_bar.py). The defaults below were chosen on those photos when 220 px/mm was
# assumed; they are given here at the true scale (times 220 / 358), so a photo measured at its own scale is read
# as they were tuned.
DERMOSCOPE_70X_PX_PER_MM = 358.0
_ONCE_ASSUMED_PX_PER_MM = 220.0
_MAX_WIDTH_MM = 0.16 * _ONCE_ASSUMED_PX_PER_MM / DERMOSCOPE_70X_PX_PER_MM  # the widest shaft the darkness is
# measured for (the closing must be wider)


@dataclass(frozen=True, slots=True)
class Hair:
    """One visible hair shaft, in the input image's pixels.

    Attributes
    ----------
    row_px, col_px : float
        Midpoint of the visible shaft.
    width_px : float
        Shaft diameter.
    length_px : float
        Visible length, end to end.
    angle_deg : float
        Direction of the shaft in [0, 180): 0 along the columns (left-right), 90 along the rows.
    end_a, end_b : tuple of float
        The two ends, (row, col). The classical pipeline puts at ``end_a`` the end at a junction with other
        hairs when there is one; the learned detector's order says nothing (its shafts have no direction), so
        code that needs the exit end looks at both (:func:`hairtrack.imaging.units.group_units`).
    contrast : float
        Relative darkness of the shaft against the skin around it, 0-1.
    width_um : float or None
        Diameter in micrometres when a scale was given.
    """

    row_px: float
    col_px: float
    width_px: float
    length_px: float
    angle_deg: float
    end_a: tuple[float, float]
    end_b: tuple[float, float]
    contrast: float
    width_um: float | None = None


def _odd(n: float) -> int:
    k = max(int(round(n)), 3)
    return k if k % 2 else k + 1


def _contrast_window_px(ppm_work: float) -> int:
    """The darkness's background window (px, odd) at ``ppm_work``: several of the widest shafts across, so that
    hairs stay a minority of any window; the same in mm for both detectors."""
    return _odd(max(2.6 * _MAX_WIDTH_MM * ppm_work, 9))


def _darkness(rgb: np.ndarray, overlay: np.ndarray, close_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative darkness D in [0, 1] and the background brightness."""
    r_, g_, b_ = cv2.split(rgb)
    v = cv2.max(cv2.max(r_, g_), b_)
    if overlay.any():  # drawing (the red circle is bright in V, but would cut the hairs it crosses): fill it in
        # fill each drawn pixel with the darkest non-drawn pixel near it (cheaper than inpainting, and a
        # hair crossing the line stays whole)
        mask = cv2.dilate(overlay.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        lifted = np.where(mask, np.uint8(255), v)
        v = np.where(mask, cv2.erode(lifted, np.ones((7, 7), np.uint8)), v)
    v = cv2.GaussianBlur(v, (3, 3), 0)
    # Background: a median over a window several shafts wide, at quarter resolution (hairs are a minority
    # of any such window; unlike a closing, bright specular glints do not raise it).
    q = 4 if min(v.shape) >= 64 else 1
    small = cv2.resize(v, (max(v.shape[1] // q, 1), max(v.shape[0] // q, 1)), interpolation=cv2.INTER_AREA)
    k = min(_odd(close_px / q), 2 * (min(small.shape) // 2) - 1)
    bg = cv2.medianBlur(small, k) if k >= 3 else small
    bg = cv2.GaussianBlur(bg, (0, 0), 1.5)
    bg = cv2.resize(bg, (v.shape[1], v.shape[0]), interpolation=cv2.INTER_LINEAR)
    bgf = np.maximum(bg.astype(np.float32), np.float32(1.0))
    # (bgf - v) / bgf clipped to [0, 1], in place: the same float32 steps without three temporaries
    d = v.astype(np.float32)
    np.subtract(bgf, d, out=d)
    np.divide(d, bgf, out=d)
    np.clip(d, 0.0, 1.0, out=d)
    return d, bgf


_NB = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32)


def _skeleton_hairs(comp: np.ndarray, dist: np.ndarray, spur_px: float, min_len_px: float):
    """Split one component's skeleton into hairs; yields (pixels (N, 2) int, junction_end or None)."""
    skel = skeletonize(comp)
    if skel.sum() < 2:
        return []
    sk = skel.astype(np.uint8)
    nb = cv2.filter2D(sk, -1, _NB, borderType=cv2.BORDER_CONSTANT)
    junction = skel & (nb >= 3)
    seg_mask = skel & ~junction
    seg_lab, n_seg = ndi.label(seg_mask, structure=np.ones((3, 3)))
    if n_seg == 0:
        return []
    jun_lab, n_jun = ndi.label(junction, structure=np.ones((3, 3)))
    segs = [np.argwhere(seg_lab == i + 1) for i in range(n_seg)]
    # which junction clusters touch which segments
    touches: dict[int, set[int]] = {j: set() for j in range(1, n_jun + 1)}
    if n_jun:
        grown = ndi.grey_dilation(jun_lab, size=(3, 3))
        for i, px in enumerate(segs):
            for j in np.unique(grown[px[:, 0], px[:, 1]]):
                if j:
                    touches[int(j)].add(i)
    seg_j: list[set[int]] = [set() for _ in segs]
    for j, ss in touches.items():
        for i in ss:
            seg_j[i].add(j)
    # union-find over junction clusters joined by very short segments (one crossing drawn as two forks)
    parent = list(range(n_jun + 1))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    alive = [True] * n_seg
    for i, px in enumerate(segs):
        js = list(seg_j[i])
        if len(js) == 2 and len(px) < spur_px:
            parent[find(js[0])] = find(js[1])
            alive[i] = False
        elif len(js) == 1 and len(px) < spur_px:  # a spur: a short twig with a free end
            alive[i] = False
    clusters: dict[int, list[int]] = {}
    for j in range(1, n_jun + 1):
        clusters.setdefault(find(j), []).append(j)
    cent = {}
    for root, members in clusters.items():
        pts = np.argwhere(np.isin(jun_lab, members))
        cent[root] = pts.mean(axis=0)
    at: dict[int, list[int]] = {}
    for i in range(n_seg):
        if alive[i]:
            for j in seg_j[i]:
                at.setdefault(find(j), []).append(i)
    seg_parent = list(range(n_seg))

    def sfind(a: int) -> int:
        while seg_parent[a] != a:
            seg_parent[a] = seg_parent[seg_parent[a]]
            a = seg_parent[a]
        return a

    ends: dict[int, np.ndarray] = {}
    reach = max(6.0, 2.5 * spur_px)
    for root, ss in at.items():
        c = cent[root]
        dirs = []
        for i in ss:
            px = segs[i]
            dd = np.hypot(px[:, 0] - c[0], px[:, 1] - c[1])
            near = px[dd <= reach]
            if len(near) == 0:
                near = px
            v = near.mean(axis=0) - c
            nrm = np.hypot(*v)
            dirs.append(v / nrm if nrm > 0 else v)
        used: set[int] = set()
        pairs = []
        for a in range(len(ss)):
            for b in range(a + 1, len(ss)):
                pairs.append((float(dirs[a] @ dirs[b]), a, b))
        pairs.sort()
        for cosab, a, b in pairs:
            if cosab > -0.85:  # more than ~32 degrees from straight: not one hair
                break
            if a in used or b in used:
                continue
            used.update((a, b))
            seg_parent[sfind(ss[a])] = sfind(ss[b])
        for k, i in enumerate(ss):
            if k not in used:
                ends.setdefault(i, c)
    groups: dict[int, list[int]] = {}
    for i in range(n_seg):
        if alive[i]:
            groups.setdefault(sfind(i), []).append(i)
    out = []
    for members in groups.values():
        px = np.concatenate([segs[i] for i in members])
        jend = next((ends[i] for i in members if i in ends), None)
        out.append((px, jend))
    return out


def detect_hairs(image: np.ndarray, *, px_per_mm: float | None = None, min_length_um: float = 250.0 * _ONCE_ASSUMED_PX_PER_MM / DERMOSCOPE_70X_PX_PER_MM,
                 high: float = 0.32, low: float = 0.20, spur_widths: float = 1.5,
                 field: ScanField | None = None) -> tuple[Hair, ...]:
    """Find the hair shafts of a trichoscopy photo.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB (uint8; grey, 16-bit and float are converted).
    px_per_mm : float, optional
        Scale; sets the shortest hair kept and gives each hair ``width_um``. Without it a 70x dermoscope
        at 1280 x 1024 (358 px/mm at that size) is assumed for the size limits only.
    min_length_um : float
        Shorter dark pieces are not counted (pores, scales, dots). (250 until 2026-11-28, with a 70x frame
        taken for 220 px/mm: the same length in its pixels.)
    high, low : float
        Hysteresis thresholds on relative darkness (0-1). The defaults (with ``min_length_um``) were
        chosen on the patient-disjoint ``tune`` half of the trichoscopy dev set (benchmarks/trichoscopy.py).
    spur_widths : float
        Skeleton twigs shorter than this many shaft widths are pruned (blunt clipped ends fork).
    field : ScanField, optional
        From :func:`hairtrack.imaging.quality.scan_field`; computed when not given.

    Returns
    -------
    tuple of Hair
        Sorted by row, then column.

    Examples
    --------
    >>> from hairtrack.synth import render_scalp
    >>> scene = render_scalp(seed=3, shape=(480, 600), px_per_mm=150.0, n_units=8, difficulty="easy")
    >>> hairs = detect_hairs(scene.image, px_per_mm=scene.px_per_mm)
    >>> len(scene.hairs), len(hairs), round(hairs[0].width_um)
    (13, 12, 32)
    """
    rgb = as_rgb_uint8(image)
    ppm = check_px_per_mm(px_per_mm)
    h, w = rgb.shape[:2]
    if min(h, w) < 16:
        return ()
    f = min(1.0, WORK_SIDE_PX / max(h, w))
    if field is None:
        field = scan_field(rgb)
    if f < 1.0:
        size = (max(int(round(w * f)), 2), max(int(round(h * f)), 2))
        work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        usable = cv2.resize(field.usable.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        overlay = cv2.resize(field.overlay.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    else:
        work, usable, overlay = rgb, field.usable, field.overlay
    ppm_work = (ppm if ppm is not None else DERMOSCOPE_70X_PX_PER_MM * max(h, w) / 1280.0) * f
    d, _ = _darkness(work, overlay, _contrast_window_px(ppm_work))
    d[~usable] = 0.0
    strong = d >= high
    weak = d >= low
    if not strong.any():
        return ()
    lab, n = ndi.label(weak, structure=np.ones((3, 3)))
    keep = np.zeros(n + 1, bool)
    keep[np.unique(lab[strong])] = True
    keep[0] = False
    mask = keep[lab]
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).astype(bool)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    min_len = max(min_length_um / 1000.0 * ppm_work, 6.0)
    lab, n = ndi.label(mask, structure=np.ones((3, 3)))
    objs = ndi.find_objects(lab)
    raw = []
    for i, sl in enumerate(objs):
        if sl is None:
            continue
        r0, c0 = sl[0].start, sl[1].start
        comp = np.pad(lab[sl] == i + 1, 1)
        if comp.sum() < min_len * 1.5:
            continue
        cdist = np.pad(dist[sl], 1)
        spur = max(4.0, spur_widths * 2.0 * float(np.median(cdist[comp])) + 1.0)
        for px, jend in _skeleton_hairs(comp, cdist, spur, min_len):
            px = px + np.array([r0 - 1, c0 - 1])
            if jend is not None:
                jend = jend + np.array([r0 - 1, c0 - 1])
            raw.append((px, jend))
    hairs_w = []
    for px, jend in raw:
        pts = px.astype(np.float64)
        if jend is not None:
            pts = np.vstack([pts, jend])
        mean = pts.mean(axis=0)
        cov = np.cov((pts - mean).T) if len(pts) > 2 else np.eye(2)
        evals, evecs = np.linalg.eigh(cov)
        axis = evecs[:, 1]
        proj = (pts - mean) @ axis
        span = float(proj.max() - proj.min()) + 1.0
        if span < min_len:
            continue
        width, contrast = _profile_width(d, px, axis)
        if width <= 0 or span < 2.5 * width:
            continue
        a = pts[np.argmin(proj)]
        b = pts[np.argmax(proj)]
        if jend is not None and np.hypot(*(b - jend)) < np.hypot(*(a - jend)):
            a, b = b, a
        mid = (a + b) / 2.0
        hairs_w.append([mid, width, span, axis, a, b, contrast])
    hairs_w = _drop_swallowed(_merge_collinear(hairs_w))
    if not hairs_w:
        return ()
    # Contrast-normalised widths: thin shafts are blurred below their true contrast, so their integral is
    # divided by the contrast of the well-resolved shafts of the same image.
    plateau = [c for (_, wd, _, _, _, _, c) in hairs_w if wd >= 4.0]
    ref_c = float(np.median(plateau)) if len(plateau) >= 2 else None
    out: list[Hair] = []
    widths = []
    for rec in hairs_w:
        mid, width, span, axis, a, b, contrast = rec
        widths.append(width)
    med_w = float(np.median(widths))
    for mid, width, span, axis, a, b, contrast in hairs_w:
        integral = width * contrast
        if ref_c is not None and width < 4.0:
            width = integral / max(ref_c, contrast)
        copies = 1
        if len(hairs_w) >= 4 and width > 1.75 * med_w:  # parallel shafts fused into one bar
            copies = min(int(round(width / med_w)), 4)
        normal = np.array([-axis[1], axis[0]])
        angle = float(np.degrees(np.arctan2(-axis[0], axis[1])) % 180.0)
        for k in range(copies):
            off = (k - (copies - 1) / 2.0) * width / copies
            m = (mid + normal * off) / f
            wpx = width / copies / f
            out.append(Hair(row_px=float(m[0]), col_px=float(m[1]), width_px=float(wpx), length_px=float(span / f),
                            angle_deg=angle, end_a=(float(a[0] / f), float(a[1] / f)),
                            end_b=(float(b[0] / f), float(b[1] / f)), contrast=float(contrast),
                            width_um=None if ppm is None else float(wpx / ppm * 1000.0)))
    out.sort(key=lambda hr: (hr.row_px, hr.col_px))
    return tuple(out)


def _lobe_stats(prof: np.ndarray, edges: bool = False) -> tuple[np.ndarray, ...]:
    """Integral and peak of the central lobe of darkness profiles centred on a shaft, and with ``edges`` how
    wide (px) its edges are.

    Each row of ``prof`` (an odd number of samples, 1 px apart) has the level at its ends subtracted; the lobe
    runs out from the peak near the centre until the profile falls under a quarter of that peak, so that a
    neighbouring parallel hair does not add to this one.

    The edge width is the peak over the steepest fall inside the lobe, taken over 4 px (NaN where the lobe has
    no slope). A wide box blurred by a Gaussian of sigma reads 4 / erf(sqrt(2) / sigma) px (4.2 px at sigma 1,
    6.9 at 2.5, towards 2.5 sigma beyond). The steepest fall is a maximum, which the photo's noise steepens;
    taken over 4 px rather than 2 it is steepened less (the 2-px slope read a hard render's blur 15-20% low).
    Real shafts are rounded, which widens their edges too, but less than it moves the crossings of fixed levels
    (docs/hair_detector_card.md, twenty-ninth session).
    """
    half = prof.shape[-1] // 2
    base = np.minimum(prof[..., :3].mean(axis=-1), prof[..., -3:].mean(axis=-1))[..., None]
    p = np.clip(prof - base, 0, None)
    centre = half
    peak = p[..., centre - 1:centre + 2].max(axis=-1)
    below = p < 0.25 * peak[..., None]
    before = below[..., :centre][..., ::-1]
    left = np.where(before.any(axis=-1), centre - np.argmax(before, axis=-1), 0)
    right = np.where(below[..., centre:].any(axis=-1), centre + np.argmax(below[..., centre:], axis=-1), 2 * half + 1)
    idx = np.arange(p.shape[-1])
    lobe = (idx >= left[..., None]) & (idx < right[..., None])
    integral = (p * lobe).sum(axis=-1)
    if not edges:
        return integral, peak
    fall = np.abs(p[..., 4:] - p[..., :-4]) / 4.0  # centred on samples 2 .. n-3
    steepest = np.where(lobe[..., 2:-2], fall, 0.0).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return integral, peak, np.where(steepest > 0, peak / steepest, np.nan)


def _profile_widths(d: np.ndarray, pts: np.ndarray, axes: np.ndarray, width_pct: float = 50.0, *,
                    edges: bool = False, centre_px: int = 0, parted_ratio: float = 0.0) -> np.ndarray:
    """Width (working px), contrast and edge width of shafts from darkness profiles across them, one row each.

    ``pts`` (shafts, points, 2) are the (row, col) centres of each shaft's profiles and ``axes`` (shafts, 2) its
    direction. A profile of ``D`` 29 px long is taken perpendicular to the axis at each point
    (:func:`_lobe_stats`); a shaft's width is ``integral / peak`` (the width of a box of the same area and
    height) at the ``width_pct`` percentile over its profiles (the median by default), its contrast the median
    peak and, with ``edges``, the median width of its edges (px, :func:`_lobe_stats`; 0 without), over the
    profiles that peak (over 0.05); a row is all 0 where none does. All profiles are sampled in one pass, about
    27,000 at a time.

    With ``centre_px`` a shaft's profiles are first moved together across it, by whole pixels, up to that many
    px: from its line uphill to the nearest peak of their mean (its sums of 3 samples). A shaft found a few px to
    one side of its middle puts one of its edges under the lobe's peak, so that it reads wider and its edges
    sharper than they are. The mean over the shaft's profiles, rather than each profile's own, keeps the noise
    from choosing where the peak is read (which read wide shafts' flat tops dark, and so their widths low); the
    nearest peak, rather than the darkest point within reach, keeps a thin shaft on itself when a thick
    neighbour's edge lies within reach.

    With ``parted_ratio`` (> 1), where the median width of a shaft's first three profiles and that of its last
    three differ by that factor or more, its width is the lesser of the narrower end's median and the percentile
    above: the shafts of a unit leave one opening and part towards their tips, so a thin shaft lying on a thicker
    neighbour reads it over most of its length but is clear of it at one end.
    """
    n, k = pts.shape[:2]
    out = np.zeros((n, 3))
    if n == 0:
        return out
    normals = np.stack([-axes[:, 1], axes[:, 0]], axis=1).astype(np.float32)
    half = 14
    reach = int(centre_px)
    span = half + reach  # sampled out to here, so that a moved profile keeps its 29 samples
    t = np.arange(-span, span + 1, dtype=np.float32)
    rows = (pts[..., 0:1] + t[None, None, :] * normals[:, None, None, 0]).astype(np.float32).reshape(-1, 2 * span + 1)
    cols = (pts[..., 1:2] + t[None, None, :] * normals[:, None, None, 1]).astype(np.float32).reshape(-1, 2 * span + 1)
    chunk = k * max(1, 27000 // k)  # whole shafts, and remap's maps under 32,767 rows
    prof = np.concatenate([cv2.remap(d, cols[i:i + chunk], rows[i:i + chunk], cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE) for i in range(0, len(rows), chunk)])
    if reach > 0:
        # each shaft's mean profile, its 3-sample sums at offsets -reach .. reach from the line (index reach is the
        # line); one step at a time towards the larger neighbour while it is larger, to the nearest peak
        near = prof.reshape(n, k, -1).mean(axis=1)[:, half - 1:half + 2 * reach + 2]
        sums = np.pad(near[:, :-2] + near[:, 1:-1] + near[:, 2:], ((0, 0), (1, 1)), constant_values=-np.inf)
        at = np.full(n, reach + 1)  # in the padded sums
        rows_n = np.arange(n)
        for _ in range(reach):
            here, left, right = sums[rows_n, at], sums[rows_n, at - 1], sums[rows_n, at + 1]
            at += (right > here) & (right >= left)
            at -= (left > here) & (left > right)
        start = np.repeat(at - 1, k)
        prof = np.take_along_axis(prof, start[:, None] + np.arange(2 * half + 1)[None, :], axis=1)
    integral, peak, *edge = (a.reshape(n, k) for a in _lobe_stats(prof, edges))
    good = peak > 0.05
    some = good.any(axis=1)
    if some.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            widths = np.where(good, integral / peak, np.nan)[some]
        out[some, 0] = nan_row_percentiles(widths, width_pct)  # numpy's nanpercentile, rows at once
        if parted_ratio > 1.0 and k >= 6:
            both = np.isfinite(widths[:, :3]).any(axis=1) & np.isfinite(widths[:, -3:]).any(axis=1)
            a, b = nan_row_medians(widths[both, :3]), nan_row_medians(widths[both, -3:])
            near = np.minimum(a, b)
            parted = np.maximum(a, b) > parted_ratio * near
            at = np.flatnonzero(some)[np.flatnonzero(both)[parted]]
            out[at, 0] = np.minimum(out[at, 0], near[parted])
        out[some, 1] = nan_row_medians(np.where(good, peak, np.nan)[some])
        if edges:
            edge = np.where(good, edge[0], np.nan)[some]
            read = np.isfinite(edge).any(axis=1)
            out[np.flatnonzero(some)[read], 2] = nan_row_medians(edge[read])
    return out


def _profile_width(d: np.ndarray, px: np.ndarray, axis: np.ndarray) -> tuple[float, float]:
    """Width (working px) and contrast of one shaft from darkness profiles across it at up to 24 of its
    skeleton points (:func:`_profile_widths`; 0, 0 where no profile peaks)."""
    if len(px) > 24:
        px = px[np.linspace(0, len(px) - 1, 24).astype(int)]
    width, contrast, _ = _profile_widths(d, np.asarray(px)[None], np.asarray(axis)[None])[0]
    return float(width), float(contrast)


def _merge_collinear(recs: list[list]) -> list[list]:
    """Join pieces of one shaft: nearly parallel (< 12 degrees), on one line (offset under half a width)
    and end to end or overlapping (gap under 1.5 widths)."""
    recs = list(recs)
    changed = True
    while changed:
        changed = False
        for i in range(len(recs)):
            for j in range(i + 1, len(recs)):
                mi, wi, si, ai, pa, pb, ci = recs[i]
                mj, wj, sj, aj, qa, qb, cj = recs[j]
                if abs(float(ai @ aj)) < 0.978:
                    continue
                axis = ai if float(ai @ aj) > 0 else -aj
                axis = (ai + (aj if float(ai @ aj) > 0 else -aj)) / 2.0
                axis /= np.hypot(*axis)
                normal = np.array([-axis[1], axis[0]])
                w = max(wi, wj)
                if abs(float((mj - mi) @ normal)) > max(0.5 * w, 1.5):
                    continue
                pi = sorted(((pa - mi) @ axis, (pb - mi) @ axis))
                pj = sorted(((qa - mi) @ axis, (qb - mi) @ axis))
                gap = max(pj[0] - pi[1], pi[0] - pj[1])
                if gap > 1.5 * w + 2.0:
                    continue
                pts = [pa, pb, qa, qb]
                proj = [float((p - mi) @ axis) for p in pts]
                a, b = pts[int(np.argmin(proj))], pts[int(np.argmax(proj))]
                span = max(proj) - min(proj) + 1.0
                width = (wi * si + wj * sj) / (si + sj)
                contrast = (ci * si + cj * sj) / (si + sj)
                recs[i] = [(a + b) / 2.0, width, span, axis, a, b, contrast]
                del recs[j]
                changed = True
                break
            if changed:
                break
    return recs


def _drop_swallowed(recs: list[list]) -> list[list]:
    """Drop short pieces lying inside a longer shaft's body (skeleton debris of a wide fused bar)."""
    order = sorted(range(len(recs)), key=lambda k: -recs[k][2])
    kept: list[list] = []
    for k in order:
        m, w, span, axis, a, b, c = recs[k]
        inside = False
        for big in kept:
            mb, wb, sb, ab, pa, pb, cb = big
            if span > 0.6 * sb:
                continue
            normal = np.array([-ab[1], ab[0]])
            along = abs(float((m - mb) @ ab))
            if abs(float((m - mb) @ normal)) < 0.5 * wb + 1.0 and along < sb / 2.0:
                inside = True
                break
        if not inside:
            kept.append(recs[k])
    return kept
