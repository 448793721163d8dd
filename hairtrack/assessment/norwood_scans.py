"""Norwood-Hamilton stage from measured zone densities, and its combination with the photo answer.

Photos cannot tell every stage apart: the photo model (:mod:`hairtrack.assessment.norwood`) was trained on
levels 2-7 with no stage I and no anterior (``a``) variants. A profile's zone scans can: the donor zone keeps
its density in androgenetic alopecia, so each zone's density over the donor's is the share of its original
density that is left, and the *pattern* of those shares is what tells the variants apart:

* ``I``: every zone keeps at least 85 % of the donor's density;
* the standard pattern (``II``-``V``): the temples thin first and most; the crown may thin separately
  (``III vertex``, ``IV``, ``V``), with a band of hair between front and crown that is dense (``IV``) or
  thinning (``V``);
* the anterior variants (``IIa``-``Va``): the hairline's midline thins as much as the temples (a C-shaped
  hairline with no central peninsula) and the crown is spared;
* ``VI`` and ``VII``: the hairline and the mid-scalp are bare (under 20 %) together; ``VII`` when the
  temples and the crown are too.

Shares are graded like BASP's (:data:`hairtrack.assessment.basp.RATIO_CUTS`: 0.85 / 0.65 / 0.45 give grade
1 / 2 / 3). The rule table in :func:`stage_from_ratios` follows the stage descriptions of Hamilton and
Norwood and the BASP correspondence; it is ours, and it is not validated against labelled scans (no data
set pairs zone densities with Norwood labels).

Measurement noise becomes probabilities: each zone's log share is drawn from a normal with the standard
error of its replicate mean (per-scan log SD pooled with a prior of 0.13, the spread of the learned
detector's count on one real photo seen twice, ``benchmarks/protocol.py``), and the rule is applied to
every draw. Borderline shares give split probabilities, clear ones a confident stage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hairtrack.assessment.basp import RATIO_CUTS
from hairtrack.errors import InputError

__all__ = [
    "ScanStaging",
    "SCAN_ZONES",
    "WORKED_SHARES",
    "PER_SCAN_LOG_SD",
    "stage_from_ratios",
    "norwood_from_density",
    "combine_photo_and_scans",
    "scan_staging_to_dict",
    "norwood_with_scans_to_dict",
]

SCAN_ZONES = ("hairline", "temples", "mid_scalp", "crown")
PER_SCAN_LOG_SD = 0.13  # prior per-scan SD of log density (benchmarks/protocol.py, one photo seen twice)
_PRIOR_DOF = 4.0  # weight of that prior, in scans, when pooling with the replicates' own spread
_BARE = 0.2  # share below which a zone counts as bare (the U / horseshoe of VI-VII)
_SCAN_FLOOR = 0.05  # each level keeps this much scan probability when combined: the rule is not validated
# One man per named stage: the shares of the donor's density (hairline, temples, mid-scalp, crown) that the
# stage's description implies. The rule's worked examples, used by the tests and benchmarks/norwood_scans.py.
WORKED_SHARES: dict[str, tuple[float, float, float, float]] = {
    "I": (0.97, 0.92, 1.0, 0.98), "II": (0.95, 0.75, 0.98, 0.97), "IIa": (0.78, 0.8, 0.97, 0.95),
    "III": (0.9, 0.55, 0.95, 0.95), "IIIa": (0.55, 0.6, 0.9, 0.95), "III vertex": (0.9, 0.6, 0.9, 0.75),
    "IV": (0.7, 0.35, 0.8, 0.4), "IVa": (0.3, 0.35, 0.75, 0.95), "V": (0.4, 0.3, 0.5, 0.3),
    "Va": (0.25, 0.3, 0.5, 0.9), "VI": (0.1, 0.4, 0.15, 0.3), "VII": (0.05, 0.1, 0.05, 0.1),
}
_LEVEL_OF = {"I": 1, "II": 2, "IIa": 2, "III": 3, "IIIa": 3, "III vertex": 3, "IV": 4, "IVa": 4, "V": 5,
             "Va": 5, "VI": 6, "VII": 7}


@dataclass(frozen=True, slots=True)
class ScanStaging:
    """The Norwood answer of a profile's zone scans.

    ``probabilities`` are over levels 1-7, ``stage_probabilities`` over the named stages (both from the
    measurement noise); ``ratios_to_donor`` the measured shares; ``zones_missing`` the zones not scanned.
    """

    stage: str
    stage_number: int
    probabilities: dict[int, float]
    stage_probabilities: dict[str, float]
    ratios_to_donor: dict[str, float]
    ratio_se_log: dict[str, float]
    zones_missing: tuple[str, ...]
    warnings: tuple[str, ...]


def _grade(share: float) -> int:
    return sum(share < cut for cut in RATIO_CUTS)


def stage_from_ratios(hairline: float | None = None, temples: float | None = None,
                      mid_scalp: float | None = None, crown: float | None = None) -> str:
    """The named Norwood stage of one set of zone-to-donor density shares (None: zone not scanned).

    A zone not scanned counts as unaffected, except the temples, which then follow the hairline; without a
    temple and a crown scan no ``a`` variant is named (nothing shows that the temples do not lead, or that
    the crown is spared).

    Examples
    --------
    >>> stage_from_ratios(hairline=0.95, temples=0.9, mid_scalp=1.0, crown=0.97)
    'I'
    >>> stage_from_ratios(hairline=0.9, temples=0.55, mid_scalp=0.95, crown=0.95)
    'III'
    >>> stage_from_ratios(hairline=0.55, temples=0.6, mid_scalp=0.9, crown=0.95)
    'IIIa'
    >>> stage_from_ratios(hairline=0.6, temples=0.4, mid_scalp=0.5, crown=0.3)
    'V'
    """
    f = 1.0 if hairline is None else hairline
    t = f if temples is None else temples
    m = 1.0 if mid_scalp is None else mid_scalp
    c = 1.0 if crown is None else crown
    gf, gt, gm, gc = _grade(f), _grade(t), _grade(m), _grade(c)
    if f < _BARE and m < _BARE:  # front and top one bald area: the bridge is gone
        return "VII" if t < _BARE and c < _BARE else "VI"
    seen = temples is not None and crown is not None  # an a variant needs both: temples no worse, crown spared
    if seen and gc == 0 and gf >= 1 and gf >= gt:  # the midline goes back with the temples, the crown is spared
        if gf == 1:
            return "IIa"
        if gf == 2:
            return "IIIa"
        return "Va" if gm >= 2 else "IVa"
    front = max(gt, gf)
    if gc >= 1:  # the crown thins on its own
        if front <= 2 and gc == 1 and gm <= 1:
            return "III vertex"
        return "V" if gm >= 2 else "IV"
    if front == 0:
        return "I" if gm == 0 else "II"  # diffuse mid-scalp thinning alone is not a Norwood pattern
    if front == 1:
        return "II"
    return "IV" if gm >= 2 else "III"


def _zone_log_stats(values: Sequence[float], name: str) -> tuple[float, float]:
    """Log of the replicate mean and its standard error (per-scan SD pooled with the prior)."""
    vals = np.asarray([float(v) for v in values], dtype=np.float64)
    if vals.size == 0:
        raise InputError(f"{name}: no density values")
    if not np.all(np.isfinite(vals)) or np.any(vals < 0):
        raise InputError(f"{name}: densities must be finite and >= 0, got {values!r}")
    mean = float(vals.mean())
    logs = np.log(np.maximum(vals, 1e-3 * max(mean, 1e-9)))
    ss = float(((logs - logs.mean()) ** 2).sum()) if vals.size > 1 else 0.0
    sd = math.sqrt((_PRIOR_DOF * PER_SCAN_LOG_SD**2 + ss) / (_PRIOR_DOF + vals.size - 1))
    return math.log(max(mean, 1e-9)), sd / math.sqrt(vals.size)


def _as_values(v: float | Sequence[float] | None) -> list[float] | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return [float(v)]
    return [float(x) for x in v]


def norwood_from_density(
    *,
    donor: float | Sequence[float],
    hairline: float | Sequence[float] | None = None,
    temples: float | Sequence[float] | None = None,
    mid_scalp: float | Sequence[float] | None = None,
    crown: float | Sequence[float] | None = None,
    draws: int = 4000,
    seed: int = 0,
) -> ScanStaging:
    """Norwood stage probabilities from zone densities relative to the donor's.

    Parameters
    ----------
    donor : float or sequence of float
        The donor zone's density (hairs/cm², units/cm² or coverage %, one unit throughout), one value per
        replicate scan of the latest visit.
    hairline, temples, mid_scalp, crown : float or sequence of float, optional
        The same for each zone scanned; a zone left out is not graded (see :func:`stage_from_ratios`).
    draws : int
        Monte Carlo draws of the measurement noise.
    seed : int
        Seed of those draws (the answer is reproducible).

    Returns
    -------
    ScanStaging

    Examples
    --------
    >>> s = norwood_from_density(donor=[180, 176], hairline=[100, 96], temples=[104, 110], crown=[178, 170])
    >>> s.stage, s.stage_number
    ('IIIa', 3)
    """
    donor_v = _as_values(donor)
    if donor_v is None or not donor_v or min(donor_v) <= 0:
        raise InputError(f"donor density must be > 0 (the donor zone is the reference), got {donor!r}")
    zones = {"hairline": _as_values(hairline), "temples": _as_values(temples),
             "mid_scalp": _as_values(mid_scalp), "crown": _as_values(crown)}
    present = {z: v for z, v in zones.items() if v}
    if not present:
        raise InputError("give the density of at least one of hairline, temples, mid_scalp, crown beside the donor's")
    if draws < 1:
        raise InputError(f"draws must be >= 1, got {draws}")
    d_log, d_se = _zone_log_stats(donor_v, "donor")
    rng = np.random.default_rng(seed)
    shares: dict[str, np.ndarray] = {}
    ratios, ses = {}, {}
    for z, v in present.items():
        z_log, z_se = _zone_log_stats(v, z)
        se = math.hypot(z_se, d_se)
        ratios[z] = round(math.exp(z_log - d_log), 3)
        ses[z] = round(se, 3)
        shares[z] = np.exp(z_log - d_log + se * rng.standard_normal(draws))
    names = [stage_from_ratios(**{z: float(s[i]) for z, s in shares.items()}) for i in range(draws)]
    stage_p = {n: names.count(n) / draws for n in _LEVEL_OF if n in names}
    level_p = {lvl: 0.0 for lvl in range(1, 8)}
    for n, p in stage_p.items():
        level_p[_LEVEL_OF[n]] += p
    ev = sum(lvl * p for lvl, p in level_p.items())
    number = int(np.clip(round(ev), 1, 7))
    stage = _name_for_level(number, stage_p)
    missing = tuple(z for z in SCAN_ZONES if z not in present)
    warnings = []
    if "crown" in missing:
        warnings.append("crown_not_scanned: no crown scan; the crown counts as unaffected")
    if "temples" in missing:
        warnings.append("temples_not_scanned: no temple scan; the temples are taken to follow the hairline")
    if {"crown", "temples"} & set(missing):
        warnings.append("pattern_unknown: an a variant needs a temple and a crown scan to be told apart")
    if max(stage_p.values()) < 0.6:
        warnings.append("borderline: the shares sit near a grade boundary; more replicates would settle it")
    return ScanStaging(stage, number, {k: round(v, 4) for k, v in level_p.items()},
                       {k: round(v, 4) for k, v in sorted(stage_p.items(), key=lambda kv: -kv[1])},
                       ratios, ses, missing, tuple(warnings))


def _name_for_level(level: int, stage_p: Mapping[str, float]) -> str:
    """The most probable named stage of that level (the plain name when none was drawn)."""
    options = [(p, n) for n, p in stage_p.items() if _LEVEL_OF[n] == level]
    if not options:
        return {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII"}[level]
    return max(options)[1]


def combine_photo_and_scans(photo_probabilities: Mapping[int, float] | None,
                            scans: ScanStaging) -> tuple[str, int, dict[int, float]]:
    """One stage from the photo model's level probabilities and the scans' (independent evidence).

    The photo model knows levels 2-7 only and calls a man with no recession ``II``, so its evidence for
    level 1 is taken to be its evidence for level 2. Each level keeps a floor of scan probability (the scan
    rule is not validated, so it may not veto what the photos see); without photos the scans' own
    probabilities are returned. The name (``a`` variant, ``vertex``)
    comes from the scans.

    Returns
    -------
    (stage, stage_number, probabilities over levels 1-7)

    Examples
    --------
    >>> s = norwood_from_density(donor=[180, 184, 178], hairline=[178, 182, 176], temples=[176, 180, 172],
    ...                          mid_scalp=[178, 180, 181], crown=[176, 179, 181])
    >>> combine_photo_and_scans({1: 0.0, 2: 0.6, 3: 0.3, 4: 0.1, 5: 0.0, 6: 0.0, 7: 0.0}, s)[:2]
    ('I', 1)
    """
    scan = np.array([scans.probabilities.get(lvl, 0.0) for lvl in range(1, 8)])
    scan = scan / max(scan.sum(), 1e-12)
    if photo_probabilities:
        photo = np.array([float(photo_probabilities.get(lvl, 0.0)) for lvl in range(1, 8)])
        photo[0] = max(photo[0], photo[1])
        post = photo * ((1 - 7 * _SCAN_FLOOR) * scan + _SCAN_FLOOR)
    else:  # the scans alone
        post = scan
    post = post / post.sum()
    ev = float(post @ np.arange(1, 8))
    number = int(np.clip(round(ev), 1, 7))
    return _name_for_level(number, scans.stage_probabilities), number, {
        lvl: round(float(p), 4) for lvl, p in zip(range(1, 8), post)}


def scan_staging_to_dict(s: ScanStaging) -> dict:
    """The JSON object of a scan staging (``scans`` in ``hairtrack norwood --profile --json``)."""
    return {
        "stage": s.stage,
        "stage_number": s.stage_number,
        "probabilities": {str(k): v for k, v in s.probabilities.items()},
        "stage_probabilities": s.stage_probabilities,
        "ratios_to_donor": s.ratios_to_donor,
        "ratio_se_log": s.ratio_se_log,
        "zones_missing": list(s.zones_missing),
        "warnings": list(s.warnings),
        "rule": "zone density over donor density, graded at 0.85 / 0.65 / 0.45 (ours, not validated)",
    }


def norwood_with_scans_to_dict(photo: dict | None, scans: ScanStaging) -> dict:
    """The ``hairtrack norwood --profile --json`` object: the photo answer (``norwood_to_dict`` of the
    combined photos, or None without photos) with the stage, its number and probabilities replaced by
    the combination with the scans; the photos' own answer stays under ``photo_stage`` and
    ``photo_probabilities``, the scans' under ``scans``."""
    usable = photo is not None and photo.get("stage") != "unknown"
    photo_p = {int(k): float(v) for k, v in photo["probabilities"].items()} if usable else None
    stage, number, probs = combine_photo_and_scans(photo_p, scans)
    neighbour = neighbour_p = None
    for cand in (number - 1, number + 1):
        pc = probs.get(cand, 0.0)
        if pc >= 0.5 * probs[number] and pc > (neighbour_p or 0.0):
            neighbour, neighbour_p = _name_for_level(cand, scans.stage_probabilities), pc
    base = dict(photo) if photo is not None else {"image": [], "view": None, "view_probabilities": {},
                                                   "warnings": [], "unknown_reason": None, "coverage": None}
    warnings = list(base.get("warnings", [])) + [f"scans: {w}" for w in scans.warnings]
    return base | {
        "view": "combined" if photo is not None else "scans",
        "stage": stage,
        "stage_number": number,
        "probabilities": {str(k): v for k, v in probs.items()},
        "neighbour_stage": neighbour,
        "neighbour_probability": neighbour_p,
        "stage_source": "photos+scans" if usable else "scans",
        "photo_stage": photo.get("stage") if photo is not None else None,
        "photo_probabilities": photo.get("probabilities") if photo is not None else None,
        "scans": scan_staging_to_dict(scans),
        "warnings": warnings,
    }
