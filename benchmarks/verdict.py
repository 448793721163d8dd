"""How often the `overall` verdict is right, on simulated people with known truth, next to a naive rule.

For each simulated person (hairtrack.synth.simulate_cohort: effects 0, +10, +20, +35% assigned in turn)
the verdict is computed as the record stood at months 3, 6, 9 and 12 of treatment (as_of = start +
m months + 10 days, so the month-m scan is in). Printed per effect size: the share judged `responding`
at each look and at any look (a person counted once).

Naive rule: the mean of all images of the treated zones at the latest scan day vs the last baseline
scan day; `responding` when it rose by more than --naive-threshold percent.

With --matched the same people also carry matched hair counts (each image registered to the previous
and the first visit of its zone, hairtrack.synth: the re-finding and image errors cancel; the detector's
inconsistency kappa = 0.3 on a 1 cm² field, about 5% per image pair; 3% of registrations failing) and the verdict is computed a second time
with them (the capture protocol's estimator, hairtrack.analysis.matched); both are printed side by side,
with the median MDC95 of the overall change at month 6.

    PYTHONPATH=. .venv/bin/python benchmarks/verdict.py --people 2000 --seed 1 [--matched]

``--replicate-sd`` and ``--refind-sd`` set the simulated noise (``--replicate-sd 0.12`` is the photo-to-photo
noise of hairtrack's own detector, measured by ``benchmarks/repeatability.py``); ``--prior-replicate-sd`` the
verdict's prior on it (hairtrack's default when left out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time

import numpy as np

from hairtrack.analysis import NoisePrior, RuleSettings, judge
from hairtrack.domain import Zone
from hairtrack.synth import ClinicNoise, simulate_cohort

LOOKS = (3, 6, 9, 12)
EFFECTS = (0.0, 10.0, 20.0, 35.0)


def naive_responding(p, as_of: dt.date, threshold_pct: float) -> bool:
    start = p.truth.start
    rows = [m for m in p.measurements if m.zone is not Zone.DONOR and m.date <= as_of]
    before = [m.date for m in rows if m.date <= start]
    after = [m.date for m in rows if m.date > start]
    if not before or not after:
        return False
    b = np.mean([m.hairs_per_cm2 for m in rows if m.date == max(before)])
    a = np.mean([m.hairs_per_cm2 for m in rows if m.date == max(after)])
    return bool(100 * (a / b - 1) > threshold_pct)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=2000, help="simulated people (split evenly over the effects)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--naive-threshold", type=float, default=10.0, help="naive rule: rise in %% to call it")
    ap.add_argument("--look-alpha", type=float, default=RuleSettings().look_alpha)
    ap.add_argument("--matched", action="store_true", help="also judge with matched hair counts")
    ap.add_argument("--replicate-sd", type=float, default=ClinicNoise().replicate_sd_log,
                    help="simulated noise between images of one zone at one visit (log scale; 0.09 ~ 9%%; "
                         "benchmarks/repeatability.py measures hairtrack's own)")
    ap.add_argument("--refind-sd", type=float, default=ClinicNoise().refind_sd_log,
                    help="simulated error of re-finding a zone at each visit (log scale)")
    ap.add_argument("--prior-replicate-sd", type=float, default=NoisePrior().replicate_sd_log,
                    help="the verdict's prior on that noise (log scale; hairtrack's default)")
    args = ap.parse_args(argv)
    for name in ("replicate_sd", "refind_sd", "prior_replicate_sd"):
        value = getattr(args, name)
        if not 0 <= value <= 1 or (name == "prior_replicate_sd" and value == 0):
            low = "above 0" if name == "prior_replicate_sd" else "between 0"
            ap.error(f"--{name.replace('_', '-')} must be {low} and at most 1 (a log-scale SD), got {value:g}")
    rules = RuleSettings(look_alpha=args.look_alpha)
    noise = ClinicNoise(replicate_sd_log=args.replicate_sd, refind_sd_log=args.refind_sd)
    prior = NoisePrior(replicate_sd_log=args.prior_replicate_sd)
    t0 = time.perf_counter()
    people = simulate_cohort(args.people, seed=args.seed, effects_pct=EFFECTS, months=12, noise=noise,
                             matched=args.matched)
    t_sim = time.perf_counter() - t0
    hits = {e: np.zeros((0, len(LOOKS)), bool) for e in EFFECTS}
    naive = {e: np.zeros((0, len(LOOKS)), bool) for e in EFFECTS}
    other = {e: {} for e in EFFECTS}
    by_kind: dict[tuple[float, str], list[bool]] = {}
    timings = []
    hits_m = {e: np.zeros((0, len(LOOKS)), bool) for e in EFFECTS}
    mdc6: dict[str, dict[float, list[float]]] = {"independent": {e: [] for e in EFFECTS},
                                                 "matched": {e: [] for e in EFFECTS}}
    used_matched = []
    for p in people:
        row, nrow, mrow = [], [], []
        for m in LOOKS:
            as_of = p.truth.start + dt.timedelta(days=round(m * 30.4375) + 10)
            t = time.perf_counter()
            v = judge(p.measurements, p.treatments, as_of=as_of, rules=rules, today=dt.date(2030, 1, 1), prior=prior)
            timings.append(time.perf_counter() - t)
            row.append(v.overall.verdict.value == "responding")
            nrow.append(naive_responding(p, as_of, args.naive_threshold))
            if m == 6 and v.overall.mdc95_pct is not None:
                mdc6["independent"][p.truth.effect_pct].append(v.overall.mdc95_pct)
            if args.matched:
                vm = judge(p.measurements, p.treatments, as_of=as_of, rules=rules, today=dt.date(2030, 1, 1),
                           matched=p.matched, prior=prior)
                mrow.append(vm.overall.verdict.value == "responding")
                used_matched.append(vm.overall.estimator == "matched")
                if m == 6 and vm.overall.mdc95_pct is not None:
                    mdc6["matched"][p.truth.effect_pct].append(vm.overall.mdc95_pct)
            key = (m, v.overall.verdict.value)
            other[p.truth.effect_pct][key] = other[p.truth.effect_pct].get(key, 0) + 1
        key = (p.truth.effect_pct, f"{p.truth.treatment.value}/{v.overall.control}")
        by_kind.setdefault(key, []).append(any(row))
        hits[p.truth.effect_pct] = np.vstack([hits[p.truth.effect_pct], row])
        naive[p.truth.effect_pct] = np.vstack([naive[p.truth.effect_pct], nrow])
        if args.matched:
            hits_m[p.truth.effect_pct] = np.vstack([hits_m[p.truth.effect_pct], mrow])
    total = time.perf_counter() - t0

    print("hairtrack verdict benchmark (benchmarks/verdict.py)")
    print(f"seed={args.seed} people={args.people} looks at months {LOOKS} (as_of = start + m months + 10 days)")
    print(f"rules: look_alpha={rules.look_alpha:.5f} (one-sided, per look)  naive rule: latest scan day vs last "
          f"baseline scan day, responding if > +{args.naive_threshold:g}%")
    print(f"noise: {noise}")
    print(f"verdict prior: replicate_sd_log={prior.replicate_sd_log:g} (nu0={prior.replicate_prior_dof:g})")
    print(f"python {platform.python_version()}, numpy {np.__version__}")
    print()
    print("share judged `responding` (overall verdict)")
    hdr = "effect    n    " + "  ".join(f"m{m:<2d} hairtrack/naive" for m in LOOKS) + "   any-look hairtrack/naive"
    print(hdr)
    for e in EFFECTS:
        h, nv = hits[e], naive[e]
        cells = "  ".join(f"   {100 * h[:, j].mean():5.1f}% / {100 * nv[:, j].mean():5.1f}%" for j in range(len(LOOKS)))
        print(f"+{e:4.0f}%  {len(h):5d} {cells}      {100 * h.any(1).mean():5.1f}% / {100 * nv.any(1).mean():5.1f}%")
    print()
    fp, fpn = hits[0.0].any(1).mean(), naive[0.0].any(1).mean()
    pw6, pwa = hits[20.0][:, 1].mean(), hits[20.0].any(1).mean()
    print(f"false `responding`, no-effect people, any of 4 looks: hairtrack {100 * fp:.1f}% (target <= 5%), "
          f"naive {100 * fpn:.1f}%")
    print(f"`responding` among +20% people: at month 6 {100 * pw6:.1f}%, any look {100 * pwa:.1f}% "
          f"(target >= 80%); naive {100 * naive[20.0][:, 1].mean():.1f}% / {100 * naive[20.0].any(1).mean():.1f}%")
    if args.matched:
        print()
        print("with matched hair counts (same people, same looks): share judged `responding`, "
              "matched / independent counts")
        print("effect    n    " + "  ".join(f"m{m:<2d} matched/indep." for m in LOOKS) + "   any-look matched/indep."
              "   median MDC95 at m6 matched/indep.")
        for e in EFFECTS:
            h, hm = hits[e], hits_m[e]
            cells = "  ".join(f"   {100 * hm[:, j].mean():5.1f}% / {100 * h[:, j].mean():5.1f}%" for j in range(len(LOOKS)))
            print(f"+{e:4.0f}%  {len(h):5d} {cells}      {100 * hm.any(1).mean():5.1f}% / {100 * h.any(1).mean():5.1f}%"
                  f"        {np.median(mdc6['matched'][e]):5.2f}% / {np.median(mdc6['independent'][e]):5.2f}%")
        print(f"false `responding` with matched counts, no-effect people, any of 4 looks: "
              f"{100 * hits_m[0.0].any(1).mean():.1f}% (target <= 5%); overall change from matched counts in "
              f"{100 * np.mean(used_matched):.1f}% of the verdicts")
    print()
    print("all overall verdicts, count by look (effect: month -> verdict counts)")
    for e in EFFECTS:
        for m in LOOKS:
            counts = {k[1]: c for k, c in other[e].items() if k[0] == m}
            print(f"  +{e:.0f}% m{m}: " + ", ".join(f"{k}={counts[k]}" for k in sorted(counts)))
    print()
    print("any-look `responding` by evaluated treatment / control (n)")
    for e in (0.0, 20.0):
        cells = [f"{k[1]} {100 * np.mean(v):.1f}% ({len(v)})" for k, v in sorted(by_kind.items()) if k[0] == e]
        print(f"  +{e:.0f}%: " + "; ".join(cells))
    ms = 1000 * np.array(timings)
    print()
    print(f"time: simulate {t_sim:.1f}s, total {total:.1f}s; judge per call median {np.median(ms):.1f} ms, "
          f"p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms (1 process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
