"""A change that moves what the same photo measures must bump METHOD_REVISION (scripts/record_method_figures.py).

Stored measurements carry their method's name, and the verdict compares visits of one method only; a change
of figures under an unchanged name would put a step into every person's series.
"""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "record_method_figures.py"


@pytest.fixture(scope="module")
def rec():
    return runpy.run_path(str(SCRIPT), run_name="record_method_figures")


def test_the_guard_photos_measure_as_recorded_for_this_revision(rec):
    from hairtrack.imaging.analyze import METHOD_REVISION

    recorded = json.loads((rec["GUARD_DIR"] / "figures.json").read_text())
    assert recorded["revision"] == METHOD_REVISION, (
        f"METHOD_REVISION is {METHOD_REVISION} but tests/imaging/data/method_guard/figures.json holds revision "
        f"{recorded['revision']}: run python scripts/record_method_figures.py")
    moved = rec["differences"](recorded["figures"], rec["measure_all"]())
    assert not moved, ("the same photos measure differently, yet METHOD_REVISION is unchanged: bump it in "
                       "hairtrack/imaging/analyze.py and record again (scripts/record_method_figures.py):\n"
                       + "\n".join(moved))


def test_the_guard_photos_hold_hairs_for_both_detectors(rec):
    """A guard over empty photos would guard nothing."""
    recorded = json.loads((rec["GUARD_DIR"] / "figures.json").read_text())["figures"]
    for det in ("classical", "learned"):
        assert len(recorded[det]) == 3
        assert all(f["hair_count"] >= 5 and f["hairs_per_cm2"] > 0 for f in recorded[det].values()), det


def test_a_moved_figure_is_caught_and_recording_it_needs_a_new_revision(rec, tmp_path, monkeypatch):
    """A decoding change (here: a higher threshold) moves the learned figures; the guard names them, and the
    recorder refuses to write them under the same revision, but records them once the revision is bumped."""
    import importlib

    from hairtrack.imaging import learned

    analyze_mod = importlib.import_module("hairtrack.imaging.analyze")  # the package exports the function

    guard = tmp_path / "guard"
    shutil.copytree(rec["GUARD_DIR"], guard)
    recorded = json.loads((guard / "figures.json").read_text())
    monkeypatch.setattr(analyze_mod, "detect_hairs_learned",
                        lambda image, **kw: learned.detect_hairs_learned(image, **{**kw, "threshold": 0.6}))
    moved = rec["differences"](recorded["figures"], rec["measure_all"](guard))
    assert moved and all(line.startswith("learned ") for line in moved)
    with pytest.raises(SystemExit, match="METHOD_REVISION is still"):
        rec["main"](["--dir", str(guard)])
    assert json.loads((guard / "figures.json").read_text()) == recorded  # nothing overwritten
    monkeypatch.setattr(analyze_mod, "METHOD_REVISION", recorded["revision"] + 1)
    assert rec["main"](["--dir", str(guard)]) == 0
    assert json.loads((guard / "figures.json").read_text())["revision"] == recorded["revision"] + 1


def test_differences_compare_counts_exactly_and_numbers_to_a_tolerance(rec):
    a = {"learned": {"s": {"hair_count": 9, "hairs_per_cm2": 100.0, "quality_issues": []}}}
    near = {"learned": {"s": {"hair_count": 9, "hairs_per_cm2": 100.05, "quality_issues": []}}}
    assert rec["differences"](a, near) == []
    far = {"learned": {"s": {"hair_count": 10, "hairs_per_cm2": 101.0, "quality_issues": ["blurred"]}}}
    assert len(rec["differences"](a, far)) == 3
    assert rec["differences"](a, {"learned": {}}) == ["learned s: not measured"]
    assert np.isfinite(rec["REL_TOL"]) and rec["REL_TOL"] <= 1e-2
