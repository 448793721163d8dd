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
    try:
        moved = rec["differences"](recorded["figures"], rec["measure_all"]())
    except rec["InputChanged"] as exc:
        moved = [str(exc)]
    assert not moved, ("METHOD_REVISION is unchanged: bump it in hairtrack/imaging/analyze.py and record again "
                       "(scripts/record_method_figures.py):\n" + rec["_moved_message"](recorded, moved))


def test_the_guard_photos_hold_hairs_for_both_detectors(rec):
    """A guard over empty photos would guard nothing."""
    recorded = json.loads((rec["GUARD_DIR"] / "figures.json").read_text())["figures"]
    for det in ("classical", "learned"):
        assert len(recorded[det]) == 3
        assert all(f["hair_count"] >= 5 and f["hairs_per_cm2"] > 0 for f in recorded[det].values()), det


@pytest.fixture()
def guard(rec, tmp_path):
    out = tmp_path / "guard"
    shutil.copytree(rec["GUARD_DIR"], out)
    return out


def _analyze_module():
    import importlib

    return importlib.import_module("hairtrack.imaging.analyze")  # the package exports the function by this name


def test_a_moved_figure_is_caught_and_recording_it_needs_a_new_revision(rec, guard, monkeypatch):
    """A decoding change (here: a higher threshold) moves the learned figures; the guard names them, and the
    recorder refuses to write them under the same revision, with new inputs or without, but records them once
    the revision is bumped."""
    from hairtrack.imaging import learned

    analyze_mod = _analyze_module()
    recorded = json.loads((guard / "figures.json").read_text())
    monkeypatch.setattr(analyze_mod, "detect_hairs_learned",
                        lambda image, **kw: learned.detect_hairs_learned(image, **{**kw, "threshold": 0.6}))
    moved = rec["differences"](recorded["figures"], rec["measure_all"](guard))
    assert moved and all(line.startswith("learned ") for line in moved)
    for args in ([], ["--new-inputs"]):
        with pytest.raises(SystemExit, match="METHOD_REVISION is still"):
            rec["main"](args + ["--dir", str(guard)])
        assert json.loads((guard / "figures.json").read_text()) == recorded  # nothing overwritten
    monkeypatch.setattr(analyze_mod, "METHOD_REVISION", recorded["revision"] + 1)
    assert rec["main"](["--dir", str(guard)]) == 0
    again = json.loads((guard / "figures.json").read_text())
    assert again["revision"] == recorded["revision"] + 1 and again["figures"] != recorded["figures"]
    assert set(again["libraries"]) >= {"numpy", "opencv", "pillow"}


def test_a_change_to_what_the_networks_see_is_caught(rec, guard, monkeypatch):
    """The saved outputs answer one input each: another exposure normalisation, or a pass dropped, is named."""
    from hairtrack.imaging import learned

    monkeypatch.setattr(learned, "_TRAIN_MEDIAN_RGB", learned._TRAIN_MEDIAN_RGB * 1.3)
    with pytest.raises(rec["InputChanged"], match="another input"):
        rec["measure_all"](guard)
    monkeypatch.undo()
    monkeypatch.setattr(learned, "_PAIR_MAX_INPUT_PX", 1)  # the mirror pass switched off
    with pytest.raises(rec["InputChanged"], match="1 network passes"):
        rec["measure_all"](guard)
    monkeypatch.undo()
    with pytest.raises(SystemExit, match="METHOD_REVISION is still"):
        monkeypatch.setattr(learned, "_PAIR_MAX_INPUT_PX", 1)
        rec["main"](["--dir", str(guard)])


def test_missing_inputs_of_the_recorded_revision_are_not_drawn_again_silently(rec, guard):
    (guard / "passes.npz").unlink()
    before = (guard / "figures.json").read_text()
    with pytest.raises(SystemExit, match="missing"):
        rec["main"](["--dir", str(guard)])
    assert (guard / "figures.json").read_text() == before


def test_differences_compare_counts_exactly_and_numbers_to_a_tolerance(rec):
    a = {"learned": {"s": {"hair_count": 9, "hairs_per_cm2": 100.0, "quality_issues": []}}}
    near = {"learned": {"s": {"hair_count": 9, "hairs_per_cm2": 100.05, "quality_issues": [], "new": 1.0}}}
    assert rec["differences"](a, near) == []  # within the tolerance; a figure not yet recorded is new
    far = {"learned": {"s": {"hair_count": 10, "hairs_per_cm2": 101.0, "quality_issues": ["blurred"]}}}
    assert len(rec["differences"](a, far)) == 3
    assert rec["differences"](a, {"learned": {}}) == ["learned s: not measured"]
    assert rec["differences"](a, {"learned": {"s": {"hair_count": 9, "quality_issues": []}}}) == [
        "learned s hairs_per_cm2: recorded 100.0, now None"]
    assert np.isfinite(rec["REL_TOL"]) and rec["REL_TOL"] <= 1e-2


@pytest.mark.parametrize("damaged, message", [("passes.npz", "cannot be read"), ("figures.json", "is damaged")])
def test_damaged_guard_files_are_named_and_nothing_is_written(rec, guard, damaged, message):
    (guard / damaged).write_text("garbage")
    before = {f.name: f.read_bytes() for f in guard.iterdir()}
    with pytest.raises(SystemExit, match=message):
        rec["main"](["--dir", str(guard)])
    assert {f.name: f.read_bytes() for f in guard.iterdir()} == before
