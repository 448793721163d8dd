"""Quantize a hair detector network to 8-bit integers, calibrated on synthetic scalps only.

The shipped 8-bit pair (``hairtrack/imaging/models/hair_centernet_int8.onnx`` and
``hair_centernet_fragments_int8.onnx``) is made from the float networks by onnxruntime's static
post-training quantization (QDQ format, weights per output channel, activations per tensor). What it learns
from data is only each activation's range, and that is measured on ``--images`` scenes drawn by
:func:`hairtrack.synth.render_scalp` as the network's own training scenes are (``varied=True``, every
difficulty, a banner on 15% and a red circle on 25%; ``--fragments`` / ``--strip-edge`` as the fragment
network was trained), at seeds from ``CALIBRATION_SEED0`` up, away from the training, the benchmark and the
tests. No real photo is used. Each scene is a 1280 x 1024 photo at 220 px/mm (``--px-per-mm``: 358 for networks
trained on scenes drawn at the real photos' scale, with their ``--varied-shaft-mm`` and ``--varied-zoom``) put through
:func:`hairtrack.imaging.learned.network_input`, the detector's own resizing and exposure normalisation;
the fragment network sees the mirror image, as in :func:`hairtrack.imaging.learned.predict_maps`.

Weights use 7 of their 8 bits (``reduce_range``): onnxruntime's 8-bit convolution on x86 processors without
VNNI instructions can saturate a sum of two products of full-range weights, so full-range weights would
give different maps on different laptops; 7-bit ones give the same everywhere.

Usage (needs ``onnx``: ``pip install -e ".[train]"``; the main network's copy is calibrated on scenes drawn at the
real photos' scale since 2026-11-28, as half of its weights were trained)::

    python scripts/quantize_hair_detector.py hairtrack/imaging/models/hair_centernet.onnx \\
        hairtrack/imaging/models/hair_centernet_int8.onnx --px-per-mm 358 --varied-shaft-mm 0.15 0.9 \\
        --varied-zoom 0.8 1.6
    python scripts/quantize_hair_detector.py hairtrack/imaging/models/hair_centernet_fragments.onnx \\
        hairtrack/imaging/models/hair_centernet_fragments_int8.onnx --fragments 0.08 --strip-edge --mirror

It prints how far the 8-bit maps lie from the float ones on 8 further synthetic scenes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CALIBRATION_SEED0 = 3_000_000
CHECK_SEED0 = 3_100_000
SHAPE = (1024, 1280)
PX_PER_MM = 220.0


def calibration_inputs(n: int, seed0: int, *, fragments_per_mm2: float = 0.0, strip_edge: bool = False,
                       mirror: bool = False, px_per_mm: float = PX_PER_MM,
                       varied_shaft_mm: tuple[float, float] = (0.3, 1.6),
                       varied_zoom: tuple[float, float] = (0.7, 1.8)) -> Iterator[np.ndarray]:
    """The network inputs (1, 3, H, W) float32 of ``n`` synthetic photos drawn like the training scenes."""
    from hairtrack.imaging.learned import network_input
    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    for k in range(n):
        seed = seed0 + k
        rng = np.random.default_rng([seed, 11])
        banner, red_circle = bool(rng.random() < 0.15), bool(rng.random() < 0.25)
        sc = render_scalp(seed=seed, shape=SHAPE, px_per_mm=px_per_mm, difficulty=DIFFICULTIES[k % 3],
                          banner=banner, red_circle=red_circle, varied=True, fragments_per_mm2=fragments_per_mm2,
                          strip_edge=strip_edge, varied_shaft_mm=tuple(varied_shaft_mm),
                          varied_zoom=tuple(varied_zoom))
        # reduced by 2, as the training scenes were and as the shipped 8-bit pair was calibrated (a 70x photo at
        # its 358 px/mm reaches the network the same way)
        _, blob = network_input(sc.image, 0.5)
        yield np.ascontiguousarray(blob[..., ::-1]) if mirror else blob


def quantize(model: Path, out: Path, inputs: list[np.ndarray], *, method: str = "minmax",
             exclude: list[str] | None = None) -> None:
    """Write the 8-bit QDQ model of ``model`` to ``out``, activation ranges from ``inputs`` by ``method``
    (minmax, percentile or entropy); nodes named in ``exclude`` stay in float."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from hairtrack.imaging.learned import _load_net

    name = _load_net(str(model)).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(self._it, None)
            return None if blob is None else {name: blob}

    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(model), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        reduce_range=True, nodes_to_exclude=exclude or [],
                        calibrate_method={"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                                          "entropy": CalibrationMethod.Entropy}[method])


def record_provenance(out: Path, model: Path, calibration: dict) -> None:
    """Write into the model's metadata what it was made from: the float model's SHA-256, the calibration
    scenes and the onnxruntime version (its graph optimiser runs before quantization, so another version may
    give other bytes)."""
    import hashlib
    import json

    import onnx
    import onnxruntime

    m = onnx.load(str(out))
    meta = {"source": f"{model.name} sha256 {hashlib.sha256(model.read_bytes()).hexdigest()}",
            "calibration": json.dumps(calibration, sort_keys=True), "onnxruntime": onnxruntime.__version__}
    for key, value in meta.items():
        prop = m.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.save(m, str(out))


def map_differences(model: Path, quantized: Path, inputs: list[np.ndarray]) -> dict[str, float]:
    """Largest and mean absolute difference of the heatmap, and the share of cells over 0.3 in one map only."""
    from hairtrack.imaging.learned import _run_net

    worst = mean = flips = 0.0
    for blob in inputs:
        a, b = _run_net(str(model), blob), _run_net(str(quantized), blob)
        d = np.abs(a[0] - b[0])
        worst, mean = max(worst, float(d.max())), mean + float(d.mean()) / len(inputs)
        flips += float(((a[0] >= 0.3) != (b[0] >= 0.3)).mean()) / len(inputs)
    return {"heat_max_abs": worst, "heat_mean_abs": mean, "cells_flipped_at_0.3": flips}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="the float ONNX network")
    ap.add_argument("out", type=Path, help="where to write the 8-bit network")
    ap.add_argument("--images", type=int, default=48, help="synthetic calibration photos (default 48)")
    ap.add_argument("--fragments", type=float, default=0.0, metavar="PER_MM2",
                    help="loose fragments per mm² in the scenes, as the fragment network was trained (0.08)")
    ap.add_argument("--strip-edge", action="store_true", help="the scale bar's strip as the frame's edge")
    ap.add_argument("--mirror", action="store_true", help="calibrate on mirror images (the pair's second pass)")
    ap.add_argument("--method", choices=("minmax", "percentile", "entropy"), default="minmax",
                    help="how each activation's range is read from the calibration scenes")
    ap.add_argument("--exclude", nargs="*", default=[], metavar="NODE", help="nodes left in float")
    ap.add_argument("--px-per-mm", type=float, default=PX_PER_MM,
                    help="scale of the calibration scenes, as the network's training scenes were drawn (358 for "
                         "networks trained with --render-ppm 358); they are halved either way")
    ap.add_argument("--varied-shaft-mm", type=float, nargs=2, default=[0.3, 1.6], metavar=("LO", "HI"),
                    help="the scenes' shaft lengths, as in training (--varied-shaft-mm there)")
    ap.add_argument("--varied-zoom", type=float, nargs=2, default=[0.7, 1.8], metavar=("LO", "HI"),
                    help="the scenes' magnification range, as in training (--varied-zoom there)")
    args = ap.parse_args(argv)
    if not args.model.is_file():
        ap.error(f"no such model: {args.model}")
    if args.images < 1:
        ap.error("--images must be at least 1")
    if not (np.isfinite(args.px_per_mm) and args.px_per_mm > 0):
        ap.error("--px-per-mm must be a finite number > 0")
    for flag, (lo, hi) in (("--varied-shaft-mm", args.varied_shaft_mm), ("--varied-zoom", args.varied_zoom)):
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
            ap.error(f"{flag} must be a range LO HI with 0 < LO <= HI")
    opts = dict(fragments_per_mm2=args.fragments, strip_edge=args.strip_edge, mirror=args.mirror,
                px_per_mm=args.px_per_mm, varied_shaft_mm=tuple(args.varied_shaft_mm),
                varied_zoom=tuple(args.varied_zoom))
    quantize(args.model, args.out, list(calibration_inputs(args.images, CALIBRATION_SEED0, **opts)),
             method=args.method, exclude=args.exclude)
    record_provenance(args.out, args.model, {
        "images": args.images, "seeds_from": CALIBRATION_SEED0, "shape": list(SHAPE), "px_per_mm": args.px_per_mm,
        "varied_shaft_mm": list(args.varied_shaft_mm), "varied_zoom": list(args.varied_zoom),
        "fragments_per_mm2": args.fragments, "strip_edge": args.strip_edge, "mirror": args.mirror,
        "method": args.method, "exclude": args.exclude, "reduce_range": True, "real_photos": 0})
    check = list(calibration_inputs(8, CHECK_SEED0, **opts))
    diffs = map_differences(args.model, args.out, check)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB); against {args.model.name} on 8 other scenes: "
          + ", ".join(f"{k} {v:.4f}" for k, v in diffs.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
