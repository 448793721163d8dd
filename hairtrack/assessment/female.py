"""Female pattern hair loss: Ludwig I-III and Sinclair 1-5.

Women keep the frontal hairline and thin over the crown and along the part [1]_ [2]_. Both scales grade
how much of the top's density is left; here that share is measured, not judged:

* from scans: ``mid_scalp`` (the part, or the crown) density over ``donor`` density. The donor is
  androgen-insensitive, so the ratio is the share of the person's own original density that is left.
* from a top-down overview photo: the ``coverage_pct`` of the mid-scalp over the donor's coverage (or over
  100 % when no back photo is given).

Sinclair cut-offs on that share (ours, not published: Sinclair's scale is pictorial): >= 0.90 grade 1
(normal), 0.75-0.90 grade 2, 0.60-0.75 grade 3, 0.40-0.60 grade 4, < 0.40 grade 5. Ludwig I covers
Sinclair 2-3, II is 4, III is 5, following the correspondence Sinclair gives [2]_; Sinclair 1 is "no
loss" (``ludwig`` is ``None``). Not validated on women's photos: the dev set holds only men.

References
----------
.. [1] Ludwig E. Classification of the types of androgenetic alopecia (common baldness) occurring in the
   female sex. Br J Dermatol 1977;97:247-254.
.. [2] Sinclair R, Jolley D, Mallari R, Magee J. The reliability of horizontally sectioned scalp biopsies
   in the diagnosis of chronic diffuse telogen hair loss in women. J Am Acad Dermatol 2004;51:189-199
   (the five-point visual scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hairtrack.errors import InputError

__all__ = ["FemaleStage", "female_stage_from_density", "female_stage_from_coverage", "female_stage_to_dict",
           "SINCLAIR_CUTS"]

SINCLAIR_CUTS = (0.90, 0.75, 0.60, 0.40)  # share left at which Sinclair 2, 3, 4, 5 begin (ours)
_LUDWIG_OF_SINCLAIR = {1: None, 2: "I", 3: "I", 4: "II", 5: "III"}


@dataclass(frozen=True, slots=True)
class FemaleStage:
    """Ludwig and Sinclair grades with the share of density left they came from."""

    ludwig: str | None
    sinclair: int
    share_left: float
    source: str  # "density" or "coverage"


def _sinclair(share: float) -> int:
    return 1 + sum(share < cut for cut in SINCLAIR_CUTS)


def _check(name: str, value: float, *, positive: bool) -> float:
    ok = isinstance(value, (int, float)) and math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        raise InputError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def female_stage_from_density(*, mid_scalp: float, donor: float) -> FemaleStage:
    """Ludwig and Sinclair grades from mid-scalp (part) and donor densities in one unit.

    Examples
    --------
    >>> s = female_stage_from_density(mid_scalp=90.0, donor=180.0)
    >>> s.ludwig, s.sinclair
    ('II', 4)
    """
    mid = _check("mid_scalp", mid_scalp, positive=False)
    don = _check("donor", donor, positive=True)
    share = min(mid / don, 1.5)
    g = _sinclair(share)
    return FemaleStage(_LUDWIG_OF_SINCLAIR[g], g, round(share, 3), "density")


def female_stage_from_coverage(*, mid_scalp_coverage_pct: float, donor_coverage_pct: float | None = None) -> FemaleStage:
    """Ludwig and Sinclair grades from overview-photo coverage (``hairtrack.imaging.coverage``).

    Examples
    --------
    >>> female_stage_from_coverage(mid_scalp_coverage_pct=95.0).sinclair
    1
    """
    mid = _check("mid_scalp_coverage_pct", mid_scalp_coverage_pct, positive=False)
    if mid > 100:
        raise InputError(f"mid_scalp_coverage_pct must be a percentage 0-100, got {mid}")
    don = 100.0 if donor_coverage_pct is None else _check("donor_coverage_pct", donor_coverage_pct, positive=True)
    share = min(mid / don, 1.5)
    g = _sinclair(share)
    return FemaleStage(_LUDWIG_OF_SINCLAIR[g], g, round(share, 3), "coverage")


def female_stage_to_dict(stage: FemaleStage) -> dict:
    """The JSON object of a female staging."""
    return {"ludwig": stage.ludwig, "sinclair": stage.sinclair, "share_left": stage.share_left,
            "source": stage.source}
