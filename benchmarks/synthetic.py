"""Hair counting, detection and width on synthetic scalps (hairtrack.synth) with exact ground truth.

Prints, per difficulty, count MAE, MAPE, bias and Pearson r; hair-level precision / recall / F1 (a
detected midpoint matched one to one to a true hair, Hungarian on distance, within half the true hair's
visible length); the width error of matched hairs of 20 um and more (the scale is >= 100 px/mm);
and milliseconds per image beside the time to decode the same image as JPEG.

Usage::

    python benchmarks/synthetic.py --images 20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    import cv2
    from scipy.optimize import linear_sum_assignment

    from hairtrack.imaging.analyze import analyze
    from hairtrack.synth.scalp import render_scalp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=20, help="images per difficulty")
    ap.add_argument("--shape", type=int, nargs=2, default=(1024, 1280))
    ap.add_argument("--px-per-mm", type=float, default=220.0)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    print(f"synthetic scalps: {args.images} images per difficulty, {args.shape[1]}x{args.shape[0]}, "
          f"{args.px_per_mm:g} px/mm, every 3rd with a banner, every 4th with a red circle")
    print(f"{'difficulty':<10}{'hairs':>6}{'MAE':>7}{'MAPE%':>7}{'bias':>7}{'r':>7}{'prec':>7}{'recall':>7}"
          f"{'F1':>7}{'|w err| med':>12}{'w bias':>8}{'ms':>7}{'dec ms':>8}")
    for diff in ("easy", "medium", "hard"):
        pred, truth, tp, nd, werr, t_run, t_dec = [], [], 0, 0, [], [], []
        for k in range(args.images):
            sc = render_scalp(seed=args.seed + k, shape=tuple(args.shape), px_per_mm=args.px_per_mm,
                              difficulty=diff, banner=k % 3 == 0, red_circle=k % 4 == 1)
            ok, buf = cv2.imencode(".jpg", sc.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
            t0 = time.perf_counter()
            cv2.imdecode(buf, cv2.IMREAD_COLOR)
            t1 = time.perf_counter()
            a = analyze(sc.image, sc.px_per_mm)
            t2 = time.perf_counter()
            t_dec.append(t1 - t0)
            t_run.append(t2 - t1)
            pred.append(a.hair_count)
            truth.append(len(sc.hairs))
            nd += a.hair_count
            if a.hairs and sc.hairs:
                det = np.array([[h.row_px, h.col_px] for h in a.hairs])
                tru = np.array([[h.row_px, h.col_px] for h in sc.hairs])
                dist = np.hypot(det[:, None, 0] - tru[None, :, 0], det[:, None, 1] - tru[None, :, 1])
                lim = np.array([h.length_px / 2 for h in sc.hairs])[None, :]
                cost = np.where(dist <= lim, dist, 1e6)
                rr, cc = linear_sum_assignment(cost)
                for r, c in zip(rr, cc):
                    if cost[r, c] < 1e6:
                        tp += 1
                        if sc.hairs[c].width_um >= 20:
                            werr.append(a.hairs[r].width_um / sc.hairs[c].width_um - 1)
        p, t = np.array(pred, float), np.array(truth, float)
        e = p - t
        r = float(np.corrcoef(p, t)[0, 1]) if p.std() > 0 and t.std() > 0 else float("nan")
        prec, rec = tp / max(nd, 1), tp / max(t.sum(), 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-9)
        w = np.array(werr) if werr else np.array([np.nan])
        print(f"{diff:<10}{int(t.sum()):>6}{np.abs(e).mean():>7.2f}{100 * np.mean(np.abs(e) / np.maximum(t, 1)):>7.1f}"
              f"{e.mean():>7.2f}{r:>7.3f}{prec:>7.3f}{rec:>7.3f}{f1:>7.3f}{100 * np.median(np.abs(w)):>11.1f}%"
              f"{100 * np.median(w):>7.1f}%{1000 * np.median(t_run):>7.1f}{1000 * np.median(t_dec):>8.1f}")
    print("count error overall per difficulty is MAPE (per image); width error: matched hairs >= 20 um")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
