"""What a close-up at too coarse a scale costs, and how often ``analyze()`` names it ``coarse_scale``.

A phone's macro lens gives about 110 px/mm; a weaker one, or a photo taken from further away, less. The learned
detector reads a photo at 179 px/mm and enlarges it at most twice, so below about 90 px/mm it sees shafts thinner
than any it was trained on. Each render (1280 x 1024 at 110 px/mm, every difficulty in turn, clipped hair) is
resampled to coarser scales with an area filter, as a coarser camera would see the same scalp; each detector reads
every copy with its true scale. Per scale the script prints the hairs found over the hairs drawn, the density and
the mean width against the same detector's reading at 110 px/mm, and the share of copies named ``coarse_scale``
(``hairtrack.imaging.analyze._COARSE_PX_PER_MM``; the learned detector's photos only, as the classical pipeline's
density holds).

Usage::

    PYTHONPATH=. python benchmarks/coarse_scale.py [--renders 6] [--seed 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCALES = (110.0, 100.0, 90.0, 80.0, 70.0, 60.0, 50.0)


def main(argv: list[str] | None = None) -> int:
    import cv2

    from hairtrack.imaging.analyze import _COARSE_PX_PER_MM, DETECTORS, analyze
    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=6, help="renders, every difficulty in turn")
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args(argv)
    if args.renders < 1:
        ap.error("--renders must be 1 or more")
    print(f"coarse_scale: named under {_COARSE_PX_PER_MM:g} px/mm. {args.renders} renders (1280 x 1024 at 110 px/mm, "
          f"seeds {args.seed}-{args.seed + args.renders - 1}, {'/'.join(DIFFICULTIES)} in turn), resampled")
    # per detector and scale: found / drawn, density and mean width over the 110 px/mm reading, named or not
    rows = {(d, p): [] for d in DETECTORS for p in SCALES}
    for k in range(args.renders):
        scene = render_scalp(seed=args.seed + k, shape=(1024, 1280), px_per_mm=SCALES[0],
                             difficulty=DIFFICULTIES[k % len(DIFFICULTIES)])
        for det in DETECTORS:
            ref = None
            for p in SCALES:
                f = p / SCALES[0]
                img = scene.image if f == 1.0 else cv2.resize(
                    scene.image, (round(1280 * f), round(1024 * f)), interpolation=cv2.INTER_AREA)
                a = analyze(img, p, detector=det)
                if ref is None:  # the reading at 110 px/mm, the first scale
                    ref = a
                rows[det, p].append((a.hair_count / len(scene.hairs),
                                     (a.hairs_per_cm2 or 0.0) / ref.hairs_per_cm2 if ref.hairs_per_cm2 else np.nan,
                                     (a.mean_width_um or np.nan) / ref.mean_width_um if ref.mean_width_um else np.nan,
                                     "coarse_scale" in a.quality.issues))
    print(f"{'detector':<10}{'px/mm':>6}{'found/drawn':>13}{'density':>9}{'(worst)':>9}{'width':>8}{'named':>7}")
    for (det, p), vals in rows.items():
        v = np.array(vals, float)
        dens = v[:, 1] - 1.0
        worst = dens[np.nanargmax(np.abs(dens))]
        print(f"{det:<10}{p:>6g}{np.mean(v[:, 0]):>13.3f}{100 * np.nanmean(dens):>+8.1f}%{100 * worst:>+8.0f}%"
              f"{100 * (np.nanmean(v[:, 2]) - 1):>+7.1f}%{100 * np.mean(v[:, 3]):>6.0f}%")
    print("density and width: against the same detector's reading of the render at 110 px/mm (mean, and the worst)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
