"""What a profile's scans say for the graft estimate and BASP: the donor's measured supply and each
zone's remaining density, from the latest visit of each zone (replicates averaged)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hairtrack.assessment.grafts import DonorProfile
from hairtrack.domain import Measurement, Zone

__all__ = ["latest_zone_means", "donor_profile_from", "existing_units_from", "staging_from", "norwood_from_scans"]


def latest_zone_means(measurements: Sequence[Measurement]) -> dict[Zone, dict[str, float]]:
    """Per zone, the mean of each measured figure at its latest visit (figures never measured are absent).

    Examples
    --------
    >>> import datetime as dt
    >>> rows = [Measurement("p", dt.date(2025, 1, 1), Zone.DONOR, 1, hairs_per_cm2=180.0, fu_per_cm2=80.0),
    ...         Measurement("p", dt.date(2025, 1, 1), Zone.DONOR, 2, hairs_per_cm2=200.0, fu_per_cm2=84.0)]
    >>> latest_zone_means(rows)[Zone.DONOR]
    {'hairs_per_cm2': 190.0, 'fu_per_cm2': 82.0}
    """
    out: dict[Zone, dict[str, float]] = {}
    for zone in Zone:
        rows = [m for m in measurements if m.zone == zone and m.hairs_per_cm2 is not None]
        if not rows:
            continue
        last = max(m.date for m in rows)
        visit = [m for m in rows if m.date == last]
        figures = {}
        for name in ("hairs_per_cm2", "fu_per_cm2", "hairs_per_fu", "mean_width_um"):
            values = [getattr(m, name) for m in visit if getattr(m, name) is not None]
            if values:
                figures[name] = float(np.mean(values))
        out[zone] = figures
    return out


def donor_profile_from(measurements: Sequence[Measurement]) -> DonorProfile | None:
    """The donor's measured supply (latest donor visit), or None without donor scans."""
    donor = latest_zone_means(measurements).get(Zone.DONOR)
    if not donor:
        return None
    width = donor.get("mean_width_um")
    return DonorProfile(
        donor_units_per_cm2=donor.get("fu_per_cm2"),
        donor_hairs_per_cm2=donor.get("hairs_per_cm2"),
        hairs_per_unit=donor.get("hairs_per_fu"),
        shaft_width_mm=width / 1000.0 if width else None,
    )


def existing_units_from(measurements: Sequence[Measurement]) -> dict[str, float]:
    """Units/cm² still present in each recipient zone (latest visit), for ``estimate_grafts``."""
    return {
        zone.value: figures["fu_per_cm2"]
        for zone, figures in latest_zone_means(measurements).items()
        if zone is not Zone.DONOR and "fu_per_cm2" in figures
    }


def staging_from(measurements: Sequence[Measurement], *, female: bool = False) -> dict[str, object] | None:
    """BASP (and Ludwig/Sinclair for women, Norwood for everyone else) from the latest density of each zone relative to the donor.

    None without a donor scan and at least one other zone: the scales compare a zone with the donor.
    """
    from hairtrack.assessment.basp import basp_from_density, basp_to_dict
    from hairtrack.assessment.female import female_stage_from_density, female_stage_to_dict

    means = {zone: figures["hairs_per_cm2"] for zone, figures in latest_zone_means(measurements).items()}
    donor = means.get(Zone.DONOR)
    if not donor or len(means) < 2:
        return None
    out: dict[str, object] = {
        "basp": basp_to_dict(basp_from_density(
            donor=donor, hairline=means.get(Zone.HAIRLINE), temples=means.get(Zone.TEMPLES),
            mid_scalp=means.get(Zone.MID_SCALP), crown=means.get(Zone.CROWN),
        ))
    }
    if female and Zone.MID_SCALP in means:
        out["female"] = female_stage_to_dict(female_stage_from_density(mid_scalp=means[Zone.MID_SCALP], donor=donor))
    if not female:
        from hairtrack.assessment.norwood_scans import scan_staging_to_dict

        scans = norwood_from_scans(measurements)
        if scans is not None:
            out["norwood"] = scan_staging_to_dict(scans)
    return out


def norwood_from_scans(measurements: Sequence[Measurement]):
    """Norwood stage probabilities from the latest visit of each zone (its replicates), relative to the
    donor's; None without a donor scan and one other zone.

    Hairs/cm² when the donor and the zones have it, else coverage % (one unit throughout).
    """
    from hairtrack.assessment.norwood_scans import norwood_from_density

    for figure in ("hairs_per_cm2", "coverage_pct"):
        latest: dict[Zone, list[float]] = {}
        for zone in Zone:
            rows = [m for m in measurements if m.zone == zone and getattr(m, figure) is not None]
            if rows:
                last = max(m.date for m in rows)
                latest[zone] = [float(getattr(m, figure)) for m in rows if m.date == last]
        donor = latest.pop(Zone.DONOR, None)
        if donor and latest and sum(donor) > 0:
            return norwood_from_density(donor=donor, **{z.value: v for z, v in latest.items()})
    return None
