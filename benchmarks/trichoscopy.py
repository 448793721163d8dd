"""Hair counting and detection on the real trichoscopy dev images, beside the median-count guess.

Prints count MAE, MAPE, bias and Pearson r per image; hair-level precision, recall and F1 (each detected
midpoint matched one to one to a ground-truth box, Hungarian assignment on the distance to the box's
centre line, a match only when the midpoint lies inside the box grown by ``--grow-px``); recall per class;
where the misses are (stacked on a found hair, or at the frame); the matched hairs' widths by labelled class
(the labels carry no widths: how well width tells the ``undersize`` hairs from the rest is the real photos'
only check of them); how much the frame's edge correction of the
density (``imaging.density``, as ``analyze()`` applies it) changes hairs / area; and milliseconds per image next to the
time to merely decode that JPEG in the same run.

Folds are patient-disjoint (NAME = DATE_PATIENT_N): the patients were shuffled with a fixed seed and cut in
half, ``tune`` and ``report``, and each patient's fold is frozen in ``trichoscopy_folds.txt`` (so a copy missing
files moves no one). Thresholds may only be chosen on ``tune``; the figures to quote come from ``report``. The
median-count guess is the median count of the ``tune`` fold. For the rows that are what ``analyze()`` runs,
and the median guess, 95% intervals come from resampling whole patients, and the figures are printed again on
the images whose patient number no patient of the other fold carries (in case the code's letter does not tell
patients apart).

Speed: every row times its detector alone, given the photo's field; ``analyze()`` end to end, and the whole
command on the file's bytes (decode, the calibration card's search, ``analyze()``: what a user waits for), are
timed apart for the default rows, beside the JPEG decode of the same bytes.

The images carry no licence: nothing here copies them or fits weights to them. Without the data set the
script says so and exits 0.

Usage::

    python benchmarks/trichoscopy.py --fold report --limit 200
    python benchmarks/trichoscopy.py --fold tune --limit 200 --detectors learned --thresholds 0.2 0.3 0.4

The learned detector (``hairtrack.imaging.learned``) was trained on synthetic scalps only; its row (the
default 8-bit pair) is printed beside the classical pipeline's, the median guess, the float networks the
8-bit pair was made from, and the main network alone with its test-time flip (the default before the
fragment network was paired with it); ``--no-baseline`` leaves the last two out. All from the same images
in the same run. ``--model`` takes one ONNX file, or two (a pair: the second runs on the
mirror image).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "trichoscopy-dev"
CLASSES = ("premium", "single", "undersize", "abnormal")
# The photos' scale: the 1.0 mm scale bar that 144 of them carry (their dermoscope's own) is 358 px long. The
# learned rows read them at it, as a person who calibrated that dermoscope would; the classical pipeline is
# given no scale (it assumes a 70x frame at this scale for its size limits, which were tuned that way).
from hairtrack.imaging.hairs import DERMOSCOPE_70X_PX_PER_MM as REAL_PX_PER_MM  # noqa: E402 (after the path)


def read_boxes(xml_path: Path) -> list[tuple[str, float, float, float, float]]:
    """(class, x0, y0, x1, y1) per hair; the drag direction is kept (it is the shaft's direction)."""
    root = ET.parse(xml_path).getroot()
    out = []
    for obj in root.findall("object"):
        tag = obj.find("class")
        if tag is None:
            tag = obj.find("name")
        b = obj.find("bndbox")
        x0, y0, x1, y1 = (float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
        out.append((tag.text.strip(), x0, y0, x1, y1))
    return out


FOLDS_FILE = Path(__file__).with_name("trichoscopy_folds.txt")


def seeded_halves(patients: list[str], seed: int = 20240601) -> dict[str, str]:
    """How the folds were first drawn: the sorted patients shuffled with a fixed seed and cut in half."""
    patients = sorted(set(patients))
    order = np.random.default_rng(seed).permutation(len(patients))
    tune = {patients[i] for i in order[: len(patients) // 2]}
    return {p: "tune" if p in tune else "report" for p in patients}


def frozen_folds(path: Path = FOLDS_FILE) -> dict[str, str]:
    """The fold of each known patient, as ``seeded_halves`` drew them over the whole data set."""
    folds = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("tune", "report") or fields[0] in folds:
            raise ValueError(f"{path.name}, line {number}: expected 'PATIENT tune|report' once per patient, "
                             f"got {line.strip()!r}")
        folds[fields[0]] = fields[1]
    return folds


def patient_folds(names: list[str], known: dict[str, str] | None = None) -> dict[str, str]:
    """Map each image name to ``tune`` or ``report`` by its patient (the middle field): the frozen list's
    fold, so that which files are present moves no one; a patient not in it, by a hash of its code."""
    known = frozen_folds() if known is None else known

    def fold(patient: str) -> str:
        if patient in known:
            return known[patient]
        return ("tune", "report")[hashlib.sha256(patient.encode()).digest()[0] % 2]

    return {n: fold(n.split("_")[1]) for n in names}


def segment_distance(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance from each point to each segment (points x segments); any coordinate order, the same for all."""
    seg = (ends - starts)[None, :, :]
    rel = points[:, None, :] - starts[None, :, :]
    t = np.clip((rel * seg).sum(-1) / np.maximum((seg ** 2).sum(-1), 1e-9), 0, 1)
    return np.hypot(*(rel - t[..., None] * seg).transpose(2, 0, 1))


def match_pairs(det_rc: np.ndarray, boxes: list[tuple[str, float, float, float, float]],
                grow_px: float) -> list[tuple[int, int]]:
    """(detection, box) index pairs, one box per matched detection (Hungarian on distance to the box's shaft)."""
    from scipy.optimize import linear_sum_assignment

    if len(det_rc) == 0 or not boxes:
        return []
    b = np.array([bx[1:] for bx in boxes])
    xlo, xhi = np.minimum(b[:, 0], b[:, 2]) - grow_px, np.maximum(b[:, 0], b[:, 2]) + grow_px
    ylo, yhi = np.minimum(b[:, 1], b[:, 3]) - grow_px, np.maximum(b[:, 1], b[:, 3]) + grow_px
    x, y = det_rc[:, 1][:, None], det_rc[:, 0][:, None]
    inside = (x >= xlo) & (x <= xhi) & (y >= ylo) & (y <= yhi)
    # distance to the segment from one drag corner to the other (the shaft), then to the box centre
    dist = segment_distance(det_rc[:, ::-1], b[:, :2], b[:, 2:])
    centre = np.hypot(x - (b[:, 0] + b[:, 2]) / 2, y - (b[:, 1] + b[:, 3]) / 2)
    cost = np.where(inside, dist + 0.05 * centre, 1e6)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < 1e6]


def miss_kinds(boxes: list[tuple[str, float, float, float, float]], hit: list[int], shape: tuple[int, int],
               edge_px: float = 40.0) -> dict[str, int]:
    """Where the missed boxes are: ``stacked``, half or more of the box inside a found hair's box (shafts of
    one unit lying on top of each other, labelled apart, seen as one); ``at_edge``, centre within ``edge_px``
    of the frame; ``missed``, all of them."""
    def span(bx):
        return min(bx[1], bx[3]), max(bx[1], bx[3]), min(bx[2], bx[4]), max(bx[2], bx[4])

    found = [span(boxes[j]) for j in set(hit)]
    out = {"missed": 0, "stacked": 0, "at_edge": 0}
    for j, bx in enumerate(boxes):
        if j in hit:
            continue
        x0, x1, y0, y1 = span(bx)
        area = max((x1 - x0) * (y1 - y0), 1e-9)
        inside = max((max(0.0, min(x1, f[1]) - max(x0, f[0])) * max(0.0, min(y1, f[3]) - max(y0, f[2])) / area
                      for f in found), default=0.0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        out["missed"] += 1
        out["stacked"] += inside >= 0.5
        out["at_edge"] += min(cx, cy, shape[1] - cx, shape[0] - cy) < edge_px
    return out


def width_by_class(widths: dict[str, list[float]]) -> str:
    """The matched hairs' measured widths per labelled class (median and quartiles, µm), and how well width
    tells the ``undersize`` hairs from the ``premium`` and ``single`` ones: the probability that one of the
    latter reads wider than an undersize one (ROC AUC, ties half; 0.5 is chance). The labels carry no widths,
    so this is the only check of widths on real photos: a width that moves the thin hairs' reading moves it."""
    from scipy.stats import mannwhitneyu

    parts = [f"{c} {np.median(w):.0f} [{np.percentile(w, 25):.0f}-{np.percentile(w, 75):.0f}] (n={len(w)})"
             for c, w in widths.items() if w]
    thin, thick = widths.get("undersize", []), widths.get("premium", []) + widths.get("single", [])
    if thin and thick:
        auc = mannwhitneyu(thick, thin).statistic / (len(thick) * len(thin))
        parts.append(f"undersize told from premium + single by width: AUC {auc:.3f}")
    return "; ".join(parts)


def count_stats(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    err = pred - truth
    r = float(np.corrcoef(pred, truth)[0, 1]) if np.std(pred) > 0 and np.std(truth) > 0 else float("nan")
    # an image with no labelled hair counts as one in MAPE's denominator (as benchmarks/synthetic.py)
    return {"MAE": float(np.mean(np.abs(err))), "MAPE_pct": float(np.mean(np.abs(err) / np.maximum(truth, 1)) * 100),
            "bias": float(np.mean(err)), "pearson_r": r}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="data set folder (images/, annotations/)")
    ap.add_argument("--fold", choices=("tune", "report", "all"), default="report")
    ap.add_argument("--limit", type=int, default=0, help="at most this many images of the fold (seeded sample)")
    ap.add_argument("--grow-px", type=float, default=8.0, help="grow each box by this much when matching")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--high", type=float, default=None, help="override the hysteresis high threshold")
    ap.add_argument("--low", type=float, default=None, help="override the hysteresis low threshold")
    ap.add_argument("--min-length-um", type=float, default=None, help="override the shortest hair kept")
    ap.add_argument("--spur-widths", type=float, default=None, help="override the spur pruning length")
    ap.add_argument("--detectors", nargs="+", choices=("classical", "learned"), default=["classical", "learned"])
    ap.add_argument("--model", type=Path, nargs="+", default=None,
                    help="learned detector: another ONNX file, or a pair (a candidate)")
    ap.add_argument("--thresholds", type=float, nargs="+", default=None,
                    help="learned detector: heatmap thresholds to compare (choose on --fold tune only)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="leave out the baseline rows (the float networks and the main network alone)")
    ap.add_argument("--px-per-mm", type=float, default=REAL_PX_PER_MM,
                    help="learned detector: read the photos at this scale (default: their scale bar's)")
    args = ap.parse_args(argv)
    from hairtrack.errors import InputError
    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.density import edge_corrected_density
    from hairtrack.imaging.learned import (
        DEFAULT_THRESHOLD, FLOAT_MODELS, MODEL_PATH, detect_hairs_learned, model_from_paths, set_threads,
    )
    from hairtrack.imaging.measure import measure_upload
    from hairtrack.imaging.quality import scan_field

    try:
        model = model_from_paths(args.model)
    except InputError as exc:
        ap.error(str(exc))
    if not (args.root / "images").is_dir():
        print(f"skipped: data set not found at {args.root}")
        return 0
    import cv2

    from hairtrack.imaging.hairs import detect_hairs

    names = sorted(p.stem for p in (args.root / "images").glob("*.jpg"))
    folds = patient_folds(names)
    tune_counts = [len(read_boxes(args.root / "annotations" / f"{n}.xml")) for n in names if folds[n] == "tune"]
    median_guess = float(np.median(tune_counts))
    chosen = [n for n in names if args.fold == "all" or folds[n] == args.fold]
    if args.limit and args.limit < len(chosen):
        rng = np.random.default_rng(args.seed)
        chosen = sorted(rng.choice(chosen, size=args.limit, replace=False).tolist())
    set_threads(1)  # OpenCV and the detector's sessions

    kw = {k: getattr(args, k) for k in ("high", "low", "min_length_um", "spur_widths") if getattr(args, k) is not None}
    # Every row times the same thing: its detector alone, given the photo's field (found once per photo,
    # outside the clock). What analyze() adds (the field, units, quality, density) is timed apart, for the
    # rows that are what analyze() runs, with a check that it finds the same hairs.
    methods: dict[str, object] = {}
    product: dict[str, str] = {}  # row -> the analyze() detector it stands for
    if "classical" in args.detectors:
        methods["classical (hairtrack)"] = lambda rgb, field: detect_hairs(rgb, field=field, **kw)
        if not kw:
            product["classical (hairtrack)"] = "classical"
    if "learned" in args.detectors and not args.no_baseline and args.model is None:
        # the baselines: the float networks the default 8-bit pair was made from, and the main network alone
        # (with its test-time flip), the default before the pair
        methods["learned, float networks"] = lambda rgb, field: detect_hairs_learned(
            rgb, model_path=FLOAT_MODELS, field=field, px_per_mm=args.px_per_mm)
        methods["learned, main network only"] = lambda rgb, field: detect_hairs_learned(
            rgb, model_path=MODEL_PATH, field=field, px_per_mm=args.px_per_mm)
    if "learned" in args.detectors:
        ths = args.thresholds or [DEFAULT_THRESHOLD]
        for th in ths:
            tag = "synthetic-only" if model is None else "--model"
            label = f"learned ({tag})" if len(ths) == 1 else f"learned ({tag}, th={th:g})"
            methods[label] = (lambda rgb, field, th=th: detect_hairs_learned(rgb, threshold=th, model_path=model,
                                                                             field=field, px_per_mm=args.px_per_mm))
            if th == DEFAULT_THRESHOLD and len(ths) == 1 and model is None:
                product[label] = "learned"
    stats = {m: dict(pred=[], tp=0, n_det=0, hit=dict.fromkeys(CLASSES, 0), t_run=[], tp_img=[], det_img=[],
                     widths={c: [] for c in CLASSES},
                     misses=dict(missed=0, stacked=0, at_edge=0), whole=0, lift=[], t_analyze=[], differ=0,
                     t_upload=[])
             for m in methods}
    truth, n_gt, t_dec = [], 0, []
    per_class_n = dict.fromkeys(CLASSES, 0)
    for n in chosen:
        boxes = read_boxes(args.root / "annotations" / f"{n}.xml")
        data = (args.root / "images" / f"{n}.jpg").read_bytes()
        t0 = time.perf_counter()
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        t_dec.append(time.perf_counter() - t0)
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        n_gt += len(boxes)
        truth.append(len(boxes))
        for bx in boxes:
            per_class_n[bx[0]] = per_class_n.get(bx[0], 0) + 1
        field = scan_field(rgb)
        usable = field.usable
        for m, fn in methods.items():
            st = stats[m]
            t2 = time.perf_counter()
            hairs = fn(rgb, field)
            st["t_run"].append(time.perf_counter() - t2)
            if m in product:
                t2 = time.perf_counter()
                whole = analyze(rgb, args.px_per_mm, detector=product[m]).hairs
                st["t_analyze"].append(time.perf_counter() - t2)
                # what 'hairtrack analyze --px-per-mm' runs on the file's bytes: decode, the calibration card's
                # search (it is left out of the field when found), analyze
                t2 = time.perf_counter()
                measure_upload(data, f"{n}.jpg", px_per_mm=args.px_per_mm, overlay=False, detector=product[m])
                st["t_upload"].append(time.perf_counter() - t2)
                st["differ"] += [(h.row_px, h.col_px) for h in whole] != [(h.row_px, h.col_px) for h in hairs]
            det = np.array([[hr.row_px, hr.col_px] for hr in hairs]).reshape(-1, 2)
            pairs = match_pairs(det, boxes, args.grow_px)
            hit = [j for _, j in pairs]
            for i, j in pairs:
                if hairs[i].width_um is not None:
                    st["widths"].setdefault(boxes[j][0], []).append(hairs[i].width_um)
            st["tp"] += len(hit)
            st["n_det"] += len(det)
            st["tp_img"].append(len(hit))
            st["det_img"].append(len(det))
            for j in hit:
                st["hit"][boxes[j][0]] = st["hit"].get(boxes[j][0], 0) + 1
            for k, v in miss_kinds(boxes, hit, rgb.shape[:2]).items():
                st["misses"][k] += v
            st["pred"].append(len(hairs))
            if hairs:  # the correction in pixels: corrected density over hairs found / usable area
                d = edge_corrected_density([np.array([hr.end_a, hr.end_b]) for hr in hairs], usable)
                st["whole"] += d.whole
                st["lift"].append(d.per_px2 * usable.sum() / len(hairs))
    truth_a = np.array(truth, float)
    print(f"trichoscopy-dev: fold={args.fold} images={len(chosen)} (patients "
          f"{len({c.split('_')[1] for c in chosen})}), hairs={n_gt}, classical thresholds "
          f"{kw or 'defaults (chosen on the tune fold)'}")
    print(f"{'method':<26}{'MAE':>7}{'MAPE%':>8}{'bias':>7}{'r':>7}{'prec':>7}{'recall':>8}{'F1':>7}{'det ms':>8}")
    for m, st in stats.items():
        cs = count_stats(np.array(st["pred"], float), truth_a)
        prec = st["tp"] / max(st["n_det"], 1)
        rec = st["tp"] / max(n_gt, 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-9)
        print(f"{m:<26}{cs['MAE']:>7.2f}{cs['MAPE_pct']:>8.1f}{cs['bias']:>7.2f}"
              f"{cs['pearson_r']:>7.3f}{prec:>7.3f}{rec:>8.3f}{f1:>7.3f}{1000 * np.median(st['t_run']):>8.1f}")
    bs = count_stats(np.full_like(truth_a, median_guess), truth_a)
    print(f"{'median guess (' + format(median_guess, 'g') + ')':<26}{bs['MAE']:>7.2f}{bs['MAPE_pct']:>8.1f}"
          f"{bs['bias']:>7.2f}{'n/a':>7}{'n/a':>7}{'n/a':>8}{'n/a':>7}{'n/a':>8}")
    for m, st in stats.items():
        print(f"recall per class, {m}: " + ", ".join(
            f"{c} {st['hit'][c] / per_class_n[c]:.3f} (n={per_class_n[c]})" for c in per_class_n if per_class_n[c]))
    for m, st in stats.items():
        if any(st["widths"].values()):
            print(f"widths (um) of the matched hairs by labelled class, {m}: {width_by_class(st['widths'])}")
    for m, st in stats.items():
        ms = st["misses"]
        print(f"misses, {m}: {ms['missed']}; {ms['stacked']} lie half or more inside a found hair's box "
              f"(stacked shafts of one unit), {ms['at_edge']} within 40 px of the frame")
    for m, st in stats.items():
        if st["lift"]:
            print(f"density, {m}: {100 * st['whole'] / max(st['n_det'], 1):.0f}% of the hairs found lie whole in "
                  f"the field; the frame's correction raises hairs / area by "
                  f"{100 * (np.median(st['lift']) - 1):+.1f}% (median per image)")
    print_intervals(chosen, truth_a, n_gt, median_guess, {m: st for m, st in stats.items() if m in product},
                    frozen_folds(), args.fold)
    for m, st in stats.items():
        print(f"speed (1 thread), {m}, the detector alone: {1000 * np.median(st['t_run']):.1f} ms/image median "
              f"({1000 * np.mean(st['t_run']):.1f} mean), JPEG decode {1000 * np.median(t_dec):.1f} ms median; "
              f"ratio {np.median(st['t_run']) / np.median(t_dec):.1f}x")
    for m, st in stats.items():
        if st["t_analyze"]:
            print(f"speed (1 thread), {m}, analyze() end to end (field, detector, units, quality, density): "
                  f"{1000 * np.median(st['t_analyze']):.1f} ms/image median ({1000 * np.mean(st['t_analyze']):.1f} "
                  f"mean), ratio to decode {np.median(st['t_analyze']) / np.median(t_dec):.1f}x; its hairs differ "
                  f"from the row's on {st['differ']} of {len(st['t_analyze'])} images")
            print(f"speed (1 thread), {m}, the whole command (decode, calibration card search, analyze()): "
                  f"{1000 * np.median(st['t_upload']):.1f} ms/image median ({1000 * np.mean(st['t_upload']):.1f} mean)")
    return 0


def print_intervals(names: list[str], truth: np.ndarray, n_gt: int, median_guess: float,
                    stats: dict[str, dict], known: dict[str, str], fold: str, draws: int = 2000) -> None:
    """95% intervals of MAE and F1 from resampling whole patients (their images go together), and the figures
    on the images whose patient number (the code's digits) no patient of the other fold carries: the code's
    letter may not tell patients apart, and this subset is disjoint either way."""
    patients = [n.split("_")[1] for n in names]
    groups = {p: np.array([i for i, q in enumerate(patients) if q == p]) for p in dict.fromkeys(patients)}
    rng = np.random.default_rng(7)
    keys = list(groups)
    samples = [np.concatenate([groups[keys[k]] for k in rng.integers(len(keys), size=len(keys))]) for _ in range(draws)]
    rows = {**{m: (np.array(st["pred"], float), np.array(st["tp_img"]), np.array(st["det_img"])) for m, st in stats.items()},
            f"median guess ({median_guess:g})": (np.full_like(truth, median_guess), None, None)}
    n_box = truth  # boxes per image
    print(f"95% intervals, {draws} resamplings of the {len(keys)} patients:")
    for m, (pred, tp, det) in rows.items():
        maes = [np.mean(np.abs(pred[s] - truth[s])) for s in samples]
        line = f"  {m}: MAE {np.mean(np.abs(pred - truth)):.2f} [{np.percentile(maes, 2.5):.2f}, {np.percentile(maes, 97.5):.2f}]"
        if tp is not None:
            f1s = [2 * tp[s].sum() / max(det[s].sum() + n_box[s].sum(), 1) for s in samples]
            line += f", F1 {2 * tp.sum() / max(det.sum() + n_gt, 1):.3f} [{np.percentile(f1s, 2.5):.3f}, {np.percentile(f1s, 97.5):.3f}]"
        print(line)
    if fold == "all":
        return
    other = {"".join(ch for ch in p if ch.isdigit()) for p, f in known.items() if f != fold}
    strict = np.array([i for i, p in enumerate(patients) if "".join(ch for ch in p if ch.isdigit()) not in other], int)
    if not len(strict):
        return
    parts = []
    for m, (pred, tp, det) in rows.items():
        part = f"{m} MAE {np.mean(np.abs(pred[strict] - truth[strict])):.2f}"
        if tp is not None:
            part += f" F1 {2 * tp[strict].sum() / max(det[strict].sum() + truth[strict].sum(), 1):.3f}"
        parts.append(part)
    print(f"only patients whose number is in no {'report' if fold == 'tune' else 'tune'} patient's code "
          f"({len(strict)} images, {len({patients[i] for i in strict})} patients): " + "; ".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
