"""The record: profiles, scans, treatments and devices in SQLite or PostgreSQL, and CSV/JSON in and out."""

from hairtrack.tracking.io import (
    MEASUREMENT_COLUMNS,
    TREATMENT_COLUMNS,
    ParsedCsv,
    read_measurements_csv,
    read_treatments_csv,
    write_measurements_csv,
    write_treatments_csv,
)
from hairtrack.tracking.store import DeletionReport, DeviceInfo, ImportReport, ProfileSummary, Store

__all__ = [
    "MEASUREMENT_COLUMNS",
    "TREATMENT_COLUMNS",
    "ParsedCsv",
    "read_measurements_csv",
    "read_treatments_csv",
    "write_measurements_csv",
    "write_treatments_csv",
    "Store",
    "ProfileSummary",
    "ImportReport",
    "DeletionReport",
    "DeviceInfo",
]
