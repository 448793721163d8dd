"""Pixels to measurements: loading photos, their scale, hairs, follicular units and quality."""

from hairtrack.imaging.calibration import Calibration, GridMeasurement, NoGridError, calibration_from_value, measure_grid
from hairtrack.imaging.io import ImageError, LoadedImage, load_image, sanitized_copy

__all__ = [
    "Calibration",
    "GridMeasurement",
    "NoGridError",
    "calibration_from_value",
    "measure_grid",
    "ImageError",
    "LoadedImage",
    "load_image",
    "sanitized_copy",
]
