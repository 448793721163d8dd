"""From a photo's bytes to the analyze object (DESIGN 3.1) and its overlay: the one path that the CLI,
the web page, the API and saved scans share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import cv2
import numpy as np

from hairtrack.domain import Zone
from hairtrack.imaging.calibration import Calibration
from hairtrack.imaging.io import LoadedImage, load_image
from hairtrack.imaging.quality import NOT_SCALP_SENTENCE_START

__all__ = ["NO_SCALE_TO_SAVE", "Measured", "measure_upload", "measure_stored", "unusable_reason", "no_density_reason",
           "measure_overview", "scale_from_card", "clean_filename", "UNUSABLE_ISSUES", "VIEWS"]

VIEWS = ("front", "top", "left", "right", "back")
# The overview's coverage measurement, named like analyze's measurement_method (bump when its figures move).
OVERVIEW_METHOD = "overview/r1"

# Quality issues that make the numbers meaningless: reported as an error, not as a measurement.
UNUSABLE_ISSUES = {"blank": "the image is blank (no texture at all)", "not_scalp": "this does not look like a close-up of scalp"}


@dataclass(frozen=True)
class Measured:
    loaded: LoadedImage
    result: dict[str, Any]
    overlay: np.ndarray


def clean_filename(name: str | None) -> str:
    """A display name for an upload: the last path part only (``../../etc/passwd`` -> ``passwd``),
    without control characters, at most 200 characters. It is never used as a path."""
    if not name:
        return "upload"
    base = PureWindowsPath(PurePosixPath(name).name).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip(" .")
    return base[:200] or "upload"


# a saved scan's density needs a scale: from the device, given, or read from the card in each photo
NO_SCALE_TO_SAVE = ("a saved scan needs a scale: give px/mm or a saved device, or hold the calibration card "
                    "('hairtrack card') at the scalp in the photo")


def scale_from_card(rgb: np.ndarray) -> tuple[Calibration | None, np.ndarray, list[str], np.ndarray | None]:
    """Read the calibration card if one is in the photo.

    Returns the scale it gives (or None), the photo with the card painted over in the surrounding skin
    colour (so its printed marks are not counted as hairs), what a person should be told, and where the card
    lies (True; None when no card was found): not scalp, so no part of the field (``analyze(exclude=...)``).
    """
    from hairtrack.imaging.card import default_layout, detect_card

    layout = default_layout()
    reading = detect_card(rgb, layout=layout)
    if not reading.found:
        return None, rgb, [], None
    corners = np.array([(0, 0, 1), (layout.width_mm, 0, 1), (layout.width_mm, layout.height_mm, 1), (0, layout.height_mm, 1)], float)
    projected = corners @ np.asarray(reading.homography, float).T if reading.homography is not None else None
    masked, covered = rgb, None
    if projected is not None:
        polygon = np.round(projected[:, :2] / projected[:, 2:3]).astype(np.int32)
        mask = np.zeros(rgb.shape[:2], np.uint8)
        cv2.fillPoly(mask, [polygon], 1)
        mask = cv2.dilate(mask, np.ones((15, 15), np.uint8))
        if mask.any() and not mask.all():
            covered = mask.astype(bool)
            masked = rgb.copy()
            masked[covered] = np.median(rgb[~covered], axis=0).astype(np.uint8)
    if reading.problems:
        problems = "; ".join(p.message for p in reading.problems)
        return None, masked, [f"a calibration card is in the photo but its scale cannot be trusted ({problems}); no scale was taken from it"], covered
    sd = f" ± {reading.px_per_mm_sd:.2f}" if reading.px_per_mm_sd else ""
    notes = [f"scale read from the calibration card: {reading.px_per_mm:.2f}{sd} px/mm"]
    if reading.mirrored:  # the scale holds; left and right may not
        notes.append("the calibration card is seen mirrored: the photo is a mirror image (a front camera saves one) "
                     "or the card was printed mirrored; its left and right may be swapped")
    return Calibration(float(reading.px_per_mm), "card", reading.px_per_mm_sd), masked, notes, covered


def measure_upload(
    data: bytes, name: str, *, zone: Zone | None = None, px_per_mm: float | None = None, overlay: bool = True,
    detector: str | None = None, width_classes_um: tuple[float, float] | None = None,
) -> Measured:
    """Decode and analyze one photo (raises ImageError / InputError with a clear message); ``width_classes_um``
    is ``(vellus_max_um, terminal_min_um)`` when not analyze()'s 30 and 60."""
    from hairtrack.imaging.analyze import analysis_to_dict, analyze
    from hairtrack.imaging.overlay import draw_analysis

    loaded = load_image(data, name=name)
    rgb, notes = loaded.rgb, list(loaded.warnings)
    # The calibration card, if it is in the photo, is no part of the field (its printed marks are no hairs),
    # scale given or not; without one it gives the scale, with one it checks it.
    from_card, rgb, card_notes, card = scale_from_card(loaded.rgb)
    calibration: Calibration | None = from_card
    if px_per_mm is None:
        notes += card_notes
    else:
        calibration = Calibration(px_per_mm)
        if card is not None:
            notes.append("the calibration card in the photo was left out of the field")
        if from_card is not None and abs(from_card.px_per_mm / px_per_mm - 1) > 0.05:
            notes.append(f"the calibration card in the photo reads {from_card.px_per_mm:.2f} px/mm, not the "
                         f"{px_per_mm:g} given: check the device's scale, or measure without one to use the card's")
    options: dict[str, Any] = {"detector": detector} if detector else {}
    # transparent parts of the file (shown white) and the card are no part of the scalp field
    exclude = [m for m in (card, loaded.transparent) if m is not None]
    if exclude:
        options["exclude"] = np.logical_or.reduce(exclude)
    if width_classes_um is not None:
        options.update(vellus_max_um=width_classes_um[0], terminal_min_um=width_classes_um[1])
    analysis = analyze(rgb, calibration, zone, **options)
    result = analysis_to_dict(analysis, name)
    result["warnings"] = notes + list(result.get("warnings", []))
    return Measured(loaded=loaded, result=result, overlay=draw_analysis(loaded.rgb, result) if overlay else np.empty((0, 0, 3), np.uint8))


def unusable_reason(result: dict[str, Any]) -> str | None:
    """Why an analyze object's numbers mean nothing (a blank picture, not scalp), or ``None`` when they do."""
    unusable = [UNUSABLE_ISSUES[i] for i in result["quality"]["issues"] if i in UNUSABLE_ISSUES]
    if "not_scalp" in result["quality"]["issues"]:  # the quality's sentence says why (its colours, or noise)
        why = next((w for w in result.get("warnings", []) if w.startswith(NOT_SCALP_SENTENCE_START)), None)
        if why:
            unusable[unusable.index(UNUSABLE_ISSUES["not_scalp"])] = why[0].lower() + why[1:].removesuffix("; check the file.")
    return "; ".join(unusable) or None


def no_density_reason(result: dict[str, Any]) -> str | None:
    """Why a photo measured with a scale gave no figure to save (no usable scalp, a picture too small), or
    ``None`` when it gave one (a close-up's density, an overview's coverage). A scan is a density: such a
    photo is neither saved nor, measured again, saved over its old figures."""
    if result.get("hairs_per_cm2") is not None or (result.get("mode") == "overview"
                                                     and result.get("coverage_pct") is not None):
        return None
    why = " ".join(w for w in result.get("warnings", ()) if any(k in w for k in ("usable", "strip", "too small"))) or (
        "no part of it was found to be scalp to count hairs in.")
    return f"no density could be measured: {why[0].lower() + why[1:]}"


def measure_stored(data: bytes, name: str, zone: Zone, px_per_mm: float, *, detector: str | None = None) -> dict[str, Any]:
    """A stored close-up measured again at its stored scale: the analyze object, or an ``InputError`` for a
    photo that cannot be measured (undecodable, blank, not scalp, no density)."""
    from hairtrack.errors import InputError

    result = measure_upload(data, name, zone=zone, px_per_mm=px_per_mm, overlay=False, detector=detector).result
    reason = unusable_reason(result) or no_density_reason(result)
    if reason:
        raise InputError(reason)
    return result


def measure_overview(
    data: bytes, name: str, *, view: str, zone: Zone | None = None, px_per_mm: float | None = None,
    overlay: bool = False,
) -> Measured:
    """An overview (head) photo as the analyze object with ``mode`` ``overview``: no hair counts, but
    ``coverage_pct`` of the zone asked for (or of the whole visible scalp) and the segmentation figures
    under ``overview``; with ``overlay``, the photo with hair and bare scalp tinted (from the same
    segmentation)."""
    import time

    from hairtrack.errors import InputError
    from hairtrack.imaging.coverage import coverage_overlay, coverage_to_dict, overview_coverage, segment_head

    if view not in VIEWS:
        raise InputError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    started = time.perf_counter()
    loaded = load_image(data, name=name)
    scale = px_per_mm
    notes = list(loaded.warnings)
    if scale is None:
        calibration, _, card_notes, _ = scale_from_card(loaded.rgb)
        scale, notes = (calibration.px_per_mm if calibration else None), notes + card_notes
    segmentation = segment_head(loaded.rgb)
    cov = coverage_to_dict(overview_coverage(loaded.rgb, view=view, px_per_mm=scale, segmentation=segmentation))
    if any(i.startswith("head_outline_assumed") for i in cov["issues"]):
        # No outline found: only go on if the photo looks like the head photos the stage model knows.
        from hairtrack.assessment.norwood import assess_photo

        gate = assess_photo(loaded.rgb, name=name)
        if gate.stage == "unknown":
            raise InputError(f"{name}: no head found in this overview photo ({gate.unknown_reason})")
    coverage = cov["coverage_pct"]
    if zone is not None:
        zone_figures = cov["zones"].get(zone.value)
        coverage = zone_figures["coverage_pct"] if zone_figures else None
        if zone_figures is None:
            notes.append(f"the {zone.value.replace('_', ' ')} is not visible in a {view} view")
    notes += [f"overview photo: {issue.replace('_', ' ')}" for issue in cov["issues"]]
    result = {
        "image": name, "mode": "overview", "method": OVERVIEW_METHOD, "hair_count": None, "hairs_whole": None, "hairs": [], "follicular_units": [], "px_per_mm": scale,
        "area_cm2": None, "hairs_per_cm2": None, "fu_per_cm2": None, "hairs_per_fu": None, "mean_width_um": None,
        "terminal_fraction": None, "vellus_fraction": None, "coverage_pct": coverage,
        # as a close-up's: ok, issues and the figures flat beside them (an overview has none of its own here)
        "quality": {"ok": cov["head_found"] and not cov["issues"], "issues": list(cov["issues"])},
        "warnings": notes, "elapsed_ms": round(1000 * (time.perf_counter() - started), 1), "overview": cov,
    }
    shown = coverage_overlay(loaded.rgb, segmentation) if overlay else np.empty((0, 0, 3), np.uint8)
    return Measured(loaded=loaded, result=result, overlay=shown)
