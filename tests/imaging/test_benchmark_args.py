"""The benchmarks refuse a bad --model before they read or draw any image (the data set need not be there)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "trichoscopy.py"
SYNTHETIC = SCRIPT.with_name("synthetic.py")


@pytest.mark.parametrize(("model", "message"), [(["missing.onnx"], "no such file"),
                                                (["a.onnx", "b.onnx", "c.onnx"], "one ONNX file or a pair")])
def test_a_bad_model_is_refused_with_its_reason(tmp_path, capsys, model, message):
    main = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--root", str(tmp_path), "--model", *(str(tmp_path / m) for m in model)])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [(["--model", "missing.onnx"], "no such file"),
                                               (["--model", "a", "b", "c"], "one ONNX file or a pair"),
                                               (["--threshold", "1.5"], "--threshold must be between 0 and 1"),
                                               (["--shaft-mm", "1.0", "0.5"], "--shaft-mm must be a range"),
                                               (["--shaft-mm", "0", "0.5"], "--shaft-mm must be a range")])
def test_the_synthetic_benchmark_refuses_a_bad_candidate(tmp_path, capsys, args, message):
    main = runpy.run_path(str(SYNTHETIC), run_name="synthetic")["main"]
    with pytest.raises(SystemExit) as exc:
        main([a if a.startswith("--") or a[0].isdigit() else str(tmp_path / a) for a in args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_synthetic_benchmark_refuses_a_negative_number_of_crossings(capsys):
    main = runpy.run_path(str(SYNTHETIC), run_name="synthetic")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--crossings", "-1"])
    assert exc.value.code == 2
    assert "--crossings must be 0 or more" in capsys.readouterr().err


def test_the_synthetic_benchmark_sorts_hairs_into_crossing_crossed_and_the_rest():
    """The hairs crossing_hairs adds are "crossing", those they cross "crossed"; hairs of one unit lying across each
    other are neither, and hairs the frame cuts are left out."""
    from hairtrack.synth.scalp import render_scalp

    kinds_of = runpy.run_path(str(SYNTHETIC), run_name="synthetic")["_crossing_kinds"]
    kw = dict(seed=3, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium")
    base, crossed = render_scalp(**kw), render_scalp(**kw, crossing_hairs=6)
    kinds = kinds_of(crossed.hairs)
    added = range(len(base.hairs), len(crossed.hairs))
    assert all(kinds[j] == 0 for j in added if not crossed.hairs[j].at_border)
    assert sum(k == 1 for k in kinds[:len(base.hairs)]) >= 4
    assert all(k == -1 for k, h in zip(kinds, crossed.hairs) if h.at_border)
    assert all(k == 2 for k in kinds_of(base.hairs) if k >= 0)  # this scene's own units do not cross


def test_misses_are_sorted_into_stacked_and_at_the_frame():
    """A missed box half inside a found one is a stacked shaft; one centred near the frame is at the edge."""
    miss_kinds = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["miss_kinds"]
    boxes = [("premium", 100, 100, 200, 140),   # found
             ("premium", 190, 130, 110, 110),   # missed, drawn right to left, inside the found one: stacked
             ("single", 300, 10, 340, 30),      # missed, centre 20 px from the top: at the edge
             ("single", 400, 400, 440, 440)]    # missed, neither
    assert miss_kinds(boxes, [0], (1024, 1280)) == {"missed": 3, "stacked": 1, "at_edge": 1}
    assert miss_kinds(boxes, [], (1024, 1280)) == {"missed": 4, "stacked": 0, "at_edge": 1}
    assert miss_kinds(boxes, [0, 1, 2, 3], (1024, 1280)) == {"missed": 0, "stacked": 0, "at_edge": 0}


def test_the_inference_benchmark_refuses_bad_counts_and_times_each_runtime(capsys):
    main = runpy.run_path(str(SCRIPT.with_name("inference.py")), run_name="inference")["main"]
    for bad in (["--threads", "0"], ["--repeats", "0"], ["--busy", "-1"]):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == 2
    assert main(["--repeats", "1", "--threads", "2"]) == 0
    rows = {line[:34].strip(): line[34:].split() for line in capsys.readouterr().out.splitlines()[2:6]}
    assert set(rows) == {"float, OpenCV DNN", "float, onnxruntime", "8-bit, onnxruntime (default)",
                         "8-bit, onnxruntime, spinning on"}
    assert float(rows["float, onnxruntime"][2]) < 1e-3  # the same float network, the same heat
    assert 0 < float(rows["8-bit, onnxruntime (default)"][2]) < 0.1  # 8 bits: close, not equal


def test_the_repeatability_benchmark_gives_published_iccs_and_refuses_bad_counts(capsys):
    """Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; their ICC(1,1) 0.17 and ICC(2,1) 0.29."""
    import numpy as np

    module = runpy.run_path(str(SCRIPT.with_name("repeatability.py")), run_name="repeatability")
    table = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    r = module["repeatability"](table)
    assert (round(r.icc_1, 2), round(r.icc_a1, 2)) == (0.17, 0.29)
    assert r.icc_1_ci95[0] < r.icc_1 < r.icc_1_ci95[1]
    assert abs(r.sem - np.sqrt(((table - table.mean(axis=1, keepdims=True)) ** 2).sum() / 18)) < 1e-12
    steady = module["repeatability"](np.array([[100.0, 100.0], [150.0, 150.0], [120.0, 120.0]]))
    assert (steady.icc_1, steady.icc_1_ci95, steady.cv_within_pct, steady.mdc95) == (1.0, (1.0, 1.0), 0.0, 0.0)
    with pytest.raises(ValueError, match="at least 2 spots and 2 takes"):
        module["repeatability"](np.ones((1, 3)))
    for bad in (["--takes", "1"], ["--spots", "1"], ["--real", "-2"], ["--threads", "0"]):
        with pytest.raises(SystemExit) as exc:
            module["main"](bad)
        assert exc.value.code == 2
    assert module["main"](["--spots", "2", "--takes", "2", "--real", "0", "--detectors", "classical"]) == 0
    out = capsys.readouterr().out
    assert out.count("truth (follicles in field)") == 3 and out.count("classical") == 3


def test_the_verdict_benchmark_takes_the_noise_it_simulates_and_the_prior_it_judges_with(capsys):
    main = runpy.run_path(str(SCRIPT.with_name("verdict.py")), run_name="verdict")["main"]
    for bad in (["--replicate-sd", "-0.1"], ["--refind-sd", "2"], ["--prior-replicate-sd", "-1"], ["--prior-replicate-sd", "0"]):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--refind-sd must be between 0 and at most 1" in err and "--prior-replicate-sd must be above 0" in err
    assert main(["--people", "8", "--replicate-sd", "0.12", "--prior-replicate-sd", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "replicate_sd_log=0.12" in out and "verdict prior: replicate_sd_log=0.1 (nu0=4)" in out


def test_the_remeasure_benchmark_refuses_a_single_job(capsys):
    main = runpy.run_path(str(SCRIPT.with_name("remeasure.py")), run_name="remeasure")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--jobs", "1"])
    assert exc.value.code == 2
    assert "--jobs must be at least 2" in capsys.readouterr().err


def test_the_close_up_check_runs_with_or_without_the_data_sets(capsys):
    """benchmarks/closeup_check.py: synthetic close-ups are never named overview photos; a data set that is not
    beside the project is reported as skipped, not as an error."""
    main = runpy.run_path(str(SCRIPT.with_name("closeup_check.py")), run_name="closeup_check")["main"]
    assert main(["--limit", "2", "--synthetic", "2"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("close-ups, synthetic"))
    assert line[44:].split()[:3] == ["2", "0", "0.0%"]  # n, flagged, share
    assert "head photos, norwood-photos-dev" in out


def test_the_folds_are_frozen_per_patient_as_first_drawn():
    """Which files are present moves no patient across the folds: the frozen list is the seeded split of its
    own patients, and an unknown patient gets a fold from its code alone."""
    ns = runpy.run_path(str(SCRIPT), run_name="trichoscopy")
    known = ns["frozen_folds"]()
    assert len(known) == 315 and sum(f == "tune" for f in known.values()) == 157
    assert ns["seeded_halves"](list(known)) == known
    names = [f"220101_{p}_1" for p in known]
    full = ns["patient_folds"](names)
    fewer = ns["patient_folds"](names[::3])
    assert all(fewer[n] == full[n] for n in fewer)
    # the old rule reshuffled everyone when a patient was missing
    assert ns["seeded_halves"](list(known)[::3]) != {p: known[p] for p in list(known)[::3]}
    new = ns["patient_folds"](["230101_Z999_1", "230102_Z999_2"])
    assert len(set(new.values())) == 1 and set(new.values()) <= {"tune", "report"}


def test_widths_by_class_give_quartiles_and_how_well_width_tells_thin_hairs():
    """Three of the four (thick, undersize) pairs read the thick one wider: AUC 0.75; a class with no hair is
    left out, and without undersize hairs there is no AUC."""
    width_by_class = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["width_by_class"]
    line = width_by_class({"premium": [60.0], "single": [25.0], "undersize": [20.0, 30.0], "abnormal": []})
    assert "undersize 25 [22-28] (n=2)" in line and "abnormal" not in line
    assert line.endswith("AUC 0.750")
    assert "AUC" not in width_by_class({"premium": [60.0, 70.0], "undersize": []})


def test_count_stats_survive_an_image_with_no_labelled_hair():
    count_stats = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["count_stats"]
    import numpy as np

    stats = count_stats(np.array([1.0, 12.0]), np.array([0.0, 10.0]))
    assert stats["MAE"] == 1.5 and stats["MAPE_pct"] == pytest.approx(60.0)


@pytest.mark.parametrize("line", ["A001 Tune", "A001 tune extra", "A001"])
def test_a_bad_line_in_the_folds_file_is_named(tmp_path, line):
    frozen_folds = runpy.run_path(str(SCRIPT), run_name="trichoscopy")["frozen_folds"]
    path = tmp_path / "folds.txt"
    path.write_text(f"# comment\n  # indented comment\nA002 report  # trailing comment\n{line}\n")
    with pytest.raises(ValueError, match="line 4"):
        frozen_folds(path)
    path.write_text("# comment\n  # indented\nA002 report  # trailing\n\nA003 tune\n")
    assert frozen_folds(path) == {"A002": "report", "A003": "tune"}


def test_the_long_shafts_benchmark_names_grown_out_renders_and_refuses_bad_counts(capsys):
    """benchmarks/long_shafts.py: one render per range is enough to see the lines it prints; bad counts are
    refused (the real part runs on two photos, or says it skipped)."""
    main = runpy.run_path(str(SCRIPT.with_name("long_shafts.py")), run_name="long_shafts")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--renders", "-1"])
    assert exc.value.code == 2
    assert main(["--limit", "2", "--renders", "1"]) == 0
    out = capsys.readouterr().out
    assert "real 70x photos" in out or "real photos: skipped" in out
    assert all(f"shafts {r} mm: flagged" in out for r in ("0.25-0.7", "0.6-1.6", "1-2.5"))
    assert "shafts 0.25-0.7 mm: flagged 0 of 1" in out  # clipped hair is never named


def test_the_coarse_scale_benchmark_prints_every_scale_and_refuses_bad_counts(capsys):
    """benchmarks/coarse_scale.py: one render is enough to see its table; the render's own scale is never named."""
    main = runpy.run_path(str(SCRIPT.with_name("coarse_scale.py")), run_name="coarse_scale")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--renders", "0"])
    assert exc.value.code == 2
    assert main(["--renders", "1"]) == 0
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.startswith(("learned", "classical"))]
    assert len(lines) == 14
    named = {(ln[0], float(ln[1])): ln[-1] for ln in lines}
    assert named["learned", 110.0] == "0%" and named["learned", 50.0] == "100%"
    assert named["classical", 50.0] == "0%"


def test_the_scale_bar_benchmark_skips_without_the_data_set_and_finds_a_drawn_bar(tmp_path, capsys):
    module = runpy.run_path(str(SCRIPT.with_name("scale_bar.py")), run_name="scale_bar")
    assert module["main"](["--root", str(tmp_path)]) == 0
    assert "skipped: data set not found" in capsys.readouterr().out
    grey = np.full((1024, 1280), 200, np.uint8)
    grey[924, 37:395] = 60  # the dermoscope's 1.0 mm bar, 358 px
    grey[700, 900:1200] = 60  # a line outside the corner it is drawn in: not the bar
    assert module["bar_length_px"](grey) == 358
    assert module["bar_length_px"](np.full((1024, 1280), 200, np.uint8)) == 0


def test_the_exposure_benchmark_keeps_clipped_skin_in_the_field(capsys):
    """One render per difficulty: every exposure gets its row, and skin blown white keeps the whole field."""
    main = runpy.run_path(str(SCRIPT.with_name("exposure.py")), run_name="exposure")["main"]
    with pytest.raises(SystemExit) as exc:
        main(["--seeds", "0"])
    assert exc.value.code == 2 and "--seeds must be at least 1" in capsys.readouterr().err
    assert main(["--seeds", "1"]) == 0
    rows = {line[2:16].strip(): line[16:].split() for line in capsys.readouterr().out.splitlines()[3:]}
    assert set(rows) == {"bright 1.25x", "bright 1.35x", "blown 2x", "dark 0.5x", "dark 0.4x"}
    photos, usable, _, _, _, named = rows["blown 2x"]
    assert photos == "2" and float(usable) > 0.95 and named == "100%"
