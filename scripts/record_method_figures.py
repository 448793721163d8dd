"""Record what the measuring code makes of a few fixed photos, so a change that moves it cannot land unnamed.

Every stored measurement carries the method that made it (``hairtrack.imaging.analyze.measurement_method``:
the detector, a fingerprint of the networks' weights, and ``METHOD_REVISION``). The capture check and the
verdict compare visits measured by one method only, so a change to decoding, gates, the density's definition
or the classical pipeline that moves the figures of the same photo must bump ``METHOD_REVISION``; otherwise a
person's series gets a step that the verdict would read as the treatment's doing.

``tests/imaging/test_method_guard.py`` enforces that. It measures the photos in
``tests/imaging/data/method_guard/`` (synthetic scenes, drawn through JPEG once and saved as PNG, so no JPEG
decoder comes in) with the classical pipeline and with the learned detector, whose two network passes are
replaced by their outputs saved beside the photos: the guard covers everything from the pixels to the figures
(the input's resizing and exposure normalisation, which it checks against a summary saved with the outputs;
the mirror pass and the averaging; decoding, gates, units, densities) except the weights, which the method's
fingerprint already names, and the processor's 8-bit arithmetic, which differs between processors. It
compares the figures with ``figures.json``, recorded for one ``METHOD_REVISION`` with the library versions
of the day.

Usage::

    python scripts/record_method_figures.py             # record the figures of the current revision
    python scripts/record_method_figures.py --new-inputs  # draw the scenes and the networks' passes again, then record

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
# (seed, difficulty, banner, shape): scenes at 150 px/mm with 7 units each, one with a banner, one 4:3 like a
# phone photo (the frame's shape sets the edge correction's grid: 5:4 frames alone missed a change of it)
SCENES = ((11, "easy", False, (384, 480)), (12, "medium", True, (384, 480)), (13, "hard", False, (384, 512)))
PX_PER_MM = 150.0
REL_TOL = 1e-3  # floats agree to 0.1%: the same code on another processor may round the last digits apart


PASSES = 2  # the network passes of one photo: the main network, then the fragment network on the mirror image
BLOB_BLOCK = 8  # the input's summary: means over blocks of this many pixels, per channel
BLOB_TOL = 0.5  # ... which must agree to half a grey level


class InputChanged(AssertionError):
    """The networks would see another input than the one their saved outputs answer."""


def scene_paths(guard_dir: Path = GUARD_DIR) -> list[Path]:
    """The guard photos, in the order of ``SCENES``."""
    return [guard_dir / f"scene_{seed}.png" for seed, *_ in SCENES]


def _blob_summary(blob: np.ndarray) -> np.ndarray:
    """Block means (3, H / BLOB_BLOCK, W / BLOB_BLOCK) of a network input (1, 3, H, W)."""
    _, c, h, w = blob.shape
    hb, wb = h // BLOB_BLOCK, w // BLOB_BLOCK
    return blob[0, :, :hb * BLOB_BLOCK, :wb * BLOB_BLOCK].reshape(c, hb, BLOB_BLOCK, wb, BLOB_BLOCK).mean(axis=(2, 4))


def library_versions() -> dict[str, str]:
    """Versions of the libraries the figures pass through: another version may round a pixel otherwise."""
    import cv2
    import PIL
    import scipy
    import skimage

    return {"numpy": np.__version__, "opencv": cv2.__version__, "pillow": PIL.__version__,
            "scipy": scipy.__version__, "scikit-image": skimage.__version__}


def draw_inputs(guard_dir: Path = GUARD_DIR) -> None:
    """Render the guard scenes (through JPEG, as a camera gives them), save them as PNG, and save the shipped
    networks' outputs for each with a summary of the input they answer (``passes.npz``).

    Parameters
    ----------
    guard_dir : Path
        Where the photos and ``passes.npz`` go.
    """
    from PIL import Image

    from hairtrack.imaging import learned
    from hairtrack.imaging.io import load_image
    from hairtrack.synth import render_scalp

    guard_dir.mkdir(parents=True, exist_ok=True)
    saved: dict[str, np.ndarray] = {}
    real_run = learned._run_net
    for (seed, difficulty, banner, shape), path in zip(SCENES, scene_paths(guard_dir)):
        scene = render_scalp(seed=seed, shape=shape, px_per_mm=PX_PER_MM, n_units=7, difficulty=difficulty,
                             banner=banner)
        Image.fromarray(scene.image).save(path, optimize=True)
        rgb = load_image(path).rgb
        calls: list[tuple[np.ndarray, np.ndarray]] = []

        def recording_run(model, blob, calls=calls):
            out = real_run(model, blob)
            calls.append((blob, out))
            return out

        with mock.patch.object(learned, "_run_net", recording_run):
            learned.predict_maps(rgb, learned._input_scale(*rgb.shape[:2], PX_PER_MM))
        if len(calls) != PASSES:
            raise SystemExit(f"predict_maps ran {len(calls)} network passes, not {PASSES}: update this script")
        for k, (blob, out) in enumerate(calls):
            saved[f"{path.stem}_pass{k}"] = out.astype(np.float16)
            saved[f"{path.stem}_input{k}"] = _blob_summary(blob).astype(np.float32)
    np.savez_compressed(guard_dir / "passes.npz", **saved)


def figures_of(path: Path, detector: str, passes: np.lib.npyio.NpzFile | None = None) -> dict:
    """What ``analyze`` makes of one guard photo.

    Parameters
    ----------
    path : Path
        A guard photo.
    detector : {"classical", "learned"}
        For ``learned``, the saved outputs in ``passes`` answer the network passes, after a check that each
        pass gets the input they were saved for (:class:`InputChanged` otherwise).
    passes : NpzFile, optional
        ``passes.npz``; needed for ``learned``.

    Returns
    -------
    dict
        ``hair_count``, ``hairs_whole``, ``units``, ``area_cm2``, ``hairs_per_cm2``, ``fu_per_cm2``,
        ``hairs_per_fu``, ``mean_width_um``, ``terminal_fraction``, ``coverage_pct`` and the sorted
        ``quality_issues``: what a stored scan keeps.
    """
    from hairtrack.imaging import learned
    from hairtrack.imaging.analyze import analyze
    from hairtrack.imaging.io import load_image

    rgb = load_image(path).rgb
    if detector == "learned":
        if passes is None:
            raise ValueError("the learned detector's figures need the saved network passes")
        calls = [0]

        def saved_run(model, blob):
            k = calls[0]
            calls[0] += 1
            if f"{path.stem}_pass{k}" not in passes:
                raise InputChanged(f"{path.name}: a network pass more than the {PASSES} saved")
            want = passes[f"{path.stem}_input{k}"]
            got = _blob_summary(blob)
            if got.shape != want.shape or float(np.abs(got - want).max()) > BLOB_TOL:
                raise InputChanged(f"{path.name}: network pass {k} gets another input than its saved output "
                                   "answers (resizing, padding, exposure normalisation or the mirror changed)")
            return passes[f"{path.stem}_pass{k}"].astype(np.float32)

        with mock.patch.object(learned, "_run_net", saved_run):
            a = analyze(rgb, PX_PER_MM, detector="learned")
        if calls[0] != PASSES:
            raise InputChanged(f"{path.name}: {calls[0]} network passes, not the {PASSES} saved")
    else:
        a = analyze(rgb, PX_PER_MM, detector=detector)
    return {"hair_count": a.hair_count, "hairs_whole": a.hairs_whole, "units": len(a.units),
            "area_cm2": a.area_cm2, "hairs_per_cm2": a.hairs_per_cm2, "fu_per_cm2": a.fu_per_cm2,
            "hairs_per_fu": a.hairs_per_fu, "mean_width_um": a.mean_width_um,
            "terminal_fraction": a.terminal_fraction, "coverage_pct": a.coverage_pct,
            "quality_issues": sorted(a.quality.issues)}


def measure_all(guard_dir: Path = GUARD_DIR) -> dict:
    """The figures of every guard photo by each detector: ``{detector: {photo stem: figures}}``.

    Raises :class:`InputChanged` when the networks would see another input than the saved one.
    """
    with np.load(guard_dir / "passes.npz") as passes:
        return {det: {p.stem: figures_of(p, det, passes if det == "learned" else None)
                      for p in scene_paths(guard_dir)}
                for det in ("classical", "learned")}


def differences(recorded: dict, measured: dict, rel_tol: float = REL_TOL) -> list[str]:
    """Lines naming every figure that moved: numbers beyond ``rel_tol``, counts and issues at all.

    A figure the record does not hold yet is new, not moved; one the record holds and the measure lacks is.
    """
    out = []
    for det in sorted(set(recorded) | set(measured)):
        for scene in sorted(set(recorded.get(det, {})) | set(measured.get(det, {}))):
            a, b = recorded.get(det, {}).get(scene), measured.get(det, {}).get(scene)
            if a is None or b is None:
                out.append(f"{det} {scene}: {'not recorded' if a is None else 'not measured'}")
                continue
            for key in sorted(a):
                x, y = a[key], b.get(key)
                if isinstance(x, float) and isinstance(y, float):
                    same = abs(x - y) <= rel_tol * max(abs(x), abs(y), 1e-9)
                else:
                    same = x == y
                if not same:
                    out.append(f"{det} {scene} {key}: recorded {x!r}, now {y!r}")
    return out


def _moved_message(recorded: dict, moved: list[str]) -> str:
    now = library_versions()
    then = recorded.get("libraries", {})
    changed = [f"{k} {then[k]} -> {v}" for k, v in now.items() if k in then and then[k] != v]
    note = (f" (or a library rounds otherwise: {', '.join(changed)}; then record again after a bump too, since "
            "stored scans would shift as well)") if changed else ""
    return "\n".join(moved) + f"\nthe same photos measure differently{note}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--new-inputs", action="store_true",
                    help="render the scenes and save the networks' passes again, then record")
    ap.add_argument("--dir", type=Path, default=GUARD_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from hairtrack.imaging.analyze import METHOD_REVISION

    figures_path = args.dir / "figures.json"
    try:
        recorded = json.loads(figures_path.read_text()) if figures_path.is_file() else None
        if recorded is not None and not isinstance(recorded.get("revision"), int):
            raise ValueError("no revision number")
    except (ValueError, AttributeError) as exc:
        raise SystemExit(f"{figures_path} is damaged ({exc}): restore it (git checkout) before recording") from exc
    have_inputs = (args.dir / "passes.npz").is_file() and all(p.is_file() for p in scene_paths(args.dir))
    if recorded is not None and recorded["revision"] == METHOD_REVISION:
        # The figures of this revision are recorded: nothing may replace them with other figures, new inputs
        # included, unless the current code still measures the recorded inputs as recorded.
        if not have_inputs:
            raise SystemExit(f"the inputs of revision {METHOD_REVISION} are missing from {args.dir}: restore them "
                             "(git checkout), or bump METHOD_REVISION to draw new ones")
        try:
            moved = differences(recorded["figures"], measure_all(args.dir))
        except InputChanged as exc:
            moved = [str(exc)]
        except (OSError, ValueError, KeyError) as exc:  # a damaged passes.npz or photo
            raise SystemExit(f"the inputs in {args.dir} cannot be read ({exc}): restore them (git checkout)") from exc
        if moved:
            print(_moved_message(recorded, moved), file=sys.stderr)
            raise SystemExit(f"METHOD_REVISION is still {METHOD_REVISION}: bump it in hairtrack/imaging/analyze.py "
                             "(saying what changed), then record again")
    if args.new_inputs or not have_inputs:
        draw_inputs(args.dir)
    measured = measure_all(args.dir)
    figures_path.write_text(json.dumps({"revision": METHOD_REVISION, "libraries": library_versions(),
                                        "figures": measured}, indent=1) + "\n")
    print(f"recorded revision {METHOD_REVISION}: {figures_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
