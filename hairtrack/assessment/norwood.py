"""Norwood-Hamilton stage from one or several overview photos of a man's head.

The model (trained by ``scripts/train_norwood.py``, described in ``docs/norwood_model_card.md``) reads the
rotation-invariant features of :func:`hairtrack.imaging.coverage.overview_features` and gives, per photo,

* the view (front, top, left, right, back): a multinomial logistic regression, and
* probabilities over Norwood levels 2-7: an ordinal (cumulative-logit, proportional-odds [1]_) regression
  per view, mixed over the view probabilities::

      P(level <= k | x, v) = sigmoid(theta_{v,k} - w_v . z),   p(level | x) = sum_v p(v | x) p(level | x, v)

  ``z`` the standardised features. The model was trained on every photo and its left-right mirror image
  (left and right views swapped), and a photo's answer (level and view probabilities) is the mean of
  its own and its mirror image's (the sector features change when the head is mirrored, the stage does not).
  The ordinal form suits an ordered scale: one direction of "more bald",
  cut at five thresholds, instead of six unrelated scores (it measured better on the person-split CV).

Several photos of one man combine by a weighted sum of log-probabilities, one weight per view (mean over
the photos of one view), chosen by cross-validation with folds split by person::

    log p(level | photos) = sum_v w_v mean_{i in v} log p(level | x_i) + const

Reported ``stage_number`` is the rounded expected level (it minimises the expected squared error, which is
what the quadratic weighted kappa rewards), not always the single most probable one.

Named stages. The training labels are levels 2-7 without the vertex and anterior (``a``) variants, so:
level 1 is never predicted (its probability is 0; a man with no recession is called ``II``, the mildest
stage the model knows), 2 -> ``II``, 3 -> ``III`` or ``III vertex`` when a top or back photo shows a bare
crown (vertex bald area above 3 % of the head disc, measured by :func:`overview_coverage`), 4 -> ``IV``,
5 -> ``V``, 6 -> ``VI``, 7 -> ``VII``. Stage I and the ``a`` variants are not told apart from photos;
a profile's zone scans tell them apart (:mod:`hairtrack.assessment.norwood_scans`, combined with the photo
answer there), and the self-assessment diagrams (:mod:`hairtrack.assessment.diagrams`) cover them.

Garbage in gives ``stage = "unknown"`` with a reason, never a confident stage: an image too small, black
or blank, one in which no head is found, or one whose features lie far outside everything the model saw
(a squared Mahalanobis distance beyond 1.5 x the 99.5th percentile of the training photos).

It is weak where the data is: 103 men, one annotator, noisy labels, backs that cannot show the front.
Measured figures: ``benchmarks/norwood.py``.

References
----------
.. [1] McCullagh P. Regression models for ordinal data. J R Stat Soc B 1980;42(2):109-142.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from hairtrack.errors import InputError
from hairtrack.imaging.coverage import (
    HeadSegmentation,
    OverviewCoverage,
    coverage_to_dict,
    overview_coverage,
    overview_features,
    segment_head,
)

__all__ = [
    "STAGES",
    "STAGE_NUMBER",
    "STAGE_LEVELS",
    "VIEW_NAMES",
    "MODEL_PATH",
    "NorwoodModel",
    "NorwoodResult",
    "load_model",
    "assess_photo",
    "combine_results",
    "assess_photos",
    "norwood_to_dict",
    "softmax",
    "ordinal_probs",
    "combine_log_probs",
]

STAGES = ("I", "II", "IIa", "III", "IIIa", "III vertex", "IV", "IVa", "V", "Va", "VI", "VII")
STAGE_NUMBER = {"I": 1, "II": 2, "IIa": 2, "III": 3, "IIIa": 3, "III vertex": 3, "IV": 4, "IVa": 4, "V": 5,
                "Va": 5, "VI": 6, "VII": 7}
_BASE_NAME = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII"}
STAGE_LEVELS = (2, 3, 4, 5, 6, 7)
VIEW_NAMES = ("front", "top", "left", "right", "back")
MODEL_PATH = Path(__file__).with_name("models") / "norwood_v1.npz"
CREDIT = "hair-loss dataset, uze, Roboflow Universe, CC BY 4.0"

MIN_SIDE_PX = 64
_MIRROR_VIEW = np.array([VIEW_NAMES.index(v) for v in ("front", "top", "right", "left", "back")])
_VERTEX_BARE_REL = 0.03
_NEIGHBOUR_RATIO = 0.5  # a neighbouring stage is "close" when at least half as probable as the chosen one
_VIEW_UNSURE = 0.4
# Share of skin-coloured pixels (Chai & Ngan's YCrCb box) below which no head is shown: the dev photos
# all have at least 5.6 % (mean over the centre rings).
_MIN_SKIN_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class NorwoodModel:
    """The shipped model's arrays (see ``scripts/train_norwood.py``)."""

    feature_mean: np.ndarray
    feature_scale: np.ndarray
    view_coef: np.ndarray
    view_intercept: np.ndarray
    stage_coef: np.ndarray  # views x features
    stage_thresholds: np.ndarray  # views x (levels - 1), increasing
    view_weights: np.ndarray
    ood_center: np.ndarray
    ood_whiten: np.ndarray
    ood_d2_limit: float
    flip_tta: bool = False  # average each photo's answer with its mirror image's


@dataclass(frozen=True, slots=True)
class NorwoodResult:
    """The Norwood answer for one photo, or for several photos of one man.

    ``probabilities`` maps stage numbers 1-7 to probabilities (empty when ``stage == "unknown"``).
    ``view`` is ``"combined"`` for a combined answer.
    """

    image: str | None
    view: str | None
    view_probabilities: dict[str, float]
    stage: str
    stage_number: int | None
    probabilities: dict[int, float]
    neighbour_stage: str | None
    neighbour_probability: float | None
    warnings: tuple[str, ...]
    unknown_reason: str | None
    coverage: OverviewCoverage | None
    elapsed_ms: float
    images: tuple[str | None, ...] = field(default=())
    level_log_probs: np.ndarray | None = None  # log p over STAGE_LEVELS, for combining


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for large logits."""
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def ordinal_probs(score: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Level probabilities of a cumulative-logit model: ``P(y <= k) = sigmoid(theta_k - score)``.

    ``score`` has any leading shape; ``thresholds`` (increasing, length K-1) broadcast against it with a
    trailing level axis. Returns probabilities with a trailing axis of length K.

    Examples
    --------
    >>> ordinal_probs(np.array(0.0), np.array([-1.0, 1.0])).round(3).tolist()
    [0.269, 0.462, 0.269]
    """
    score = np.asarray(score, dtype=np.float64)[..., None]
    th = np.asarray(thresholds, dtype=np.float64)
    cum = 1.0 / (1.0 + np.exp(-(th - score)))
    zeros = np.zeros(cum.shape[:-1] + (1,))
    cum = np.concatenate([zeros, cum, zeros + 1.0], axis=-1)
    return np.clip(np.diff(cum, axis=-1), 0.0, 1.0)


def combine_log_probs(log_p: np.ndarray, view_idx: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Combine per-photo level log-probabilities of one man into one distribution.

    Mean log-probability per view, then a weighted sum over views, renormalised. When every view present
    has weight 0 (e.g. only back photos), the present views count with weight 1.

    Examples
    --------
    >>> lp = np.log(np.array([[0.7, 0.3], [0.6, 0.4]]))
    >>> combine_log_probs(lp, np.array([0, 1]), np.array([1.0, 1.0])).round(3).tolist()
    [0.778, 0.222]
    """
    log_p = np.atleast_2d(np.asarray(log_p, dtype=np.float64))
    view_idx = np.asarray(view_idx)
    present = sorted(set(view_idx.tolist()))
    w = np.asarray(weights, dtype=np.float64)
    if sum(w[v] for v in present) <= 0:
        w = np.ones_like(w)
    total = np.zeros(log_p.shape[1])
    for v in present:
        total += w[v] * log_p[view_idx == v].mean(axis=0)
    return softmax(total)


def load_model(path: str | Path | None = None) -> NorwoodModel:
    """Load the Norwood model (the shipped one by default; loading takes milliseconds).

    Examples
    --------
    >>> m = load_model()
    >>> m.stage_thresholds.shape
    (5, 5)
    """
    return _load_model(str(path or MODEL_PATH))


@lru_cache(maxsize=4)
def _load_model(path: str) -> NorwoodModel:
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the Norwood model at {path}: {exc}") from exc
    f64 = {k: np.asarray(z[k], dtype=np.float64) for k in
           ("feature_mean", "feature_scale", "view_coef", "view_intercept", "stage_coef", "stage_thresholds",
            "view_weights", "ood_center", "ood_whiten")}
    if tuple(int(v) for v in z["stage_levels"]) != STAGE_LEVELS or tuple(str(v) for v in z["view_names"]) != VIEW_NAMES:
        raise InputError(f"the Norwood model at {path} was trained for other stages or views")
    flip = bool(int(z["flip_tta"])) if "flip_tta" in z.files else False
    return NorwoodModel(**f64, ood_d2_limit=float(z["ood_d2_limit"]), flip_tta=flip)


def _unknown(name, reason, t0, warnings=(), view=None, view_p=None, coverage=None, images=None) -> NorwoodResult:
    return NorwoodResult(name, view, view_p or {}, "unknown", None, {}, None, None, tuple(warnings), reason,
                         coverage, round((time.perf_counter() - t0) * 1000, 1),
                         (name,) if images is None else tuple(images), None)


def _name_stage(number: int, coverages: Sequence[OverviewCoverage | None]) -> str:
    if number == 3:
        for c in coverages:
            if c is not None and c.view in ("top", "back") and (c.vertex_bald_area_rel or 0.0) > _VERTEX_BARE_REL:
                return "III vertex"
    return _BASE_NAME[number]


def _finish(name, view, view_p, level_p, warnings, coverages, t0, images) -> NorwoodResult:
    ev = float(level_p @ np.asarray(STAGE_LEVELS, dtype=np.float64))
    number = int(np.clip(np.rint(ev), STAGE_LEVELS[0], STAGE_LEVELS[-1]))
    probs = {1: 0.0} | {lvl: round(float(p), 4) for lvl, p in zip(STAGE_LEVELS, level_p)}
    neighbour = neighbour_p = None
    for cand in (c for c in (number - 1, number + 1) if c in probs):
        pc = probs[cand]
        if pc >= _NEIGHBOUR_RATIO * probs[number] and (neighbour_p is None or pc > neighbour_p):
            neighbour, neighbour_p = _BASE_NAME[cand], pc
    stage = _name_stage(number, coverages)
    cov = coverages[0] if len(coverages) == 1 else None
    return NorwoodResult(name, view, view_p, stage, number, probs, neighbour, neighbour_p, tuple(warnings), None,
                         cov, round((time.perf_counter() - t0) * 1000, 1), tuple(images),
                         np.log(np.clip(level_p, 1e-12, 1.0)))


def _hat_or_wet(seg: HeadSegmentation, image: np.ndarray) -> list[str]:
    """Heuristic warnings: a hat (smooth, non-skin, saturated cover over the head) and wet hair (shine).

    Thresholds set by eye, not validated (the dev photos hold no hats and no labelled wet hair).
    """
    out: list[str] = []
    if not seg.head_mask.any():
        return out
    small = cv2.resize(np.ascontiguousarray(np.rot90(image, seg.orientation_deg // 90)), seg.head_mask.shape[::-1],
                       interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    lum = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    mean = cv2.blur(lum, (5, 5))
    tex = np.sqrt(np.maximum(cv2.blur(lum * lum, (5, 5)) - mean * mean, 0))
    top = seg.head_mask.copy()
    rows = np.nonzero(seg.head_mask)[0]
    top[int(rows.min() + 0.45 * (rows.max() - rows.min())) :, :] = False
    smooth_cover = top & seg.hair_mask & (tex < 4.0) & (hsv[..., 1] > 90) & (lum > 60)
    if top.sum() > 0 and smooth_cover.sum() / top.sum() > 0.45:
        out.append("hat: the top of the head looks covered (smooth, coloured, not skin); take the photo bare-headed")
    shine = seg.hair_mask & (lum > 215) & (hsv[..., 1] < 50)
    dark_hair = seg.hair_mask & (lum < 90)
    if seg.hair_mask.sum() > 0 and dark_hair.sum() / seg.hair_mask.sum() > 0.4 and shine.sum() / seg.hair_mask.sum() > 0.06:
        out.append("wet_hair: shine on dark hair suggests wet or oiled hair, which shows more scalp; use dry hair")
    return out


def assess_photo(
    image: np.ndarray,
    *,
    name: str | None = None,
    model: NorwoodModel | None = None,
    view: str | None = None,
    need_crown: bool = False,
    px_per_mm: float | None = None,
) -> NorwoodResult:
    """Norwood stage probabilities from one overview photo.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 photo, upright or turned by any multiple of 90 degrees.
    name : str, optional
        The file name, echoed as ``image``.
    model : NorwoodModel, optional
        Defaults to the shipped model.
    view : {'front', 'top', 'left', 'right', 'back'}, optional
        The view when known; otherwise estimated.
    need_crown : bool
        The question is about the crown: a photo that cannot show it gives ``unknown``.
    px_per_mm : float, optional
        Scale of the photo at the scalp, for areas in cm².

    Returns
    -------
    NorwoodResult

    Examples
    --------
    >>> r = assess_photo(np.zeros((200, 200, 3), np.uint8))
    >>> r.stage, r.unknown_reason.split(":")[0]
    ('unknown', 'too_dark')
    """
    t0 = time.perf_counter()
    if view is not None and view not in VIEW_NAMES:
        raise InputError(f"view must be one of {', '.join(VIEW_NAMES)}, got {view!r}")
    model = model or load_model()
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InputError(f"image must be an H x W x 3 RGB array, got shape {arr.shape}")
    if min(arr.shape[:2]) < MIN_SIDE_PX:
        return _unknown(name, f"too_small: the image is {arr.shape[1]} x {arr.shape[0]} px; a head photo needs at "
                              f"least {MIN_SIDE_PX} px a side", t0)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    arr = np.ascontiguousarray(arr[..., :3])
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    grey = arr.mean(axis=2)
    if grey.mean() < 20:
        return _unknown(name, "too_dark: the image is (nearly) black; take the photo in good light", t0)
    if grey.mean() > 245:
        return _unknown(name, "overexposed: the image is (nearly) white", t0)
    if grey.std() < 6:
        return _unknown(name, "blank: the image is one flat colour, no head in it", t0)
    ycc = cv2.cvtColor(arr, cv2.COLOR_RGB2YCrCb)
    skin_share = float(((ycc[..., 1] >= 133) & (ycc[..., 1] <= 173) & (ycc[..., 2] >= 77) & (ycc[..., 2] <= 127)).mean())
    if skin_share < _MIN_SKIN_SHARE:
        return _unknown(name, f"no_head: nothing skin-coloured in the photo ({skin_share:.1%}); a head photo shows "
                              "scalp, face, ears or neck", t0)
    seg = segment_head(arr)
    feats = overview_features(arr, segmentation=seg)
    z = (feats - model.feature_mean) / model.feature_scale
    d2 = float((((z - model.ood_center) @ model.ood_whiten.T) ** 2).sum())
    if d2 > model.ood_d2_limit:
        return _unknown(name, "not_a_head: the photo is unlike every head photo the model was trained on "
                              f"(distance {d2:.0f} > {model.ood_d2_limit:.0f})", t0)
    pv = softmax(z @ model.view_coef.T + model.view_intercept)
    per_view = ordinal_probs(model.stage_coef @ z, model.stage_thresholds)  # views x levels
    level_p = pv @ per_view if view is None else per_view[VIEW_NAMES.index(view)]
    if model.flip_tta:  # the mirror image, its views mapped back (its left is our right)
        zf = (overview_features(np.ascontiguousarray(arr[:, ::-1])) - model.feature_mean) / model.feature_scale
        pvf = softmax(zf @ model.view_coef.T + model.view_intercept)
        per_view_f = ordinal_probs(model.stage_coef @ zf, model.stage_thresholds)
        level_pf = pvf @ per_view_f if view is None else per_view_f[_MIRROR_VIEW[VIEW_NAMES.index(view)]]
        level_p = 0.5 * (level_p + level_pf)
        pv = 0.5 * (pv + pvf[_MIRROR_VIEW])
    view_p = {v: round(float(p), 4) for v, p in zip(VIEW_NAMES, pv)}
    est_view = VIEW_NAMES[int(np.argmax(pv))] if view is None else view
    cov = overview_coverage(arr, view=est_view, px_per_mm=px_per_mm, segmentation=seg)
    if not cov.head_found:
        return _unknown(name, "no_head: no head found near the centre of the photo", t0, view=est_view,
                        view_p=view_p, coverage=cov)
    warnings: list[str] = [i for i in cov.issues if i.startswith(("head_outline_assumed", "face_only"))]
    if view is None and float(pv.max()) < _VIEW_UNSURE:
        warnings.append(f"view_not_usable: the view is unclear (most likely {est_view}, p={pv.max():.2f}); "
                        "take the photo straight from the front, top, side or back")
    if est_view == "front":
        warnings.append("crown_not_visible: a front photo does not show the crown; add a top-down or back photo")
        if need_crown:
            return _unknown(name, "crown_not_visible: the question is about the crown and this front photo does "
                                  "not show it", t0, warnings, est_view, view_p, cov)
    if est_view == "back":
        warnings.append("back_view: a back photo shows the crown and donor, not the hairline; the stage is uncertain")
    warnings += _hat_or_wet(seg, arr)
    return _finish(name, est_view, view_p, level_p, warnings, [cov], t0, [name])


def combine_results(results: Sequence[NorwoodResult], *, model: NorwoodModel | None = None,
                    need_crown: bool = False) -> NorwoodResult:
    """One answer for several photos of one man (his views combined).

    Photos answered ``unknown`` are left out (their reasons become warnings); with none left the combined
    answer is ``unknown`` too.
    """
    t0 = time.perf_counter()
    if not results:
        raise InputError("combine_results needs at least one photo result, got none")
    model = model or load_model()
    good = [r for r in results if r.stage != "unknown" and r.level_log_probs is not None]
    warnings = [f"{r.image or 'photo'}: {r.unknown_reason}" for r in results if r.stage == "unknown"]
    images = [r.image for r in results]
    if not good:
        return _unknown(None, "no_usable_photo: none of the photos could be assessed", t0, warnings,
                        view="combined", images=images)
    views = [r.view for r in good]
    if not {"top", "back"} & set(views) and not {"left", "right"} & set(views):
        warnings.append("crown_not_visible: no top-down, side or back photo; the crown is not judged")
        if need_crown:
            return _unknown(None, "crown_not_visible: no photo shows the crown", t0, warnings, view="combined",
                            images=images)
    for r in good:
        warnings += [f"{r.image or 'photo'}: {w}" for w in r.warnings
                     if not w.startswith(("crown_not_visible", "back_view"))]
    lp = np.array([r.level_log_probs for r in good])
    level_p = combine_log_probs(lp, np.array([VIEW_NAMES.index(v) for v in views]), model.view_weights)
    res = _finish(None, "combined", {}, level_p, warnings, [r.coverage for r in good], t0, images)
    return res


def assess_photos(images: Sequence[np.ndarray], *, names: Sequence[str | None] | None = None,
                  combine: bool = False, need_crown: bool = False, find_card: bool = True) -> list[NorwoodResult]:
    """Assess several photos: one result per photo, or one combined result when ``combine``.

    With ``find_card``, a photo that shows the calibration card (``hairtrack card``, held at the scalp)
    gets its scale from it: coverage areas in cm², recession in cm. The card is painted over before the
    head is read, and the scale (or why it could not be trusted) is said in the warnings.
    """
    from dataclasses import replace

    from hairtrack.imaging.measure import scale_from_card

    names = list(names) if names is not None else [None] * len(images)
    if len(names) != len(images):
        raise InputError(f"names must match images in length, got {len(names)} names for {len(images)} images")
    model = load_model()
    res = []
    for im, n in zip(images, names):
        px_per_mm, notes = None, []
        arr = np.asarray(im)
        if find_card and arr.dtype == np.uint8 and arr.ndim == 3 and min(arr.shape[:2]) >= MIN_SIDE_PX:
            calibration, im, notes, _ = scale_from_card(np.ascontiguousarray(arr[..., :3]))
            px_per_mm = calibration.px_per_mm if calibration is not None else None
        r = assess_photo(im, name=n, model=model, need_crown=need_crown and not combine, px_per_mm=px_per_mm)
        res.append(replace(r, warnings=r.warnings + tuple(f"scale: {x}" for x in notes)) if notes else r)
    return [combine_results(res, model=model, need_crown=need_crown)] if combine else res


def norwood_to_dict(result: NorwoodResult) -> dict:
    """The JSON object of ``hairtrack norwood --json`` (DESIGN.md 3.1)."""
    d = {
        "image": result.image if result.view != "combined" else list(result.images),
        "view": result.view,
        "stage": result.stage,
        "stage_number": result.stage_number,
        "probabilities": {str(k): v for k, v in result.probabilities.items()},
        "neighbour_stage": result.neighbour_stage,
        "neighbour_probability": result.neighbour_probability,
        "view_probabilities": result.view_probabilities,
        "warnings": list(result.warnings),
        "unknown_reason": result.unknown_reason,
        "coverage": coverage_to_dict(result.coverage) if result.coverage is not None else None,
        "elapsed_ms": result.elapsed_ms,
        "model": {"name": MODEL_PATH.stem, "trained_on": CREDIT},
    }
    return d
