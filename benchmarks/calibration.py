"""Scale from a photo of millimetre graph paper (``measure_grid``): how often it is right, refused or wrong.

A wrong scale is the worst thing a calibration can give: every density measured with that device is off by
its square, silently. This script renders graph-paper photos with a known scale at the frame's centre
(1 mm lines with bold ones every 5 and 10 mm, turned 0-45 degrees) on three frames, a 640 x 480 and a
1280 x 1024 dermoscope frame (60-300 px/mm) and a 4000 x 3000 phone macro (15-60 px/mm):

- ``clean``: sharp, evenly lit;
- ``degraded``: blur 1-4 px, JPEG quality 60, noise, vignetting, barrel distortion up to 2%, perspective up
  to 3%, uneven light;
- ``faint-blurred``: the phone frames with faint thin lines (30% ink) blurred by 0.2 mm, beside full-strength
  bold lines (the bold lines' period once won: 5x the scale);
- ``ruler``: a steel or a plastic ruler across part of the frame on a table, its millimetre ticks hanging from its
  edge (longer every 5 and 10 mm), lightly blurred and compressed;
- ``checkerboard``: a printed board of 1 mm squares (grey ink on paper), degraded as above (its spectrum peaks
  along the diagonals, 1.41x the squares' side: read as lines it gave that);
- ``plain, soft``: graph paper of thin millimetre lines only, no bold ones, blurred by 0.05-0.25 mm (the
  larger frames; softened lines once passed for a checkerboard: 0.71x);

and pictures with no grid that must be refused: blank paper with vignetting, a light gradient or noise, and
(when ``../shared`` has them) real trichoscopy photos. For each set it prints how many photos were refused,
how many came within 5% (their median error, and how many lie within twice the stated uncertainty), and the
ratio measured / true of every one that came further off: those are the silent errors.

``--baseline REV`` runs the ``measure_grid`` of another commit (read with ``git show``) on the same photos
in the same run, for comparison. Usage::

    PYTHONPATH=. python benchmarks/calibration.py [--reps 2] [--baseline REV] [--trichoscopy-every 100]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: module_as_of

from as_of import module_as_of  # noqa: E402 (after the path)
SHARED = ROOT.parent / "shared" / "datasets"


def _paper(w_mm: float, h_mm: float, tex_px_per_mm: float, thin_ink: float, bold: bool = True) -> np.ndarray:
    """Graph paper in millimetre coordinates (origin at the centre), ``tex_px_per_mm`` texture px per mm; without
    ``bold``, every line is a thin millimetre one."""
    t = tex_px_per_mm
    xs = (np.arange(int(math.ceil(w_mm * t))) + 0.5) / t - w_mm / 2
    ys = (np.arange(int(math.ceil(h_mm * t))) + 0.5) / t - h_mm / 2

    def ink(c: np.ndarray) -> np.ndarray:  # line coverage along one axis: 0.08 mm thin, 0.16 / 0.25 mm bold
        k = np.round(c)
        if not bold:
            return np.clip((0.04 - np.abs(c - k)) * t + 0.5, 0, 1) * thin_ink
        width = np.where(np.mod(k, 10) == 0, 0.25, np.where(np.mod(k, 5) == 0, 0.16, 0.08))
        strength = np.where(np.mod(k, 5) == 0, 1.0, thin_ink)
        return np.clip((width / 2 - np.abs(c - k)) * t + 0.5, 0, 1) * strength

    cover = 1 - (1 - ink(xs)[None, :]) * (1 - ink(ys)[:, None])
    paper, line = np.array((240, 243, 235), float), np.array((60, 150, 60), float)
    return paper * (1 - cover[..., None]) + line * cover[..., None]


def _ruler(w_mm: float, h_mm: float, tex_px_per_mm: float, edge_mm: float, steel: bool, rng: np.random.Generator) -> np.ndarray:
    """A ruler's body below ``edge_mm`` (mm from the centre) on a mottled table, ticks hanging from its edge every
    mm: 2 mm long, 3.2 mm at every 5th, 4.5 mm at every 10th; 0.12 mm wide."""
    t = tex_px_per_mm
    w, h = int(math.ceil(w_mm * t)), int(math.ceil(h_mm * t))
    xs, ys = (np.arange(w) + 0.5) / t - w_mm / 2, (np.arange(h) + 0.5) / t - h_mm / 2
    mottle = cv2.resize(cv2.GaussianBlur(rng.normal(0, 1, (max(8, int(h_mm * 2)), max(8, int(w_mm * 2)))).astype(np.float32),
                                         (0, 0), 3), (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.array((90, 70, 55), np.float32) + 12 * (mottle / (mottle.std() + 1e-9))[..., None]
    body = ys >= edge_mm
    if steel:  # brushed: streaks along the ruler
        streak = cv2.resize(rng.normal(0, 1, (max(8, int(h_mm * 10)), 1)).astype(np.float32), (1, h), interpolation=cv2.INTER_CUBIC).ravel()
        img[body] = (175 + 10 * streak[body] / (streak.std() + 1e-9))[:, None, None] + np.array((0, 2, 5), np.float32)
    else:
        img[body] = (235, 235, 228)
    k = np.round(xs)
    length = np.where(np.mod(k, 10) == 0, 4.5, np.where(np.mod(k, 5) == 0, 3.2, 2.0))
    across = np.clip((0.06 - np.abs(xs - k)) * t + 0.5, 0, 1)
    ink = across[None, :] * ((ys[:, None] >= edge_mm) & (ys[:, None] <= edge_mm + length[None, :]))
    return img * (1 - ink[..., None]) + 30 * ink[..., None]


def _checker(w_mm: float, h_mm: float, tex_px_per_mm: float) -> np.ndarray:
    """A checkerboard of 1 mm squares, printed in dark grey on paper."""
    t = tex_px_per_mm
    xs = (np.arange(int(math.ceil(w_mm * t))) + 0.5) / t - w_mm / 2
    ys = (np.arange(int(math.ceil(h_mm * t))) + 0.5) / t - h_mm / 2
    dark = ((np.floor(xs)[None, :] + np.floor(ys)[:, None]) % 2).astype(float)
    paper, ink = np.array((238, 238, 232), float), np.array((45, 45, 50), float)
    return paper * (1 - dark[..., None]) + ink * dark[..., None]


def render(px_per_mm: float, size: tuple[int, int], *, angle_deg: float = 0.0, seed: int = 0, blur: float = 0.0,
           jpeg: int | None = None, noise: float = 0.0, vignette: float = 0.0, barrel: float = 0.0,
           perspective: float = 0.0, light: float = 0.0, thin_ink: float = 0.6, ruler: str | None = None,
           checker: bool = False, plain: bool = False) -> np.ndarray:
    """A photo of graph paper (or of a ``"steel"`` / ``"plastic"`` ruler, or of a checkerboard), ``px_per_mm`` at
    the frame's centre; RGB uint8, ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    cx, cy, rn = (w - 1) / 2, (h - 1) / 2, max(w, h) / 2
    x, y = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
    r2 = ((x - cx) ** 2 + (y - cy) ** 2) / rn ** 2
    xu, yu = cx + (x - cx) * (1 + barrel * r2), cy + (y - cy) * (1 + barrel * r2)  # barrel distortion
    g, k = perspective * rng.uniform(-1, 1, 2) / rn
    den = 1 - g * (xu - cx) - k * (yu - cy)  # the inverse of a plane's homography with perspective terms g, k
    px, py = (xu - cx) / den, (yu - cy) / den
    a = math.radians(angle_deg)
    mx = (math.cos(a) * px + math.sin(a) * py) / px_per_mm + rng.uniform(0, 1)
    my = (-math.sin(a) * px + math.cos(a) * py) / px_per_mm + rng.uniform(0, 1)
    w_mm, h_mm = 2 * np.abs(mx).max() + 2, 2 * np.abs(my).max() + 2
    tex = 2.0 * px_per_mm
    while w_mm * h_mm * tex * tex > 6e7:  # keep the texture under ~60 MP
        tex *= 0.8
    flat = (_checker(w_mm, h_mm, tex) if checker else _paper(w_mm, h_mm, tex, thin_ink, not plain) if ruler is None else
            _ruler(w_mm, h_mm, tex, rng.uniform(-0.3, 0.1) * h / px_per_mm, ruler == "steel", rng))
    paper = cv2.GaussianBlur(flat.astype(np.float32), (0, 0), max(0.5, 0.5 * tex / px_per_mm))
    img = cv2.remap(paper, ((mx + w_mm / 2) * tex - 0.5).astype(np.float32), ((my + h_mm / 2) * tex - 0.5).astype(np.float32),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if light:
        b = rng.uniform(0, 2 * math.pi)
        img *= (1 + light * ((x - cx) * math.cos(b) + (y - cy) * math.sin(b)) / rn)[..., None].astype(np.float32)
    if vignette:
        img *= (1 - vignette * r2)[..., None].astype(np.float32)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise:
        img += rng.normal(0, noise, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if jpeg:
        img = cv2.imdecode(cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(img)


def grid_cases(reps: int) -> list[tuple[str, float, dict]]:
    rng = np.random.default_rng(7)
    crng = np.random.default_rng([7, 1])  # the checkerboards' own draws: the other sets stay as they were
    prng = np.random.default_rng([7, 2])  # the plain papers' own
    cases = []
    for size, scales in (((640, 480), (60, 100, 150, 200, 250)), ((1280, 1024), (80, 150, 200, 250, 300)),
                         ((4000, 3000), (15, 20, 30, 45, 60))):
        for ppm in scales:
            for _ in range(reps):
                seed = int(rng.integers(1 << 30))
                frame = f"{size[0]} x {size[1]}"
                cases.append((f"clean, {frame}", ppm, dict(size=size, angle_deg=rng.uniform(0, 45), seed=seed)))
                cases.append((f"degraded, {frame}", ppm, dict(
                    size=size, angle_deg=rng.uniform(0, 45), seed=seed + 1, blur=rng.uniform(1, 4), jpeg=60,
                    noise=rng.uniform(2, 6), vignette=rng.uniform(0.1, 0.4), barrel=rng.uniform(0, 0.02),
                    perspective=rng.uniform(0, 0.03), light=rng.uniform(0.1, 0.4))))
                for kind in ("steel", "plastic"):
                    cases.append((f"ruler, {frame}", ppm, dict(size=size, angle_deg=rng.uniform(0, 30), seed=seed + 3,
                                                               blur=1.0, jpeg=80, noise=2, ruler=kind)))
                cases.append((f"checkerboard, {frame}", ppm, dict(
                    size=size, angle_deg=crng.uniform(0, 45), seed=seed + 4, blur=crng.uniform(0.5, 2), jpeg=70,
                    noise=crng.uniform(2, 5), vignette=crng.uniform(0.1, 0.3), barrel=crng.uniform(0, 0.01),
                    perspective=crng.uniform(0, 0.02), light=crng.uniform(0.1, 0.3), checker=True)))
                if size[0] > 1000:  # its own draws too
                    cases.append((f"plain, soft, {frame}", ppm, dict(
                        size=size, angle_deg=prng.uniform(0, 45), seed=seed + 5, blur=ppm * prng.uniform(0.05, 0.25),
                        jpeg=80, noise=prng.uniform(1, 4), thin_ink=1.0, plain=True)))
                if size[0] > 2000:
                    cases.append((f"faint-blurred, {frame}", ppm, dict(
                        size=size, angle_deg=12, seed=seed + 2, blur=ppm / 5, jpeg=60, noise=3, vignette=0.2, thin_ink=0.3)))
    return cases


def no_grid_photos(trichoscopy_every: int = 100) -> list[tuple[str, np.ndarray]]:
    h, w = 1024, 1280
    y, x = np.mgrid[0:h, 0:w].astype(float)
    r2 = ((x - w / 2) ** 2 + (y - h / 2) ** 2) / (w / 2) ** 2
    rng = np.random.default_rng(0)
    u8 = lambda a: np.clip(a, 0, 255).astype(np.uint8)  # noqa: E731
    photos = [("blank paper, noise", u8(235 + rng.normal(0, 3, (h, w)))),
              ("blank paper, vignetting", u8(235 * (1 - 0.3 * r2))),
              ("blank paper, vignetting + noise", u8(235 * (1 - 0.3 * r2) + rng.normal(0, 3, (h, w)))),
              ("blank paper, light gradient + noise", u8(200 * (1 + 0.2 * (x - w / 2) / w) + rng.normal(0, 3, (h, w)))),
              ("blank paper, vignetting, 640 x 480", u8(cv2.resize(235 * (1 - 0.3 * r2), (640, 480))))]

    tri = SHARED / "trichoscopy-dev" / "images"
    if tri.is_dir():
        for p in sorted(tri.glob("*.jpg"))[::trichoscopy_every]:
            photos.append((f"trichoscopy {p.stem}", np.ascontiguousarray(cv2.imread(str(p))[..., ::-1])))
    return photos


def _baseline(rev: str) -> Callable[..., object]:
    return module_as_of(rev, "hairtrack/imaging/calibration.py").measure_grid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2, help="photos per scale and set (rulers: one steel, one plastic each)")
    ap.add_argument("--baseline", metavar="REV", help="also run measure_grid as of this commit, on the same photos")
    ap.add_argument("--trichoscopy-every", type=int, default=100, metavar="N",
                    help="every Nth real trichoscopy photo joins the photos without a grid (when ../shared has them)")
    args = ap.parse_args(argv)
    if args.trichoscopy_every < 1:
        ap.error("--trichoscopy-every must be 1 or more")
    from hairtrack.imaging.calibration import measure_grid

    methods = {"this version": measure_grid}
    if args.baseline:
        methods[f"as of {args.baseline}"] = _baseline(args.baseline)
    cases = grid_cases(args.reps)
    photos = [render(ppm, **kw) for _, ppm, kw in cases]
    blanks = no_grid_photos(args.trichoscopy_every)
    for name, fn in methods.items():
        groups: dict[str, dict] = {}
        for (label, ppm, _), img in zip(cases, photos, strict=True):
            g = groups.setdefault(label, dict(n=0, refused=0, errors=[], covered=0, wrong=[]))
            g["n"] += 1
            try:
                m = fn(img)
            except Exception:  # noqa: BLE001 - a refusal (NoGridError), or the baseline's own failure
                g["refused"] += 1
                continue
            err = m.px_per_mm / ppm - 1
            if abs(err) < 0.05:
                g["errors"].append(abs(err))
                g["covered"] += abs(m.px_per_mm - ppm) <= 2 * m.uncertainty_px_per_mm
            else:
                g["wrong"].append(round(m.px_per_mm / ppm, 2))
        print(f"measure_grid, {name}: {len(cases)} graph-paper photos, {len(blanks)} photos without a grid")
        print(f"{'set':<28}{'n':>4}{'refused':>9}{'within 5%':>11}{'median err':>12}{'within 2 sd':>13}   wrong (measured / true)")
        for label, g in groups.items():
            med = f"{100 * np.median(g['errors']):.2f}%" if g["errors"] else "-"
            print(f"{label:<28}{g['n']:>4}{g['refused']:>9}{len(g['errors']):>11}{med:>12}{g['covered']:>13}   {g['wrong'] or ''}")
        accepted = []
        for label, img in blanks:
            try:
                accepted.append(f"{label}: {fn(img).px_per_mm:.1f} px/mm")
            except Exception:  # noqa: BLE001
                pass
        print(f"photos without a grid refused: {len(blanks) - len(accepted)} of {len(blanks)}"
              + (f"; accepted: {'; '.join(accepted)}" if accepted else ""))
        print()
    print("within 2 sd: of those within 5%, how many lie within twice the stated uncertainty (about 95% expected)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
