"""Registration of two close-ups of one zone, and one-to-one matching of their hairs.

A change in density between two visits means something only if both photos show the same patch of
scalp. This module finds the transform that maps the earlier close-up (A) onto the later one (B),
measures how much of A the photo B also shows, flags a pair that does not show one patch
(``different_field``), and matches hairs one to one inside the field both photos show, so a change is
counted as hairs kept, lost and new rather than as the difference of two whole-image counts.

Conventions
-----------
Points are ``(row, col)`` arrays, as numpy indexes images. The transform is a 3x3 matrix ``T`` in
OpenCV's ``(x, y) = (col, row)`` homogeneous convention, mapping a pixel of A to the same scalp point
in B: ``[x_b, y_b, 1]^T ~ T @ [x_a, y_a, 1]^T``. That is the form written to JSON.

Method
------
SIFT keypoints [1]_ on contrast-equalised grey images, Lowe's ratio test, then a similarity
(rotation, uniform scale, shift) or homography fitted by RANSAC [2]_. A fit is rejected as a different
field when it has few inliers, an implausible scale, shear or perspective, or a tiny overlap. Hairs are
matched by the Hungarian algorithm [3]_ on the distance between midpoints (or, better, exit points)
once B's points are mapped into A.

References
----------
.. [1] Lowe, D. G. (2004). Distinctive image features from scale-invariant keypoints. IJCV 60, 91-110.
.. [2] Fischler, M. A., & Bolles, R. C. (1981). Random sample consensus. Commun. ACM 24, 381-395.
.. [3] Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Nav. Res. Logist. Q. 2, 83-97.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from hairtrack.errors import InputError

__all__ = [
    "Registration",
    "HairMatch",
    "Comparison",
    "register",
    "common_field_mask",
    "match_hairs",
    "compare",
    "comparison_to_dict",
]

Model = Literal["similarity", "homography"]

# Ratio test threshold of Lowe (2004), section 7.1: 0.8 removes 90% of false matches; we are stricter
# because scalp texture is repetitive (parallel hairs).
_LOWE_RATIO = 0.75


@dataclass(frozen=True, slots=True)
class Registration:
    """Where photo B shows the scalp of photo A.

    Attributes
    ----------
    transform : tuple of tuple of float or None
        3x3 matrix mapping ``(x, y, 1)`` of A to B (``None`` when no transform was found).
    overlap_pct : float
        Share of A's area that B also shows, 0-100 (0 when no transform).
    confidence : float
        0-1; grows with the number and share of RANSAC inliers.
    inliers, matches : int
        RANSAC inliers and putative matches after the ratio test.
    scale, rotation_deg : float or None
        Linear scale and rotation of the transform (B relative to A).
    different_field : bool
        The two photos do not show one patch of scalp.
    reasons : tuple of str
        Why ``different_field`` is set (plain sentences); empty otherwise.
    shape_a, shape_b : tuple of int
        ``(rows, cols)`` of the two images.
    """

    transform: tuple[tuple[float, float, float], ...] | None
    overlap_pct: float
    confidence: float
    inliers: int
    matches: int
    scale: float | None
    rotation_deg: float | None
    different_field: bool
    reasons: tuple[str, ...]
    shape_a: tuple[int, int]
    shape_b: tuple[int, int]


@dataclass(frozen=True, slots=True)
class HairMatch:
    """Hairs of two visits matched one to one inside their common field.

    Index arrays refer to the rows of ``points_a`` / ``points_b`` given to :func:`match_hairs`.
    ``kept`` is ``(k, 2)``: pairs ``(index in A, index in B)``. ``lost`` are A's hairs in the common
    field with no partner in B; ``new`` are B's hairs in the common field with no partner in A.
    ``count_a`` / ``count_b`` count the hairs of each visit inside the common field.
    """

    kept: np.ndarray
    lost: np.ndarray
    new: np.ndarray
    count_a: int
    count_b: int
    common_area_px: int | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The result of :func:`compare`: registration, matched hairs and the change in the common field.

    ``kept_px`` holds ``((row_a, col_a), (row_b, col_b))`` pairs, ``lost_px`` points of A and ``new_px``
    points of B, all in each image's own pixels. Counts and ``change_pct`` are ``None`` when the pair is
    flagged ``different_field`` (kept out of any change estimate) or when no hairs were given.
    """

    registration: Registration
    kept_px: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    lost_px: tuple[tuple[float, float], ...]
    new_px: tuple[tuple[float, float], ...]
    count_a_common: int | None
    count_b_common: int | None
    common_area_px: int | None
    change_pct: float | None
    tol_px: float
    flags: tuple[str, ...]


def _as_gray_u8(image: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., :3]
        if arr.dtype != np.uint8:
            arr = _to_u8(arr)
        arr = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
    elif arr.ndim == 2:
        arr = _to_u8(arr) if arr.dtype != np.uint8 else arr
    else:
        raise InputError(f"{name} must be an RGB (rows, cols, 3) or grey (rows, cols) image, got shape {arr.shape}")
    if min(arr.shape) < 32:
        raise InputError(f"{name} must be at least 32 x 32 pixels, got {arr.shape[0]} x {arr.shape[1]}")
    return np.ascontiguousarray(arr)


def _to_u8(arr: np.ndarray) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise InputError("image contains NaN or infinite values")
    if a.max(initial=0.0) <= 1.0:
        a = a * 255.0
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _overlay_rows(gray: np.ndarray) -> np.ndarray:
    """Mask (True = usable) without a burned-in banner along the top or bottom edge.

    Dermoscopes often stamp a dark band with device, date and magnification on the image; it is
    identical across patients and would match perfectly between unrelated photos. A band is a run of
    at least 10 rows from the edge, at most 10% of the height, whose median is below 0.8 of the image's.
    """
    rows, _ = gray.shape
    usable = np.ones_like(gray, dtype=np.uint8)
    dark = np.median(gray, axis=1) < 0.8 * float(np.median(gray))
    limit = max(1, rows // 10)

    def band(flags: np.ndarray) -> int:
        # rows from the edge to the end of the first dark run that starts within 8 rows of the edge
        # (gaps of up to 3 bright rows, e.g. a line of text, do not end the run)
        end, gap = 0, 0
        for r in range(min(limit + 1, len(flags))):
            if flags[r]:
                end, gap = r + 1, 0
            elif end:
                gap += 1
                if gap > 3:
                    break
            elif r > 8:
                break
        return end if 10 <= end <= limit else 0

    top, bottom = band(dark), band(dark[::-1])
    pad = 4
    if top:
        usable[: top + pad] = 0
    if bottom:
        usable[rows - bottom - pad:] = 0
    return usable


# SIFT on one photo costs about as much as the rest of a registration, and a history registers each photo
# two to four times (to the visit before and to the first, as the later scan and as the reference), so the
# features of the last few photos are kept, by content. Callers never modify what they get back.
_FEATURE_CACHE_SIZE = 8
_feature_cache: OrderedDict[tuple, tuple[list, np.ndarray | None, float]] = OrderedDict()
_feature_lock = threading.Lock()


def _features(gray: np.ndarray, max_side_px: int) -> tuple[list, np.ndarray | None, float]:
    """SIFT keypoints and descriptors of ``gray`` reduced to ``max_side_px``, and the reduction factor."""
    gray = np.ascontiguousarray(gray)
    key = (gray.shape, int(max_side_px), hashlib.blake2b(gray.data, digest_size=16).digest())
    with _feature_lock:
        if key in _feature_cache:
            _feature_cache.move_to_end(key)
            return _feature_cache[key]
    found = _sift_features(gray, max_side_px)
    with _feature_lock:
        _feature_cache[key] = found
        while len(_feature_cache) > _FEATURE_CACHE_SIZE:
            _feature_cache.popitem(last=False)
    return found


def _sift_features(gray: np.ndarray, max_side_px: int) -> tuple[list, np.ndarray | None, float]:
    scale = min(1.0, max_side_px / max(gray.shape))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = _overlay_rows(small)
    # CLAHE evens out lighting and vignetting between visits before keypoints are sought.
    eq = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(small)
    sift = cv2.SIFT_create(nfeatures=3000)
    keypoints, desc = sift.detectAndCompute(eq, mask)
    return keypoints, desc, scale


def _corners(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    return np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], dtype=np.float64)


def _apply(t: np.ndarray, xy: np.ndarray) -> np.ndarray:
    h = np.c_[xy, np.ones(len(xy))] @ t.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return h[:, :2] / h[:, 2:3]


def _overlap_pct(t: np.ndarray, shape_a: tuple[int, int], shape_b: tuple[int, int]) -> float:
    """Percentage of A's rectangle covered by B's rectangle mapped back into A."""
    try:
        inv = np.linalg.inv(t)
    except np.linalg.LinAlgError:
        return 0.0
    b_in_a = _apply(inv, _corners(shape_b))
    if not np.all(np.isfinite(b_in_a)):
        return 0.0
    poly_b = cv2.convexHull(b_in_a.astype(np.float32))
    area, _ = cv2.intersectConvexConvex(_corners(shape_a).astype(np.float32), poly_b)
    return float(100.0 * max(area, 0.0) / (shape_a[0] * shape_a[1]))


def _check_matrix(transform: Any, name: str = "transform") -> np.ndarray:
    t = np.asarray(transform, dtype=np.float64)
    if t.shape == (2, 3):
        t = np.vstack([t, [0.0, 0.0, 1.0]])
    if t.shape != (3, 3) or not np.all(np.isfinite(t)) or abs(np.linalg.det(t)) < 1e-12:
        raise InputError(f"{name} must be a finite, invertible 3x3 matrix, got {np.asarray(transform).tolist()!r}")
    return t / t[2, 2] if abs(t[2, 2]) > 1e-12 else t


def register(
    image_a: np.ndarray,
    image_b: np.ndarray,
    *,
    model: Model = "similarity",
    max_side_px: int = 1024,
    min_inliers: int = 20,
    min_overlap_pct: float = 10.0,
    scale_range: tuple[float, float] = (0.5, 2.0),
    ransac_px: float = 4.0,
) -> Registration:
    """Find the transform mapping close-up A onto close-up B, or flag that they show different skin.

    Parameters
    ----------
    image_a, image_b : ndarray
        RGB ``(rows, cols, 3)`` or grey images (uint8, or floats in 0-1). They may differ in size.
    model : {"similarity", "homography"}
        Similarity (rotation, uniform scale, shift: a dermoscope pressed on the scalp) or homography
        (a camera held at an angle).
    max_side_px : int
        Images are reduced so their longer side is at most this before keypoints are sought.
    min_inliers : int
        Fewer RANSAC inliers than this means a different field.
    min_overlap_pct : float
        A smaller overlap means a different field.
    scale_range : (float, float)
        Plausible range of B's scale relative to A; outside it means a different field.
    ransac_px : float
        RANSAC reprojection threshold, in pixels of the reduced images.

    Returns
    -------
    Registration

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> texture = cv2.GaussianBlur(rng.uniform(0, 255, (400, 400)).astype(np.uint8), (0, 0), 2)
    >>> shifted = np.roll(texture, (12, -20), axis=(0, 1))
    >>> reg = register(texture[50:350, 50:350], shifted[50:350, 50:350])
    >>> [round(v) for v in reg.transform[0][2:]] + [round(reg.transform[1][2])], reg.different_field
    ([-20, 12], False)
    """
    if model not in ("similarity", "homography"):
        raise InputError(f"model must be 'similarity' or 'homography', got {model!r}")
    if not (isinstance(min_inliers, int) and min_inliers >= 4):
        raise InputError(f"min_inliers must be an integer >= 4, got {min_inliers!r}")
    if not (0.0 <= min_overlap_pct <= 100.0):
        raise InputError(f"min_overlap_pct must be within 0-100, got {min_overlap_pct!r}")
    gray_a = _as_gray_u8(image_a, "image_a")
    gray_b = _as_gray_u8(image_b, "image_b")
    shape_a = (int(gray_a.shape[0]), int(gray_a.shape[1]))
    shape_b = (int(gray_b.shape[0]), int(gray_b.shape[1]))

    def failed(reason: str, matches: int = 0, inliers: int = 0) -> Registration:
        return Registration(None, 0.0, 0.0, inliers, matches, None, None, True, (reason,), shape_a, shape_b)

    kp_a, desc_a, s_a = _features(gray_a, max_side_px)
    kp_b, desc_b, s_b = _features(gray_b, max_side_px)
    if desc_a is None or desc_b is None or len(kp_a) < min_inliers or len(kp_b) < min_inliers:
        return failed("too few distinct features to align the two photos (blurred, blank or overexposed?)")
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc_a, desc_b, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < _LOWE_RATIO * p[1].distance]
    # one-to-one: where several keypoints of A chose one of B, keep the closest (many-to-one matches
    # would let RANSAC find a collapsed transform with many "inliers" between unrelated photos)
    best: dict[int, Any] = {}
    for m in good:
        if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
            best[m.trainIdx] = m
    good = list(best.values())
    if len(good) < min_inliers:
        return failed(f"only {len(good)} matching features between the photos", len(good))
    src = np.float32([kp_a[m.queryIdx].pt for m in good]) / s_a
    dst = np.float32([kp_b[m.trainIdx].pt for m in good]) / s_b
    thr = ransac_px / min(s_a, s_b)
    if model == "similarity":
        m, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=thr,
                                             maxIters=5000, confidence=0.999, refineIters=20)
        t = None if m is None else np.vstack([m, [0.0, 0.0, 1.0]])
    else:
        t, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, thr, maxIters=5000, confidence=0.999)
    n_in = int(inl.sum()) if inl is not None else 0
    if t is None or n_in < min_inliers:
        return failed(f"only {n_in} features agree on one transform (need {min_inliers})", len(good), n_in)
    t = t / t[2, 2]
    a = t[:2, :2]
    sv = np.linalg.svd(a, compute_uv=False)
    scale = float(math.sqrt(abs(np.linalg.det(a))))
    rotation = float(math.degrees(math.atan2(a[1, 0] - a[0, 1], a[0, 0] + a[1, 1])))
    reasons: list[str] = []
    if not (scale_range[0] <= scale <= scale_range[1]):
        reasons.append(f"implausible zoom between the photos (x{scale:.2f}; expected {scale_range[0]}-{scale_range[1]})")
    if sv[1] <= 0 or sv[0] / sv[1] > 1.3 or np.linalg.det(a) <= 0:
        reasons.append("the fitted transform shears or mirrors the image: not the same skin seen twice")
    # perspective: how far the corners' local scale varies across A (a tilt of >~40 degrees)
    persp = float(np.abs(t[2, :2]).max() * max(shape_a))
    if persp > 0.3:
        reasons.append("the fitted transform implies an extreme tilt of the camera")
    overlap = _overlap_pct(t, shape_a, shape_b)
    # inliers must be spread over the field, not packed in a strip (an overlay stamped on both photos)
    pts_in = src[inl.ravel().astype(bool)]
    spread = np.ptp(pts_in, axis=0) / np.array([shape_a[1], shape_a[0]])
    if spread.min() < 0.15:
        reasons.append("the features that agree lie in a thin strip (an overlay?), not across the skin")
    if overlap < min_overlap_pct:
        reasons.append(f"the photos share only {overlap:.1f}% of the field (need {min_overlap_pct:g}%)")
    # Confidence: saturating in the inlier count, scaled by the inlier share (a heuristic, 0-1).
    share = n_in / len(good)
    confidence = float((1.0 - math.exp(-(n_in - min_inliers + 1) / 20.0)) * min(1.0, 0.5 + share))
    if reasons:
        confidence = 0.0
    return Registration(
        transform=tuple(tuple(float(v) for v in row) for row in t),  # type: ignore[misc]
        overlap_pct=overlap,
        confidence=confidence,
        inliers=n_in,
        matches=len(good),
        scale=scale,
        rotation_deg=rotation,
        different_field=bool(reasons),
        reasons=tuple(reasons),
        shape_a=shape_a,
        shape_b=shape_b,
    )


def common_field_mask(
    transform: Any, shape_a: tuple[int, int], shape_b: tuple[int, int], *, margin_px: float = 0.0
) -> np.ndarray:
    """Boolean mask over A of the pixels that B also shows, ``margin_px`` in from either edge.

    Examples
    --------
    >>> shift = [[1, 0, -25], [0, 1, 0], [0, 0, 1]]   # B sees A shifted 25 px to the left
    >>> int(common_field_mask(shift, (100, 100), (100, 100)).sum())
    7500
    """
    t = _check_matrix(transform)
    if margin_px < 0 or not math.isfinite(margin_px):
        raise InputError(f"margin_px must be a finite number >= 0, got {margin_px!r}")
    return _field_distance(t, shape_a, shape_b) > margin_px


def _field_distance(t: np.ndarray, shape_a: tuple[int, int], shape_b: tuple[int, int]) -> np.ndarray:
    """Distance (px) of each pixel of A to the edge of the common field; 0 outside it."""
    rows, cols = shape_a
    b_in_a = _apply(np.linalg.inv(t), _corners(shape_b))
    mask = np.zeros((rows, cols), dtype=np.uint8)
    if np.all(np.isfinite(b_in_a)):
        # sub-pixel fill: corners are pixel *edges*, pixel centres sit at +0.5
        pts = np.rint((b_in_a - 0.5) * 16).astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1, lineType=cv2.LINE_8, shift=4)
    padded = np.pad(mask, 1, constant_values=0)  # A's own border counts as an edge too
    return cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]


def _points(points: Any, name: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be a finite (n, 2) array of (row, col) points, got shape {arr.shape}")
    return arr


def _inside(mask: np.ndarray, pts_rc: np.ndarray) -> np.ndarray:
    r = np.floor(pts_rc[:, 0]).astype(np.int64)
    c = np.floor(pts_rc[:, 1]).astype(np.int64)
    ok = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
    out = np.zeros(len(pts_rc), dtype=bool)
    out[ok] = mask[r[ok], c[ok]]
    return out


def match_hairs(
    points_a: Any,
    points_b: Any,
    transform: Any,
    *,
    tol_px: float,
    shape_a: tuple[int, int] | None = None,
    shape_b: tuple[int, int] | None = None,
    margin_px: float | None = None,
) -> HairMatch:
    """Match hairs of visit A and visit B one to one, inside the field both photos show.

    Parameters
    ----------
    points_a, points_b : array_like, shape (n, 2)
        Hair positions as ``(row, col)`` in each image's own pixels. Exit points (where the hair
        leaves the skin) are best; shaft midpoints move as hair grows between visits, so with
        midpoints ``tol_px`` must allow for a month's growth.
    transform : array_like, shape (3, 3)
        Maps ``(x, y, 1)`` of A to B (as :func:`register` returns it).
    tol_px : float
        Largest distance, in A's pixels, between two positions of one hair.
    shape_a, shape_b : (int, int), optional
        Image sizes. With both, only hairs in the common field count; without, all hairs count.
    margin_px : float, optional
        Hairs closer than this to the edge of the common field are left out of both visits, so a hair
        just outside one photo is not counted as lost. Default: ``tol_px``.

    Returns
    -------
    HairMatch

    Examples
    --------
    >>> a = [[10, 10], [50, 50], [90, 20]]
    >>> b = [[11, 12], [52, 49], [30, 70]]         # same frame: two kept, one lost, one new
    >>> m = match_hairs(a, b, np.eye(3), tol_px=5)
    >>> m.kept.tolist(), m.lost.tolist(), m.new.tolist()
    ([[0, 0], [1, 1]], [2], [2])
    """
    if not (isinstance(tol_px, (int, float)) and math.isfinite(tol_px) and tol_px > 0):
        raise InputError(f"tol_px must be a finite number > 0, got {tol_px!r}")
    t = _check_matrix(transform)
    pa = _points(points_a, "points_a")
    pb = _points(points_b, "points_b")
    # B's points in A's frame ((row, col) -> (x, y) -> inverse transform -> (row, col))
    pb_in_a = _apply(np.linalg.inv(t), pb[:, ::-1])[:, ::-1] if len(pb) else np.zeros((0, 2))
    area: int | None = None
    if shape_a is not None and shape_b is not None:
        margin = tol_px if margin_px is None else float(margin_px)
        if margin < 0 or not math.isfinite(margin):
            raise InputError(f"margin_px must be a finite number >= 0, got {margin_px!r}")
        dist = _field_distance(t, shape_a, shape_b)
        mask, wide = dist > margin, dist > max(0.0, margin - tol_px)
        area = int(mask.sum())
        in_a, wide_a = _inside(mask, pa), _inside(wide, pa)
        in_b, wide_b = _inside(mask, pb_in_a), _inside(wide, pb_in_a)
    else:
        in_a = wide_a = np.ones(len(pa), dtype=bool)
        in_b = wide_b = np.ones(len(pb), dtype=bool)
    # Candidates come from a field widened by tol_px, so a hair just inside the counted field can still
    # find its partner just outside it. A kept pair is counted (in both visits) by its position in A,
    # so a pair straddling the edge never counts as one lost plus one new.
    ia = np.flatnonzero(wide_a)
    ib = np.flatnonzero(wide_b)
    pairs = np.zeros((0, 2), dtype=np.int64)
    if len(ia) and len(ib):
        d = np.linalg.norm(pa[ia][:, None, :] - pb_in_a[ib][None, :, :], axis=2)
        big = 1e6 + d.max()
        cost = np.where(d <= tol_px, d, big)   # pairs beyond tolerance are never preferred
        r, c = linear_sum_assignment(cost)
        ok = d[r, c] <= tol_px
        pairs = np.c_[ia[r[ok]], ib[c[ok]]].astype(np.int64)
    kept = pairs[in_a[pairs[:, 0]]] if len(pairs) else pairs
    lost = np.setdiff1d(np.flatnonzero(in_a), pairs[:, 0]).astype(np.int64)
    new = np.setdiff1d(np.flatnonzero(in_b), pairs[:, 1]).astype(np.int64)
    return HairMatch(kept=kept, lost=lost, new=new, count_a=int(len(kept) + len(lost)),
                     count_b=int(len(kept) + len(new)), common_area_px=area)



def match_tolerance_px(shape_a: tuple[int, ...], lengths_px: Sequence[float] = ()) -> float:
    """Matching tolerance for detected hairs: 1.5% of image A's diagonal, or half the median detected shaft
    length if that is more, since a shaft's midpoint can move by up to half its length between visits (the
    hair grew, or the detector cut it elsewhere)."""
    base = 0.015 * float(np.hypot(*shape_a[:2]))
    return max(base, 0.5 * float(np.median(lengths_px))) if len(lengths_px) else base


def compare(
    rgb_a: np.ndarray,
    rgb_b: np.ndarray,
    hairs_a: Any = None,
    hairs_b: Any = None,
    *,
    tol_px: float | None = None,
    model: Model = "similarity",
    min_overlap_pct: float = 10.0,
) -> Comparison:
    """Register two close-ups of one zone and match their hairs: kept, lost and new in the common field.

    Parameters
    ----------
    rgb_a, rgb_b : ndarray
        The earlier (A) and later (B) photo.
    hairs_a, hairs_b : array_like, shape (n, 2), optional
        Hair positions ``(row, col)`` in each photo (from the hair detector). Without them only the
        registration is reported.
    tol_px : float, optional
        Matching tolerance in A's pixels; default 1.5% of A's diagonal.
    model, min_overlap_pct
        Passed to :func:`register`.

    Returns
    -------
    Comparison
        A pair flagged ``different_field`` has no counts and no matches: it is kept out of any change.
    """
    reg = register(rgb_a, rgb_b, model=model, min_overlap_pct=min_overlap_pct)
    if tol_px is None:
        tol_px = 0.015 * math.hypot(*reg.shape_a)
    flags = ("different_field",) if reg.different_field else ()
    if reg.different_field or reg.transform is None or hairs_a is None or hairs_b is None:
        return Comparison(reg, (), (), (), None, None, None, None, float(tol_px), flags)
    pa = _points(hairs_a, "hairs_a")
    pb = _points(hairs_b, "hairs_b")
    m = match_hairs(pa, pb, reg.transform, tol_px=tol_px, shape_a=reg.shape_a, shape_b=reg.shape_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (m.count_b - m.count_a) / m.count_a if m.count_a else None
    low = ("low_overlap",) if reg.overlap_pct < 50.0 else ()
    return Comparison(
        registration=reg,
        kept_px=tuple((tuple(map(float, pa[i])), tuple(map(float, pb[j]))) for i, j in m.kept),  # type: ignore[misc]
        lost_px=tuple(tuple(map(float, pa[i])) for i in m.lost),  # type: ignore[misc]
        new_px=tuple(tuple(map(float, pb[j])) for j in m.new),  # type: ignore[misc]
        count_a_common=m.count_a,
        count_b_common=m.count_b,
        common_area_px=m.common_area_px,
        change_pct=change,
        tol_px=float(tol_px),
        flags=flags + low,
    )


def _xy(rc: tuple[float, float]) -> dict[str, float]:
    return {"x_px": round(rc[1], 2), "y_px": round(rc[0], 2)}


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    """The JSON object of ``hairtrack compare --json`` (DESIGN 3.1), with ``x_px``/``y_px`` points.

    Keys: ``overlap_pct``, ``transform`` (3x3, A's (x, y) to B's, or null), ``kept`` (list of
    ``{"a": point, "b": point}``), ``lost`` (points of A), ``new`` (points of B), ``flags``, and
    ``confidence``, ``inliers``, ``scale``, ``rotation_deg``, ``reasons``, ``count_a_common``,
    ``count_b_common``, ``common_area_px``, ``change_pct``, ``tol_px``.
    """
    reg = comparison.registration
    return {
        "overlap_pct": round(reg.overlap_pct, 2),
        "transform": None if reg.transform is None else [[float(v) for v in row] for row in reg.transform],
        "kept": [{"a": _xy(a), "b": _xy(b)} for a, b in comparison.kept_px],
        "lost": [_xy(p) for p in comparison.lost_px],
        "new": [_xy(p) for p in comparison.new_px],
        "flags": list(comparison.flags),
        "confidence": round(reg.confidence, 3),
        "inliers": reg.inliers,
        "scale": reg.scale,
        "rotation_deg": reg.rotation_deg,
        "reasons": list(reg.reasons),
        "count_a_common": comparison.count_a_common,
        "count_b_common": comparison.count_b_common,
        "common_area_px": comparison.common_area_px,
        "change_pct": comparison.change_pct,
        "tol_px": round(comparison.tol_px, 2),
    }
