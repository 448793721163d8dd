"""BASP (basic and specific) classification of pattern hair loss, for both sexes.

BASP [1]_ names the shape of the anterior hairline (the *basic* type) and the density over the top
(the *specific* types), e.g. ``M2V1``:

* basic ``L`` (no recession), ``M0-M3`` (temples recede more than the midline), ``C0-C3`` (the midline
  recedes with the temples, a C shape), ``U1-U3`` (the hairline is behind the vertex, a horseshoe);
* specific ``F1-F3`` (diffuse thinning over the top, frontal/mid-scalp) and ``V1-V3`` (thinning at the
  vertex); grade 0 is left out of the code.

Two routes:

* :func:`basp_from_density` from per-zone density relative to the person's own donor zone (the donor is
  androgen-insensitive, so ``zone / donor`` is the share of the original density that is left). Grades
  cut that share at 0.85 / 0.65 / 0.45 (grade 0 / 1 / 2 / 3). BASP itself is defined on appearance; these
  cut-offs are ours, chosen so that grade 1 starts where thinning becomes visible (about 15-35 % loss,
  cf. the "visible when ~50 % is lost" rule of thumb for full coverage) and are not validated.
* :func:`basp_from_norwood` from a Norwood stage (the photo route: :mod:`hairtrack.assessment.norwood`),
  by the correspondence of the BASP paper's figures: it is approximate by nature.

References
----------
.. [1] Lee WS, Ro BI, Hong SP, et al. A new classification of pattern hair loss that is universal for men
   and women: basic and specific (BASP) classification. J Am Acad Dermatol 2007;57(1):37-46.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hairtrack.errors import InputError

__all__ = ["BaspResult", "basp_from_density", "basp_from_norwood", "basp_to_dict", "RATIO_CUTS"]

RATIO_CUTS = (0.85, 0.65, 0.45)  # share of donor density at which grade 1, 2, 3 begin (ours, see above)

_FROM_NORWOOD = {
    "I": "L",
    "II": "M1",
    "IIa": "C1",
    "III": "M2",
    "IIIa": "C2",
    "III vertex": "M2V1",
    "IV": "M3V2",
    "IVa": "C3",
    "V": "M3V3",
    "Va": "C3F2",
    "VI": "U1",
    "VII": "U3",
}


@dataclass(frozen=True, slots=True)
class BaspResult:
    """A BASP code with its parts and the ratios it came from (``None`` when from a stage)."""

    code: str
    basic: str
    basic_grade: int
    frontal_grade: int
    vertex_grade: int
    ratios_to_donor: dict[str, float] | None
    source: str  # "density" or "norwood"


def _grade(ratio: float) -> int:
    return sum(ratio < cut for cut in RATIO_CUTS)


def _ratio(name: str, value: float | None, donor: float) -> float | None:
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise InputError(f"{name} must be a finite density >= 0, got {value!r}")
    return float(value) / donor


def _code(basic: str, grade: int, f: int, v: int) -> str:
    head = "L" if basic == "L" else f"{basic}{grade}"
    return head + (f"F{f}" if f else "") + (f"V{v}" if v else "")


def basp_from_density(
    *,
    donor: float,
    hairline: float | None = None,
    temples: float | None = None,
    mid_scalp: float | None = None,
    crown: float | None = None,
) -> BaspResult:
    """BASP code from per-zone densities (any one unit: hairs/cm², units/cm² or coverage %).

    Parameters
    ----------
    donor : float
        Density of the donor (occipital) zone, the within-person reference (> 0).
    hairline, temples, mid_scalp, crown : float, optional
        Density of each zone in the same unit; a zone left out is not graded.

    Returns
    -------
    BaspResult

    Examples
    --------
    >>> basp_from_density(donor=180, hairline=170, temples=90, mid_scalp=160, crown=120).code
    'M2V1'
    >>> basp_from_density(donor=180, hairline=175, temples=178, mid_scalp=176, crown=170).code
    'L'
    """
    if not (isinstance(donor, (int, float)) and math.isfinite(donor) and donor > 0):
        raise InputError(f"donor density must be a finite number > 0, got {donor!r}")
    r = {
        "hairline": _ratio("hairline", hairline, donor),
        "temples": _ratio("temples", temples, donor),
        "mid_scalp": _ratio("mid_scalp", mid_scalp, donor),
        "crown": _ratio("crown", crown, donor),
    }
    if all(v is None for v in r.values()):
        raise InputError("give at least one of hairline, temples, mid_scalp, crown beside the donor density")
    front = r["hairline"] if r["hairline"] is not None else 1.0
    temp = r["temples"] if r["temples"] is not None else front
    mid = r["mid_scalp"]
    g_front, g_temp = _grade(front), _grade(temp)
    if mid is not None and mid < 0.2 and front < 0.2:
        basic, bgrade = "U", 1 + (r["crown"] is not None and r["crown"] < 0.45) + (temp < 0.2)
    elif g_temp > g_front:
        basic, bgrade = "M", g_temp
    elif g_front > 0:
        basic, bgrade = "C", g_front
    else:
        basic, bgrade = "L", 0
    f_grade = _grade(mid) if mid is not None else 0
    v_grade = _grade(r["crown"]) if r["crown"] is not None else 0
    if basic == "U":
        f_grade = v_grade = 0  # a horseshoe already takes in the top and the vertex
    ratios = {k: round(v, 3) for k, v in r.items() if v is not None}
    return BaspResult(_code(basic, bgrade, f_grade, v_grade), basic, bgrade, f_grade, v_grade, ratios, "density")


def basp_from_norwood(stage: str) -> BaspResult:
    """The BASP code nearest to a Norwood-Hamilton stage (approximate, from the figures of ref [1]).

    Examples
    --------
    >>> basp_from_norwood("III vertex").code
    'M2V1'
    """
    if stage not in _FROM_NORWOOD:
        raise InputError(f"stage must be a Norwood stage ({', '.join(_FROM_NORWOOD)}), got {stage!r}")
    code = _FROM_NORWOOD[stage]
    basic = code[0]
    bgrade = int(code[1]) if len(code) > 1 and code[1].isdigit() else 0
    f = int(code[code.index("F") + 1]) if "F" in code else 0
    v = int(code[code.index("V") + 1]) if "V" in code else 0
    return BaspResult(code, basic, bgrade, f, v, None, "norwood")


def basp_to_dict(result: BaspResult) -> dict:
    """The JSON object of a BASP result."""
    return {
        "code": result.code,
        "basic": result.basic,
        "basic_grade": result.basic_grade,
        "frontal_grade": result.frontal_grade,
        "vertex_grade": result.vertex_grade,
        "ratios_to_donor": result.ratios_to_donor,
        "source": result.source,
    }
