"""How well the ``overview_photo`` quality issue tells a photo of the whole head from a close-up.

A person may give ``hairtrack analyze`` or ``scan add`` the wrong photo: an overview of the head instead of a
close-up of a zone. The detector would still "find" hairs in it. :func:`hairtrack.imaging.quality.assess_quality`
names the issue ``overview_photo`` when the lightness of the picture varies like hair, face and background
(the coefficient of variation of CIE L* above ``_MAX_CLOSEUP_LIGHTNESS_CV``) or when the frame's outer ring
holds colours its centre does not (a wall round a head: the ring's foreign share above
``_MAX_RING_FOREIGN_SHARE``); both limits were chosen above every close-up of the trichoscopy dev set's
``tune`` fold. This script prints, through the same code path (``scan_field`` then ``assess_quality``):

- close-ups wrongly flagged: the real trichoscopy images of each fold (``report`` untuned), synthetic
  renders (``varied`` scenes, every difficulty) and sparse ones (0-3 follicular units on 640 x 512 at
  110 px/mm: the nearly bald zone a person with advanced loss photographs, which looks most like a bald head);
- head photos caught: the Norwood photos (CC BY 4.0), every one, and by their Norwood level;

with the share the lightness cue alone flags, and the spread of both figures. Beside them, how many of these
photos are refused as ``not_scalp`` (none should be: a close-up refused loses the user's scan), also for
synthetic phone-macro close-ups (30 px/mm on 2000 x 1500), whose fine shafts change fastest from pixel to pixel,
and dense ones (8 units of thick dark hair on 640 x 512 at 220 px/mm), whose dark shafts raise the lightness CV.

Skips cleanly when a data set is absent. Usage::

    PYTHONPATH=. python benchmarks/closeup_check.py [--limit N] [--synthetic 60] [--sparse 60] [--macro 20] [--dense 40]
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


def _flagged(rgb: np.ndarray) -> tuple[bool, bool, float, float, bool]:
    """Whether the photo gets ``overview_photo``, whether the lightness cue alone gives it, its lightness CV,
    its ring's foreign share (NaN: no ring), and whether it gets ``not_scalp`` (a refusal)."""
    from hairtrack.imaging import quality

    field = quality.scan_field(rgb)
    rep = quality.assess_quality(rgb, field, ())
    flagged = "overview_photo" in rep.issues
    ring = float(rep.figures.get("ring_foreign_fraction", np.nan))
    by_cv = flagged
    if flagged and ring > quality._MAX_RING_FOREIGN_SHARE:
        # the ring cue fired: ask again without it (the figures are rounded, so they cannot tell at the limit)
        limit = quality._MAX_RING_FOREIGN_SHARE
        quality._MAX_RING_FOREIGN_SHARE = float("inf")
        try:
            by_cv = "overview_photo" in quality.assess_quality(rgb, field, ()).issues
        finally:
            quality._MAX_RING_FOREIGN_SHARE = limit
    return flagged, by_cv, float(rep.figures["lightness_cv"]), ring, "not_scalp" in rep.issues


def _measure(rgbs) -> tuple[list[bool], list[bool], list[float], list[float], list[bool]]:
    """Whether each photo is flagged, whether by the lightness cue alone, its lightness CV, its ring's
    foreign share, and whether it is refused as not scalp."""
    rows = [_flagged(rgb) for rgb in rgbs]
    return tuple([r[k] for r in rows] for k in range(5))


def _share_line(label: str, flags: list[bool]) -> str:
    return f"{label:<44}{len(flags):>7}{sum(flags):>9}{100 * np.mean(flags):>9.1f}%"


def _line(label: str, flags: list[bool], by_cv: list[bool], cvs: list[float], rings: list[float],
          not_scalp: list[bool]) -> str:
    if not flags:
        return f"{label:<44} skipped (data set not found)"
    cv_alone = 100 * np.mean(by_cv)
    q = np.percentile(cvs, [50, 99, 100])
    seen = np.array([r for r in rings if np.isfinite(r)])
    qr = np.percentile(seen, [50, 99, 100]) if len(seen) else (np.nan,) * 3
    return (f"{_share_line(label, flags)}{cv_alone:>9.1f}%   {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}"
            f"   {qr[0]:.3f} / {qr[1]:.3f} / {qr[2]:.3f}   {len(flags) - len(seen):>7}{sum(not_scalp):>11}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="at most this many images of each set (seeded sample)")
    ap.add_argument("--synthetic", type=int, default=60, help="synthetic close-ups to render")
    ap.add_argument("--sparse", type=int, default=60, help="sparse synthetic close-ups (0-3 units) to render")
    ap.add_argument("--macro", type=int, default=20, help="synthetic phone-macro close-ups (30 px/mm) to render")
    ap.add_argument("--dense", type=int, default=40, help="dense synthetic close-ups (8 units of thick dark hair) to render")
    args = ap.parse_args(argv)
    import cv2

    from hairtrack.imaging.quality import _MAX_CLOSEUP_LIGHTNESS_CV, _MAX_RING_FOREIGN_SHARE
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
        rows.append(_line(f"close-ups, trichoscopy-dev {fold} fold",
                          *_measure(read(p) for p in sample([p for p in paths if folds[p.stem] == fold]))))
    rows.append(_line("close-ups, synthetic (varied, 1280 x 1024)",
                      *_measure(render_scalp(seed=9000 + i, shape=(1024, 1280), px_per_mm=220.0,
                                             difficulty=("easy", "medium", "hard")[i % 3], varied=True).image
                                for i in range(args.synthetic))))
    rows.append(_line("close-ups, synthetic phone macro (30 px/mm)",
                      *_measure(render_scalp(seed=70000 + i, shape=(1500, 2000), px_per_mm=30.0,
                                             difficulty=("easy", "medium", "hard")[i % 3], varied=True).image
                                for i in range(args.macro))))
    rows.append(_line("close-ups, synthetic dense (8 units)",
                      *_measure(render_scalp(seed=i, shape=(512, 640), px_per_mm=220.0, n_units=8, difficulty="easy").image
                                for i in range(args.dense))))
    units = np.random.default_rng(1).integers(0, 4, max(args.sparse, 0))
    rows.append(_line("close-ups, synthetic sparse (0-3 units)",
                      *_measure(render_scalp(seed=50000 + i, shape=(512, 640), px_per_mm=110.0, n_units=int(units[i]),
                                             difficulty=("easy", "medium", "hard")[i % 3], varied=True).image
                                for i in range(args.sparse))))
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

    flags, by_cv, cvs, rings, not_scalp = _measure(head_photos())
    by_level: dict[str, list[bool]] = {}
    for level, flag in zip(levels, flags, strict=True):
        by_level.setdefault(level, []).append(flag)
    rows.append(_line("head photos, norwood-photos-dev", flags, by_cv, cvs, rings, not_scalp))
    rows += [_share_line(f"  of them Norwood {lv}", by_level[lv]) for lv in sorted(by_level)]
    print(f"overview_photo when the lightness CV (CIE L*) is above {_MAX_CLOSEUP_LIGHTNESS_CV} or the ring's foreign "
          f"share is above {_MAX_RING_FOREIGN_SHARE}")
    print(f"{'images':<44}{'n':>7}{'flagged':>9}{'share':>10}{'CV alone':>10}   lightness CV median / 99% / max"
          "   ring share median / 99% / max   no ring  not scalp")
    for r in rows:
        print(r)
    if unreadable:
        print(f"({unreadable} head photos OpenCV could not read were left out)")
    print("close-ups should not be flagged (share near 0%); head photos should be (share near 100%); "
          "'not scalp' counts refusals (quality issue not_scalp): none of these photos should be refused")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
