"""From a photo's bytes to the analyze object (DESIGN 3.1) and its overlay: the one path that the CLI,
the web page, the API and saved scans share."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from hairtrack.domain import Zone
from hairtrack.imaging.calibration import Calibration
from hairtrack.imaging.io import LoadedImage, load_image

__all__ = ["Measured", "measure_upload", "clean_filename", "UNUSABLE_ISSUES"]

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


def measure_upload(
    data: bytes, name: str, *, zone: Zone | None = None, px_per_mm: float | None = None, overlay: bool = True
) -> Measured:
    """Decode and analyze one photo (raises ImageError / InputError with a clear message)."""
    from hairtrack.imaging.analyze import analysis_to_dict, analyze
    from hairtrack.imaging.overlay import draw_analysis

    loaded = load_image(data, name=name)
    calibration = Calibration(px_per_mm) if px_per_mm is not None else None
    analysis = analyze(loaded.rgb, calibration, zone)
    result = analysis_to_dict(analysis, name)
    result["warnings"] = list(loaded.warnings) + list(result.get("warnings", []))
    return Measured(loaded=loaded, result=result, overlay=draw_analysis(loaded.rgb, result) if overlay else np.empty((0, 0, 3), np.uint8))
