"""Hair counting, detection and width on synthetic scalps (hairtrack.synth) with exact ground truth.

Prints, per difficulty, count MAE, MAPE, bias and Pearson r; hair-level precision / recall / F1 (a
detected midpoint matched one to one to a true hair, Hungarian on distance, within half the true hair's
visible length of its middle and within two shaft widths or 0.1 mm of the shaft); the width error of matched hairs of 20 um and more (the scale is >= 100 px/mm);
and milliseconds per image beside the time to decode the same image as JPEG. A last table gives the density
(hairs/cm²) against every hair whose follicle lies in the field, found / area and corrected for the frame's cut
as ``analyze()`` reports it.

Usage::

    python benchmarks/synthetic.py --images 20
    python benchmarks/synthetic.py --images 0 --density-images 0 --crowding-images 8   # the crowding table alone
    python benchmarks/synthetic.py --images 2 --shape 3000 4000 --px-per-mm 110 --detectors learned --threads 2
    python benchmarks/synthetic.py --detectors learned --model /tmp/a.onnx /tmp/b.onnx --threshold 0.28
    python benchmarks/synthetic.py --images 10 --shaft-mm 0.6 1.6 --density-images 0 --crowding-images 0  # grown out
    python benchmarks/synthetic.py --images 10 --crossings 6 --density-images 0 --crowding-images 0  # crossing shafts

Both detectors run on the same images in the same run. The learned one was trained on ``varied=True``
scenes of 512 x 512 px (scripts/train_hair_detector.py); these are the plain presets at full size.
``--model`` (one ONNX file, or a pair as in ``benchmarks/trichoscopy.py``) and ``--threshold`` add a row for a
candidate network, "learned (--model)", timed as the detector alone (without the quality checks and units that
``analyze()`` adds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: trichoscopy.segment_distance


def _to_shaft(points: np.ndarray, hairs) -> np.ndarray:
    """Distance (px) from each (row, col) point to each true hair's visible shaft, points x hairs."""
    from trichoscopy import segment_distance

    mid = np.array([[h.row_px, h.col_px] for h in hairs])
    ang = np.radians([h.angle_deg for h in hairs])
    half = np.stack([-np.sin(ang), np.cos(ang)], axis=1) * np.array([h.length_px / 2 for h in hairs])[:, None]
    return segment_distance(points, mid - half, mid + half)


def _crossing_kinds(hairs) -> list[int]:
    """For each true hair: 0 if it crosses a hair of another unit, 1 if another unit's hair crosses it but not the
    other way round (the first is the one ``crossing_hairs`` drew last), 2 otherwise; -1 for hairs the frame cuts.
    Two shafts cross when their visible segments do (``hairtrack.synth.scalp.shafts_cross``)."""
    from hairtrack.synth.scalp import shafts_cross

    kinds = [-1 if h.at_border else 2 for h in hairs]
    for i, first in enumerate(hairs):
        for j in range(i + 1, len(hairs)):
            second = hairs[j]
            if first.unit == second.unit or first.unit < 0 or second.unit < 0 or not shafts_cross(first, second):
                continue
            for k, kind in ((j, 0), (i, 1)):  # the later one drawn is the one that crosses
                if kinds[k] >= 0:
                    kinds[k] = min(kinds[k], kind)
    return kinds


def main(argv: list[str] | None = None) -> int:
    import cv2
    from scipy.optimize import linear_sum_assignment

    from hairtrack.errors import InputError
    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.learned import DEFAULT_THRESHOLD, detect_hairs_learned, model_from_paths, set_threads
    from hairtrack.synth.scalp import render_scalp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=20, help="images per difficulty")
    ap.add_argument("--shape", type=int, nargs=2, default=(1024, 1280))
    ap.add_argument("--px-per-mm", type=float, default=220.0)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--shaft-mm", type=float, nargs=2, default=(0.25, 0.7), metavar=("LO", "HI"),
                    help="the shafts' lengths (mm): by default hair clipped for trichoscopy, as in the real dev "
                         "photos; longer for hair grown out (0.6 1.6, the renderer's default until 2026-11-28)")
    ap.add_argument("--detectors", nargs="+", choices=("classical", "learned"), default=["classical", "learned"])
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (the network pass uses them)")
    ap.add_argument("--model", type=Path, nargs="+", default=None,
                    help="learned detector: another ONNX file, or a pair (a candidate), as an extra row")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="the candidate's heatmap threshold")
    ap.add_argument("--density-images", type=int, default=10,
                    help="scenes per difficulty for the density table (the frame's edge); 0 leaves it out")
    ap.add_argument("--crowding-images", type=int, default=4,
                    help="scenes per density for the crowding table (medium preset, 8-60 units); 0 leaves it out")
    ap.add_argument("--crossings", type=int, default=0,
                    help="single hairs more in each scene of the main table, each crossing the shaft of another "
                         "unit's hair (render_scalp's crossing_hairs); a line per row gives the recall of those "
                         "hairs and of the hairs they cross, beside the other whole hairs'")
    args = ap.parse_args(argv)
    try:
        model = model_from_paths(args.model)
    except InputError as exc:
        ap.error(str(exc))
    if not 0.0 < args.threshold < 1.0:
        ap.error(f"--threshold must be between 0 and 1, got {args.threshold}")
    lo, hi = args.shaft_mm
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        ap.error(f"--shaft-mm must be a range LO HI with 0 < LO <= HI, got {lo:g} {hi:g}")
    if args.crossings < 0:
        ap.error(f"--crossings must be 0 or more, got {args.crossings}")
    # each method: the hairs it finds in a scene, and what its time covers
    methods = {m: (lambda sc, m=m: analyze(sc.image, sc.px_per_mm, detector=m).hairs) for m in args.detectors}
    if model is not None:
        methods["learned (--model)"] = lambda sc: detect_hairs_learned(sc.image, px_per_mm=sc.px_per_mm,
                                                                       threshold=args.threshold, model_path=model)
    set_threads(args.threads)  # OpenCV and the detector's sessions
    width = max(11, *(len(m) + 2 for m in methods))
    if args.images:  # 0: only the density and crowding tables
        print(f"synthetic scalps: {args.images} images per difficulty, {args.shape[1]}x{args.shape[0]}, "
              f"{args.px_per_mm:g} px/mm, every 3rd with a banner, every 4th with a red circle")
        print(f"{'difficulty':<11}{'method':<{width}}{'hairs':>6}{'MAE':>7}{'MAPE%':>7}{'bias':>7}{'r':>7}{'prec':>7}"
              f"{'recall':>7}{'F1':>7}{'rec<30um':>9}{'|w err| med':>12}{'w bias':>8}{'ms':>7}{'dec ms':>8}")
        rules: dict[str, dict[str, np.ndarray]] = {}
        preds: dict[str, dict[str, np.ndarray]] = {}
        for diff in ("easy", "medium", "hard"):
            st = {m: dict(pred=[], tp=0, nd=0, werr=[], t_run=[], thin_hit=0, crossing=np.zeros((3, 2), int))
                  for m in methods}
            truth, t_dec, n_thin = [], [], 0
            truth_exit, truth_whole = [], []  # the other counting rules (see the second table)
            for k in range(args.images):
                sc = render_scalp(seed=args.seed + k, shape=tuple(args.shape), px_per_mm=args.px_per_mm,
                                  difficulty=diff, banner=k % 3 == 0, red_circle=k % 4 == 1,
                                  shaft_mm=tuple(args.shaft_mm), crossing_hairs=args.crossings)
                # whole hairs that cross another unit's hair, those crossed, and the rest (--crossings)
                kinds = _crossing_kinds(sc.hairs) if args.crossings else None
                ok, buf = cv2.imencode(".jpg", sc.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
                t0 = time.perf_counter()
                cv2.imdecode(buf, cv2.IMREAD_COLOR)
                t_dec.append(time.perf_counter() - t0)
                truth.append(len(sc.hairs))
                hh, ww = sc.image.shape[:2]
                truth_exit.append(sum(0 <= h.exit_row_px < hh and 0 <= h.exit_col_px < ww for h in sc.hairs))
                truth_whole.append(sum(not h.at_border for h in sc.hairs))
                n_thin += sum(h.width_um < 30 for h in sc.hairs)
                for m, find in methods.items():
                    t1 = time.perf_counter()
                    found = find(sc)
                    t2 = time.perf_counter()
                    s_ = st[m]
                    s_["t_run"].append(t2 - t1)
                    s_["pred"].append(len(found))
                    s_["nd"] += len(found)
                    hit: set[int] = set()
                    if found and sc.hairs:
                        det = np.array([[h.row_px, h.col_px] for h in found])
                        tru = np.array([[h.row_px, h.col_px] for h in sc.hairs])
                        dist = np.hypot(det[:, None, 0] - tru[None, :, 0], det[:, None, 1] - tru[None, :, 1])
                        lim = np.array([h.length_px / 2 for h in sc.hairs])[None, :]
                        # and near the shaft itself: a point anywhere within half a hair's length of its middle
                        # (a long hair: up to 0.8 mm) would let a scatter of random points match a sixth
                        near = np.array([max(2 * h.width_px, 0.1 * sc.px_per_mm) for h in sc.hairs])[None, :]
                        cost = np.where((dist <= lim) & (_to_shaft(det, sc.hairs) <= near), dist, 1e6)
                        rr, cc = linear_sum_assignment(cost)
                        hit = {c for r, c in zip(rr, cc) if cost[r, c] < 1e6}
                        for r, c in zip(rr, cc):
                            if cost[r, c] < 1e6:
                                s_["tp"] += 1
                                s_["thin_hit"] += sc.hairs[c].width_um < 30
                                if sc.hairs[c].width_um >= 20:
                                    s_["werr"].append(found[r].width_um / sc.hairs[c].width_um - 1)
                    if kinds is not None:
                        for j, kind in enumerate(kinds):
                            if kind >= 0:
                                s_["crossing"][kind] += (j in hit, 1)
            t = np.array(truth, float)
            rules[diff] = {"all visible": t, "exit point in the frame": np.array(truth_exit, float),
                           "not cut by the frame": np.array(truth_whole, float)}
            preds[diff] = {m: np.array(st[m]["pred"], float) for m in methods}
            for m in methods:
                s_ = st[m]
                p = np.array(s_["pred"], float)
                e = p - t
                r = float(np.corrcoef(p, t)[0, 1]) if p.std() > 0 and t.std() > 0 else float("nan")
                prec, rec = s_["tp"] / max(s_["nd"], 1), s_["tp"] / max(t.sum(), 1)
                f1 = 2 * prec * rec / max(prec + rec, 1e-9)
                w = np.array(s_["werr"]) if s_["werr"] else np.array([np.nan])
                thin = s_["thin_hit"] / n_thin if n_thin else float("nan")
                print(f"{diff:<11}{m:<{width}}{int(t.sum()):>6}{np.abs(e).mean():>7.2f}"
                      f"{100 * np.mean(np.abs(e) / np.maximum(t, 1)):>7.1f}{e.mean():>7.2f}{r:>7.3f}{prec:>7.3f}"
                      f"{rec:>7.3f}{f1:>7.3f}{thin:>9.3f}{100 * np.median(np.abs(w)):>11.1f}%{100 * np.median(w):>7.1f}%"
                      f"{1000 * np.median(s_['t_run']):>7.1f}{1000 * np.median(t_dec):>8.1f}")
                if args.crossings:
                    cr = s_["crossing"]
                    print(f"{'':<11}{'':<{width}}recall of whole hairs: crossing another unit's "
                          f"{cr[0, 0] / max(cr[0, 1], 1):.3f} (n={cr[0, 1]}), crossed by one {cr[1, 0] / max(cr[1, 1], 1):.3f} "
                          f"(n={cr[1, 1]}), the rest {cr[2, 0] / max(cr[2, 1], 1):.3f} (n={cr[2, 1]})")
        print("count error per difficulty is MAPE (per image); width error: matched hairs >= 20 um; rec<30um: "
              f"recall of hairs thinner than 30 um; ms: analyze() per image (the --model row: the detector alone), "
              f"{args.threads} thread(s); dec ms: JPEG decode")
        # What "the count" is depends on a rule at the frame's edge. The table above counts every visible hair.
        # Density (hairs per area) is unbiased when a hair counts where its exit point lies; real labels mostly
        # skip hairs the frame cuts. Same detections, three truths; total = |sum of counts - sum of truths|.
        print("\ncount error by counting rule: per-image MAPE % / total count error %")
        print(f"{'difficulty':<11}{'method':<{width}}" + "".join(f"{r:>26}" for r in next(iter(rules.values()))))
        for diff, by_rule in rules.items():
            for m, p in preds[diff].items():
                cells = [f"{100 * np.mean(np.abs(p - t) / np.maximum(t, 1)):.1f} / {100 * abs(p.sum() - t.sum()) / max(t.sum(), 1):.1f}"
                         for t in by_rule.values()]
                print(f"{diff:<11}{m:<{width}}" + "".join(f"{c:>26}" for c in cells))
    if args.density_images:
        density_table(args, methods, width)
    if args.crowding_images:
        crowding_table(args)
    return 0


def density_table(args: argparse.Namespace, methods: dict, width: int) -> None:
    """Hairs per cm² against the truth a clinician counts: every hair whose follicle lies in the field.

    The presets place a few units just outside the frame, not a scalp's worth, so the truth at a frame's edge is
    taken from the centre of a scene drawn twice as large (without banner or circle), where hairs reach in
    from every side. Each detector gives a plain density (hairs found / usable area) and the one ``analyze()``
    reports, corrected for the frame's cut (``imaging.density``); a ``--model`` candidate's hairs go through
    the same correction. "true whole hairs" applies
    the correction to the exact hairs lying wholly inside, a check of the estimator alone. The last column is
    ``fu_per_cm2`` against the follicular units whose opening lies in the field; for "true whole hairs", the
    exact hairs through analyze()'s grouping and hairs per unit, a check of those.
    """
    from types import SimpleNamespace

    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.density import edge_corrected_density
    from hairtrack.imaging.hairs import Hair
    from hairtrack.imaging.quality import scan_field
    from hairtrack.imaging.units import group_units, hairs_per_whole_unit
    from hairtrack.synth.scalp import render_scalp

    width = max(width, len("true whole hairs") + 2)
    h, w = args.shape
    r0, c0 = h // 2, w // 2
    px2_per_cm2 = (args.px_per_mm * 10.0) ** 2
    print(f"\ndensity (hairs/cm²) against the follicles in the field: {args.density_images} centres of "
          f"{2 * w}x{2 * h} scenes per difficulty; total error % / per-image MAPE %")
    print(f"{'difficulty':<11}{'method':<{width}}{'found / area':>18}{'edge-corrected':>18}{'units/cm²':>18}")
    for diff in ("easy", "medium", "hard"):
        rows: dict[str, list[tuple[float, float, float]]] = {}
        units: dict[str, list[tuple[float, float]]] = {}  # fu_per_cm2 against the units with an exit in the field
        for k in range(args.density_images):
            big = render_scalp(seed=args.seed + 500 + k, shape=(2 * h, 2 * w), px_per_mm=args.px_per_mm,
                               difficulty=diff, shaft_mm=tuple(args.shaft_mm))
            crop = np.ascontiguousarray(big.image[r0:r0 + h, c0:c0 + w])
            usable = scan_field(crop).usable
            area_cm2 = usable.sum() / px2_per_cm2
            follicles = sum(1 for hr in big.hairs if 0 <= hr.exit_row_px - r0 < h and 0 <= hr.exit_col_px - c0 < w
                            and usable[int(hr.exit_row_px - r0), int(hr.exit_col_px - c0)])
            truth = follicles / area_cm2
            openings = {(hr.exit_row_px, hr.exit_col_px) for hr in big.hairs if hr.unit >= 0
                        and 0 <= hr.exit_row_px - r0 < h and 0 <= hr.exit_col_px - c0 < w
                        and usable[int(hr.exit_row_px - r0), int(hr.exit_col_px - c0)]}
            for m in methods:
                if m in args.detectors:  # what analyze() reports
                    a = analyze(crop, args.px_per_mm, detector=m)
                    rows.setdefault(m, []).append((a.hair_count / a.area_cm2, a.hairs_per_cm2, truth))
                    units.setdefault(m, []).append((a.fu_per_cm2, len(openings) / area_cm2))
                else:  # a candidate network (--model): its hairs through the same correction
                    found = methods[m](SimpleNamespace(image=crop, px_per_mm=args.px_per_mm))
                    d = edge_corrected_density([np.array([hr.end_a, hr.end_b]) for hr in found], usable)
                    rows.setdefault(m, []).append((len(found) / area_cm2, d.per_px2 * px2_per_cm2, truth))
            exact, exact_hairs = [], []
            for hr in big.hairs:
                a = np.radians(hr.angle_deg)
                half = 0.5 * hr.length_px * np.array([-np.sin(a), np.cos(a)])
                mid = np.array([hr.row_px - r0, hr.col_px - c0])
                exact.append(np.array([mid - half, mid + half]))
                if hr.unit >= 0:  # loose fragments leave no unit the photo shows (nor do the openings' truth)
                    exact_hairs.append(Hair(mid[0], mid[1], hr.width_px, hr.length_px, hr.angle_deg,
                                            tuple(mid - half), tuple(mid + half), 0.6))
            d = edge_corrected_density(exact, usable)
            rows.setdefault("true whole hairs", []).append((d.whole / area_cm2, d.per_px2 * px2_per_cm2, truth))
            # the units of those hairs, through analyze()'s grouping and hairs per unit: a check of both
            whole_hpf = hairs_per_whole_unit(exact_hairs, group_units(exact_hairs, px_per_mm=args.px_per_mm), usable)
            units.setdefault("true whole hairs", []).append(
                (d.per_px2 * px2_per_cm2 / whole_hpf if whole_hpf else np.nan, len(openings) / area_cm2))
        for m, v in rows.items():
            a = np.array(v)
            cells = [f"{100 * (a[:, j].sum() / a[:, 2].sum() - 1):+.1f} / {100 * np.mean(np.abs(a[:, j] / a[:, 2] - 1)):.1f}"
                     for j in (0, 1)]
            u = np.array(units.get(m, [(np.nan, np.nan)]), float)
            cells.append(f"{100 * (u[:, 0].sum() / u[:, 1].sum() - 1):+.1f} / {100 * np.mean(np.abs(u[:, 0] / u[:, 1] - 1)):.1f}"
                         if m in units else "n/a")
            print(f"{diff:<11}{m:<{width}}" + "".join(f"{c:>18}" for c in cells))


def crowding_table(args: argparse.Namespace) -> None:
    """Density against the follicles in the field as the scalp gets denser (medium preset, 8 to 60 units in the
    frame, with no banner or circle): where crowded shafts start to be missed."""
    from hairtrack.imaging.analyze import analyze
    from hairtrack.synth.scalp import render_scalp

    h, w = args.shape
    area_cm2 = h * w / args.px_per_mm ** 2 / 100.0
    print(f"\ncrowding: hairs/cm² against the follicles in the field, medium preset, {args.crowding_images} scenes "
          f"per row; total error %")
    print(f"{'units':>6}{'true':>8}" + "".join(f"{d:>20}" for d in args.detectors))
    for n_units in (8, 15, 30, 45, 60):
        truth, found = [], {d: [] for d in args.detectors}
        for seed in range(args.crowding_images):
            sc = render_scalp(seed=args.seed + 900 + seed, difficulty="medium", n_units=n_units, shape=(h, w),
                              px_per_mm=args.px_per_mm, shaft_mm=tuple(args.shaft_mm))
            truth.append(sum(1 for hr in sc.hairs if 0 <= hr.exit_row_px < h and 0 <= hr.exit_col_px < w) / area_cm2)
            for d in args.detectors:
                found[d].append(analyze(sc.image, args.px_per_mm, detector=d).hairs_per_cm2)
        t = float(np.sum(truth))
        print(f"{n_units:>6}{t / len(truth):>8.0f}" + "".join(
            f"{np.mean(v):>12.0f} ({100 * (np.sum(v) / t - 1):+4.0f}%)" for v in found.values()))


if __name__ == "__main__":
    raise SystemExit(main())
