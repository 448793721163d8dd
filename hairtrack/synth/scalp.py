"""Synthetic trichoscopy images of clipped scalp with exact ground truth.

Made to resemble 70x handheld dermoscope photos (1280 x 1024; drawn at 220 px/mm by default, while such a
photo is at 358 px/mm): pale skin with a
low-frequency mottle, furrows, glints and pores; clipped shafts of known width, colour, angle and length
leaving the skin in follicular units of 1-4 that share an exit point (with the blue-grey of the shaft
under the skin behind it); shafts of one unit crossing, and with ``crossing_hairs`` single hairs drawn across
another unit's (the presets' units run one way and stand apart); blur, uneven light and vignetting, sensor noise
and JPEG artefacts; optionally a burned-in banner at the top and a red measurement circle with its label box.
Hairs of units whose exit point lies outside the frame, and hairs the frame's edge (or the banner, which
analyze() leaves out of the field) cuts, are border hairs, flagged ``at_border`` (the real dev labels often
miss those); a border hair showing less than ``min_visible_um`` is drawn but left out of the truth.

``varied=True`` widens every one of these to what the real dev photos show, for training a detector on
synthetic scalps only: magnification (hair size 0.7-1.8x), short clipped and broken shafts, near-parallel
units whose shafts touch along their length, thin light hairs, shafts with a specular stripe, white scale
flakes and bluish haze on brighter, bluer or pinker skin, stronger uneven light and vignetting, blur up to
about 3 px, noise, JPEG quality 55-95, and a scale bar with a grey strip. Its extra draws come from a second
generator, so ``varied=False`` gives the same pixels as before. ``rising_p`` draws hairs that rise out of
the focal plane, softer towards the tip. :func:`add_defocused_shafts` lays
out-of-focus shafts (hairs above the focal plane, which a count leaves out) over any image, as a training
augmentation.

Everything is drawn with a seeded ``numpy.random.Generator``: the same arguments give the same pixels.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, replace

import cv2
import numpy as np

__all__ = ["SynthHair", "SynthUnit", "SynthScalp", "render_scalp", "add_defocused_shafts", "shafts_cross",
           "DIFFICULTIES"]

DIFFICULTIES = ("easy", "medium", "hard")

_PRESETS = {
    #          blur_px  noise  vignette  width_um     splay_deg  jpeg  light_hair_p  unit_p (1, 2, 3, 4)
    "easy": dict(blur=0.5, noise=2.0, vignette=0.0, width=(55, 100), splay=(16, 30), jpeg=95, light=0.0,
                 unit_p=(0.45, 0.45, 0.10, 0.0)),
    "medium": dict(blur=0.9, noise=4.0, vignette=0.2, width=(30, 100), splay=(10, 24), jpeg=88, light=0.1,
                   unit_p=(0.35, 0.40, 0.20, 0.05)),
    "hard": dict(blur=1.4, noise=6.0, vignette=0.35, width=(18, 110), splay=(6, 18), jpeg=75, light=0.2,
                 unit_p=(0.30, 0.40, 0.22, 0.08)),
}


@dataclass(frozen=True, slots=True)
class SynthHair:
    """A drawn hair, in image pixels (row, col). The midpoint and length are those of the visible shaft."""

    row_px: float
    col_px: float
    width_px: float
    width_um: float
    length_px: float
    angle_deg: float
    unit: int
    exit_row_px: float
    exit_col_px: float
    at_border: bool
    index_in_unit: int = 0  # its place in the unit: (unit, index_in_unit) names it for ``hide_hairs``

    @property
    def ends(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The visible shaft's two ends, (row, col): its midpoint less and plus half its length along
        ``angle_deg`` (counter-clockwise from the columns' axis, rows pointing down)."""
        a = math.radians(self.angle_deg)
        half = (-math.sin(a) * self.length_px / 2, math.cos(a) * self.length_px / 2)
        return (self.row_px - half[0], self.col_px - half[1]), (self.row_px + half[0], self.col_px + half[1])


@dataclass(frozen=True, slots=True)
class SynthUnit:
    """A follicular unit: its exit point and how many visible hairs leave it."""

    row_px: float
    col_px: float
    hairs: int


@dataclass(frozen=True, slots=True)
class SynthScalp:
    """A rendered image (H x W x 3 uint8 RGB) with its scale and exact hairs and units."""

    image: np.ndarray
    px_per_mm: float
    hairs: tuple[SynthHair, ...]
    units: tuple[SynthUnit, ...]
    difficulty: str
    seed: int


def shafts_cross(first: SynthHair, second: SynthHair) -> bool:
    """Whether two hairs' visible shafts cross: each one's ends lie on either side of the other's line (shafts
    that only touch, end on shaft, or lie on one line do not)."""
    (a, b), (c, d) = first.ends, second.ends

    def turn(o, p, q) -> float:  # > 0 left, < 0 right, 0 on the line o -> p
        return (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])

    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


def _tinted(tone: float, tint: float) -> np.ndarray:
    """RGB of a hair's grey ``tone``, warmer (tint > 0) or cooler (tint < 0)."""
    return np.array([tone * (1 + tint), tone, tone * (1 - tint)], np.float32)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    h, w = shape
    q = max(int(sigma // 3), 1)
    small = rng.standard_normal((max(h // q, 2), max(w // q, 2))).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), max(sigma / q, 0.5))
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return big / max(float(big.std()), 1e-6)


def _segment_coverage(shape, p0, p1, width: float, canvas: np.ndarray, value: float, *,
                      pad: float = 2.0) -> tuple[slice, slice] | None:
    """Blend an anti-aliased capsule of ``width`` px from p0 to p1 (row, col) into ``canvas`` (max).

    Returns the window that was touched (None when the capsule is outside the frame)."""
    h, w = shape
    r0 = int(max(math.floor(min(p0[0], p1[0]) - width - pad), 0))
    r1 = int(min(math.ceil(max(p0[0], p1[0]) + width + pad), h - 1))
    c0 = int(max(math.floor(min(p0[1], p1[1]) - width - pad), 0))
    c1 = int(min(math.ceil(max(p0[1], p1[1]) + width + pad), w - 1))
    if r1 < r0 or c1 < c0:
        return None
    rr, cc = np.mgrid[r0:r1 + 1, c0:c1 + 1].astype(np.float32)
    d = np.array(p1, np.float32) - np.array(p0, np.float32)
    dd = float(d @ d) or 1.0
    t = np.clip(((rr - p0[0]) * d[0] + (cc - p0[1]) * d[1]) / dd, 0.0, 1.0)
    dist = np.hypot(rr - (p0[0] + t * d[0]), cc - (p0[1] + t * d[1]))
    cov = np.clip(width / 2.0 - dist + 0.5, 0.0, 1.0) * value
    view = canvas[r0:r1 + 1, c0:c1 + 1]
    np.maximum(view, cov, out=view)
    return slice(r0, r1 + 1), slice(c0, c1 + 1)


def _clip_segment(p0, p1, h: int, w: int):
    """Visible part of a segment inside [0, h) x [0, w) (Liang-Barsky); None when outside."""
    t0, t1 = 0.0, 1.0
    d = (p1[0] - p0[0], p1[1] - p0[1])
    for p, q in ((-d[0], p0[0]), (d[0], h - 1 - p0[0]), (-d[1], p0[1]), (d[1], w - 1 - p0[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
    if t0 > t1:
        return None
    a = (p0[0] + t0 * d[0], p0[1] + t0 * d[1])
    b = (p0[0] + t1 * d[0], p0[1] + t1 * d[1])
    return a, b, t0 > 0 or t1 < 1


def _box_coverage(shape, p0, p1, width: float) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Anti-aliased coverage of a rectangle of ``width`` px from p0 to p1 (row, col): square ends, as a
    cut shaft has. Returns the coverage and its window (None when outside the frame)."""
    h, w = shape
    pad = width + 2.0
    r0 = int(max(math.floor(min(p0[0], p1[0]) - pad), 0))
    r1 = int(min(math.ceil(max(p0[0], p1[0]) + pad), h - 1))
    c0 = int(max(math.floor(min(p0[1], p1[1]) - pad), 0))
    c1 = int(min(math.ceil(max(p0[1], p1[1]) + pad), w - 1))
    if r1 < r0 or c1 < c0:
        return None
    rr, cc = np.mgrid[r0:r1 + 1, c0:c1 + 1].astype(np.float32)
    length = math.hypot(p1[0] - p0[0], p1[1] - p0[1]) or 1.0
    u = ((p1[0] - p0[0]) / length, (p1[1] - p0[1]) / length)
    mid = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
    along = (rr - mid[0]) * u[0] + (cc - mid[1]) * u[1]
    across = -(rr - mid[0]) * u[1] + (cc - mid[1]) * u[0]
    cov = np.clip(length / 2 - np.abs(along) + 0.5, 0, 1) * np.clip(width / 2 - np.abs(across) + 0.5, 0, 1)
    return cov, (slice(r0, r1 + 1), slice(c0, c1 + 1))


def _draw_crossing_hairs(rng: np.random.Generator, shape, ppm: float, count: int, width_um: tuple[float, float],
                         length_mm: tuple[float, float], min_visible_px: float, hair_cov: np.ndarray,
                         hair_rgb: np.ndarray, under: np.ndarray, hairs: list[SynthHair],
                         units: list[SynthUnit]) -> None:
    """Single hairs each drawn across the shaft of a hair already drawn, added to ``hairs`` and ``units``.

    Scalp hair mostly runs one way, and the presets' units stand apart, so shafts of different units seldom cross
    there. Each of these leaves its own opening and crosses a whole hair of another unit at 35-90 degrees, in the
    middle half of that hair and 30-70% of the way along its own, so that both shafts show on either side of the
    crossing. It is drawn like the presets' hairs (dark, the preset's widths and lengths, the blue shade of its root
    under the skin).
    """
    h, w = shape
    for _ in range(count):
        targets = [hr for hr in hairs if hr.unit >= 0 and not hr.at_border and hr.length_px >= 0.2 * ppm]
        if not targets:
            return
        tgt = targets[int(rng.integers(len(targets)))]
        a_t = math.radians(tgt.angle_deg)
        along_t = (-math.sin(a_t), math.cos(a_t))  # (row, col), as SynthHair.angle_deg is measured
        at = rng.uniform(-0.25, 0.25) * tgt.length_px
        cross = (tgt.row_px + along_t[0] * at, tgt.col_px + along_t[1] * at)
        ang = a_t + math.radians(rng.uniform(35, 90)) * (1 if rng.random() < 0.5 else -1)
        u = (-math.sin(ang), math.cos(ang))
        length = rng.uniform(*length_mm) * ppm
        before = rng.uniform(0.3, 0.7) * length
        root = (cross[0] - u[0] * before, cross[1] - u[1] * before)
        tip = (root[0] + u[0] * length, root[1] + u[1] * length)
        wum = float(rng.uniform(*width_um))
        wpx = wum / 1000.0 * ppm
        tone = rng.uniform(15, 55)
        colour = np.array([tone * 1.15, tone, tone * 0.85], np.float32)
        layer = np.zeros((h, w), np.float32)
        win = _segment_coverage((h, w), root, tip, wpx, layer, 1.0)
        if win is not None:
            lw, cw = layer[win], hair_cov[win]
            hair_rgb[win][lw > cw] = colour
            np.maximum(cw, lw, out=cw)
        back = (root[0] - u[0] * 0.4 * ppm, root[1] - u[1] * 0.4 * ppm)
        _segment_coverage((h, w), root, back, wpx * 1.8, under, rng.uniform(0.15, 0.3))
        inside = 0 <= root[0] < h and 0 <= root[1] < w
        vis = _clip_segment(root, tip, h, w)
        unit_index = len(units)
        whole = False
        if vis is not None:
            a, b, clipped = vis
            vis_len = math.hypot(b[0] - a[0], b[1] - a[1])
            if not ((clipped or not inside) and vis_len < min_visible_px):
                whole = not (clipped or not inside)
                hairs.append(SynthHair(row_px=(a[0] + b[0]) / 2, col_px=(a[1] + b[1]) / 2, width_px=wpx,
                                       width_um=wum, length_px=vis_len, angle_deg=math.degrees(ang) % 180.0,
                                       unit=unit_index, exit_row_px=root[0], exit_col_px=root[1],
                                       at_border=not whole))
        units.append(SynthUnit(row_px=root[0], col_px=root[1], hairs=int(whole) if inside else 0))


def _draw_fragments(rng: np.random.Generator, shape, ppm: float, zoom: float, area_mm2: float,
                    max_per_mm2: float, hair_cov: np.ndarray, hair_rgb: np.ndarray,
                    hairs: list[SynthHair]) -> None:
    """Loose hair fragments and black dots (``varied`` only), drawn over the shafts, added to ``hairs``.

    What the real dev labels call ``abnormal``: short broken or clipped pieces with square ends, thick, dark
    or brown, often with a shine along them and often out of focus (lying on the hairs, above the skin), and
    the round black dots of hairs broken at the skin. Each is a hair of the truth with ``unit = -1`` (it
    leaves no follicular unit the image shows). Their number is Poisson, at a rate drawn uniformly between
    0 and ``max_per_mm2`` per scene (0.08 draws about twice as many as the real photos show).
    """
    h, w = shape
    for _ in range(int(rng.poisson(rng.uniform(0.0, max_per_mm2) * area_mm2))):
        centre = (rng.uniform(0, h), rng.uniform(0, w))
        ang = rng.uniform(0, math.pi)
        dot = rng.random() < 0.15
        width_um = float(rng.uniform(45, 100) if dot else rng.uniform(40, 130)) * zoom
        wpx = width_um / 1000.0 * ppm
        length = wpx * rng.uniform(0.9, 1.2) if dot else rng.uniform(0.1, 0.6) * ppm * zoom
        u = (math.sin(ang), math.cos(ang))
        p0 = (centre[0] - u[0] * length / 2, centre[1] - u[1] * length / 2)
        p1 = (centre[0] + u[0] * length / 2, centre[1] + u[1] * length / 2)
        layer = np.zeros((h, w), np.float32)
        if dot:
            win = _segment_coverage((h, w), centre, centre, wpx, layer, 1.0)
        else:
            got = _box_coverage((h, w), p0, p1, wpx)
            win = None if got is None else got[1]
            if got is not None:
                layer[win] = got[0]
        if win is None:
            continue
        tone = rng.uniform(3, 45) if rng.random() < 0.7 else rng.uniform(45, 120)
        tint = rng.uniform(-0.2, 0.2)
        colour = _tinted(tone, tint)
        if rng.random() < 0.3:  # out of focus: it lies on the hairs, above the skin
            layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(1.5, 5.0) * zoom)
            win = (slice(0, h), slice(0, w))
        lw, cw = layer[win], hair_cov[win]
        upd = lw > cw
        rgb = np.broadcast_to(colour, lw.shape + (3,)).copy()
        if not dot and rng.random() < 0.6 and wpx > 3:  # shine along the piece
            stripe = _box_coverage(lw.shape, (p0[0] - win[0].start, p0[1] - win[1].start),
                                   (p1[0] - win[0].start, p1[1] - win[1].start), wpx * rng.uniform(0.15, 0.35))
            if stripe is not None:
                s_cov = np.zeros(lw.shape, np.float32)
                s_cov[stripe[1]] = stripe[0]
                rgb += rng.uniform(0.3, 0.7) * (200 - colour) * s_cov[..., None]
        hair_rgb[win][upd] = rgb[upd]
        np.maximum(cw, lw, out=cw)
        vis = _clip_segment(p0, p1, h, w)
        if vis is None:
            continue
        a, b, clipped = vis
        vis_len = math.hypot(b[0] - a[0], b[1] - a[1])
        if vis_len < 0.5 * length and not dot:
            continue
        hairs.append(SynthHair(row_px=(a[0] + b[0]) / 2, col_px=(a[1] + b[1]) / 2, width_px=wpx,
                               width_um=width_um, length_px=max(vis_len, wpx),
                               angle_deg=math.degrees(math.atan2(-u[0], u[1])) % 180.0, unit=-1,
                               exit_row_px=p0[0], exit_col_px=p0[1], at_border=clipped))


def add_defocused_shafts(image: np.ndarray, px_per_mm: float, rng: np.random.Generator,
                         max_per_mm2: float = 0.2) -> np.ndarray:
    """Lay out-of-focus shafts over a trichoscopy image: hairs above the focal plane, not hairs of the truth.

    At 70x the depth of field is a fraction of a millimetre, so a long hair lying loose above the clipped
    ones shows as a broad, dark, soft-edged band (see the unmatched detections in
    docs/hair_detector_card.md, seventh session); the real dev labels leave these out, as a count of the
    scalp should. Their number is Poisson, at a rate drawn uniformly between 0 and ``max_per_mm2`` per image.
    Each is 1-4 mm long, 80-250 um wide in the focal plane, blurred with a Gaussian of 25-80 um (the scenes'
    own blur stays under 15 um) and laid over the image with an opacity of 0.45-0.9 at its core.

    Parameters
    ----------
    image : (H, W, 3) uint8 array
        The image; not modified.
    px_per_mm : float
        Its scale.
    rng : numpy.random.Generator
        Source of every draw.
    max_per_mm2 : float
        Upper end of the per-image rate.

    Returns
    -------
    (H, W, 3) uint8 array
        A copy with the shafts laid over it (the same pixels when none is drawn).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
    if not (math.isfinite(px_per_mm) and px_per_mm > 0):
        raise ValueError(f"px_per_mm must be a finite number > 0, got {px_per_mm!r}")
    if not (math.isfinite(max_per_mm2) and max_per_mm2 >= 0):
        raise ValueError(f"max_per_mm2 must be a finite number >= 0, got {max_per_mm2!r}")
    h, w = image.shape[:2]
    n = int(rng.poisson(rng.uniform(0.0, max_per_mm2) * h * w / px_per_mm ** 2))
    if n == 0:
        return image.copy()
    out = image.astype(np.float32)
    for _ in range(n):
        centre = (rng.uniform(0, h), rng.uniform(0, w))
        ang = rng.uniform(0, math.pi)
        half = rng.uniform(0.5, 2.0) * px_per_mm
        p0 = (centre[0] - math.sin(ang) * half, centre[1] - math.cos(ang) * half)
        p1 = (centre[0] + math.sin(ang) * half, centre[1] + math.cos(ang) * half)
        layer = np.zeros((h, w), np.float32)
        if _segment_coverage((h, w), p0, p1, rng.uniform(0.08, 0.25) * px_per_mm, layer, 1.0) is None:
            continue
        layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.025, 0.08) * px_per_mm)
        alpha = (layer / max(float(layer.max()), 1e-6) * rng.uniform(0.45, 0.9))[..., None]
        tone = rng.uniform(15, 80)
        tint = rng.uniform(-0.15, 0.15)
        colour = _tinted(tone, tint)
        out = out * (1 - alpha) + colour * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _rising_shaft(start, tip, width: float, shape, sigma_tip: float, pieces: int = 8) -> np.ndarray:
    """Coverage of a shaft in focus at ``start`` and blurred towards ``tip`` (a Gaussian growing linearly
    to ``sigma_tip`` px): a hair rising out of a shallow focal plane. Drawn in ``pieces`` lengths, each
    blurred by its own distance from the skin, overlapping a little so no seam shows."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    for i in range(pieces):
        a, b = max(i - 0.15, 0) / pieces, min(i + 1.15, pieces) / pieces
        p0 = (start[0] + a * (tip[0] - start[0]), start[1] + a * (tip[1] - start[1]))
        p1 = (start[0] + b * (tip[0] - start[0]), start[1] + b * (tip[1] - start[1]))
        sigma = sigma_tip * (i + 0.5) / pieces
        pad = width + 3.0 * sigma + 3.0  # the piece's window, with room for its blur
        r0, r1 = int(max(min(p0[0], p1[0]) - pad, 0)), int(min(max(p0[0], p1[0]) + pad, h - 1)) + 1
        c0, c1 = int(max(min(p0[1], p1[1]) - pad, 0)), int(min(max(p0[1], p1[1]) + pad, w - 1)) + 1
        if r1 <= r0 or c1 <= c0:
            continue
        piece = np.zeros((r1 - r0, c1 - c0), np.float32)
        if _segment_coverage(piece.shape, (p0[0] - r0, p0[1] - c0), (p1[0] - r0, p1[1] - c0), width, piece,
                             1.0) is None:
            continue
        if sigma >= 0.3:
            piece = cv2.GaussianBlur(piece, (0, 0), sigma)
        view = out[r0:r1, c0:c1]
        np.maximum(view, piece, out=view)
    return out


def _side_by_side_offset(prev_offset_px: float, prev_width_px: float, width_px: float, index: int, size: int,
                         gap: float) -> float:
    """Where the ``index``-th shaft of a side-by-side unit of ``size`` lies across the unit (px): ``gap``
    times the sum of its own and its neighbour's half-widths beyond the neighbour (1: touching edge to
    edge), so that a thin shaft never lies hidden inside a thick one; the first about where a centred row
    of such shafts starts."""
    if index == 0:
        return -(size - 1) / 2.0 * width_px * gap
    return prev_offset_px + (prev_width_px + width_px) / 2.0 * gap


def _cut_at_row(hairs: list[SynthHair], row: int, min_visible_px: float, *, keep: str = "above") -> list[SynthHair]:
    """The hairs as seen when something opaque covers the rows from ``row`` down (``keep="above"``: rows
    0..row-1 stay visible) or the rows above ``row`` (``keep="below"``: rows row.. stay visible). Hairs it
    cuts become border hairs; one it leaves shorter than ``min_visible_px`` is gone (a fragment always
    stays while any of it shows)."""
    out = []
    for hr in hairs:
        a = math.radians(hr.angle_deg)
        half = (-math.sin(a) * hr.length_px / 2, math.cos(a) * hr.length_px / 2)
        p0 = (hr.row_px - half[0], hr.col_px - half[1])
        p1 = (hr.row_px + half[0], hr.col_px + half[1])
        # the columns are already inside the frame
        if keep == "above":
            vis = _clip_segment(p0, p1, row, math.inf)
        else:  # the same clip with the rows counted from ``row``
            vis = _clip_segment((p0[0] - row, p0[1]), (p1[0] - row, p1[1]), math.inf, math.inf)
            if vis is not None:
                vis = ((vis[0][0] + row, vis[0][1]), (vis[1][0] + row, vis[1][1]), vis[2])
        if vis is None:
            continue
        p, q, cut = vis
        if not cut:
            out.append(hr)
            continue
        length = math.hypot(q[0] - p[0], q[1] - p[1])
        if length < min_visible_px and hr.unit >= 0:
            continue
        out.append(replace(hr, row_px=(p[0] + q[0]) / 2, col_px=(p[1] + q[1]) / 2, length_px=length,
                           at_border=True))
    return out


def _crease_network(rng: np.random.Generator, shape: tuple[int, int], ppm: float) -> np.ndarray:
    """Darkening (0 to at most 0.18) of a network of fine skin creases: the edges of a jittered Voronoi tiling with
    cells of 0.25-0.8 mm, some edges left out, the lines bent by a smooth displacement and softened."""
    h, w = shape
    cell = rng.uniform(0.25, 0.8) * ppm
    n = max(int(h * w / cell ** 2), 4)
    pad = cell
    subdiv = cv2.Subdiv2D((int(-pad), int(-pad), int(w + 2 * pad), int(h + 2 * pad)))
    for x, y in zip(rng.uniform(-pad / 2, w + pad / 2, n), rng.uniform(-pad / 2, h + pad / 2, n)):
        subdiv.insert((float(x), float(y)))
    facets, _ = subdiv.getVoronoiFacetList([])
    lines = np.zeros((h, w), np.float32)
    keep = rng.uniform(0.5, 0.95)
    thick = max(int(round(rng.uniform(0.004, 0.012) * ppm)), 1)
    for facet in facets:
        pts = np.round(facet).astype(np.int32)
        for a, b in zip(pts, np.roll(pts, -1, axis=0)):
            if rng.random() < keep:
                cv2.line(lines, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), float(rng.uniform(0.4, 1.0)),
                         thick, cv2.LINE_AA)
    amp = rng.uniform(0.01, 0.04) * ppm
    dy = _smooth_noise(rng, shape, 0.15 * ppm) * amp
    dx = _smooth_noise(rng, shape, 0.15 * ppm) * amp
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lines = cv2.remap(lines, xx + dx, yy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lines = cv2.GaussianBlur(lines, (0, 0), max(0.003 * ppm, 0.5))
    return np.clip(lines, 0.0, 1.0) * float(rng.uniform(0.04, 0.18))


def _sheen(rng: np.random.Generator, shape: tuple[int, int], ppm: float) -> np.ndarray:
    """Specular sheen (0..1): patches of moist, glossy skin made of fine bright grains, as the dermoscope's
    light shows on real scalp."""
    patch = _smooth_noise(rng, shape, rng.uniform(0.15, 0.5) * ppm)
    patch = np.clip((patch - rng.uniform(-0.5, 0.9)) * 1.2, 0.0, 1.0)
    grain = _smooth_noise(rng, shape, rng.uniform(0.004, 0.012) * ppm)
    grain = np.clip(grain - rng.uniform(-0.5, 0.8), 0.0, 1.5) / 1.5
    return (patch * (0.3 * patch + 0.7 * grain) * rng.uniform(0.35, 0.9)).astype(np.float32)


def _positive_range(name: str, pair: tuple[float, float], what: str) -> tuple[float, float]:
    """``pair`` as floats (low, high), finite with 0 < low <= high, or a ValueError naming ``name``."""
    lo, hi = (float(x) for x in pair)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(f"{name} must be a range (low, high) of {what} > 0, got {pair!r}")
    return lo, hi


def render_scalp(*, seed: int = 0, shape: tuple[int, int] = (1024, 1280), px_per_mm: float | None = None,
                 n_units: int | None = None, difficulty: str = "medium", banner: bool = False,
                 red_circle: bool = False, jpeg: bool = True, min_visible_um: float = 250.0,
                 varied: bool = False, hide_hairs: Collection[tuple[int, int]] = (),
                 fragments_per_mm2: float = 0.0, strip_edge: bool = False,
                 rising_p: float = 0.0, lifelike: bool = False,
                 shaft_mm: tuple[float, float] = (0.25, 0.7),
                 varied_shaft_mm: tuple[float, float] = (0.3, 1.6),
                 varied_zoom: tuple[float, float] = (0.7, 1.8),
                 varied_width_gain: tuple[float, float] = (1.0, 1.0), crossing_hairs: int = 0) -> SynthScalp:
    """Render a trichoscopy-like image and return it with its exact hairs.

    Parameters
    ----------
    seed : int
        Seed of the random generator.
    shape : (int, int)
        Rows and columns.
    px_per_mm : float, optional
        Scale; by default 220 px/mm at 1280 px wide (a 5.8 mm field), in proportion otherwise. (A 70x
        dermoscope's 1280 px frame is 358 px/mm, its own scale bar says; 220 was taken for it until 2026-11-28.)
    n_units : int, optional
        Follicular units whose exit point is in the frame; by default Poisson with 0.25 per mm^2 (about
        12 hairs in a dermoscope field, as in the real dev set). A few more enter from outside the frame.
    difficulty : {"easy", "medium", "hard"}
        Blur, noise, light, thin and light hairs, unit sizes and splay, JPEG quality.
    banner, red_circle : bool
        Draw a burned-in text banner at the top; a red measurement circle with its label box.
    jpeg : bool
        Pass the image through JPEG at the preset's quality.
    min_visible_um : float
        Border hairs showing less than this are drawn but left out of the truth.
    varied : bool
        Randomise far beyond the preset (magnification, shaft lengths and shapes, parallel units, skin,
        flakes, light, blur, noise, JPEG, a scale bar), as the real photos vary; for training detectors.
    hide_hairs : collection of (unit, hair) pairs
        Hairs (by unit number, counting border units after the inner ones, and place in the unit) left
        undrawn and out of the truth, everything else unchanged: the same scalp after those hairs were
        shed, for visit-to-visit tests (render with and without a set). Not with ``varied``.
    fragments_per_mm2 : float
        With ``varied`` only: loose hair fragments and black dots (what the real labels call ``abnormal``),
        as truth hairs with ``unit = -1``, at a rate drawn per scene between 0 and this many per mm^2. 0
        (the default) draws none and leaves every pixel as before; the second network of the learned
        detector was trained with 0.08 (docs/hair_detector_card.md).
    strip_edge : bool
        With ``varied`` only: the grey strip under a scale bar is the frame's edge for the truth (hairs it
        cuts are border hairs, hairs under it are gone), as a dermoscope's own strip is for the real labels.
    rising_p : float
        With ``varied`` only: the share of hairs that rise out of the shallow focal plane of a 70x lens, in
        focus where they leave the skin and softer towards the tip (a Gaussian growing to 15-60 um). They stay
        hairs of the truth, as the real labels count them. Drawn from a generator of its own: 0 (the
        default) leaves every pixel as before.
    lifelike : bool
        With ``varied`` only: what the real 70x photos show and the plain renderer leaves out (eleventh
        session, docs/hair_detector_card.md): a network of skin creases, a granular specular sheen, shafts
        with a darker core, a lighter rim and square cut ends, a pale or blue-grey halo round each opening,
        and more scenes whose units have near-parallel shafts (80% against 50%), where each shaft but the
        middle one lies, one time in two, closer to the unit's axis, partly over its neighbour. Drawn from a
        generator of its own: False (the default) leaves every pixel as before.
    shaft_mm : (float, float)
        Range of the shafts' lengths (mm, drawn uniformly) for the presets: by default hair clipped for
        trichoscopy, as in the real dev photos (their labelled shafts are 0.22-0.68 mm from the 10th to the 90th
        percentile at the 358 px/mm of their dermoscope's scale bar); longer for hair grown out (0.6-1.6 mm was
        the default until 2026-11-28). ``varied`` draws its own, from ``varied_shaft_mm``.
    varied_shaft_mm : (float, float)
        With ``varied`` only: range of the shafts' lengths (mm, uniform) before the scene's magnification;
        the default (0.3, 1.6) is what the shipped detector was first trained on (at 220 px/mm).
    varied_zoom : (float, float)
        With ``varied`` only: range of the scene's magnification (log-uniform), which scales the hairs'
        widths and lengths, the fragments and the units' spacing.
    varied_width_gain : (float, float)
        With ``varied`` only: range of a further factor (log-uniform, one per scene, from a generator of its
        own) on the shafts' widths alone, thin hairs apart: the real 70x photos' shafts measure about 70 um at
        the median, the varied scenes' about 45. (1, 1), the default, leaves every pixel as before.
    crossing_hairs : int
        Not with ``varied``: this many single hairs more, each crossing the shaft of a whole hair of another unit at
        35-90 degrees (the presets' units stand apart and run one way, so their shafts seldom cross). Each is a unit
        of its own. Drawn from a generator of its own, after every other hair: 0 (the default) leaves every pixel as
        before, and any number leaves the other hairs and the rest of the scene as they were.

    Returns
    -------
    SynthScalp

    Examples
    --------
    >>> scene = render_scalp(seed=7, shape=(256, 320), n_units=4, difficulty="easy")
    >>> scene.image.shape, scene.image.dtype.name
    ((256, 320, 3), 'uint8')
    >>> sum(u.hairs for u in scene.units) == sum(not h.at_border for h in scene.hairs)
    True
    """
    if difficulty not in _PRESETS:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    hidden = frozenset((int(u), int(i)) for u, i in hide_hairs)
    if hidden and varied:
        raise ValueError("hide_hairs cannot be combined with varied=True")
    if not (math.isfinite(fragments_per_mm2) and fragments_per_mm2 >= 0):
        raise ValueError(f"fragments_per_mm2 must be a finite number >= 0, got {fragments_per_mm2!r}")
    if not (math.isfinite(rising_p) and 0.0 <= rising_p <= 1.0):
        raise ValueError(f"rising_p must be a share in [0, 1], got {rising_p!r}")
    lo, hi = _positive_range("shaft_mm", shaft_mm, "lengths")
    vlo, vhi = _positive_range("varied_shaft_mm", varied_shaft_mm, "lengths")
    zlo, zhi = _positive_range("varied_zoom", varied_zoom, "factors")
    glo, ghi = _positive_range("varied_width_gain", varied_width_gain, "factors")
    if (fragments_per_mm2 > 0 or strip_edge or rising_p > 0 or lifelike) and not varied:
        raise ValueError("fragments_per_mm2, strip_edge, rising_p and lifelike need varied=True")
    if isinstance(crossing_hairs, bool) or int(crossing_hairs) != crossing_hairs or crossing_hairs < 0:
        raise ValueError(f"crossing_hairs must be a whole number >= 0, got {crossing_hairs!r}")
    if crossing_hairs and varied:
        raise ValueError("crossing_hairs cannot be combined with varied=True")
    h, w = int(shape[0]), int(shape[1])
    if h < 16 or w < 16:
        raise ValueError(f"shape must be at least 16 x 16, got {shape}")
    cfg = dict(_PRESETS[difficulty])
    rng = np.random.default_rng(seed)
    vrng = np.random.default_rng([seed, 7919])  # draws of the varied mode only
    lrng = np.random.default_rng([seed, 32452843])  # lifelike's draws only
    ppm = float(px_per_mm) if px_per_mm is not None else 220.0 * max(h, w) / 1280.0
    area_mm2 = h * w / ppm ** 2
    zoom = 1.0
    if varied:
        zoom = float(np.exp(vrng.uniform(np.log(zlo), np.log(zhi))))
        width_gain = float(np.exp(np.random.default_rng([seed, 6007]).uniform(np.log(glo), np.log(ghi))))
        cfg.update(blur=float(vrng.uniform(0.3, 3.0)), noise=float(vrng.uniform(1.0, 8.0)),
                   vignette=float(vrng.uniform(0.0, 0.6)), jpeg=int(vrng.integers(55, 96)),
                   light=float(vrng.uniform(0.0, 0.25)))
        # near-parallel shafts leaving one opening side by side (most real units: lifelike draws more of them)
        if vrng.random() < 0.5 or (lifelike and lrng.random() < 0.6):
            cfg["splay"] = (0.5, 7.0)
        if n_units is None:
            n_units = int(vrng.poisson(vrng.uniform(0.12, 0.6) * area_mm2 / zoom ** 2))
    if n_units is None:
        n_units = int(rng.poisson(0.25 * area_mm2))
    # --- skin -------------------------------------------------------------------------------------
    base = np.array([rng.uniform(185, 225), rng.uniform(170, 205), rng.uniform(150, 195)], np.float32)
    if base[1] > base[0]:  # skin is never greener than it is red (the draws stay the same, so does the rest)
        base[[0, 1]] = base[[1, 0]]
    if rng.random() < 0.4:  # a cool, bluish cast as under some dermoscope LEDs
        base[2] = min(base[2] + rng.uniform(10, 30), 240)
    mottle = _smooth_noise(rng, (h, w), 0.08 * max(h, w)) * rng.uniform(4, 9)
    fine = _smooth_noise(rng, (h, w), 1.5) * rng.uniform(2, 5)
    shade = np.zeros((h, w), np.float32)  # darkening 0..1 (furrows, pores, under-skin shafts)
    for _ in range(rng.integers(3, 9)):  # furrows: long faint lines
        p0 = (rng.uniform(0, h), rng.uniform(0, w))
        ang = rng.uniform(0, math.pi)
        ln = rng.uniform(0.3, 0.9) * max(h, w)
        p1 = (p0[0] + ln * math.sin(ang), p0[1] + ln * math.cos(ang))
        _segment_coverage((h, w), p0, p1, rng.uniform(1.0, 3.0), shade, rng.uniform(0.03, 0.07))
    for _ in range(int(rng.poisson(0.4 * area_mm2))):  # pores and specks
        c = (rng.uniform(0, h), rng.uniform(0, w))
        _segment_coverage((h, w), c, c, rng.uniform(0.01, 0.03) * ppm, shade, rng.uniform(0.05, 0.25))
    glint = np.zeros((h, w), np.float32)
    for _ in range(int(rng.poisson(1.5 * area_mm2))):
        c = (rng.uniform(0, h), rng.uniform(0, w))
        _segment_coverage((h, w), c, c, rng.uniform(0.005, 0.02) * ppm, glint, rng.uniform(0.2, 0.6))
    glint = cv2.GaussianBlur(glint, (0, 0), 1.0)
    if varied:
        bright = vrng.uniform(170, 240)
        base = bright * np.array([1.0, vrng.uniform(0.88, 1.0), vrng.uniform(0.8, 1.02)], np.float32)
        if vrng.random() < 0.4:  # bluish-violet cast
            base *= np.array([vrng.uniform(0.9, 1.0), 1.0, 1.0], np.float32)
            base[2] = bright * vrng.uniform(0.95, 1.08)
        base = np.minimum(base, 250)
        mottle = mottle * vrng.uniform(0.5, 2.0)
        fine = fine * vrng.uniform(0.5, 2.5)
        # white scale flakes: thresholded smooth noise, patchy
        flakes = _smooth_noise(vrng, (h, w), vrng.uniform(0.01, 0.05) * ppm)
        level = vrng.uniform(0.8, 2.5)
        flakes = np.clip((flakes - level) * 1.5, 0, 1) * vrng.uniform(0.2, 0.8)
        glint = np.maximum(glint, flakes.astype(np.float32))
    crease = _crease_network(lrng, (h, w), ppm) if lifelike else None
    if lifelike:
        glint = np.maximum(glint, _sheen(lrng, (h, w), ppm))
    # --- hairs --------------------------------------------------------------------------------------
    flow = rng.uniform(0, 2 * math.pi)
    hair_cov = np.zeros((h, w), np.float32)
    hair_rgb = np.zeros((h, w, 3), np.float32)
    under = np.zeros((h, w), np.float32)
    pale = np.zeros((h, w), np.float32) if lifelike else None  # whitish scale round an opening
    hairs: list[SynthHair] = []
    units: list[SynthUnit] = []
    focus_rng = np.random.default_rng([seed, 15485863])  # rising_p's draws only
    roots: list[tuple[float, float]] = []
    n_border = int(rng.poisson(0.1 * area_mm2))
    min_gap = 0.35 * ppm
    for k in range(n_units + n_border):
        inside = k < n_units
        for _ in range(30):
            if inside:
                root = (rng.uniform(0.03, 0.97) * h, rng.uniform(0.03, 0.97) * w)
            else:  # exit point just outside the frame
                side = rng.integers(4)
                off = rng.uniform(0.05, 0.5) * ppm
                root = [(-off, rng.uniform(0, w)), (h + off, rng.uniform(0, w)),
                        (rng.uniform(0, h), -off), (rng.uniform(0, h), w + off)][side]
            if all(math.hypot(root[0] - r[0], root[1] - r[1]) > min_gap for r in roots):
                break
        roots.append(root)
        size = int(rng.choice([1, 2, 3, 4], p=cfg["unit_p"]))
        direction = flow + rng.normal(0, 0.35)
        if not inside:  # point the border unit into the frame
            direction = math.atan2(h / 2 - root[0], w / 2 - root[1]) + rng.normal(0, 0.4)
        splay = math.radians(rng.uniform(*cfg["splay"]))
        offsets = (np.arange(size) - (size - 1) / 2.0) * splay + rng.normal(0, math.radians(2), size)
        if varied and cfg["splay"][1] < 8:
            offsets = offsets * 0.5
        side = (-math.cos(direction), math.sin(direction))  # across the unit's direction
        unit_index = len(units)
        drawn = 0
        prev_shift = prev_wpx = 0.0  # where the last side-by-side shaft of this unit lies, and its width
        for i_off, off in enumerate(offsets):
            ang = direction + off
            width_um = float(rng.uniform(*cfg["width"]))
            if rng.random() < 0.12:  # a thin (vellus-like) hair now and then
                width_um = float(rng.uniform(max(cfg["width"][0] * 0.6, 12), 35))
            length = rng.uniform(lo, hi) * ppm
            shift = 0.0
            broken = False
            if varied:
                width_um *= zoom * width_gain
                if vrng.random() < 0.15:
                    width_um = float(vrng.uniform(10, 35))
                length = vrng.uniform(vlo, vhi) * ppm * zoom
                broken = vrng.random() < 0.08
                if broken:  # a short broken or dystrophic stub
                    length = vrng.uniform(0.3, 0.5) * ppm * zoom
                if cfg["splay"][1] < 8:  # side by side: shafts touch along their length
                    # each one a half-width of its own and of its neighbour beyond the last (so a thin
                    # shaft never lies hidden inside a thick one), the first about where a centred row starts
                    gap = vrng.uniform(0.8, 1.3)
                    if lifelike and lrng.random() < 0.5:  # or lie partly over each other
                        gap *= lrng.uniform(0.35, 0.8)
                    wpx_here = width_um / 1000.0 * ppm
                    shift = _side_by_side_offset(prev_shift, prev_wpx, wpx_here, i_off, size, gap)
                    prev_shift, prev_wpx = shift, wpx_here
            wpx = width_um / 1000.0 * ppm
            u = (math.sin(ang), math.cos(ang))
            start = (root[0] + u[0] * 0.03 * ppm + side[0] * shift, root[1] + u[1] * 0.03 * ppm + side[1] * shift)
            tip = (start[0] + u[0] * (length - 0.03 * ppm), start[1] + u[1] * (length - 0.03 * ppm))
            if not varied:
                tip = (root[0] + u[0] * length, root[1] + u[1] * length)
            light = rng.random() < cfg["light"] or width_um < 30
            tone = rng.uniform(90, 150) if light else rng.uniform(15, 55)
            colour = np.array([tone * 1.15, tone, tone * 0.85], np.float32)
            if varied:
                tone = vrng.uniform(80, 160) if light else vrng.uniform(3, 60)
                tint = vrng.uniform(-0.15, 0.15)
                colour = _tinted(tone, tint)
                if broken:  # paler, but still darker than the skin (a hair, not a gap in one)
                    colour = np.minimum(colour * vrng.uniform(1.0, 2.0), 0.75 * base)
            layer = np.zeros((h, w), np.float32)
            square = lifelike and lrng.random() < 0.7  # a clipped shaft's cut end
            if (k, i_off) in hidden:
                win = None
            elif square:
                got = _box_coverage((h, w), start, tip, wpx)
                win = None if got is None else got[1]
                if got is not None:
                    layer[win] = got[0]
            else:
                win = _segment_coverage((h, w), start, tip, wpx, layer, 1.0)
            if win is not None and rising_p > 0 and focus_rng.random() < rising_p:
                layer = _rising_shaft(start, tip, wpx, (h, w), focus_rng.uniform(0.015, 0.06) * ppm)
                win = (slice(0, h), slice(0, w))
            if win is not None:
                lw, cw = layer[win], hair_cov[win]
                upd = lw > cw
                hair_rgb[win][upd] = colour
                s0 = (start[0] - win[0].start, start[1] - win[1].start)  # the shaft's ends in the window
                s1 = (tip[0] - win[0].start, tip[1] - win[1].start)
                if lifelike and wpx > 3 and lrng.random() < 0.7:  # a lighter, warmer rim round a dark core
                    core = np.zeros_like(lw)
                    _segment_coverage(lw.shape, s0, s1, wpx * lrng.uniform(0.4, 0.75), core, 1.0)
                    rim = np.minimum(colour * lrng.uniform(1.4, 2.6) + np.array([25, 12, 0], np.float32), 200)
                    hair_rgb[win][upd] = rim + (colour - rim) * core[upd][:, None]
                if varied and wpx > 4 and vrng.random() < 0.5:  # specular stripe along the shaft
                    stripe = np.zeros_like(lw)
                    _segment_coverage(lw.shape, s0, s1, wpx * vrng.uniform(0.15, 0.3), stripe, 1.0)
                    gain = vrng.uniform(0.2, 0.6)
                    sel = upd & (stripe > 0)
                    hair_rgb[win][sel] = colour + gain * (200 - colour) * stripe[sel][:, None]
                np.maximum(cw, lw, out=cw)
            back = (root[0] - u[0] * 0.4 * ppm, root[1] - u[1] * 0.4 * ppm)
            haze = rng.uniform(0.15, 0.3)
            if varied:
                back = (root[0] - u[0] * vrng.uniform(0.2, 0.6) * ppm * zoom,
                        root[1] - u[1] * vrng.uniform(0.2, 0.6) * ppm * zoom)
                haze = vrng.uniform(0.05, 0.4)
            _segment_coverage((h, w), root, back, wpx * 1.8, under, haze)
            if lifelike and i_off == 0:  # a halo round the opening: blue-grey, or pale scale
                radius = lrng.uniform(1.5, 3.5) * wpx
                if lrng.random() < 0.6:
                    _segment_coverage((h, w), root, root, 2 * radius, under, lrng.uniform(0.1, 0.35))
                if lrng.random() < 0.35:
                    _segment_coverage((h, w), root, root, 2 * radius * lrng.uniform(0.8, 1.5), pale,
                                      lrng.uniform(0.2, 0.6))
            vis = _clip_segment(start, tip, h, w)
            if vis is None or (k, i_off) in hidden:
                continue
            a, b, clipped = vis
            vis_len = math.hypot(b[0] - a[0], b[1] - a[1])
            if (clipped or not inside) and vis_len < min_visible_um / 1000.0 * ppm:
                continue  # a sliver of a border hair; a short hair wholly in the frame is a hair
            hairs.append(SynthHair(row_px=(a[0] + b[0]) / 2, col_px=(a[1] + b[1]) / 2, width_px=wpx,
                                   width_um=width_um, length_px=vis_len,
                                   angle_deg=math.degrees(math.atan2(-u[0], u[1])) % 180.0, unit=unit_index,
                                   exit_row_px=root[0], exit_col_px=root[1], at_border=clipped or not inside,
                                   index_in_unit=i_off))
            drawn += 1
        if inside:
            units.append(SynthUnit(row_px=root[0], col_px=root[1], hairs=sum(
                1 for hr in hairs if hr.unit == unit_index and not hr.at_border)))
        else:
            units.append(SynthUnit(row_px=root[0], col_px=root[1], hairs=0))
    if crossing_hairs:  # its own generator: the other draws, and so the rest of the scene, are unchanged
        _draw_crossing_hairs(np.random.default_rng([seed, 1299709]), (h, w), ppm, int(crossing_hairs), cfg["width"],
                             (lo, hi), min_visible_um / 1000.0 * ppm, hair_cov, hair_rgb, under, hairs, units)
    if fragments_per_mm2 > 0:  # its own generator: the other draws, and so the rest of the scene, are unchanged
        _draw_fragments(np.random.default_rng([seed, 104729]), (h, w), ppm, zoom, area_mm2, fragments_per_mm2,
                        hair_cov, hair_rgb, hairs)
    under = cv2.GaussianBlur(under, (0, 0), max(0.04 * ppm, 1.0))
    # --- compose --------------------------------------------------------------------------------------
    skin = base[None, None, :] + (mottle + fine)[..., None]
    skin = skin * (1 - shade[..., None]) + glint[..., None] * (255 - skin)
    if lifelike:  # creases darken green and blue more than red (blood under thin skin)
        skin = skin * (1 - crease[..., None] * np.array([0.6, 1.0, 0.95], np.float32))
    blue = np.array([70, 90, 130], np.float32)
    skin = skin * (1 - under[..., None]) + blue * under[..., None]
    if lifelike:
        pale = cv2.GaussianBlur(pale, (0, 0), max(0.02 * ppm, 1.0))
        skin = skin * (1 - pale[..., None]) + np.array([225, 232, 240], np.float32) * pale[..., None]
    img = skin * (1 - hair_cov[..., None]) + hair_rgb * hair_cov[..., None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light_field = 1.0 + rng.uniform(-0.08, 0.08) * (xx / w - 0.5) + rng.uniform(-0.08, 0.08) * (yy / h - 0.5)
    if varied:
        light_field += vrng.uniform(-0.25, 0.25) * (xx / w - 0.5) + vrng.uniform(-0.25, 0.25) * (yy / h - 0.5)
        light_field *= vrng.uniform(0.8, 1.1)
    if cfg["vignette"]:
        rad = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2)) / math.sqrt(2)
        light_field *= 1.0 - cfg["vignette"] * rad ** 2.5
    img *= light_field[..., None]
    if cfg["blur"] > 0:
        img = cv2.GaussianBlur(img, (0, 0), cfg["blur"])
    img += rng.normal(0, cfg["noise"], img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if red_circle:
        centre = (int(rng.uniform(0.2, 0.6) * w), int(rng.uniform(0.2, 0.6) * h))
        rad = int(rng.uniform(0.3, 0.5) * min(h, w))
        cv2.circle(out, centre, rad, (230, 20, 20), max(1, w // 640), cv2.LINE_AA)
        cv2.line(out, centre, (centre[0] + rad, centre[1] - rad // 4), (230, 20, 20), max(1, w // 640))
        bx, by = min(centre[0] + rad + 5, w - 2), max(centre[1] - rad // 2, 0)
        bw_, bh_ = int(0.25 * w), int(0.12 * h)
        box = out[by:by + bh_, bx:bx + bw_].astype(np.float32)
        out[by:by + bh_, bx:bx + bw_] = (0.5 * box + 0.5 * 215).astype(np.uint8)
        for i, txt in enumerate(("RC0", "r=2.519 mm")):
            cv2.putText(out, txt, (bx + 4, by + int((i + 1) * bh_ / 2.6)), cv2.FONT_HERSHEY_SIMPLEX,
                        max(h / 1024, 0.3), (20, 20, 230), 1, cv2.LINE_AA)
    if varied and vrng.random() < 0.12:  # scale bar and a grey strip along the bottom, as some devices draw
        sh = max(int(vrng.uniform(0.02, 0.05) * h), 4)
        out[h - sh:] = (200, 200, 200)
        x0, y0 = int(vrng.uniform(0.01, 0.1) * w), h - sh - 2
        cv2.line(out, (x0, y0), (x0 + int(ppm), y0), (40, 40, 40), 1)
        cv2.line(out, (x0, y0), (x0, y0 - int(ppm * vrng.uniform(0.5, 1.0))), (40, 40, 40), 1)
        cv2.putText(out, "1.0 mm", (x0 + int(ppm) + 3, y0), cv2.FONT_HERSHEY_SIMPLEX, max(h / 2048, 0.3),
                    (240, 240, 240), 1, cv2.LINE_AA)
        if strip_edge:  # hairs the strip cuts are border hairs, hairs under it are gone
            hairs = _cut_at_row(hairs, h - sh, min_visible_um / 1000.0 * ppm)
            units = [SynthUnit(u.row_px, u.col_px, sum(1 for hr in hairs if hr.unit == i and not hr.at_border))
                     for i, u in enumerate(units)]
    if banner:
        bh = max(int(0.035 * h), 8)
        top = max(int(0.008 * h), 1)
        out[top:top + bh] = (60, 60, 60)
        # the banner is the frame's edge for the truth, as the strip is: hairs it cuts are border hairs,
        # hairs under it (or in the few rows above it) are gone
        hairs = _cut_at_row(hairs, top + bh, min_visible_um / 1000.0 * ppm, keep="below")
        units = [SynthUnit(u.row_px, u.col_px, sum(1 for hr in hairs if hr.unit == i and not hr.at_border))
                 for i, u in enumerate(units)]
        x = 4
        for txt in ("A207", "1280x1024", "2022/01/06 09:36", "70x"):
            cv2.putText(out, txt, (x, top + bh - 2), cv2.FONT_HERSHEY_SIMPLEX, bh / 30.0, (235, 235, 235), 1,
                        cv2.LINE_AA)
            x += int(len(txt) * bh * 0.6) + 8
    if jpeg:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(cfg["jpeg"])])
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return SynthScalp(image=out, px_per_mm=ppm, hairs=tuple(hairs), units=tuple(units), difficulty=difficulty,
                      seed=seed)
