"""Simulated people with known truth: density records and treatments that behave like a real clinic's.

For person ``i``, zone ``z``, visit at date ``t`` and image ``r`` (log scale)::

    log D = log a_z - loss_z * years(t - start) + effect_z * ramp(t) - shed(t) + season(t) + u_t + e_zt + eps_ztr

- ``a_z``: zone density, differing by person (donor ~ N(210, 25) hairs/cm², treated zones 45-90% of it);
- ``loss_z``: natural loss for about half of the people (1-6%/year in treated zones; the donor too in
  women); an old finasteride stack cuts it to 30%;
- ``effect_z``: ``log(1 + effect_pct/100)`` with ``ramp`` 0 until month 2, rising linearly to 1 at month 6;
  oral minoxidil acts on the donor zone as well;
- ``shed``: a temporary dip (0-8%) in months 0.4-2.3 after minoxidil, PRP, EV or microneedling;
- ``season``: a dip of 1-5% deepest in mid-August to mid-September;
- noise: ``u_t ~ N(0, 3%)`` shared by the zones of a visit, ``e_zt ~ N(0, 4%)`` from re-finding the zone,
  ``eps ~ N(0, 5%)`` between images, and 3% of images wildly off (by 25-70%).
Visits: 2-4 baseline scan days in the 2-6 weeks before the start, then monthly (+-4 days), 15% missed;
3 images per zone per visit (2 in 15% of visits).

With ``matched=True`` each image after a zone's first visit is also "registered" to the previous visit's image
of the same number and to the first visit's (as ``tracking.ingest`` does) and its hairs matched
(``analysis.matched.MatchedPair``): on the same patch the re-finding error ``e_zt`` and the image error
``eps`` cancel, so the log ratio of the matched counts is the zone's true change plus the change of the
visit-shared part ``u_t`` (what the detector can see) plus ``N(0, kappa (1/n_a + 1/n_b))``, the hairs the
detector sees in one photo and not the other (``kappa = matched_inconsistency``; ``n`` the hairs in a field of
``matched_field_cm2``); ``matched_fail_rate`` of the pairs come back ``different_field`` (a failed
registration). These draws use their own random stream, so the measurements are the same with and without
them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from hairtrack.analysis.matched import MatchedPair
from hairtrack.domain import Measurement, Money, Sex, Treatment, TreatmentKind, Zone

__all__ = ["ClinicNoise", "PatientTruth", "SimulatedPatient", "simulate_patient", "simulate_cohort"]

MONTH_DAYS = 30.4375
_TREATED = (Zone.HAIRLINE, Zone.TEMPLES, Zone.MID_SCALP, Zone.CROWN)
_SHEDDERS = {TreatmentKind.MINOXIDIL_TOPICAL, TreatmentKind.MINOXIDIL_ORAL, TreatmentKind.PRP, TreatmentKind.EV,
             TreatmentKind.MICRONEEDLING}


@dataclass(frozen=True, slots=True)
class ClinicNoise:
    """Noise of the simulated clinic, on the log scale (0.05 ~ 5%)."""

    replicate_sd_log: float = 0.05
    refind_sd_log: float = 0.04
    shared_sd_log: float = 0.03
    outlier_rate: float = 0.03
    outlier_log_range: tuple[float, float] = (0.25, 0.7)
    missed_visit_rate: float = 0.15
    visit_jitter_days: float = 4.0
    matched_inconsistency: float = 0.3
    matched_fail_rate: float = 0.03
    matched_field_cm2: float = 1.0


@dataclass(frozen=True, slots=True)
class PatientTruth:
    """What the simulator put in, to check a verdict against."""

    profile: str
    sex: Sex
    treatment: TreatmentKind
    start: dt.date
    effect_pct: float
    donor_effect_pct: float
    natural_loss_pct_per_year: float
    donor_loss_pct_per_year: float
    shed_pct: float
    seasonal_dip_pct: float
    stack: tuple[TreatmentKind, ...]
    zones: tuple[Zone, ...]
    baseline_hairs_per_cm2: tuple[tuple[Zone, float], ...]

    def ramp(self, date: dt.date) -> float:
        """Fraction of the plateau effect reached on ``date``: 0 to month 2, 1 from month 6."""
        return float(np.clip(((date - self.start).days / MONTH_DAYS - 2.0) / 4.0, 0.0, 1.0))

    def true_change_pct(self, date: dt.date, *, relative_to_donor: bool = True) -> float:
        """True change of a treated zone from the start to ``date`` (no noise, season or shed), in %."""
        years = (date - self.start).days / 365.25
        log_z = -self.natural_loss_pct_per_year / 100 * years + np.log1p(self.effect_pct / 100) * self.ramp(date)
        if relative_to_donor:
            log_z -= (-self.donor_loss_pct_per_year / 100 * years
                      + np.log1p(self.donor_effect_pct / 100) * self.ramp(date))
        return float(100 * np.expm1(log_z))


@dataclass(frozen=True, slots=True)
class SimulatedPatient:
    measurements: tuple[Measurement, ...]
    treatments: tuple[Treatment, ...]
    truth: PatientTruth
    matched: tuple[MatchedPair, ...] = ()


def _shed(months: float) -> float:
    """Triangular shed profile: 0 at 0.4 months, 1 at 1.2, back to 0 at 2.3."""
    if months <= 0.4 or months >= 2.3:
        return 0.0
    return (months - 0.4) / 0.8 if months <= 1.2 else (2.3 - months) / 1.1


def simulate_patient(
    seed: int | np.random.SeedSequence,
    *,
    effect_pct: float | None = None,
    treatment: TreatmentKind | None = None,
    sex: Sex | None = None,
    months: int = 12,
    baseline_visits: int | None = None,
    replicates: int | None = None,
    natural_loss_pct_per_year: float | None = None,
    shed_pct: float | None = None,
    seasonal_dip_pct: float | None = None,
    stack: tuple[TreatmentKind, ...] | None = None,
    start: dt.date | None = None,
    profile: str | None = None,
    noise: ClinicNoise = ClinicNoise(),
    matched: bool = False,
) -> SimulatedPatient:
    """One simulated person; every choice left as None is drawn from ``seed``.

    Examples
    --------
    >>> p = simulate_patient(1, effect_pct=20.0, treatment=TreatmentKind.PRP)
    >>> p.truth.effect_pct, p.treatments[0].treatment.value
    (20.0, 'prp')
    """
    rng = np.random.default_rng(seed)
    # The matched-count draws get their own stream (a child of the seed, made without touching the caller's).
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    mrng = np.random.default_rng(np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 7919)))
    sex = sex or (Sex.FEMALE if rng.random() < 0.2 else Sex.MALE)
    kinds = [TreatmentKind.PRP, TreatmentKind.EV, TreatmentKind.MINOXIDIL_TOPICAL, TreatmentKind.MINOXIDIL_ORAL]
    if stack is None:
        stack = (TreatmentKind.FINASTERIDE,) if sex is Sex.MALE and rng.random() < 0.3 else ()
    if sex is Sex.MALE and TreatmentKind.FINASTERIDE not in stack:
        kinds.append(TreatmentKind.FINASTERIDE)
    treatment = treatment or kinds[int(rng.integers(len(kinds)))]
    effect_pct = float(effect_pct if effect_pct is not None else rng.choice([0.0, 10.0, 20.0, 35.0]))
    start = start or dt.date(2022, 1, 1) + dt.timedelta(days=int(rng.integers(0, 730)))
    profile = profile or f"sim-{int(rng.integers(1_000_000)):06d}"
    if natural_loss_pct_per_year is None:
        natural_loss_pct_per_year = float(rng.uniform(1.0, 6.0)) if rng.random() < 0.5 else 0.0
    if TreatmentKind.FINASTERIDE in stack:
        natural_loss_pct_per_year *= 0.3
    donor_loss = 0.7 * natural_loss_pct_per_year if sex is Sex.FEMALE else 0.0
    shed_pct = float(shed_pct if shed_pct is not None else (rng.uniform(0, 8) if treatment in _SHEDDERS else 0.0))
    dip = float(seasonal_dip_pct if seasonal_dip_pct is not None else rng.uniform(1.0, 5.0))
    trough = float(rng.uniform(225, 260))
    donor_effect = effect_pct if treatment is TreatmentKind.MINOXIDIL_ORAL else 0.0
    n_treated = int(rng.integers(2, 5))
    zones = tuple(sorted(rng.choice(len(_TREATED), n_treated, replace=False)))
    zones = tuple(_TREATED[i] for i in zones) + (Zone.DONOR,)
    donor_level = float(np.clip(rng.normal(210, 25), 120, 320))
    levels = {z: donor_level * (1.0 if z is Zone.DONOR else float(rng.uniform(0.45, 0.9))) for z in zones}

    # Visit days relative to the start.
    nb = baseline_visits or int(rng.choice([2, 3, 4], p=[0.3, 0.45, 0.25]))
    day = -int(rng.integers(0, 6))
    days = [day]
    for _ in range(nb - 1):
        day -= int(rng.integers(10, 22))
        days.append(day)
    days = sorted(days)
    for k in range(1, months + 1):
        if rng.random() >= noise.missed_visit_rate:
            days.append(int(round(k * MONTH_DAYS + rng.normal(0, noise.visit_jitter_days))))
    truth = PatientTruth(profile, sex, treatment, start, effect_pct, donor_effect, natural_loss_pct_per_year,
                         donor_loss, shed_pct, dip, tuple(stack), zones,
                         tuple((z, round(levels[z], 1)) for z in zones))

    rows = []
    seen: dict[Zone, tuple[dt.date, float, int]] = {}  # zone -> the previous visit: date, level, images
    first: dict[Zone, tuple[dt.date, float, int]] = {}
    pairs = []
    for d in days:
        date = start + dt.timedelta(days=d)
        m = d / MONTH_DAYS
        doy = date.timetuple().tm_yday
        season = -dip / 100 * (1 + np.cos(2 * np.pi * (doy - trough) / 365.25)) / 2
        shared = rng.normal(0, noise.shared_sd_log)
        ramp = truth.ramp(date)
        n_rep = replicates or (2 if rng.random() < 0.15 else 3)
        for z in zones:
            donor = z is Zone.DONOR
            loss = (donor_loss if donor else natural_loss_pct_per_year) / 100 * d / 365.25
            eff = np.log1p((donor_effect if donor else effect_pct) / 100) * ramp
            shed = shed_pct / 100 * _shed(m) if d > 0 else 0.0
            visible = np.log(levels[z]) - loss + eff - shed + season + shared
            mu = visible + rng.normal(0, noise.refind_sd_log)
            if matched:
                if z in seen:
                    pairs += _matched_pairs(mrng, noise, z, seen[z], (date, visible, n_rep))
                    if first[z][0] != seen[z][0]:
                        pairs += _matched_pairs(mrng, noise, z, first[z], (date, visible, n_rep))
                seen[z] = (date, visible, n_rep)
                first.setdefault(z, seen[z])
            for r in range(1, n_rep + 1):
                y = mu + rng.normal(0, noise.replicate_sd_log)
                if rng.random() < noise.outlier_rate:
                    y += rng.choice([-1.0, 1.0]) * rng.uniform(*noise.outlier_log_range)
                rows.append(Measurement(profile, date, z, r, round(float(np.exp(y)), 1)))

    treatments = [Treatment(profile, k, start - dt.timedelta(days=int(rng.integers(365, 1100)))) for k in stack]
    if treatment.is_session:
        price = Decimal(int(rng.integers(10, 31)) * 50) if treatment is TreatmentKind.PRP else \
            Decimal(int(rng.integers(14, 51)) * 50)
        sess = [0, 30, 60] + list(range(150, months * 31, 90))
        treatments += [Treatment(profile, treatment, start + dt.timedelta(days=s), cost=Money(price, "USD"))
                       for s in sess]
    else:
        treatments.append(Treatment(profile, treatment, start))
    return SimulatedPatient(tuple(rows), tuple(treatments), truth, tuple(pairs))


def _matched_pairs(rng: np.random.Generator, noise: ClinicNoise, zone: Zone, before: tuple[dt.date, float, int],
                   after: tuple[dt.date, float, int]) -> list[MatchedPair]:
    """Matched counts of each image of ``after`` against the same-numbered image of ``before``."""
    out = []
    for r in range(1, after[2] + 1):
        if rng.random() < noise.matched_fail_rate:
            out.append(MatchedPair(zone, after[0], r, before[0], 0, 0, 0, float(rng.uniform(0, 20)), True))
            continue
        n_before = max(int(round(np.exp(before[1]) * noise.matched_field_cm2)), 1)
        n_true_after = n_before * np.exp(after[1] - before[1])
        sd = np.sqrt(noise.matched_inconsistency * (1.0 / n_before + 1.0 / n_true_after))
        n_after = max(int(round(n_true_after * np.exp(rng.normal(0, sd)))), 1)
        kept = min(int(rng.binomial(n_before, 0.94)), n_after)  # some turnover: hairs shed and regrown
        out.append(MatchedPair(zone, after[0], r, before[0], kept, n_before - kept, n_after - kept,
                               float(rng.uniform(60, 95))))
    return out


def simulate_cohort(n: int, *, seed: int = 0, effects_pct: tuple[float, ...] = (0.0, 10.0, 20.0, 35.0),
                    months: int = 12, noise: ClinicNoise = ClinicNoise(),
                    matched: bool = False) -> list[SimulatedPatient]:
    """``n`` people, the effects assigned in turn; person ``i`` depends only on ``(seed, i)``."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [simulate_patient(children[i], effect_pct=effects_pct[i % len(effects_pct)], months=months,
                             profile=f"sim-{seed}-{i:05d}", noise=noise, matched=matched) for i in range(n)]
