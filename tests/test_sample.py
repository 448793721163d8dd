"""The sample history bundled for 'make run' is exactly what its generator script writes."""

from __future__ import annotations

import runpy
from pathlib import Path

from hairtrack.tracking import read_measurements_csv, read_treatments_csv

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "hairtrack" / "tracking" / "sample"


def test_bundled_sample_matches_its_generator(tmp_path: Path) -> None:
    runpy.run_path(str(ROOT / "scripts" / "make_sample_history.py"), run_name="sample")["main"](tmp_path)
    for name in ("measurements.csv", "treatments.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_bundled_sample_is_valid_input() -> None:
    measurements = read_measurements_csv((SAMPLE / "measurements.csv").read_bytes(), profile="sample").rows
    treatments = read_treatments_csv((SAMPLE / "treatments.csv").read_bytes(), profile="sample").rows
    assert len(measurements) == 144 and {m.zone.value for m in measurements} == {"hairline", "mid_scalp", "crown", "donor"}
    assert [t.treatment.value for t in treatments] == ["finasteride", "ev", "ev", "ev", "ev"]
