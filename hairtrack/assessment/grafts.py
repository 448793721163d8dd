"""Graft estimate for a hair transplant, bounded by the person's own donor supply.

The model, per recipient zone *z* (hairline/front, mid-scalp, crown)::

    need_z = area_z [cm²] x max(target_z - existing_z, 0) [units/cm²] x k
    k      = CV_ref / CV_person,  CV_unit = hairs per unit x shaft width [mm]       (coverage value, [1])
    supply = safe donor area [cm²] x donor units/cm² x s
    s      = 1 - CV_floor / CV_donor,   CV_donor = donor hairs/cm² x shaft width [mm],  CV_floor = 5.4  [1]
    grafts = min(sum_z need_z, supply)

``k`` says that thicker hair and more hairs per unit cover the same skin with fewer units (it is clipped
to 0.6-1.5 so that a mismeasured width cannot run away). ``s`` is the share of donor units that can be
taken while the donor still looks full: extraction lowers the donor's coverage value in proportion, and
it must stay above the floor. Low and high come from the low and high ends of the target ranges; the
point estimate from their middle.

Targets (units/cm², [2]_ [3]_): hairline/front 40-50, mid-scalp 30-35, crown 20-30.
Defaults when the profile has no scans: donor 75 FU/cm² [4]_, 2.2 hairs per unit [4]_, shaft 0.065 mm
[5]_, safe donor area 200 cm² [6]_. Existing density in a bald zone defaults to 0.

It is weak where the inputs are guesses: the recipient areas (a photo gives them only with a scale),
the defaults for a person without donor scans, and the first-session ranges, which are clinic-published
norms rather than trial data.

References
----------
.. [1] Erdogan K. Coverage value (CV = hair shaft diameter in mm x hair density in hairs/cm²) for
   planning hair transplantation; a donor CV below about 5.4 looks thin. Figure as stated in hairtrack
   issue 6; check the original before quoting it clinically.
.. [2] Bernstein RM, Rassman WR. Follicular unit transplantation: 2005. Dermatol Clin 2005;23(3):393-414
   (recipient densities by zone).
.. [3] Unger WP, Shapiro R, eds. Hair Transplantation, 5th ed. Informa 2011 (density planning by zone).
.. [4] Jimenez F, Ruifernandez JM. Distribution of human hair in follicular units. Dermatol Surg
   1999;25(4):294-298 (mean ~2.2 hairs per unit; occipital unit densities ~65-85 per cm²).
.. [5] Typical terminal scalp hair diameter of adults, 0.06-0.08 mm (Otberg N et al., Br J Dermatol
   2007;156:1236).
.. [6] Cole JP. An analysis of follicular punches, mechanics, and dynamics in follicular unit extraction.
   Facial Plast Surg Clin North Am 2013;21(3):437-447 (safe donor area about 200 cm²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hairtrack.errors import InputError

__all__ = [
    "ZONE_TARGETS_UNITS_PER_CM2",
    "FIRST_SESSION_RANGES",
    "DonorProfile",
    "GraftEstimate",
    "ZoneNeed",
    "estimate_grafts",
    "bare_areas_from_photos",
    "graft_estimate_to_dict",
    "CV_FLOOR",
]

# Target units/cm² by recipient zone (low, high), refs [2], [3] of the module docstring.
ZONE_TARGETS_UNITS_PER_CM2: dict[str, tuple[float, float]] = {
    "hairline": (40.0, 50.0),
    "mid_scalp": (30.0, 35.0),
    "crown": (20.0, 30.0),
}
_ZONE_ALIASES = {"front": "hairline", "frontal": "hairline", "temples": "hairline", "mid": "mid_scalp",
                 "midscalp": "mid_scalp", "vertex": "crown"}

CV_FLOOR = 5.4  # Erdogan's coverage-value floor for the donor after harvest, ref [1]
REF_HAIRS_PER_UNIT = 2.2  # ref [4]
REF_SHAFT_MM = 0.065  # ref [5]
DEFAULT_DONOR_UNITS_PER_CM2 = 75.0  # ref [4]
DEFAULT_SAFE_DONOR_AREA_CM2 = 200.0  # ref [6]
_K_CLIP = (0.6, 1.5)
FAR_FROM_PUBLISHED = 0.40  # warn when the estimate is more than 40% outside the published range

# Typical first-session graft counts by Norwood stage as published by transplant clinics' estimators
# (e.g. Bernstein Medical's); they vary between clinics by a few hundred grafts.
FIRST_SESSION_RANGES: dict[str, tuple[int, int]] = {
    "I": (0, 0),
    "II": (600, 1200),
    "IIa": (800, 1500),
    "III": (1200, 1800),
    "IIIa": (1500, 2000),
    "III vertex": (1200, 2000),
    "IV": (2200, 2600),
    "IVa": (2200, 2800),
    "V": (2500, 3200),
    "Va": (2800, 3500),
    "VI": (3000, 4500),
    "VII": (4000, 6000),
}


@dataclass(frozen=True, slots=True)
class DonorProfile:
    """What is known of the person's hair; ``None`` fields take the sourced defaults."""

    donor_units_per_cm2: float | None = None
    donor_hairs_per_cm2: float | None = None
    hairs_per_unit: float | None = None
    shaft_width_mm: float | None = None
    safe_donor_area_cm2: float | None = None


@dataclass(frozen=True, slots=True)
class ZoneNeed:
    """Units one recipient zone needs (low, mid, high), before the donor cap."""

    zone: str
    area_cm2: float
    existing_units_per_cm2: float
    target_units_per_cm2: tuple[float, float]
    grafts_low: int
    grafts: int
    grafts_high: int


@dataclass(frozen=True, slots=True)
class GraftEstimate:
    """A graft estimate with its donor bound.

    ``limited_by`` is ``"need"`` when the donor can supply everything, ``"donor"`` when it cannot.
    """

    grafts: int
    grafts_low: int
    grafts_high: int
    needed_grafts: int
    donor_capacity_grafts: int
    donor_extractable_share: float
    donor_coverage_value: float
    coverage_factor: float
    limited_by: str
    zones: tuple[ZoneNeed, ...]
    stage: str | None
    published_range: tuple[int, int] | None
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def estimate_grafts(
    areas_cm2: dict[str, float],
    *,
    existing_units_per_cm2: dict[str, float] | None = None,
    donor: DonorProfile | None = None,
    stage: str | None = None,
) -> GraftEstimate:
    """Grafts needed to restore the given recipient areas, capped by donor supply.

    Parameters
    ----------
    areas_cm2 : dict
        Recipient area in cm² by zone: ``hairline`` (alias ``front``, ``temples``), ``mid_scalp``,
        ``crown`` (alias ``vertex``).
    existing_units_per_cm2 : dict, optional
        Units/cm² still present in each zone (0 when absent: a bald zone).
    donor : DonorProfile, optional
        Measured donor density, hairs per unit, shaft width and safe donor area; defaults otherwise.
    stage : str, optional
        Norwood stage (``"IV"``, ``"III vertex"``, ...) to compare against published first-session ranges.

    Returns
    -------
    GraftEstimate

    Examples
    --------
    The worked example of issue 6, a Norwood IV with crown at default densities:

    >>> est = estimate_grafts({"hairline": 25, "mid_scalp": 30, "crown": 20}, stage="IV")
    >>> est.grafts, est.grafts_low, est.grafts_high, est.limited_by
    (2600, 2300, 2900, 'need')
    """
    if not isinstance(areas_cm2, dict) or not areas_cm2:
        raise InputError("areas_cm2 must be a non-empty mapping of zone to area in cm², e.g. {'crown': 20}")
    existing_units_per_cm2 = dict(existing_units_per_cm2 or {})
    donor = donor or DonorProfile()
    if stage is not None and stage not in FIRST_SESSION_RANGES:
        raise InputError(f"stage must be a Norwood stage ({', '.join(FIRST_SESSION_RANGES)}), got {stage!r}")
    assumptions: list[str] = []

    hpu = _positive("hairs_per_unit", donor.hairs_per_unit)
    width = _positive("shaft_width_mm", donor.shaft_width_mm)
    if width is not None and width > 0.3:
        raise InputError(f"shaft_width_mm must be in mm (a hair is 0.02-0.15 mm), got {width}")
    units = _positive("donor_units_per_cm2", donor.donor_units_per_cm2)
    hairs = _positive("donor_hairs_per_cm2", donor.donor_hairs_per_cm2)
    sda = _positive("safe_donor_area_cm2", donor.safe_donor_area_cm2)
    if hpu is None and units and hairs:
        hpu = hairs / units
    if hpu is None:
        hpu = REF_HAIRS_PER_UNIT
        assumptions.append(f"hairs per unit {REF_HAIRS_PER_UNIT} (Jimenez & Ruifernandez 1999)")
    if width is None:
        width = REF_SHAFT_MM
        assumptions.append(f"shaft width {REF_SHAFT_MM} mm (typical adult terminal hair)")
    if units is None:
        units = hairs / hpu if hairs else DEFAULT_DONOR_UNITS_PER_CM2
        if not hairs:
            assumptions.append(f"donor density {DEFAULT_DONOR_UNITS_PER_CM2:g} units/cm² (Jimenez & Ruifernandez 1999)")
    if sda is None:
        sda = DEFAULT_SAFE_DONOR_AREA_CM2
        assumptions.append(f"safe donor area {DEFAULT_SAFE_DONOR_AREA_CM2:g} cm² (Cole 2013)")

    # coverage value of one unit relative to the reference; more hair per unit -> fewer units
    k = (REF_HAIRS_PER_UNIT * REF_SHAFT_MM) / (hpu * width)
    k = min(max(k, _K_CLIP[0]), _K_CLIP[1])

    zones: list[ZoneNeed] = []
    lo_sum = mid_sum = hi_sum = 0.0
    for raw, area in areas_cm2.items():
        zone = _ZONE_ALIASES.get(str(raw).lower(), str(raw).lower())
        if zone not in ZONE_TARGETS_UNITS_PER_CM2:
            raise InputError(
                f"zone {raw!r} is not a recipient zone; use {', '.join(ZONE_TARGETS_UNITS_PER_CM2)}"
            )
        if not (isinstance(area, (int, float)) and math.isfinite(area) and 0 <= area <= 600):
            # A whole adult scalp is about 600 cm²; more is a unit mix-up (mm², or pixels).
            raise InputError(f"area of {raw!r} must be a number of cm² between 0 and 600, got {area!r}")
        have = existing_units_per_cm2.get(raw, existing_units_per_cm2.get(zone, 0.0))
        if not (isinstance(have, (int, float)) and math.isfinite(have) and have >= 0):
            raise InputError(f"existing units/cm² of {raw!r} must be a finite number >= 0, got {have!r}")
        t_lo, t_hi = ZONE_TARGETS_UNITS_PER_CM2[zone]
        t_mid = (t_lo + t_hi) / 2.0
        # need = area x (target - existing), scaled by coverage value (module docstring)
        g_lo = area * max(t_lo - have, 0.0) * k
        g_mid = area * max(t_mid - have, 0.0) * k
        g_hi = area * max(t_hi - have, 0.0) * k
        lo_sum += g_lo
        mid_sum += g_mid
        hi_sum += g_hi
        zones.append(ZoneNeed(zone, float(area), float(have), (t_lo, t_hi), round(g_lo), round(g_mid), round(g_hi)))

    cv_donor = units * hpu * width  # Erdogan's CV: hairs/cm² x shaft diameter in mm, ref [1]
    share = max(0.0, 1.0 - CV_FLOOR / cv_donor)  # extraction lowers CV in proportion; keep it >= floor
    capacity = int(math.floor(sda * units * share))
    warnings: list[str] = []
    if share == 0.0:
        warnings.append(
            f"donor coverage value {cv_donor:.1f} is already at or below the floor {CV_FLOOR}: "
            "no grafts can be taken without the donor looking thin"
        )
    grafts_lo = min(round(lo_sum), capacity)
    grafts_mid = min(round(mid_sum), capacity)
    grafts_hi = min(round(hi_sum), capacity)
    limited_by = "donor" if round(mid_sum) > capacity else "need"
    if limited_by == "donor":
        warnings.append(
            f"the donor supplies about {capacity} grafts, fewer than the {round(mid_sum)} the areas need: "
            "plan for partial coverage or lower density"
        )
    rng = FIRST_SESSION_RANGES.get(stage) if stage else None
    if rng is not None and rng[1] > 0:
        lo_ok, hi_ok = rng[0] * (1 - FAR_FROM_PUBLISHED), rng[1] * (1 + FAR_FROM_PUBLISHED)
        if not (lo_ok <= grafts_mid <= hi_ok):
            warnings.append(
                f"{grafts_mid} grafts is far (more than {FAR_FROM_PUBLISHED:.0%}) from the published first-session "
                f"range {rng[0]}-{rng[1]} for Norwood {stage}: check the areas"
            )
    return GraftEstimate(
        grafts=grafts_mid,
        grafts_low=grafts_lo,
        grafts_high=grafts_hi,
        needed_grafts=round(mid_sum),
        donor_capacity_grafts=capacity,
        donor_extractable_share=round(share, 3),
        donor_coverage_value=round(cv_donor, 2),
        coverage_factor=round(k, 3),
        limited_by=limited_by,
        zones=tuple(zones),
        stage=stage,
        published_range=rng,
        assumptions=tuple(assumptions),
        warnings=tuple(warnings),
    )


def graft_estimate_to_dict(est: GraftEstimate) -> dict:
    """The JSON object of ``hairtrack grafts --json``."""
    return {
        "grafts": est.grafts,
        "grafts_low": est.grafts_low,
        "grafts_high": est.grafts_high,
        "needed_grafts": est.needed_grafts,
        "donor_capacity_grafts": est.donor_capacity_grafts,
        "donor_extractable_share": est.donor_extractable_share,
        "donor_coverage_value": est.donor_coverage_value,
        "coverage_factor": est.coverage_factor,
        "limited_by": est.limited_by,
        "zones": [
            {"zone": z.zone, "area_cm2": z.area_cm2, "existing_units_per_cm2": z.existing_units_per_cm2,
             "target_units_per_cm2": list(z.target_units_per_cm2), "grafts_low": z.grafts_low,
             "grafts": z.grafts, "grafts_high": z.grafts_high}
            for z in est.zones
        ],
        "stage": est.stage,
        "published_range": list(est.published_range) if est.published_range else None,
        "assumptions": list(est.assumptions),
        "warnings": list(est.warnings),
    }


def bare_areas_from_photos(coverages) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Bare (recipient) area in cm² per zone, measured on overview photos that carry a scale.

    Each photo's zone area times its bare share (``1 - coverage_pct / 100``); per zone, the largest over
    the photos (each view shows a zone partly; the fullest view counts). Zones without a scale are left
    out, the donor always. The areas are projected: the curved scalp is larger toward a head's outline.

    Parameters
    ----------
    coverages : sequence of OverviewCoverage
        :func:`hairtrack.imaging.coverage.overview_coverage` of each photo (``None`` entries are skipped).

    Examples
    --------
    >>> from hairtrack.imaging.coverage import OverviewCoverage, ZoneCoverage
    >>> top = OverviewCoverage("top", 0, True, 60.0, (ZoneCoverage("crown", 25.0, 0.1, 40.0),
    ...                        ZoneCoverage("donor", 95.0, 0.1, 30.0)), None, None, None, None, None, None, ())
    >>> bare_areas_from_photos([top])
    {'crown': 30.0}
    """
    out: dict[str, float] = {}
    for cov in coverages:
        for z in getattr(cov, "zones", ()) or ():
            if z.zone == "donor" or z.area_cm2 is None:
                continue
            bare = round(float(z.area_cm2) * (1.0 - float(z.coverage_pct) / 100.0), 1)
            out[z.zone] = max(out.get(z.zone, 0.0), bare)
    return out
