"""Test-retest repeatability of the density hairtrack reports: ICC, within-spot CV and the smallest detectable change.

TrichoScan-style tools report an ICC of about 0.91 for repeated photos of one spot (issue 3's bar). This
benchmark takes each spot several times and measures ``analyze()``'s ``hairs_per_cm2`` (edge-corrected) on
every take, for the learned detector (the default) and the classical pipeline, in the same run:

Every take has other light (gain 0.85-1.15, a colour cast of 5%), focus (blur up to 1 px), sensor noise and
JPEG quality 80-95, and the scope is placed again as each scenario says:

- ``same spot``: moved by at most 2 px and turned by at most 1 degree: what the method itself adds;
- ``marked spot``: at most 0.1 mm and 5 degrees, a scope put back on a tattooed or marked point;
- ``free`` (synthetic only): at most 0.5 mm and 15 degrees, a scope put back by eye.

1. **Synthetic spots**: ``hairtrack.synth.render_scalp`` worlds (medium preset, 0.25-1.1 follicular units per
   mm², 110 px/mm), each photographed ``--takes`` times as a 512 x 640 photo. The truth of each take is the
   follicles whose exit lies in its usable field, per cm²; its row ("truth") is the repeatability of the spot
   itself, the ceiling for any method: a moved scope shows other follicles at the edges, and in a field of
   0.27 cm² a move of 0.5 mm changes the true count by about 10%.
2. **Real photos** (``../shared/datasets/trichoscopy-dev``, skipped when absent): each photo re-taken as a
   turned, moved, cropped (85% of each side, so that no take reaches past the photo), relit and blurred copy
   of itself, at the 358 px/mm of their dermoscope's scale bar. The
   skin is the same in every take, so this measures what pose, crop, light and focus do to the figure, not
   what the person's skin does between visits.

Printed per method: ICC(1,1) (one-way random effects, single measurement; the takes are exchangeable) with its
95% interval (F distribution; Shrout & Fleiss 1979), ICC(A,1) (two-way, absolute agreement; McGraw & Wong
1996), the within-spot coefficient of variation (root mean square over spots), the within-spot SD (SEM) and
the smallest detectable change MDC95 = 1.96 * sqrt(2) * SEM, in hairs/cm² and as % of the mean; for the
synthetic spots also the bias and mean |error| against each take's truth.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/repeatability.py [--spots 24] [--takes 3] [--real 40]
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATASET = "/work/shared/datasets/trichoscopy-dev/images"
FRAME = (512, 640)  # rows, cols of a synthetic take
WORLD_PX = 960  # a world holds a frame turned by 15 degrees and moved by 0.5 mm
SYNTH_PPM = 110.0
# the dev photos' scale: their 1.0 mm scale bar is 358 px long (benchmarks/scale_bar.py)
from hairtrack.imaging.hairs import DERMOSCOPE_70X_PX_PER_MM as REAL_PPM  # noqa: E402 (after the path)
# name: (largest move in mm, largest turn in degrees); "same spot" moves by 2 px at most, whatever the scale
SCENARIOS = {"same spot": (None, 1.0), "marked spot": (0.1, 5.0), "free": (0.5, 15.0)}


@dataclass(frozen=True)
class Repeatability:
    """Figures of an n spots x k takes table."""

    icc_1: float
    icc_1_ci95: tuple[float, float]
    icc_a1: float
    cv_within_pct: float
    sem: float
    mdc95: float
    mean: float


def repeatability(values: np.ndarray) -> Repeatability:
    """ICC(1,1) with its 95% interval, ICC(A,1), within-spot CV, SEM and MDC95 of an n x k table.

    Rows are spots (subjects), columns are takes. Mean squares as in Shrout & Fleiss (1979) and McGraw &
    Wong (1996).

    Examples
    --------
    Shrout & Fleiss's Table 2 (6 targets, 4 judges) gives ICC(1,1) = 0.17 and ICC(2,1) = 0.29:

    >>> t = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    >>> r = repeatability(t)
    >>> round(r.icc_1, 2), round(r.icc_a1, 2)
    (0.17, 0.29)
    """
    from scipy.stats import f as f_dist

    x = np.asarray(values, float)
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"need at least 2 spots and 2 takes, got {n} x {k}")
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_within = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum()
    ss_err = ss_within - ss_cols
    msr, msw = ss_rows / (n - 1), ss_within / (n * (k - 1))
    msc, mse = ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    icc_1 = (msr - msw) / (msr + (k - 1) * msw)
    icc_a1 = (msr - mse) / (msr + (k - 1) * mse + k / n * (msc - mse))
    if msw > 0:
        f_obs = msr / msw
        lo_f = f_obs / f_dist.ppf(0.975, n - 1, n * (k - 1))
        hi_f = f_obs * f_dist.ppf(0.975, n * (k - 1), n - 1)
        ci = ((lo_f - 1) / (lo_f + k - 1), (hi_f - 1) / (hi_f + k - 1))
    else:  # every take agrees exactly
        ci = (1.0, 1.0)
    sem = math.sqrt(msw)
    cv = float(np.sqrt(np.mean((x.std(axis=1, ddof=1) / x.mean(axis=1)) ** 2))) * 100
    return Repeatability(float(icc_1), (float(ci[0]), float(ci[1])), float(icc_a1), cv, sem, 1.96 * math.sqrt(2) * sem,
                         float(grand))


def _retake(image: np.ndarray, rng: np.random.Generator, *, out_shape: tuple[int, int], max_shift_px: float,
            max_angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """One take of ``image``: moved, turned, relit, blurred, noised and JPEG-compressed. Returns the photo and
    the 2 x 3 matrix from ``image`` (x, y) to the photo."""
    import cv2

    h, w = image.shape[:2]
    angle = rng.uniform(-max_angle_deg, max_angle_deg)
    centre = (w / 2 + rng.uniform(-max_shift_px, max_shift_px), h / 2 + rng.uniform(-max_shift_px, max_shift_px))
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    m[0, 2] += out_shape[1] / 2 - centre[0]
    m[1, 2] += out_shape[0] / 2 - centre[1]
    photo = cv2.warpAffine(image, m, (out_shape[1], out_shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    gain = rng.uniform(0.85, 1.15) * rng.uniform(0.95, 1.05, 3)
    photo = photo.astype(np.float32) * gain
    blur = rng.uniform(0.0, 1.0)
    if blur > 0.2:
        photo = cv2.GaussianBlur(photo, (0, 0), blur)
    photo = np.clip(photo + rng.normal(0, 2.0, photo.shape), 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", photo[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1]), m


def _print(label: str, r: Repeatability, extra: str = "") -> None:
    interval = f"[{r.icc_1_ci95[0]:.3f}, {r.icc_1_ci95[1]:.3f}]"
    print(f"{label:<28}{r.icc_1:>8.3f}  {interval:<16}{r.icc_a1:>9.3f}{r.cv_within_pct:>9.1f}"
          f"{r.sem:>9.1f}{r.mdc95:>9.1f}{100 * r.mdc95 / r.mean:>8.1f}%{r.mean:>9.1f}{extra}")


HEADER = (f"{'method':<28}{'ICC(1,1)':>8}  {'95% interval':<16}{'ICC(A,1)':>9}{'CVw %':>9}{'SEM':>9}{'MDC95':>9}"
          f"{'MDC95':>9}{'mean':>9}")


def bench_synthetic(spots: int, takes: int, detectors: list[str], seed: int) -> None:
    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.quality import scan_field
    from hairtrack.synth.scalp import render_scalp

    print(f"== 1. synthetic spots: {spots} spots x {takes} takes, {FRAME[1]}x{FRAME[0]} photos at {SYNTH_PPM:g} px/mm "
          "(medium preset)")
    px2_per_cm2 = (SYNTH_PPM * 10) ** 2
    rng = np.random.default_rng(seed)
    worlds = []
    for s in range(spots):
        density = rng.uniform(0.25, 1.1)  # follicular units per mm²
        world = render_scalp(seed=seed + s, shape=(WORLD_PX, WORLD_PX), px_per_mm=SYNTH_PPM, difficulty="medium",
                             n_units=int(round(density * (WORLD_PX / SYNTH_PPM) ** 2)), jpeg=False)
        worlds.append((np.asarray(world.image), np.array([(h.exit_col_px, h.exit_row_px, 1.0) for h in world.hairs]).reshape(-1, 3)))
    for scenario, (move_mm, turn_deg) in SCENARIOS.items():
        move_px = 2.0 if move_mm is None else move_mm * SYNTH_PPM
        print(f"-- {scenario}: moved up to {move_px:g} px, turned up to {turn_deg:g} degrees")
        table: dict[str, np.ndarray] = {m: np.zeros((spots, takes)) for m in ["truth", *detectors]}
        take_rng = np.random.default_rng([seed, len(scenario)])
        for s, (image, exits) in enumerate(worlds):
            for t in range(takes):
                photo, m = _retake(image, take_rng, out_shape=FRAME, max_shift_px=move_px, max_angle_deg=turn_deg)
                usable = scan_field(photo).usable
                xy = exits @ m.T
                col, row = np.floor(xy[:, 0]).astype(int), np.floor(xy[:, 1]).astype(int)
                inside = (row >= 0) & (row < FRAME[0]) & (col >= 0) & (col < FRAME[1])
                table["truth"][s, t] = int(usable[row[inside], col[inside]].sum()) / (usable.sum() / px2_per_cm2)
                for det in detectors:
                    table[det][s, t] = analyze(photo, SYNTH_PPM, detector=det).hairs_per_cm2
        print(HEADER + f"{'bias %':>9}{'|err| %':>9}")
        truth = table["truth"]
        for name, values in table.items():
            err = 100 * (values / truth - 1)
            extra = "" if name == "truth" else f"{np.mean(err):>+9.1f}{np.mean(np.abs(err)):>9.1f}"
            _print("truth (follicles in field)" if name == "truth" else f"{name}{' (default)' if name == 'learned' else ''}",
                   repeatability(values), extra)


def bench_real(photos: int, takes: int, detectors: list[str], seed: int) -> None:
    import cv2

    from hairtrack.imaging.analyze import analyze

    print(f"\n== 2. real photos (trichoscopy-dev): {photos} photos x {takes} re-takes of each (an 85% crop, nominal "
          f"{REAL_PPM:g} px/mm)")
    files = sorted(glob.glob(os.path.join(DATASET, "*.jpg")))
    if not files:
        print(f"skipped: {DATASET} not found")
        return
    chosen = np.random.default_rng(seed).choice(files, min(photos, len(files)), replace=False)
    images = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in chosen]
    for scenario, (move_mm, turn_deg) in SCENARIOS.items():
        if scenario == "free":  # an 85% crop of the photo cannot move by 0.5 mm and turn by 15 degrees
            continue
        move_px = 2.0 if move_mm is None else move_mm * REAL_PPM
        print(f"-- {scenario}: moved up to {move_px:g} px, turned up to {turn_deg:g} degrees")
        table = {m: np.zeros((len(images), takes)) for m in detectors}
        take_rng = np.random.default_rng([seed, len(scenario), 1])
        for i, rgb in enumerate(images):
            h, w = rgb.shape[:2]
            out = (int(0.85 * h) // 2 * 2, int(0.85 * w) // 2 * 2)  # turned by 5 degrees and moved by 22 px, it stays inside
            for t in range(takes):
                photo, _ = _retake(rgb, take_rng, out_shape=out, max_shift_px=move_px, max_angle_deg=turn_deg)
                for det in detectors:
                    table[det][i, t] = analyze(photo, REAL_PPM, detector=det).hairs_per_cm2
        print(HEADER)
        for name, values in table.items():
            _print(f"{name}{' (default)' if name == 'learned' else ''}", repeatability(values))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spots", type=int, default=24, help="synthetic spots (0 leaves the part out)")
    ap.add_argument("--takes", type=int, default=3, help="takes of each spot or photo (at least 2)")
    ap.add_argument("--real", type=int, default=40, help="real photos (0 leaves the part out)")
    ap.add_argument("--detectors", nargs="+", choices=("learned", "classical"), default=["learned", "classical"])
    ap.add_argument("--seed", type=int, default=4_000_000, help="seeds of the worlds and the takes")
    ap.add_argument("--threads", type=int, default=1, help="threads for OpenCV and the network")
    args = ap.parse_args(argv)
    if args.takes < 2:
        ap.error(f"--takes must be at least 2, got {args.takes}")
    if args.spots < 0 or args.real < 0 or args.spots == 1 or args.real == 1:
        ap.error("--spots and --real must be 0 (left out) or at least 2")
    if args.threads < 1:
        ap.error(f"--threads must be at least 1, got {args.threads}")
    from hairtrack.imaging.learned import set_threads

    set_threads(args.threads)
    print("columns: ICC(1,1) [95% interval], ICC(A,1), within-spot CV %, SEM and MDC95 in hairs/cm², MDC95 as % of the "
          "mean, the mean in hairs/cm²")
    if args.spots:
        bench_synthetic(args.spots, args.takes, args.detectors, args.seed)
    if args.real:
        bench_real(args.real, args.takes, args.detectors, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
