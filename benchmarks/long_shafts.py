"""How often ``analyze()`` names ``long_shafts``: on the real dev photos (hair clipped for trichoscopy, which
should not be flagged) and on renders of clipped and grown-out hair (which should), with the count error the
warning is about.

The learned detector reads shafts as short as the real photos' best (0.22-0.68 mm, ``benchmarks/scale_bar.py``)
and misses many longer ones; ``analyze()`` warns when the median shaft found is over
``hairtrack.imaging.analyze._LONG_SHAFT_MM``. Real photos are read at their dermoscope's 358 px/mm; renders are
1280 x 1024 at 220 px/mm, 12 follicular units, every difficulty in turn. Skips the real part cleanly when the
data set is absent.

Usage::

    PYTHONPATH=. python benchmarks/long_shafts.py [--limit 0] [--renders 12]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "datasets" / "trichoscopy-dev" / "images"


def main(argv: list[str] | None = None) -> int:
    import cv2

    from hairtrack.imaging.analyze import _LONG_SHAFT_MM, analyze
    from hairtrack.imaging.hairs import DERMOSCOPE_70X_PX_PER_MM
    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="at most this many real photos (every k-th); 0: all")
    ap.add_argument("--renders", type=int, default=12, help="renders per shaft length range")
    args = ap.parse_args(argv)
    if args.limit < 0 or args.renders < 0:
        ap.error("--limit and --renders must be 0 or more")
    print(f"long_shafts: median shaft found over {_LONG_SHAFT_MM} mm (5 hairs or more, with a scale)")
    photos = sorted(DATA.glob("*.jpg")) if DATA.is_dir() else []
    if not photos:
        print(f"real photos: skipped ({DATA} is absent)")
    else:
        if args.limit:
            photos = photos[:: max(1, len(photos) // args.limit)][: args.limit]
        flagged, medians = 0, []
        for path in photos:
            rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]
            a = analyze(rgb, DERMOSCOPE_70X_PX_PER_MM)
            flagged += "long_shafts" in a.quality.issues
            if len(a.hairs) >= 5:
                medians.append(float(np.median([h.length_px for h in a.hairs])) / DERMOSCOPE_70X_PX_PER_MM)
        pct = np.percentile(medians, [50, 99, 100]) if medians else [float("nan")] * 3
        print(f"real 70x photos (clipped hair), {len(photos)} at {DERMOSCOPE_70X_PX_PER_MM:g} px/mm: flagged {flagged} "
              f"({100 * flagged / len(photos):.1f}%); per-photo median shaft found, mm, at 50/99/100%: "
              + " / ".join(f"{v:.2f}" for v in pct))
    print(f"renders, {args.renders} per range (1280 x 1024 at 220 px/mm, 12 units): flagged; count error against "
          "every visible hair, per-image mean % (bias %)")
    for lo, hi in ((0.25, 0.7), (0.6, 1.6), (1.0, 2.5)):
        flagged, errs = 0, []
        for k in range(args.renders):
            sc = render_scalp(seed=5000 + k, shape=(1024, 1280), px_per_mm=220.0, difficulty=DIFFICULTIES[k % 3],
                              n_units=12, shaft_mm=(lo, hi))
            a = analyze(sc.image, 220.0)
            flagged += "long_shafts" in a.quality.issues
            errs.append((a.hair_count - len(sc.hairs)) / max(len(sc.hairs), 1))
        e = np.array(errs) if errs else np.array([np.nan])
        print(f"  shafts {lo:g}-{hi:g} mm: flagged {flagged} of {args.renders}; count error {100 * np.abs(e).mean():.0f}% "
              f"({100 * e.mean():+.0f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
