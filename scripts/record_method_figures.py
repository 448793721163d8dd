"""Record what the measuring code makes of a few fixed photos, so a change that moves it cannot land unnamed.

Every stored measurement carries the method that made it (``hairtrack.imaging.analyze.measurement_method``:
the detector, a fingerprint of the networks' weights, and ``METHOD_REVISION``). The capture check and the
verdict compare visits measured by one method only, so a change to decoding, gates, the density's definition
or the classical pipeline that moves the figures of the same photo must bump ``METHOD_REVISION``; otherwise a
person's series gets a step that the verdict would read as the treatment's doing.

``tests/imaging/test_method_guard.py`` enforces that. It measures the photos in
``tests/imaging/data/method_guard/`` (synthetic scenes, saved as JPEG once) with the classical pipeline, and
with the learned detector's decoding on network maps saved beside them (so the guard does not depend on the
weights, which the fingerprint already names, or on the processor's 8-bit arithmetic), and compares the
figures with ``figures.json``, recorded for one ``METHOD_REVISION``.

Usage::

    python scripts/record_method_figures.py             # record the figures of the current revision
    python scripts/record_method_figures.py --new-inputs  # draw the scenes and their maps again, then record

Recording refuses to replace the figures of the same revision by other figures: bump ``METHOD_REVISION`` in
``hairtrack/imaging/analyze.py`` first (and say in its comment what changed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GUARD_DIR = ROOT / "tests" / "imaging" / "data" / "method_guard"
# (seed, difficulty, banner): scenes at 150 px/mm with 7 units each, one with a banner
SCENES = ((11, "easy", False), (12, "medium", True), (13, "hard", False))
SHAPE = (384, 480)
PX_PER_MM = 150.0
REL_TOL = 1e-3  # floats agree to 0.1%: the same code on another processor may round the last digits apart


def scene_paths(guard_dir: Path = GUARD_DIR) -> list[Path]:
    return [guard_dir / f"scene_{seed}.jpg" for seed, _, _ in SCENES]


def draw_inputs(guard_dir: Path = GUARD_DIR) -> None:
    """Render the scenes, save them as JPEG (quality 92), and save the shipped networks' maps of each."""
    from PIL import Image

    from hairtrack.imaging import learned
    from hairtrack.imaging.io import load_image
    from hairtrack.synth import render_scalp

    guard_dir.mkdir(parents=True, exist_ok=True)
    maps = {}
    for (seed, difficulty, banner), path in zip(SCENES, scene_paths(guard_dir)):
        scene = render_scalp(seed=seed, shape=SHAPE, px_per_mm=PX_PER_MM, n_units=7, difficulty=difficulty,
                             banner=banner)
        Image.fromarray(scene.image).save(path, quality=92)
        rgb = load_image(path).rgb
        _, m, stride = learned.predict_maps(rgb, learned._input_scale(*rgb.shape[:2], PX_PER_MM))
        maps[path.stem] = m.astype(np.float16)
        maps[path.stem + "_stride"] = np.array(stride)
    np.savez_compressed(guard_dir / "maps.npz", **maps)


def figures_of(path: Path, detector: str, maps: np.lib.npyio.NpzFile | None = None) -> dict:
    """What ``analyze`` makes of one guard photo. For ``learned``, the saved maps stand in for the networks."""
    from hairtrack.imaging import learned
    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.io import load_image

    rgb = load_image(path).rgb
    if detector == "learned":
        if maps is None:
            raise ValueError("the learned detector's figures need the saved maps")
        saved = maps[path.stem].astype(np.float32)
        stride = int(maps[path.stem + "_stride"])

        def saved_maps(image, scale, *, model_path=None):
            work, _ = learned.network_input(image, scale)
            return work, saved, stride

        with mock.patch.object(learned, "predict_maps", saved_maps):
            a = analyze(rgb, PX_PER_MM, detector="learned")
    else:
        a = analyze(rgb, PX_PER_MM, detector=detector)
    return {"hair_count": a.hair_count, "hairs_whole": a.hairs_whole, "units": len(a.units),
            "hairs_per_cm2": a.hairs_per_cm2, "fu_per_cm2": a.fu_per_cm2, "mean_width_um": a.mean_width_um,
            "terminal_fraction": a.terminal_fraction, "quality_issues": sorted(a.quality.issues)}


def measure_all(guard_dir: Path = GUARD_DIR) -> dict:
    with np.load(guard_dir / "maps.npz") as maps:
        return {det: {p.stem: figures_of(p, det, maps if det == "learned" else None) for p in scene_paths(guard_dir)}
                for det in ("classical", "learned")}


def differences(recorded: dict, measured: dict, rel_tol: float = REL_TOL) -> list[str]:
    """Lines naming every figure that moved: numbers beyond ``rel_tol``, counts and issues at all."""
    out = []
    for det in sorted(set(recorded) | set(measured)):
        for scene in sorted(set(recorded.get(det, {})) | set(measured.get(det, {}))):
            a, b = recorded.get(det, {}).get(scene), measured.get(det, {}).get(scene)
            if a is None or b is None:
                out.append(f"{det} {scene}: {'not recorded' if a is None else 'not measured'}")
                continue
            for key in sorted(set(a) | set(b)):
                x, y = a.get(key), b.get(key)
                if isinstance(x, float) and isinstance(y, float):
                    same = abs(x - y) <= rel_tol * max(abs(x), abs(y), 1e-9)
                else:
                    same = x == y
                if not same:
                    out.append(f"{det} {scene} {key}: recorded {x!r}, now {y!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--new-inputs", action="store_true", help="render the scenes and save their maps again first")
    ap.add_argument("--dir", type=Path, default=GUARD_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from hairtrack.imaging.analyze import METHOD_REVISION

    figures_path = args.dir / "figures.json"
    recorded = json.loads(figures_path.read_text()) if figures_path.is_file() else None
    if args.new_inputs or not (args.dir / "maps.npz").is_file():
        if recorded is not None and recorded["revision"] == METHOD_REVISION and not args.new_inputs:
            raise SystemExit(f"{args.dir / 'maps.npz'} is missing; give --new-inputs to draw the inputs again")
        draw_inputs(args.dir)
    measured = measure_all(args.dir)
    if recorded is not None and recorded["revision"] == METHOD_REVISION and not args.new_inputs:
        moved = differences(recorded["figures"], measured)
        if moved:
            print("\n".join(moved), file=sys.stderr)
            raise SystemExit(f"the same photos measure differently, yet METHOD_REVISION is still {METHOD_REVISION}: "
                             "bump it in hairtrack/imaging/analyze.py (saying what changed), then record again")
    figures_path.write_text(json.dumps({"revision": METHOD_REVISION, "figures": measured}, indent=1) + "\n")
    print(f"recorded revision {METHOD_REVISION}: {figures_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
