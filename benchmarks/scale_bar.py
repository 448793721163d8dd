"""The real dev photos' scale, read from the scale bar their dermoscope burns into some of them.

Some photos of ``../shared/datasets/trichoscopy-dev`` carry the device's own "1.0 mm" scale: an L of two thin
dark lines in the lower left corner, one millimetre each way. This script finds its horizontal arm (the
longest run of pixels darker than the rows 3 px above and below, in the lower left of the frame) and prints:

- how many photos carry it and its length in px (percentiles): the photos' px/mm;
- what follows for the labelled hairs at that scale and at the 220 px/mm the project assumed until
  2026-11-28: the shafts' length (the boxes' diagonals) in mm, and the hairs per cm² of a frame.

``hairtrack.imaging.hairs.DERMOSCOPE_70X_PX_PER_MM`` is this figure, and the learned detector reads photos at
half of it (``learned._INPUT_PX_PER_MM``), the scale its decoding was tuned at. Skips cleanly when the data
set is absent. Usage::

    PYTHONPATH=. python benchmarks/scale_bar.py [--root DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: the data set's folder and labels

from trichoscopy import DEFAULT_ROOT, read_boxes  # noqa: E402 (after the path)

from hairtrack.imaging.hairs import _ONCE_ASSUMED_PX_PER_MM  # noqa: E402
_MIN_BAR_PX = 200  # a run this long in the corner is the bar (hairs crossing it cut it short: shorter runs)


def bar_length_px(grey: np.ndarray) -> int:
    """Length of the longest thin dark horizontal line in the lower left of ``grey`` (0 when none).

    Examples
    --------
    >>> grey = np.full((1024, 1280), 200, np.uint8)
    >>> grey[924, 37:395] = 60
    >>> bar_length_px(grey)
    358
    """
    g = grey.astype(np.int16)
    h, w = g.shape
    best = 0
    for r in range(int(0.68 * h), h - 3):
        row = g[r, : int(0.625 * w)]
        dark = (row < g[r - 3, : row.size] - 40) & (row < g[r + 3, : row.size] - 40)
        if dark.sum() < _MIN_BAR_PX:
            continue
        edges = np.flatnonzero(np.diff(np.r_[0, dark.astype(np.int8), 0]))
        best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best if best >= _MIN_BAR_PX else 0


def main(argv: list[str] | None = None) -> int:
    import cv2

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="data set folder (images/, annotations/)")
    args = ap.parse_args(argv)
    images = sorted((args.root / "images").glob("*.jpg"))
    if not images:
        print(f"skipped: data set not found at {args.root}")
        return 0
    bars, diagonals, counts, shapes = [], [], [], set()
    for path in images:
        grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        shapes.add(grey.shape)
        length = bar_length_px(grey)
        if length:
            bars.append(length)
        boxes = read_boxes(args.root / "annotations" / f"{path.stem}.xml")
        diagonals.extend(np.hypot(x1 - x0, y1 - y0) for _, x0, y0, x1, y1 in boxes)
        counts.append(len(boxes))
    q = [5, 25, 50, 75, 95]
    bars_a, diag = np.array(bars), np.array(diagonals)
    print(f"{len(images)} photos {sorted(shapes)}; {len(bars)} carry the scale bar")
    if not bars:
        print("no scale bar found: no scale to read")
        return 0
    print(f"bar length px, percentiles {q}: {np.percentile(bars_a, q).round(1).tolist()}")
    scale = float(np.median(bars_a))
    h, w = sorted(shapes)[-1]
    print(f"the photos' scale (median bar): {scale:g} px/mm")
    print(f"labelled shafts ({len(diag)}), length px at 10/50/90%: {np.percentile(diag, [10, 50, 90]).round(0).tolist()}")
    for ppm, name in ((scale, "the bar's"), (_ONCE_ASSUMED_PX_PER_MM, "the once assumed")):
        area_cm2 = h * w / ppm ** 2 / 100.0
        print(f"at {name} {ppm:g} px/mm: shafts {(np.percentile(diag, [10, 50, 90]) / ppm).round(2).tolist()} mm, "
              f"a frame {w / ppm:.1f} x {h / ppm:.1f} mm, median {np.median(counts):g} hairs -> "
              f"{np.median(counts) / area_cm2:.0f} hairs/cm²")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
