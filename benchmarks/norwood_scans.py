"""Norwood from zone scans: how often the stage comes back right through measurement noise (simulated).

For every named stage, a man whose zone densities sit at that stage's worked shares of the donor's
(``hairtrack.assessment.norwood_scans.WORKED_SHARES``) is scanned with a per-scan log SD of 0.13 (the
spread of the learned detector on one real photo seen twice, ``benchmarks/protocol.py``) and staged by
:func:`hairtrack.assessment.norwood_scans.norwood_from_density`; with 1 and with 3 replicate scans per zone.

This checks the noise model and the rule table's margins, not the rule's truth: no data set pairs zone
scans with Norwood labels, so the rule itself is not validated here.

Usage::

    python benchmarks/norwood_scans.py [--men 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from hairtrack.assessment.norwood import STAGE_NUMBER
    from hairtrack.assessment.norwood_scans import PER_SCAN_LOG_SD, WORKED_SHARES, norwood_from_density

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--men", type=int, default=200, help="simulated men per stage")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    donor = 180.0
    print(f"{args.men} simulated men per stage, per-scan log SD {PER_SCAN_LOG_SD}; share answered with the right "
          "stage name / the right level / within one level")
    print(f"{'stage':<11}{'1 scan per zone':>26}{'3 scans per zone':>26}")
    totals = {1: np.zeros(3), 3: np.zeros(3)}
    for stage, shares in WORKED_SHARES.items():
        cells = []
        for reps in (1, 3):
            hit = np.zeros(3)
            for _ in range(args.men):
                draw = lambda mean: (mean * np.exp(PER_SCAN_LOG_SD * rng.standard_normal(reps))).tolist()  # noqa: E731
                s = norwood_from_density(donor=draw(donor), hairline=draw(donor * shares[0]), temples=draw(donor * shares[1]),
                                         mid_scalp=draw(donor * shares[2]), crown=draw(donor * shares[3]), draws=400,
                                         seed=int(rng.integers(1 << 30)))
                truth = STAGE_NUMBER[stage]
                hit += [s.stage == stage, s.stage_number == truth, abs(s.stage_number - truth) <= 1]
            totals[reps] += hit
            cells.append(" / ".join(f"{v / args.men:.2f}" for v in hit))
        print(f"{stage:<11}{cells[0]:>26}{cells[1]:>26}")
    n = args.men * len(WORKED_SHARES)
    print(f"{'all':<11}{' / '.join(f'{v / n:.2f}' for v in totals[1]):>26}{' / '.join(f'{v / n:.2f}' for v in totals[3]):>26}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
