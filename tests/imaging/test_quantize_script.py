"""scripts/quantize_hair_detector.py: the 8-bit networks are made from synthetic scenes only and stay faithful."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from hairtrack.imaging.learned import FLOAT_MODELS, _run_net

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "quantize_hair_detector.py"


@pytest.fixture()
def quant():
    return runpy.run_path(str(SCRIPT), run_name="quantize_hair_detector")


def test_calibration_scenes_are_the_detectors_own_inputs_of_synthetic_photos(quant):
    from hairtrack.imaging.learned import network_input
    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    first, mirrored = (list(quant["calibration_inputs"](2, 123, mirror=m)) for m in (False, True))
    assert first[0].shape == (1, 3, 512, 640) and first[0].dtype == np.float32
    assert np.array_equal(mirrored[1], first[1][..., ::-1])
    rng = np.random.default_rng([123, 11])
    banner, red_circle = bool(rng.random() < 0.15), bool(rng.random() < 0.25)
    sc = render_scalp(seed=123, shape=(1024, 1280), px_per_mm=220.0, difficulty=DIFFICULTIES[0], banner=banner,
                      red_circle=red_circle, varied=True)
    assert np.array_equal(first[0], network_input(sc.image, 0.5)[1])
    # scenes drawn like a network trained at the real photos' scale: the same photo size, halved
    true_scale = next(quant["calibration_inputs"](1, 123, px_per_mm=358.0, varied_shaft_mm=(0.15, 0.9),
                                                  varied_zoom=(0.8, 1.6)))
    sc = render_scalp(seed=123, shape=(1024, 1280), px_per_mm=358.0, difficulty=DIFFICULTIES[0], banner=banner,
                      red_circle=red_circle, varied=True, varied_shaft_mm=(0.15, 0.9), varied_zoom=(0.8, 1.6))
    assert np.array_equal(true_scale, network_input(sc.image, 0.5)[1])


def test_the_script_writes_a_small_8_bit_model_that_gives_the_float_maps(quant, tmp_path, capsys):
    pytest.importorskip("onnx")  # onnxruntime's quantization tools need it (the train extra)
    out = tmp_path / "q.onnx"
    assert quant["main"]([str(FLOAT_MODELS[0]), str(out), "--images", "3"]) == 0
    assert "heat_max_abs" in capsys.readouterr().out
    assert out.stat().st_size < FLOAT_MODELS[0].stat().st_size / 2
    import onnx

    assert {p.key for p in onnx.load(str(out)).metadata_props} >= {"onnxruntime", "calibration"}
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    blob = next(quant["calibration_inputs"](1, 99))
    f, q = (_run_net(str(m), blob) for m in (FLOAT_MODELS[0], out))
    assert np.abs(f[0] - q[0]).max() < 0.15  # three calibration scenes only: looser than the shipped pair's test


def test_bad_arguments_are_refused(quant, tmp_path):
    with pytest.raises(SystemExit):
        quant["main"]([str(tmp_path / "gone.onnx"), str(tmp_path / "q.onnx")])
    with pytest.raises(SystemExit):
        quant["main"]([str(FLOAT_MODELS[0]), str(tmp_path / "q.onnx"), "--images", "0"])
    for bad in (["--px-per-mm", "0"], ["--varied-shaft-mm", "1", "0.5"], ["--varied-zoom", "nan", "1"]):
        with pytest.raises(SystemExit):
            quant["main"]([str(FLOAT_MODELS[0]), str(tmp_path / "q.onnx")] + bad)
    assert not (tmp_path / "q.onnx").exists()
