"""The one entry point: a trichoscopy photo (array) and its scale in, one :class:`Analysis` out.

Densities are per usable area: ``area_cm2`` is the usable field (the picture less banner, letterbox
strips and vignetted border) divided by ``px_per_mm``² (1 cm² = 100 mm²). They count each hair and unit once, as
at its follicle, with the frame's cut corrected for: the hairs (and units) lying wholly inside the field are
weighted by the Miles-Lantuéjoul factor (:mod:`hairtrack.imaging.density`), so ``hairs_per_cm2`` is not
``hair_count / area_cm2`` and does not fall as the hair grows longer between scans. Width classes follow the usual
trichoscopy cut-offs (vellus < 30 um, terminal >= 60 um; Rudnicka et al., *Atlas of Trichoscopy*, 2012),
both configurable. Without a scale every value that needs one is ``None`` and a warning says so.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hairtrack.domain import Zone
from hairtrack.errors import InputError
from hairtrack.imaging.density import counting_window
from hairtrack.imaging.hairs import Hair, check_px_per_mm, detect_hairs
from hairtrack.imaging.learned import DEFAULT_MODELS, detect_hairs_learned, reads_at_network_scale
from hairtrack.imaging.quality import (
    _MIN_HAIRS, QualityReport, as_rgb_uint8, assess_quality, scan_field, value_span,
)
from hairtrack.imaging.io import alpha_opacity
from hairtrack.imaging.units import FollicularUnit, group_units, hairs_per_whole_unit

__all__ = ["Analysis", "analyze", "analysis_to_dict", "measurement_method", "coarse_scale_sentence", "DETECTORS",
           "DEFAULT_DETECTOR", "METHOD_REVISION", "NO_SCALE_SENTENCE"]

NO_SCALE_SENTENCE = ("No scale given: counts only. Give --px-per-mm or --device to get densities per cm² and "
             "widths in micrometres.")


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one trichoscopy photo measures. Fields needing a scale are ``None`` without one."""

    mode: str
    zone: Zone | None
    image_shape: tuple[int, int]
    hairs: tuple[Hair, ...]
    units: tuple[FollicularUnit, ...]
    px_per_mm: float | None
    calibration_source: str | None
    area_cm2: float | None
    hairs_per_cm2: float | None
    fu_per_cm2: float | None
    hairs_per_fu: float | None
    mean_width_um: float | None
    terminal_fraction: float | None
    vellus_fraction: float | None
    coverage_pct: float | None
    hairs_whole: int  # hairs wholly inside the usable field: the density rests on these unless most are cut
    method: str  # measurement_method(detector): scans of different methods are not like for like
    quality: QualityReport
    warnings: tuple[str, ...]
    elapsed_ms: float

    @property
    def hair_count(self) -> int:
        """Number of hairs found."""
        return len(self.hairs)


def _scale_of(calibration: Any) -> tuple[float | None, str | None]:
    if calibration is None:
        return None, None
    if isinstance(calibration, bool):
        raise InputError(f"px_per_mm must be a finite number > 0, got {calibration!r}")
    if isinstance(calibration, int | float | str | np.floating | np.integer):
        return check_px_per_mm(calibration), "explicit"
    value = getattr(calibration, "px_per_mm", None)
    if value is None:
        raise InputError(f"calibration must be a Calibration or a number of px per mm, got {calibration!r}")
    return check_px_per_mm(value), str(getattr(calibration, "source", "explicit"))


def check_width_classes(vellus_max_um: float, terminal_min_um: float) -> None:
    """Raise InputError unless 0 < ``vellus_max_um`` <= ``terminal_min_um`` < infinity.

    >>> check_width_classes(30.0, 60.0)
    >>> check_width_classes(60.0, 30.0)
    Traceback (most recent call last):
    ...
    hairtrack.errors.InputError: need 0 < vellus_max_um <= terminal_min_um (finite), got 60.0 and 30.0
    """
    if not (0 < vellus_max_um <= terminal_min_um < float("inf")):
        raise InputError(f"need 0 < vellus_max_um <= terminal_min_um (finite), got {vellus_max_um} and {terminal_min_um}")


def _with_issue(quality: QualityReport, issue: str, sentence: str) -> QualityReport:
    """``quality`` with one more named issue and its sentence (so no longer ok)."""
    return QualityReport(ok=False, issues=quality.issues + (issue,), warnings=quality.warnings + (sentence,),
                         figures=quality.figures)


# "hairs_cut_by_field": from this many hairs found, when fewer than this share lie wholly inside the field
_CUT_MIN_HAIRS = 4
# A picture under this many px a side is too small to measure hairs in ("too_small"): no density is given.
_MIN_SIDE_PX = 64
_CUT_MAX_SHARE = 0.5
# "long_shafts": with a scale and at least quality's _MIN_HAIRS hairs, when their median length (mm) is over this (for the
# learned detector, only from 89.5 px/mm, where the photo reaches its 179 px/mm). Hair clipped
# for trichoscopy is 0.22-0.68 mm (the dev photos' labelled shafts, 10th-90th percentile, benchmarks/scale_bar.py),
# and the detector reads it best; it misses many longer shafts (renders of 0.6-1.6 mm read 42% low, of 1-2.5 mm 70%,
# of clipped ones 24%). The per-photo median shaft found on the 1,324 dev photos is 0.40 mm at the median, 0.70 at
# the 99th percentile and 0.85 at most: 6 are named (benchmarks/long_shafts.py).
_LONG_SHAFT_MM = 0.75
# "coarse_scale": a close-up under this many px/mm. The learned detector reads photos at 179 px/mm and enlarges them
# at most twice; below 89.5 px/mm it sees shafts thinner than any it was trained on, and from about 80 down it
# misses the thin ones and reads widths wide. Renders at 110 px/mm resampled (seeds 5060-5067, medium and easy):
# hairs/cm² within 2% of the 110 px/mm reading down to 80 px/mm, then -5 to -9% at 70, -11 to -16% at 60, -15 to
# -24% at 50, widths +12-22% (benchmarks/coarse_scale.py, seeds 1000-1005: -1.5% at 80, -7.7% at 70, -14% at 60,
# -21% at 50). The classical pipeline's density holds there (mean -1.9 to +4.2% down to 50 px/mm), so only the
# learned detector's photos are named. A phone's macro lens gives about 110. A warning, not a doubt for the verdict:
# a device is as coarse at every visit, and a change of device is its own flag (analysis.protocol).
_COARSE_PX_PER_MM = 80.0
_NOT_BESIDE_COARSE = frozenset({"too_small", "blank", "not_scalp", "overview_photo", "scale_mismatch"})

DETECTORS = ("classical", "learned")
# The learned detector beats the classical one on the dev set's untuned report fold (count MAE 2.19 vs 2.91,
# F1 0.817 vs 0.737; docs/hair_detector_card.md). The classical pipeline stays as the documented fallback.
DEFAULT_DETECTOR = "learned"
# Bump when a change moves the figures measured from the same photo (decoding, gates, the density's
# definition, the classical pipeline); new weights change the learned method's name by themselves. The
# capture check (analysis.protocol, ``method``) flags scans measured by another method than the baseline's.
# tests/imaging/test_method_guard.py fails when the figures of a few fixed photos move under the same revision;
# scripts/record_method_figures.py records them, and will not without a bump.
# 1: the float pair, hairs / area; 2: densities corrected for the frame's cut (2026-11-27); 3: skin clipped
# white inside the photo stays in the usable field, and a photo whose every hair is cut by the field gets the
# plain count over the area instead of 0 (2026-11-28); 4: the plain count also where most hairs are cut (it was
# only where all were: one short whole hair among ten cut ones cut the density tenfold), and fu/cm² is
# hairs/cm² over hairs per unit, and a calibration card in the photo is no part of the field (2026-11-28,
# seventeenth session); 5: hairs whose ends meet join one unit only when their shafts leave that point together
# (tips of two openings had made one unit; same session); 6: the edge correction's grid keeps 128 cells across
# the short side (4:3 and 3:2 frames measured 0.5-3.8% otherwise; 5:4 frames are unchanged), an RGBA photo's
# transparent part is no part of the field, 16-bit samples are scaled by their bit depth (eighteenth session);
# 7: a hair joins its unit through one end only (units whose tips met were chained), hairs per unit (and so
# units/cm²) from the units seen whole, a picture too small to measure gives no density instead of 0, 16-bit
# TIFFs with an orientation are turned once and 16-bit grey and alpha keeps its depth (twenty-first session);
# 8: a photo is read at the scale its decoding was tuned at on real 70x photos, whose own scale bar shows 358
# px/mm, not the 220 once assumed: the learned detector at 179 px/mm (not 110), the classical pipeline's size
# limits at that scale (same session); 9: skin clipped white out to the frame's edge stays in the field (with short
# clipped hair its flat rows were cut as a letterbox, leaving strips and a density two to three times too high),
# and a photo blown out but for its hairs is overexposed, not blank (twenty-third session); 10: shafts lying near
# the rows or columns are no longer taken for a drawn scale bar, whose pixels the hairs' darkness fills in (on 1,269
# of the 1,324 dev photos some shaft was; a shaft wholly covered was lost; same session); 11: the learned detector
# reads a found shaft's width over -0.45..+0.45 of its length, not -0.3..+0.3, away from the neighbours it lies on
# near its unit's opening (widths, their contrast and what reads them move: coverage, the width classes, units
# without a scale, the scale check; counts and densities do not; twenty-fourth session); 12: a dark photo's
# top rows are no longer taken for a burned-in banner (every row of it was dark and grey, and its top 9% left the
# field: density |error| 11% at half exposure; same session); 13: the learned detector's widths have the photo's
# blur taken out (measured at the edges of its wide shafts) and are the 35th percentile of a shaft's profiles,
# not their median (thin hairs of a phone macro read +60% wide; widths, coverage, the width classes and what
# reads them move, counts and densities do not; twenty-fifth session); 14: a width read past the blur table's
# widest box (28 input px) is scaled by the factor there instead of clamped at 28 px, and at the least blur a
# reading is not inverted inside the table's flat start (same session; a review found both); 15: a dark blob
# is a scale bar's label box only when it encloses white text, not when white skin shows in its bounding box
# (on pale, bright skin whole units passed for label boxes and were lost; twenty-sixth session), and a drawn
# line's length is counted inside the frame only (level and upright shafts cut by the frame passed for lines at
# half the length asked, at a phone macro's scale; same session), and red skin (inflamed) is no longer taken for
# the measurement circle's stroke, which is thin (widths +35% on a render reddened; same session); 16: the photo's
# blur is read from each wide shaft's steepest fall over 4 px (not 2) against boxes of its own width, not of 14 px
# (noise steepened the 2-px slope, and narrow and wide shafts read the blur low: a phone macro's thin hairs read
# +23%, now +16%; widths and what reads them move, counts and densities do not; twenty-ninth session); 17: a
# kept shaft's width profiles are moved together onto its darkest line, up to 4 input px from where it was found
# (found off its middle, a shaft read an edge as its peak: wider, with sharper edges, so the photo's blur read
# low; widths and what reads them move, counts and densities do not; thirtieth session); 18: they move to the
# nearest peak of their mean, not to its darkest point within the 4 px, which could be a thick neighbour's edge
# (a 30-um shaft of the guard's hard scene read 73 um; same session); 19: the photo's blur is read from its lone
# shafts (no other found shaft within 16 input px) when 8 or more of them can show it (a unit's shafts lying on
# each other in different tones read it low, so thin shafts read wide; widths and what reads them move, counts
# and densities do not; thirty-first session); 20: a shaft whose three profiles at one end read 1.3x or more
# narrower than the three at the other takes that end's width when it is the smaller (a unit's shafts part
# towards their tips, and a thin one lying on a thicker neighbour read it; widths and what reads them move,
# counts and densities do not; same session); 21: the blue letters of the measurement circle's label, found as
# lines of text, join the drawing the shafts' darkness leaves out (at a phone macro's scale its letters were found
# as hairs: 48 on twelve easy renders at 100 px/mm, 5 now; counts, densities and units of photos with such a label
# move; thirty-second session).
METHOD_REVISION = 21


@functools.cache
def measurement_method(detector: str = DEFAULT_DETECTOR) -> str:
    """A short name of what measures a photo: the detector, its networks' fingerprint and ``METHOD_REVISION``.

    Examples
    --------
    >>> measurement_method("classical") == f"classical/r{METHOD_REVISION}"
    True
    >>> measurement_method("learned").startswith("learned/")
    True
    """
    if detector not in DETECTORS:
        raise InputError(f"detector must be one of {DETECTORS}, got {detector!r}")
    if detector == "classical":
        return f"classical/r{METHOD_REVISION}"
    try:
        digest = hashlib.sha256(b"".join(path.read_bytes() for path in DEFAULT_MODELS)).hexdigest()[:10]
    except OSError as exc:
        raise InputError(f"hair detector model cannot be read ({exc}); reinstall hairtrack or use "
                         "detector='classical'") from exc
    return f"learned/{digest}/r{METHOD_REVISION}"


def coarse_scale_sentence(px_per_mm: float) -> str | None:
    """What a close-up at ``px_per_mm`` costs the learned detector, when it is under ``_COARSE_PX_PER_MM``.

    Examples
    --------
    >>> coarse_scale_sentence(110.0) is None
    True
    >>> coarse_scale_sentence(50.0)[:45]
    'At 50 px/mm a hair 60 µm wide is only 3.0 px '
    """
    if px_per_mm >= _COARSE_PX_PER_MM:
        return None
    return (f"At {px_per_mm:.3g} px/mm a hair 60 µm wide is only {0.06 * px_per_mm:.1f} px across: thin hairs are "
            "missed, so the count comes out low and the widths high. Take the close-up nearer, or with a stronger "
            f"macro lens ({_COARSE_PX_PER_MM:.0f} px/mm or more; a phone's macro lens gives about 110).")


def analyze(image: np.ndarray, calibration: Any = None, zone: Zone | str | None = None, *,
            vellus_max_um: float = 30.0, terminal_min_um: float = 60.0,
            detector: str = DEFAULT_DETECTOR, exclude: np.ndarray | None = None) -> Analysis:
    """Measure one trichoscopy photo.

    Parameters
    ----------
    image : ndarray
        H x W x 3 RGB uint8 (grey, 16-bit and float are converted), e.g. ``load_image(path).rgb``.
    calibration : Calibration or float, optional
        The scale (``Calibration.px_per_mm``, or the number itself).
    zone : Zone or str, optional
        Scalp zone, carried into the result; a name in any case, with hyphens or spaces, is taken.
    vellus_max_um, terminal_min_um : float
        Width classes: vellus below the first, terminal from the second.
    detector : {"classical", "learned"}
        Which hair detector: the classical pipeline (:func:`hairtrack.imaging.hairs.detect_hairs`) or the
        small network trained on synthetic scalps
        (:func:`hairtrack.imaging.learned.detect_hairs_learned`).
    exclude : ndarray of bool, H x W, optional
        Where the photo shows something other than scalp (a calibration card held in the frame): no part of
        the field's area, and its edge is the field's edge for the hairs it cuts. An RGBA image's more than
        half transparent pixels are left out too.

    Returns
    -------
    Analysis

    Raises
    ------
    hairtrack.errors.InputError
        For a scale that is not a finite number > 0, an image smaller than 2 x 2 px or of a shape that
        is not a picture, width classes out of order, an unknown detector or an unknown zone.

    Examples
    --------
    >>> from hairtrack.synth import render_scalp
    >>> scene = render_scalp(seed=2, shape=(384, 480), n_units=6, difficulty="easy")
    >>> a = analyze(scene.image, scene.px_per_mm)
    >>> a.hair_count > 0 and a.hairs_per_cm2 > 0
    True
    >>> analyze(scene.image).hairs_per_cm2 is None
    True
    """
    t0 = time.perf_counter()
    ppm, source = _scale_of(calibration)
    check_width_classes(vellus_max_um, terminal_min_um)
    if detector not in DETECTORS:
        raise InputError(f"detector must be one of {DETECTORS}, got {detector!r}")
    zone_v = zone if zone is None or isinstance(zone, Zone) else Zone.parse(zone)
    rgb = as_rgb_uint8(image)
    h, w = rgb.shape[:2]
    field = scan_field(rgb)
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.shape != (h, w):
            raise InputError(f"exclude must be a mask of the image's shape {(h, w)}, got {exclude.shape}")
        if exclude.dtype != bool and not np.isin(exclude, (0, 1)).all():  # a soft mask would exclude everything
            raise InputError("exclude must be a mask of True/False (or 0/1) values")
        exclude = exclude.astype(bool)
    raw = np.asarray(image)
    if raw.ndim == 3 and raw.shape[2] == 4:  # RGBA: the more than half transparent is no part of the field
        see_through = alpha_opacity(raw[..., 3]) < 0.5
        exclude = see_through if exclude is None else exclude | see_through
    if exclude is not None:
        usable = field.usable & ~exclude
        field = replace(field, usable=usable, usable_fraction=float(usable.mean()))
    blank = value_span(rgb) < 8
    if blank or min(h, w) < 16:
        hairs: tuple[Hair, ...] = ()
    elif detector == "learned":
        hairs = detect_hairs_learned(rgb, px_per_mm=ppm, field=field)
    else:
        hairs = detect_hairs(rgb, px_per_mm=ppm, field=field)
    units = group_units(hairs, px_per_mm=ppm)
    scale_free = None
    if detector == "learned" and ppm is not None and len(hairs) < _MIN_HAIRS and not blank and min(h, w) >= _MIN_SIDE_PX:
        # Few hairs at this scale: a bald spot, or a scale several times wrong (another device's), which makes
        # the network look for shafts of the wrong width. The classical pipeline's widths need no scale: a
        # scale ten times wrong gave 0 hairs/cm² and only the bald spot's sentence.
        scale_free = [hr.width_px for hr in detect_hairs(rgb, px_per_mm=None, field=field)]
    quality = assess_quality(rgb, field, hairs, px_per_mm=ppm, scale_free_widths_px=scale_free)
    if min(h, w) < _MIN_SIDE_PX and "too_small" not in quality.issues:
        quality = _with_issue(quality, "too_small", f"The picture is only {w} x {h} px: too small to measure hairs.")
    # each hair is its two ends
    window = counting_window(field.usable)  # for the hairs and, below, the units
    hair_density, = window.densities([[np.array([hr.end_a, hr.end_b]) for hr in hairs]])
    # The correction weighs the whole hairs only. With none, it would say 0 hairs/cm² beside the hairs on
    # show; with a few short ones among many cut (long, unclipped hair), it rests on those few and leaves out
    # every hair longer than the field can hold (one short whole hair among ten cut ones once gave a tenth of
    # the density without it). There the plain count over the area stands in (hairs crossing in from outside
    # count too), named as such: the same rule as the warning, so the number never switches silently.
    n_cut = len(hairs) - hair_density.whole
    uncorrected = bool(hairs) and (hair_density.whole == 0 or (
        len(hairs) >= _CUT_MIN_HAIRS and hair_density.whole < _CUT_MAX_SHARE * len(hairs)))
    if uncorrected:
        so = (", so the density is the plain count over the field's area and less certain"
              if ppm is not None and hair_density.window_px2 > 0 else "")
        quality = _with_issue(quality, "hairs_cut_by_field",
                              f"{'Every hair found crosses' if hair_density.whole == 0 else 'Most hairs found cross'} "
                              f"the edge of the field ({n_cut} of {len(hairs)}): the frame's cut cannot be corrected "
                              f"for{so}. Clip the hair shorter or take a wider field.")
    # the learned lengths are predicted, and mean little where the photo cannot be brought to the network's scale
    if (ppm is not None and len(hairs) >= _MIN_HAIRS
            and (detector == "classical" or reads_at_network_scale(ppm))):
        median_mm = float(np.median([hr.length_px for hr in hairs])) / ppm
        if median_mm > _LONG_SHAFT_MM:
            quality = _with_issue(quality, "long_shafts",
                                  f"The hairs here are long (median shaft {median_mm:.1f} mm; hair clipped for a "
                                  f"trichoscopy is 0.2-0.7 mm): many such shafts are missed, so the count comes out low. "
                                  "Clip the zone's hair short, the same way before every scan.")
    coarse = coarse_scale_sentence(ppm) if detector == "learned" and ppm is not None else None
    # not where the photo is no close-up of scalp, or its scale is likely wrong: then a stronger lens is no answer
    if coarse is not None and not set(quality.issues) & _NOT_BESIDE_COARSE:
        quality = _with_issue(quality, "coarse_scale", coarse)
    warnings = list(quality.warnings)
    area_cm2 = hpc = fpc = mean_w = term = vell = None
    usable_px = field.usable_fraction * h * w
    hpf = len(hairs) / len(units) if units else None
    if not uncorrected and units:  # the units seen whole, as the density counts the hairs seen whole
        hpf = hairs_per_whole_unit(hairs, units, window) or hpf
    coverage = None
    if usable_px > 0:
        coverage = float(min(100.0, 100.0 * sum(hr.width_px * hr.length_px for hr in hairs) / usable_px))
    if ppm is None:
        warnings.append(NO_SCALE_SENTENCE)
    else:
        area_cm2 = usable_px / ppm ** 2 / 100.0
        # a picture too small to measure gives no density, not a bald one (too_small says why)
        looked = "too_small" not in quality.issues  # (named for every picture under _MIN_SIDE_PX a side)
        if looked and area_cm2 > 0 and hair_density.window_px2 > 0:
            px2_per_cm2 = (ppm * 10.0) ** 2
            hpc = len(hairs) / area_cm2 if uncorrected else hair_density.per_px2 * px2_per_cm2
            # the units follow the hairs' density through hairs per unit, so that units/cm² x hairs per unit is
            # hairs/cm² (an estimator of their own, on units wholly in the field, once gave more units than
            # hairs per cm² beside two hairs a unit)
            fpc = hpc / hpf if units else 0.0
        elif looked and area_cm2 > 0:  # usable pixels, but no strip of them wider than the field's edge margin
            warnings.append("The usable part of the photo is too thin a strip to count hairs in: no density.")
        if hairs:
            widths = np.array([hr.width_um for hr in hairs], float)
            mean_w = float(widths.mean())
            term = float((widths >= terminal_min_um).mean())
            vell = float((widths < vellus_max_um).mean())
    return Analysis(mode="trichoscopy", zone=zone_v, image_shape=(h, w), hairs=hairs, units=units, px_per_mm=ppm,
                    calibration_source=source, area_cm2=area_cm2, hairs_per_cm2=hpc, fu_per_cm2=fpc,
                    hairs_per_fu=hpf, mean_width_um=mean_w, terminal_fraction=term, vellus_fraction=vell,
                    coverage_pct=coverage, quality=quality, warnings=tuple(warnings),
                    hairs_whole=hair_density.whole, method=measurement_method(detector),
                    elapsed_ms=(time.perf_counter() - t0) * 1000.0)


def _r(x: float | None, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def analysis_to_dict(analysis: Analysis, image_name: str) -> dict[str, Any]:
    """The ``analyze --json`` object of DESIGN.md 3.1 (``x_px``/``y_px`` are column/row).

    Examples
    --------
    >>> from hairtrack.synth import render_scalp
    >>> d = analysis_to_dict(analyze(render_scalp(seed=2, shape=(256, 320)).image), "a.jpg")
    >>> list(d)[:5], d["px_per_mm"], d["hairs_per_cm2"]
    (['image', 'mode', 'method', 'hair_count', 'hairs_whole'], None, None)
    """
    a = analysis
    return {
        "image": image_name,
        "mode": a.mode,
        "method": a.method,
        "hair_count": a.hair_count,
        "hairs_whole": a.hairs_whole,
        "hairs": [{"x_px": round(hr.col_px, 1), "y_px": round(hr.row_px, 1), "width_px": round(hr.width_px, 2),
                   "width_um": _r(hr.width_um, 1), "length_px": round(hr.length_px, 1)} for hr in a.hairs],
        "follicular_units": [{"x_px": round(u.col_px, 1), "y_px": round(u.row_px, 1), "hairs": u.hairs}
                             for u in a.units],
        "px_per_mm": a.px_per_mm,
        "area_cm2": _r(a.area_cm2, 6),
        "hairs_per_cm2": _r(a.hairs_per_cm2, 1),
        "fu_per_cm2": _r(a.fu_per_cm2, 1),
        "hairs_per_fu": _r(a.hairs_per_fu, 3),
        "mean_width_um": _r(a.mean_width_um, 1),
        "terminal_fraction": _r(a.terminal_fraction, 4),
        "vellus_fraction": _r(a.vellus_fraction, 4),
        "coverage_pct": _r(a.coverage_pct, 2),
        "quality": {"ok": a.quality.ok, "issues": list(a.quality.issues), **a.quality.figures},
        "warnings": list(a.warnings),
        "elapsed_ms": round(a.elapsed_ms, 1),
    }
