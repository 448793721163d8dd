"""benchmarks/trichoscopy.py refuses a bad --model before it reads any image (the data set need not be there)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "trichoscopy.py"


@pytest.mark.parametrize(("model", "message"), [(["missing.onnx"], "no such file"),
                                                (["a.onnx", "b.onnx", "c.onnx"], "one ONNX file or a pair")])
def test_a_bad_model_is_refused_with_its_reason(tmp_path, capsys, model, message):
    main = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--root", str(tmp_path), "--model", *(str(tmp_path / m) for m in model)])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
