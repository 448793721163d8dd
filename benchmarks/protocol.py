"""Benchmark of the capture protocol: registration + hair matching, real-photo registration, calibration card.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/protocol.py [--quick]

1. Synthetic pairs: one synthetic scalp (``hairtrack.synth.render_scalp`` with ``hide_hairs``) photographed
   twice (shift, rotation, zoom, light, focus), with known hairs removed and added between the two. The
   "detector" is the known hair midpoints plus jitter and a few misses, so the figures isolate
   registration + matching from hair detection; a second column runs hairtrack's own learned detector.
   Printed: the error of the measured change (percentage points) with matching (counts in the common
   field found by registration) and without (whole-image counts), side by side.
2. Real photos (skipped when /work/shared/datasets/trichoscopy-dev is absent): one photo against a
   rotated, shifted, zoomed, cropped, relit and blurred copy of itself (registration success and
   overlap error) and photos of two different patients (``different_field`` rate).
3. Calibration card: rendered, warped in perspective, blurred, noised and colour-cast; px/mm and
   white-balance errors, and the named problems on cut-off, bent, stretched and tiny cards.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import time

import cv2
import numpy as np

from hairtrack.analysis.matched import MatchedPrior
from hairtrack.imaging.card import _local_scale, detect_card, render_card
from hairtrack.imaging.hairs import DERMOSCOPE_70X_PX_PER_MM
from hairtrack.imaging.learned import detect_hairs_learned
from hairtrack.synth import render_scalp
from hairtrack.imaging.register import (
    _overlap_pct, common_field_mask, compare, match_hairs, match_tolerance_px, register,
)

DATASET = "/work/shared/datasets/trichoscopy-dev/images"
FRAME = (512, 640)   # rows, cols of a synthetic photo


# ------------------------------------------------------------------------------------ synthetic scalp

WORLD_PPM = 60.0      # the synthetic scalp's scale: a 512 x 640 photo shows about 0.9 cm², as a phone macro


def world_pair(seed: int, size: int = 1800) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic scalp (hairtrack.synth.render_scalp, 0.8 units/mm²) at two visits: 10% of its hairs shed
    by the second, 6% new at the second (left undrawn at the first). Float RGB 0-1 worlds and midpoints."""
    kw = dict(seed=seed, shape=(size, size), px_per_mm=WORLD_PPM, n_units=int(0.8 * (size / WORLD_PPM) ** 2),
              difficulty="medium", jpeg=False)
    full = render_scalp(**kw)
    rng = np.random.default_rng(seed)
    keys = [(h.unit, h.index_in_unit) for h in full.hairs]
    u = rng.uniform(size=len(keys))
    new = [k for k, x in zip(keys, u) if x < 0.06]
    lost = [k for k, x in zip(keys, u) if 0.06 <= x < 0.16]
    a, b = render_scalp(**kw, hide_hairs=new), render_scalp(**kw, hide_hairs=lost)
    mids = lambda sc: np.array([(h.row_px, h.col_px) for h in sc.hairs])  # noqa: E731
    return a.image.astype(np.float32) / 255, mids(a), b.image.astype(np.float32) / 255, mids(b)


def pose_matrix(center_rc: tuple[float, float], angle_deg: float, scale: float) -> np.ndarray:
    """3x3 world (x, y) -> photo (x, y): the photo centre looks at ``center_rc``."""
    a = math.radians(angle_deg)
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre_img = np.array([FRAME[1] / 2, FRAME[0] / 2])
    t = centre_img - rot @ np.array([center_rc[1], center_rc[0]])
    return np.vstack([np.c_[rot, t], [0, 0, 1]])


def photograph(world: np.ndarray, m: np.ndarray, rng: np.random.Generator, *, gain: float = 1.0,
               cast: tuple[float, float, float] = (1, 1, 1), blur_px: float = 0.0) -> np.ndarray:
    img = cv2.warpAffine(world, m[:2], (FRAME[1], FRAME[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    rr, cc = np.mgrid[0:FRAME[0], 0:FRAME[1]]
    vignette = 1 - 0.25 * (((rr - FRAME[0] / 2) / FRAME[0]) ** 2 + ((cc - FRAME[1] / 2) / FRAME[1]) ** 2)
    img = img * vignette[..., None] * gain * np.array(cast, dtype=np.float32)
    if blur_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_px)
    img = img + rng.normal(0, 0.01, img.shape)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def in_frame(hairs: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Midpoints (row, col) in the photo of the hairs whose midpoint the photo shows."""
    xy = np.c_[hairs[:, 1], hairs[:, 0], np.ones(len(hairs))] @ m.T
    rc = xy[:, [1, 0]]
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < FRAME[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < FRAME[1])
    return rc[ok]


def detector(points: np.ndarray, rng: np.random.Generator, *, jitter_px: float = 1.0, miss: float = 0.01) -> np.ndarray:
    """Stand-in hair detector: the true midpoints, jittered, with a few misses."""
    keep = rng.uniform(size=len(points)) >= miss
    return points[keep] + rng.normal(0, jitter_px, (int(keep.sum()), 2))


SCENARIOS = {
    # name: (shift_px, rotation_deg, scale, gain, cast, blur_px)
    "shift": ((60, -90), 0, 1.0, 1.0, (1, 1, 1), 0.0),
    "rotation": ((20, 15), 25, 1.0, 1.0, (1, 1, 1), 0.0),
    "zoom": ((10, -20), 0, 1.15, 1.0, (1, 1, 1), 0.0),
    "light": ((30, 30), 5, 1.0, 0.7, (1.1, 1.0, 0.85), 0.0),
    "focus": ((-40, 25), -8, 1.0, 1.0, (1, 1, 1), 2.0),
    "all_together": ((50, -60), 40, 0.9, 1.25, (0.9, 1.0, 1.1), 1.5),
    "overlap_~55%": ((0, 280), 10, 1.0, 1.0, (1, 1, 1), 0.5),
    "different_field": ((900, 900), 0, 1.0, 1.0, (1, 1, 1), 0.0),
}


def bench_synthetic(seeds: int) -> None:
    print("== 1. synthetic pairs: change error with vs without matching ==")
    print("detector = known hair midpoints + N(0, 1 px) jitter (isolates registration + matching);")
    print("  column 'jit+miss' adds 1% missed hairs per visit, an error of the detector that matching cannot undo;")
    print("  column 'learned' uses hairtrack's own detector (detect_hairs_learned) on both photos instead")
    print(f"scalp: hairtrack.synth.render_scalp (medium, 0.8 units/mm², {WORLD_PPM:g} px/mm), 512 x 640 photos of it;")
    print("between visits: 10% of hairs removed, 6% new hairs added; truth = change in the true count inside the common field")
    print("errors in percentage points of change, mean |e| / max |e| over the pairs")
    print(f"{'scenario':16s} {'pairs':>5s} {'overlap%':>8s} {'truth%':>7s} | {'with matching':>13s} | "
          f"{'jit+miss':>11s} | {'learned':>11s} | {'without (whole image)':>21s} | {'flagged':>7s}")
    all_err_with: list[float] = []
    all_err_miss: list[float] = []
    all_err_learned: list[float] = []
    worlds = {seed: world_pair(1000 + seed) for seed in range(seeds)}
    for name, (shift, rot, scale, gain, cast, blur) in SCENARIOS.items():
        ew, em, el, eo, ov, tr, flagged = [], [], [], [], [], [], 0
        for seed in range(seeds):
            rng = np.random.default_rng(1000 + seed)
            world_a, hairs_a, world_b, hairs_b = worlds[seed]
            size = world_a.shape[0]
            centre = (size / 2, size / 2)
            ma = pose_matrix(centre, 0, 1.0)
            mb = pose_matrix((centre[0] + shift[0], centre[1] + shift[1]), rot, scale)
            img_a = photograph(world_a, ma, rng)
            img_b = photograph(world_b, mb, rng, gain=gain, cast=cast, blur_px=blur)
            pts_a_true, pts_b_true = in_frame(hairs_a, ma), in_frame(hairs_b, mb)
            det_a, det_b = detector(pts_a_true, rng, miss=0.0), detector(pts_b_true, rng, miss=0.0)
            cmp = compare(img_a, img_b, det_a, det_b)
            miss_a, miss_b = detector(pts_a_true, rng), detector(pts_b_true, rng)
            t_true = mb @ np.linalg.inv(ma)
            if cmp.registration.different_field:
                flagged += 1
                continue
            tol = cmp.tol_px
            mask = common_field_mask(t_true, FRAME, FRAME, margin_px=tol)
            inv = np.linalg.inv(t_true)

            def count_in(rc: np.ndarray, to_a: np.ndarray | None) -> int:
                if to_a is not None:
                    xy = np.c_[rc[:, 1], rc[:, 0], np.ones(len(rc))] @ to_a.T
                    rc = xy[:, [1, 0]] / xy[:, [2]]
                r, c = np.floor(rc[:, 0]).astype(int), np.floor(rc[:, 1]).astype(int)
                ok = (r >= 0) & (r < FRAME[0]) & (c >= 0) & (c < FRAME[1])
                return int(mask[r[ok], c[ok]].sum())

            na, nb = count_in(pts_a_true, None), count_in(pts_b_true, inv)
            truth = 100 * (nb - na) / na
            whole = 100 * (len(det_b) - len(det_a)) / len(det_a)
            ew.append(cmp.change_pct - truth)
            reg = cmp.registration
            mm = match_hairs(miss_a, miss_b, reg.transform, tol_px=tol, shape_a=reg.shape_a, shape_b=reg.shape_b)
            em.append(100 * (mm.count_b - mm.count_a) / mm.count_a - truth)
            found = [np.array([(h.row_px, h.col_px) for h in detect_hairs_learned(im, px_per_mm=ppm)]).reshape(-1, 2)
                     for im, ppm in ((img_a, WORLD_PPM), (img_b, WORLD_PPM * scale))]
            ml = match_hairs(found[0], found[1], reg.transform, tol_px=tol, shape_a=reg.shape_a, shape_b=reg.shape_b)
            el.append(100 * (ml.count_b - ml.count_a) / ml.count_a - truth)
            eo.append(whole - truth)
            ov.append(cmp.registration.overlap_pct)
            tr.append(truth)
        if ew:
            all_err_with += [abs(e) for e, o in zip(ew, ov) if o >= 50]
            all_err_miss += [abs(e) for e, o in zip(em, ov) if o >= 50]
            all_err_learned += [abs(e) for e, o in zip(el, ov) if o >= 50]
            print(f"{name:16s} {len(ew):5d} {np.mean(ov):8.1f} {np.mean(tr):7.2f} | "
                  f"{np.mean(np.abs(ew)):5.2f} / {np.max(np.abs(ew)):5.2f} | {np.mean(np.abs(em)):4.2f} / {np.max(np.abs(em)):4.2f} | "
                  f"{np.mean(np.abs(el)):4.2f} / {np.max(np.abs(el)):4.2f} | "
                  f"{np.mean(np.abs(eo)):9.2f} / {np.max(np.abs(eo)):9.2f} | {flagged:3d}/{seeds}")
        else:
            print(f"{name:16s} {0:5d} {'-':>8s} {'-':>7s} | {'(all pairs flagged different_field)':>51s} | {flagged:3d}/{seeds}")
    if all_err_with:
        ok = max(all_err_with) <= 2.0
        print(f"target |change error| <= 2 points with matching where overlap >= 50% (jitter-only detector): "
              f"max {max(all_err_with):.2f} -> {'met' if ok else 'NOT met'} ({len(all_err_with)} pairs); "
              f"with 1% misses: max {max(all_err_miss):.2f}; with the learned detector: mean {np.mean(all_err_learned):.2f}, "
              f"max {max(all_err_learned):.2f}")


# ------------------------------------------------------------------------------------ real photos

def bench_real(n_pairs: int) -> None:
    print("\n== 2. real trichoscopy photos (trichoscopy-dev, 1280x1024) ==")
    files = sorted(glob.glob(os.path.join(DATASET, "*.jpg")))
    if not files:
        print(f"skipped: {DATASET} not found")
        return
    rng = np.random.default_rng(7)
    load = lambda f: cv2.cvtColor(cv2.imread(f), cv2.COLOR_BGR2RGB)  # noqa: E731
    ok, ov_err, corner_err, secs, pair_log = 0, [], [], [], []
    for f in rng.choice(files, n_pairs, replace=False):
        a = load(f)
        h, w = a.shape[:2]
        ang, sc = rng.uniform(-180, 180), rng.uniform(0.8, 1.25)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, sc)
        m[:, 2] += rng.uniform(-200, 200, 2)
        b = cv2.warpAffine(a, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        c0, r0 = int(rng.integers(0, 160)), int(rng.integers(0, 120))
        b = b[r0:r0 + h - 200, c0:c0 + w - 250]                      # crop
        crop = np.array([[1, 0, -c0], [0, 1, -r0], [0, 0, 1]], dtype=float)
        cast = np.array([rng.uniform(0.9, 1.1), 1.0, rng.uniform(0.85, 1.15)]) * rng.uniform(0.6, 1.3)
        b = np.clip(b * cast, 0, 255).astype(np.uint8)               # relight
        b = cv2.GaussianBlur(b, (0, 0), rng.uniform(0.1, 2.0))      # refocus
        t_true = crop @ np.vstack([m, [0, 0, 1]])
        t0 = time.perf_counter()
        reg = register(a, b)
        secs.append(time.perf_counter() - t0)
        if reg.different_field or reg.transform is None:
            continue
        t = np.array(reg.transform)
        pts = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1], [w / 2, h / 2, 1]], dtype=float)
        pe = pts @ t.T
        pt = pts @ t_true.T
        err = float(np.max(np.linalg.norm(pe[:, :2] / pe[:, 2:] - pt[:, :2] / pt[:, 2:], axis=1)))
        corner_err.append(err)
        if err <= 5.0:
            ok += 1
        ov_err.append(reg.overlap_pct - _overlap_pct(t_true, (h, w), b.shape[:2]))
        # the same hairs seen twice: the matched count should not change; what it does is the pair noise
        # that analysis.matched models as kappa (1/n_a + 1/n_b). Scale: a 70x frame (358 px/mm), zoomed by sc in b.
        det = [detect_hairs_learned(im, px_per_mm=ppm) for im, ppm in ((a, DERMOSCOPE_70X_PX_PER_MM),
                                                                        (b, DERMOSCOPE_70X_PX_PER_MM * sc))]
        found = [np.array([(x.row_px, x.col_px) for x in d]).reshape(-1, 2) for d in det]
        lengths = [x.length_px for d in det for x in d]
        mt = match_hairs(found[0], found[1], reg.transform, tol_px=match_tolerance_px(a.shape, lengths),
                         shape_a=reg.shape_a, shape_b=reg.shape_b)
        if mt.count_a and mt.count_b:
            pair_log.append((float(np.log(mt.count_b / mt.count_a)), 1.0 / mt.count_a + 1.0 / mt.count_b))
    print(f"same photo, transformed (rotation +-180 deg, zoom 0.8-1.25, shift +-200 px, crop, relight, blur 0.1-2 px): "
          f"{n_pairs} pairs")
    print(f"  registered (corner error <= 5 px): {ok}/{n_pairs}; corner error median {np.median(corner_err):.2f} px, "
          f"max {np.max(corner_err):.2f} px")
    print(f"  overlap_pct error: mean |e| {np.mean(np.abs(ov_err)):.3f} points, max {np.max(np.abs(ov_err)):.3f}")
    print(f"  time per registration: median {np.median(secs):.2f} s")
    pl, pu = np.array(pair_log).reshape(-1, 2).T
    print(f"  learned detector, hairs matched in the common field (true change 0): |log ratio| mean {np.mean(np.abs(pl)):.3f}, "
          f"rms {np.sqrt(np.mean(pl ** 2)):.3f}, max {np.max(np.abs(pl)):.3f} over {len(pl)} pairs; "
          f"inconsistency kappa = mean(r² / (1/n_a + 1/n_b)) {np.mean(pl ** 2 / pu):.3f} "
          f"(analysis.matched prior {MatchedPrior().inconsistency})")
    patients = {}
    for f in files:
        patients.setdefault(os.path.basename(f).split("_")[1], []).append(f)
    keys = sorted(patients)
    flagged = 0
    for _ in range(n_pairs):
        p, q = rng.choice(keys, 2, replace=False)
        reg = register(load(rng.choice(patients[p])), load(rng.choice(patients[q])))
        flagged += reg.different_field
    print(f"different patients: flagged different_field {flagged}/{n_pairs}")


# ------------------------------------------------------------------------------------ card

def bench_card(trials: int) -> None:
    print("\n== 3. calibration card: render (300 dpi) -> perspective warp -> blur -> noise -> colour cast -> detect ==")
    rng = np.random.default_rng(3)
    card, layout = render_card(dpi=300)
    h, w = card.shape[:2]
    lin = lambda v: np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)  # noqa: E731
    enc = lambda v: np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)  # noqa: E731
    ppmm_err, wb_err, sd_ratio = [], [], []
    for _ in range(trials):
        s = rng.uniform(0.35, 0.9)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[0, 0], [w * s, 0], [w * s, h * s], [0, h * s]]) + rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * w * s
        dst += np.float32([150, 120])
        hm = cv2.getPerspectiveTransform(src, dst)
        photo = cv2.warpPerspective(card, hm, (1400, 1000), flags=cv2.INTER_AREA, borderValue=(120, 90, 80))
        photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.5, 1.8))
        cast = np.array([rng.uniform(0.75, 1.25), 1.0, rng.uniform(0.75, 1.25)])
        photo = enc(np.clip(lin(photo / 255.0) * cast * rng.uniform(0.7, 1.1), 0, 1)) * 255
        photo = np.clip(photo + rng.normal(0, 2.0, photo.shape), 0, 255).astype(np.uint8)
        r = detect_card(photo, layout=layout)
        if not r.found:
            continue
        mm = np.array([p for i in r.marker_ids for p in layout.markers[i]])
        true = _local_scale(hm @ np.diag([layout.px_per_mm, layout.px_per_mm, 1]), *mm.mean(axis=0))[0]
        ppmm_err.append(100 * (r.px_per_mm / true - 1))
        sd_ratio.append(abs(r.px_per_mm - true) / r.px_per_mm_sd)
        if r.white_balance_gains:
            wb_err.append(100 * np.max(np.abs(np.array(r.white_balance_gains) * cast / cast[1] - 1)))
    print(f"  read {len(ppmm_err)}/{trials}; px/mm error: mean |e| {np.mean(np.abs(ppmm_err)):.3f}%, max "
          f"{np.max(np.abs(ppmm_err)):.3f}% (target 2%); |error|/reported sd: median {np.median(sd_ratio):.2f}")
    print(f"  white balance: max channel error of the corrected grey, mean {np.mean(wb_err):.2f}%, max {np.max(wb_err):.2f}%")
    # problems
    big = cv2.resize(card, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    bh, bw = big.shape[:2]
    canvas = lambda img: cv2.copyMakeBorder(img, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=(120, 90, 80))  # noqa: E731
    cases = {"clean": canvas(big), "cut_off": big[:, : int(bw * 0.7)],
             "wrong_scale (stretched 8% in y)": canvas(cv2.resize(big, (bw, int(bh * 1.08)), interpolation=cv2.INTER_AREA)),
             "too_small": canvas(cv2.resize(card, None, fx=0.08, fy=0.08, interpolation=cv2.INTER_AREA))}
    rr, cc = np.mgrid[0:bh, 0:bw].astype(np.float32)
    bend = cv2.remap(big, cc, rr - 60.0 * ((cc - bw / 2) / (bw / 2)) ** 2 + 30, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=(120, 90, 80))
    cases["bent (60 px sag)"] = canvas(bend)
    for name, img in cases.items():
        r = detect_card(img, layout=layout)
        codes = [p.code for p in r.problems]
        print(f"  {name:32s} -> problems {codes}  px/mm {r.px_per_mm if r.px_per_mm is None else round(r.px_per_mm, 3)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer pairs and trials")
    args = ap.parse_args()
    t0 = time.perf_counter()
    bench_synthetic(3 if args.quick else 8)
    bench_real(8 if args.quick else 30)
    bench_card(10 if args.quick else 40)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
