"""Change since baseline from hairs matched one to one between visits (the capture protocol's estimator).

Independent counts of a zone carry the error of re-finding the patch (about 4%) and of each image (about
5%) at every visit; the error of a density *change* is quoted at 9-12% for automated counts and at
0.4-0.6% when the same hairs are followed from one visit to the next (hairtrack issue 7). When each new
close-up is registered to the zone's earlier visits (``tracking.ingest``), the common field's hairs are
matched and the record holds, per image, ``kept``, ``lost`` and ``new``. Their log ratio ::

    r = log((kept + new) / (kept + lost))

is the change of the count on one patch, free of the re-finding error. Each image is registered to the
previous visit and to the zone's first visit, so the steps form a network over the visits; its
least-squares solution gives each visit's level relative to the first, and the phase contrast of
:func:`hairtrack.analysis.model.phase_contrast` (mean of the current window minus mean of the baseline)
is read from those levels. A chain of previous-visit steps alone would add every step's error to the
latest visit; the steps to the first visit keep it at one step's.

Noise model, on the log scale:

- each image pair's ratio has error ``N(0, kappa (1/n_a + 1/n_b))`` with ``n_a = kept + lost`` and
  ``n_b = kept + new``: the detector sees some hairs in one photo of the pair and not in the other
  (matching cannot undo that), so a pair of 12-hair fields is far noisier than a pair of 200-hair ones.
  ``kappa``, the detector's inconsistency, is the posterior mean under a scaled-inverse-chi² prior
  (``MatchedPrior.inconsistency``, measured by ``benchmarks/protocol.py`` on real photos, ``nu0 = 4``)
  updated by the spread of the pairs within each step;
- the part shared by a visit ``u_v`` (light, hair length, camera: what the detector can see) is *not*
  removed by matching; it enters with the visit coefficients ``c_v`` of the contrast, inflated by
  ``1 / capture_weight`` for a visit that broke a capture rule, exactly as in the independent model; its
  variance is the independent model's estimate but never less than the prior's (that estimate comes from
  a covariance of noisy counts, which can fall to 0 and made the matched interval too narrow);
- the season is taken out by the donor's own matched contrast (weight ``b``) and, for the rest, by the
  seasonal prior, whose amplitude uncertainty is carried into the interval.

``b`` is the value in [0, 1] that minimises the variance of the estimate; when the donor's matched
error is small ``b`` is close to 1 (unlike the independent model, where the donor's re-finding error keeps
it near 0.3). Without a valid donor control (oral minoxidil, women) ``b = 0``.

The matched estimate is used only when the network connects every visit from the first baseline visit to
the last visit of the window and its interval is narrower than that of the independent counts (with few
hairs per photo and an inconsistent detector it is not); otherwise the verdict uses independent counts.
The degrees of freedom of the interval combine those of the pair noise and of the visit prior
(Welch-Satterthwaite).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hairtrack.analysis.model import ChangeEstimate, NoisePrior, seasonal_shape
from hairtrack.domain import Zone

__all__ = [
    "MatchedPair",
    "MatchedPrior",
    "MatchedSteps",
    "ZoneContrast",
    "matched_steps",
    "zone_contrast",
    "donor_contrast",
    "combine_contrasts",
    "prefer_matched",
]


@dataclass(frozen=True, slots=True)
class MatchedPair:
    """One image of a visit registered to one image of the zone's previous visit, hairs matched.

    ``kept``, ``lost`` and ``new`` count hairs inside the common field; ``overlap_pct`` is the share of
    the earlier image that the new one also shows; ``different_field`` when the two do not show one patch.
    """

    zone: Zone
    date: dt.date
    replicate: int
    reference_date: dt.date
    kept: int
    lost: int
    new: int
    overlap_pct: float | None = None
    different_field: bool = False

    @property
    def log_ratio(self) -> float | None:
        """``log((kept + new) / (kept + lost))``; None when either side has no hair."""
        before, after = self.kept + self.lost, self.kept + self.new
        if before <= 0 or after <= 0:
            return None
        return math.log(after / before)


@dataclass(frozen=True, slots=True)
class MatchedPrior:
    """Priors and validity rules of matched counts (log scale).

    ``inconsistency`` is ``kappa``: one image pair's log ratio has variance ``kappa (1/n_a + 1/n_b)``.
    ``benchmarks/protocol.py`` measures 0.09 for the learned detector on 30 real 70x photos seen twice
    (shifted, turned, zoomed, relit, refocused; 0.17 before its exposure normalisation and mirror pass);
    the prior is set at 0.3 for what a month adds (growth, clipping, hair length), and the record's own
    replicates update it. ``min_overlap_pct`` and
    ``min_hairs`` are the least common field and the fewest matched hairs (``kept + lost``) for a pair to count.
    """

    inconsistency: float = 0.3
    pair_prior_dof: float = 4.0
    min_overlap_pct: float = 50.0
    min_hairs: int = 10


@dataclass(frozen=True, slots=True)
class MatchedSteps:
    """Valid matched steps per ``(zone, reference_date, date)``: the weighted mean log ratio and its
    weight ``sum 1 / (1/n_a + 1/n_b)`` over the pairs, with the pooled ``inconsistency`` (kappa) and its
    degrees of freedom; a step's variance is ``inconsistency / weight``."""

    steps: Mapping[tuple[Zone, dt.date, dt.date], tuple[float, float]]
    inconsistency: float
    dof: float
    rejected: int  # pairs left out: different field, small overlap, too few hairs


def matched_steps(pairs: Iterable[MatchedPair], prior: MatchedPrior = MatchedPrior()) -> MatchedSteps:
    """Average the valid image pairs of each visit step (weighted by their hair counts) and pool their
    spread into the detector's inconsistency."""
    groups: dict[tuple[Zone, dt.date, dt.date], list[tuple[float, float]]] = defaultdict(list)
    rejected = 0
    for p in pairs:
        r = p.log_ratio
        if (p.different_field or r is None or p.kept + p.lost < prior.min_hairs
                or (p.overlap_pct is not None and p.overlap_pct < prior.min_overlap_pct)):
            rejected += 1
            continue
        w = 1.0 / (1.0 / (p.kept + p.lost) + 1.0 / (p.kept + p.new))
        groups[(Zone(p.zone), p.reference_date, p.date)].append((r, w))
    ss, dof = 0.0, 0
    steps = {}
    for key, rw in groups.items():
        r, w = np.array(rw).T
        mean = float(np.sum(w * r) / np.sum(w))
        steps[key] = (mean, float(np.sum(w)))
        if len(rw) > 1:
            ss += float(np.sum(w * (r - mean) ** 2))
            dof += len(rw) - 1
    nu0 = prior.pair_prior_dof
    kappa = (nu0 * prior.inconsistency + ss) / (nu0 + dof)
    return MatchedSteps(steps, float(kappa), float(nu0 + dof), rejected)


@dataclass(frozen=True, slots=True)
class ZoneContrast:
    """One zone's matched contrast (window mean minus baseline mean), before any control.

    ``value`` is ``c . L``; ``pair_var`` its variance from the pair noise; ``coef`` the visit
    coefficients ``c_v`` (``1/|W|`` in the window, ``-1/|B|`` at baseline) that carry the visit-shared
    error and the season; ``steps_used`` the number of matched steps (network edges) used.
    """

    zone: Zone
    value: float
    pair_var: float
    coef: Mapping[dt.date, float]
    steps_used: int


def zone_contrast(zone: Zone, steps: MatchedSteps, dates: Sequence[dt.date], baseline: Sequence[dt.date],
                   window: Sequence[dt.date]) -> ZoneContrast | None:
    """The matched contrast of one zone, or None when the matched steps do not connect its visits.

    Each valid step ``(reference_date, date)`` says ``L(date) - L(reference_date) = r`` for the zone's
    visit levels ``L``, with variance ``inconsistency / weight``. The levels of the visits from the first
    baseline visit to the last window visit are the weighted least-squares solution of that network (``L`` of
    the first visit fixed at 0), and the contrast is ``c . L``. A chain of consecutive visits is the simplest
    network; registering every visit to the baseline as well (``tracking.ingest`` does) keeps the error from
    piling up along the chain. ``dates`` are the zone's visit dates (after any capture exclusion);
    ``baseline`` and ``window`` the visits the independent contrast compares.
    """
    if not baseline or not window:
        return None
    dates = sorted(dates)
    lo, hi = min(baseline), max(window)
    nodes = [d for d in dates if lo <= d <= hi]
    if len(nodes) < 2:
        return None
    index = {d: i for i, d in enumerate(nodes)}
    rows, values, weights = [], [], []
    for (z, ref, date), (r, n) in steps.steps.items():
        if z is zone and ref in index and date in index and ref != date:
            row = np.zeros(len(nodes))
            row[index[date]], row[index[ref]] = 1.0, -1.0
            rows.append(row[1:])  # the first visit's level is 0
            values.append(r)
            weights.append(n / steps.inconsistency)
    if not rows:
        return None
    a = np.array(rows)
    w = np.array(weights)
    info = a.T @ (w[:, None] * a)
    if np.linalg.matrix_rank(info) < len(nodes) - 1:
        return None  # some visit is not connected to the baseline by matched steps
    cov = np.linalg.inv(info)
    level = cov @ (a.T @ (w * np.array(values)))
    base, win = set(baseline), set(window)
    coef = {d: 1.0 / len(win) for d in win}
    for d in base:
        coef[d] = coef.get(d, 0.0) - 1.0 / len(base)
    c = np.array([coef.get(d, 0.0) for d in nodes])[1:]
    return ZoneContrast(zone, float(c @ level), float(c @ cov @ c), coef, len(rows))


def donor_contrast(steps: MatchedSteps, donor_dates: Sequence[dt.date], zone: ZoneContrast) -> ZoneContrast | None:
    """The donor's matched contrast over the same stretches of time as ``zone``'s (its own scan dates
    within the zone's baseline and window), or None."""
    base = [d for d, c in zone.coef.items() if c < 0]
    win = [d for d, c in zone.coef.items() if c > 0]
    dates = sorted(donor_dates)
    return zone_contrast(Zone.DONOR, steps, dates, [d for d in dates if min(base) <= d <= max(base)],
                         [d for d in dates if min(win) <= d <= max(win)])


def prefer_matched(independent: ChangeEstimate, matched: ChangeEstimate, *, max_z: float = 3.0) -> str:
    """``"matched"`` when the matched estimate is the more precise and agrees with the independent one,
    ``"disagree"`` when the two differ by more than ``max_z`` combined standard errors, else ``"independent"``."""
    if abs(matched.change_log - independent.change_log) > max_z * math.hypot(matched.se_log, independent.se_log):
        return "disagree"
    return "matched" if matched.se_log < independent.se_log else "independent"


def combine_contrasts(zones: Sequence[ZoneContrast], donor: ZoneContrast | None, *, shared_var_log2: float,
                   capture_weights: Mapping[dt.date, float] | None = None, pair_dof: float,
                   prior: NoisePrior = NoisePrior()) -> tuple[ChangeEstimate, float]:
    """The matched change of the mean of ``zones``, controlled by the donor's contrast and the seasonal prior.

    Returns the estimate and the donor weight ``b`` used (0 without ``donor``), chosen in [0, 1] to
    minimise the estimate's variance (see the module docstring).
    """
    k = len(zones)
    if k == 0:
        raise ValueError("no zone to combine")
    dates = sorted({d for z in zones for d in z.coef} | (set(donor.coef) if donor else set()))
    cz = np.array([sum(z.coef.get(d, 0.0) for z in zones) / k for d in dates])
    cd = np.array([donor.coef.get(d, 0.0) for d in dates]) if donor else np.zeros(len(dates))
    inflate = np.array([1.0 / (capture_weights or {}).get(d, 1.0) for d in dates])
    shape = seasonal_shape(dates, trough_doy=prior.seasonal_trough_doy)
    zone_value = sum(z.value for z in zones) / k
    zone_var = sum(z.pair_var for z in zones) / k**2

    def parts(b: float) -> tuple[float, float, float]:
        c = cz - b * cd
        season = float(c @ shape)
        value = zone_value - (b * donor.value if donor else 0.0) - prior.seasonal_amplitude_log * season
        pair_var = zone_var + (b * b * donor.pair_var if donor else 0.0)
        visit_var = shared_var_log2 * float(c**2 @ inflate) + (prior.seasonal_amplitude_sd_log * season) ** 2
        return value, pair_var, visit_var

    b = 0.0
    if donor is not None:
        grid = np.linspace(0.0, 1.0, 101)
        b = float(grid[int(np.argmin([sum(parts(g)[1:]) for g in grid]))])
    value, pair_var, visit_var = parts(b)
    var = pair_var + visit_var
    dof = var**2 / (pair_var**2 / pair_dof + visit_var**2 / prior.visit_prior_dof) if var > 0 else pair_dof
    return ChangeEstimate(float(value), float(math.sqrt(var)), float(dof), 1.0, len(dates)), b
