"""Does a badly exposed photo of the same spot measure the same density? Renders with known hairs, brightened
until their skin clips white or darkened until it crushes black, against the same render well exposed.

What a person gets from a photo taken with too much or too little light should be the same hairs/cm² with a
warning, not another number: a series with one blown-out scan in it would otherwise show a step that the
verdict reads as the treatment's doing. For each exposure the script prints the median share of the frame
kept as usable scalp, the density against the well-exposed render's (median signed and absolute error, and
the worst), and how often ``quality.issues`` names the exposure.

``--baseline REV`` runs the same photos with ``hairtrack/imaging/quality.py`` as of another commit (the usable
field, the drawn overlays whose pixels the hairs' darkness fills in, and the issues; the rest is this version's),
in the same run.

Usage::

    PYTHONPATH=. python benchmarks/exposure.py [--seeds 8] [--baseline REV]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: module_as_of

from as_of import module_as_of  # noqa: E402 (after the path)
from hairtrack.synth import render_scalp  # noqa: E402

# the module, not the function of the same name that hairtrack.imaging exports
analyze_module = importlib.import_module("hairtrack.imaging.analyze")

PX_PER_MM = 220.0
SHAPE = (1024, 1280)
# (name, gain, offset, the issue that should name it): 8-bit values are clipped after gain * v + offset
EXPOSURES = (
    ("bright 1.25x", 1.25, 5.0, "overexposed"),
    ("bright 1.35x", 1.35, 10.0, "overexposed"),
    ("blown 2x", 2.0, 60.0, "overexposed"),
    ("dark 0.5x", 0.5, -20.0, "underexposed"),
    ("dark 0.4x", 0.4, -30.0, "underexposed"),
)


@contextmanager
def _quality(module):
    if module is None:
        yield
        return
    with mock.patch.object(analyze_module, "scan_field", module.scan_field), \
            mock.patch.object(analyze_module, "assess_quality", module.assess_quality):
        yield


def measure(seeds: int, quality_module=None) -> dict[str, dict[str, list[float]]]:
    """Per exposure: usable fraction, density ratio to the well-exposed render, and whether it was named."""
    out: dict[str, dict[str, list[float]]] = {name: {"usable": [], "ratio": [], "named": []} for name, *_ in EXPOSURES}
    with _quality(quality_module):
        for difficulty in ("easy", "medium"):
            for seed in range(1, seeds + 1):
                scene = render_scalp(seed=seed, shape=SHAPE, px_per_mm=PX_PER_MM, difficulty=difficulty)
                right = analyze_module.analyze(scene.image, PX_PER_MM)
                if not right.hairs_per_cm2:
                    continue
                for name, gain, offset, issue in EXPOSURES:
                    photo = np.clip(scene.image * gain + offset, 0, 255).astype(np.uint8)
                    a = analyze_module.analyze(photo, PX_PER_MM)
                    row = out[name]
                    row["usable"].append(a.quality.figures["usable_fraction"])
                    row["ratio"].append((a.hairs_per_cm2 or 0.0) / right.hairs_per_cm2)
                    row["named"].append(float(issue in a.quality.issues))
    return out


def report(label: str, figures: dict[str, dict[str, list[float]]]) -> None:
    print(f"{label}:")
    print(f"  {'exposure':<14} {'photos':>6} {'usable':>7} {'density err median':>19} {'|err| median':>12} "
          f"{'worst':>7} {'named':>6}")
    for name, row in figures.items():
        err = np.array(row["ratio"]) - 1.0
        if not len(err):
            print(f"  {name:<14} {0:>6} (no render had a density to compare)")
            continue
        worst = err[np.argmax(np.abs(err))]
        print(f"  {name:<14} {len(err):>6} {np.median(row['usable']):>7.2f} {np.median(err):>+18.0%} "
              f"{np.median(np.abs(err)):>12.0%} {worst:>+7.0%} {np.mean(row['named']):>6.0%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=8, help="renders per difficulty (easy and medium)")
    ap.add_argument("--baseline", metavar="REV", help="also run quality.py as of this commit, on the same photos")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error("--seeds must be at least 1")
    print(f"renders {SHAPE[1]} x {SHAPE[0]} at {PX_PER_MM:.0f} px/mm, clipped hair, {args.seeds} per difficulty "
          "(easy, medium); each exposure against the same render well exposed")
    report("this version", measure(args.seeds))
    if args.baseline:
        quality = module_as_of(args.baseline, "hairtrack/imaging/quality.py")
        report(f"quality.py as of {args.baseline}", measure(args.seeds, quality))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
