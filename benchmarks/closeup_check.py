"""How well the ``overview_photo`` quality issue tells a photo of the whole head from a close-up.

A person may give ``hairtrack analyze`` or ``scan add`` the wrong photo: an overview of the head instead of a
close-up of a zone. The detector would still "find" hairs in it. :func:`hairtrack.imaging.quality.assess_quality`
names the issue ``overview_photo`` when the lightness of the picture varies like hair, face and background
(the coefficient of variation of CIE L* above ``_MAX_CLOSEUP_LIGHTNESS_CV``, chosen above every close-up of
the trichoscopy dev set's ``tune`` fold). This script prints, through the same code path (``scan_field`` then
``assess_quality``):

- close-ups wrongly flagged: the real trichoscopy images of each fold (``report`` untuned) and synthetic
  renders (``varied`` scenes, every difficulty);
- head photos caught: the Norwood photos (CC BY 4.0), every one, and by their Norwood level.

Skips cleanly when a data set is absent. Usage::

    PYTHONPATH=. python benchmarks/closeup_check.py [--limit N] [--synthetic 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "scripts"))
SHARED = ROOT.parent / "shared" / "datasets"


def _flagged(rgb: np.ndarray) -> tuple[bool, float]:
    from hairtrack.imaging.quality import assess_quality, scan_field

    rep = assess_quality(rgb, scan_field(rgb), ())
    return "overview_photo" in rep.issues, float(rep.figures["lightness_cv"])


def _measure(rgbs) -> tuple[list[bool], list[float]]:
    """Whether each photo is flagged, and its lightness CV."""
    flags, cvs = [], []
    for rgb in rgbs:
        flag, cv = _flagged(rgb)
        flags.append(flag)
        cvs.append(cv)
    return flags, cvs


def _share_line(label: str, flags: list[bool]) -> str:
    return f"{label:<44}{len(flags):>7}{sum(flags):>9}{100 * np.mean(flags):>9.1f}%"


def _line(label: str, flags: list[bool], cvs: list[float]) -> str:
    if not flags:
        return f"{label:<44} skipped (data set not found)"
    q = np.percentile(cvs, [50, 99, 100])
    return f"{_share_line(label, flags)}   {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="at most this many images of each set (seeded sample)")
    ap.add_argument("--synthetic", type=int, default=60, help="synthetic close-ups to render")
    args = ap.parse_args(argv)
    import cv2

    from hairtrack.imaging.quality import _MAX_CLOSEUP_LIGHTNESS_CV
    import train_norwood as T
    from hairtrack.synth import render_scalp
    from trichoscopy import patient_folds

    rng = np.random.default_rng(0)

    def sample(items: list) -> list:
        if args.limit and args.limit < len(items):
            return [items[i] for i in sorted(rng.choice(len(items), args.limit, replace=False))]
        return items

    def read(path: Path) -> np.ndarray | None:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        return None if bgr is None else np.ascontiguousarray(bgr[..., ::-1])

    rows = []
    tri = SHARED / "trichoscopy-dev" / "images"
    paths = sorted(tri.glob("*.jpg")) if tri.is_dir() else []
    folds = patient_folds([p.stem for p in paths]) if paths else {}
    for fold in ("tune", "report"):
        flags, cvs = _measure(read(p) for p in sample([p for p in paths if folds[p.stem] == fold]))
        rows.append(_line(f"close-ups, trichoscopy-dev {fold} fold", flags, cvs))
    flags, cvs = _measure(render_scalp(seed=9000 + i, shape=(1024, 1280), px_per_mm=220.0,
                                       difficulty=("easy", "medium", "hard")[i % 3], varied=True).image
                          for i in range(args.synthetic))
    rows.append(_line("close-ups, synthetic (varied, 1280 x 1024)", flags, cvs))
    heads = T.read_labels(T.DATA) if (T.DATA / "labels.csv").is_file() else []
    levels: list[str] = []
    unreadable = 0

    def head_photos():
        nonlocal unreadable
        for row in sample(heads):
            rgb = read(T.DATA / "images" / row["file"])
            if rgb is None:
                unreadable += 1
                continue
            levels.append(row["norwood_level"])
            yield rgb

    flags, cvs = _measure(head_photos())
    by_level: dict[str, list[bool]] = {}
    for level, flag in zip(levels, flags, strict=True):
        by_level.setdefault(level, []).append(flag)
    rows.append(_line("head photos, norwood-photos-dev", flags, cvs))
    rows += [_share_line(f"  of them Norwood {lv}", by_level[lv]) for lv in sorted(by_level)]
    print(f"overview_photo when the lightness CV (CIE L*) is above {_MAX_CLOSEUP_LIGHTNESS_CV}")
    print(f"{'images':<44}{'n':>7}{'flagged':>9}{'share':>10}   lightness CV median / 99% / max")
    for r in rows:
        print(r)
    if unreadable:
        print(f"({unreadable} head photos OpenCV could not read were left out)")
    print("close-ups should not be flagged (share near 0%); head photos should be (share near 100%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
