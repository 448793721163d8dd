"""Graft and staging inputs taken from a profile's scans."""

from __future__ import annotations

import datetime as dt

from hairtrack.assessment.record import donor_profile_from, existing_units_from, staging_from
from hairtrack.domain import Measurement, Zone

D1, D2 = dt.date(2025, 1, 1), dt.date(2025, 6, 1)


def _m(zone: Zone, date: dt.date, replicate: int, hairs: float, units: float | None = None, width: float | None = None) -> Measurement:
    return Measurement("p", date, zone, replicate, hairs_per_cm2=hairs, fu_per_cm2=units, hairs_per_fu=hairs / units if units else None,
                       mean_width_um=width)


ROWS = [
    _m(Zone.DONOR, D1, 1, 150.0, 60.0), _m(Zone.DONOR, D2, 1, 200.0, 80.0, 70.0), _m(Zone.DONOR, D2, 2, 220.0, 88.0, 74.0),
    _m(Zone.CROWN, D2, 1, 60.0, 30.0), _m(Zone.HAIRLINE, D2, 1, 180.0, 80.0),
]


def test_donor_supply_is_the_latest_donor_visit() -> None:
    donor = donor_profile_from(ROWS)
    assert donor is not None
    assert (donor.donor_hairs_per_cm2, donor.donor_units_per_cm2, donor.shaft_width_mm) == (210.0, 84.0, 0.072)
    assert donor_profile_from([r for r in ROWS if r.zone is not Zone.DONOR]) is None
    assert existing_units_from(ROWS) == {"crown": 30.0, "hairline": 80.0}


def test_basp_from_densities_grades_the_thin_crown() -> None:
    staging = staging_from(ROWS)
    assert staging is not None
    basp = staging["basp"]
    assert basp["ratios_to_donor"]["crown"] < 0.3 < basp["ratios_to_donor"]["hairline"]
    assert basp["vertex_grade"] > basp["frontal_grade"]
    assert staging_from([r for r in ROWS if r.zone is Zone.DONOR]) is None
