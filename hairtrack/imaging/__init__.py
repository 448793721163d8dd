"""Pixels to measurements: loading photos, their scale, hairs, follicular units, densities and quality."""

from hairtrack.imaging.calibration import Calibration, GridMeasurement, NoGridError, calibration_from_value, measure_grid
from hairtrack.imaging.io import ImageError, LoadedImage, load_image, sanitized_copy
from hairtrack.imaging.analyze import Analysis, analysis_to_dict, analyze
from hairtrack.imaging.density import FieldDensity, edge_corrected_densities, edge_corrected_density
from hairtrack.imaging.hairs import Hair, detect_hairs
from hairtrack.imaging.learned import set_threads
from hairtrack.imaging.quality import QualityReport, ScanField, assess_quality, scan_field
from hairtrack.imaging.units import FollicularUnit, group_units

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
    "Analysis",
    "analyze",
    "analysis_to_dict",
    "FieldDensity",
    "edge_corrected_density",
    "edge_corrected_densities",
    "Hair",
    "detect_hairs",
    "set_threads",
    "QualityReport",
    "ScanField",
    "assess_quality",
    "scan_field",
    "FollicularUnit",
    "group_units",
]
