"""`hairtrack analyze` and `hairtrack scan add` on synthetic scalps with known hairs, and on bad files."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import Result

from hairtrack.domain import Zone
from hairtrack.synth import render_scalp
from tests.conftest import snapshot
from tests.helpers import png_header_only

Cli = Callable[..., Result]
KEYS = ["image", "mode", "method", "hair_count", "hairs_whole", "hairs", "follicular_units", "px_per_mm", "area_cm2", "hairs_per_cm2", "fu_per_cm2",
        "hairs_per_fu", "mean_width_um", "terminal_fraction", "vellus_fraction", "coverage_pct", "quality", "warnings", "elapsed_ms"]


@pytest.fixture(scope="module")
def scalps(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("scalps")
    out = []
    for seed in (1, 2):
        scene = render_scalp(seed=seed, shape=(512, 640), px_per_mm=220.0, difficulty="easy")
        path = folder / f"scalp{seed}.jpg"
        Image.fromarray(scene.image).save(path, quality=92)
        out.append((path, len(scene.hairs)))
    return out


def test_json_lines_in_input_order_with_every_contract_key(local_cli: Cli, scalps: list[tuple[Path, int]]) -> None:
    result = local_cli("analyze", *(str(p) for p, _ in scalps), "--px-per-mm", "220", "--json")
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["image"] for o in objects] == [str(p) for p, _ in scalps]
    for obj, (_, truth) in zip(objects, scalps, strict=True):
        assert list(obj) == KEYS
        assert abs(obj["hair_count"] - truth) <= max(3, 0.3 * truth)  # the classical detector's stated tolerance
        # whole hairs, weighted for the frame's cut (imaging.density): at least their plain density
        assert 0 < obj["hairs_whole"] <= obj["hair_count"]
        assert obj["hairs_per_cm2"] >= obj["hairs_whole"] / obj["area_cm2"] * 0.999
    assert "\x1b[" not in result.stdout


def test_without_a_scale_per_area_values_are_null_with_a_warning(local_cli: Cli, tmp_path: Path) -> None:
    # without a scale a photo is taken for a whole 70x dermoscope frame: here one at half size (110 px/mm)
    scene = render_scalp(seed=1, shape=(512, 640), px_per_mm=110.0, difficulty="easy")
    path = tmp_path / "frame.jpg"
    Image.fromarray(scene.image).save(path, quality=92)
    obj = json.loads(local_cli("analyze", str(path), "--json").stdout)
    assert obj["px_per_mm"] is None and obj["hairs_per_cm2"] is None and obj["mean_width_um"] is None
    assert obj["hair_count"] > 0 and any("scale" in w for w in obj["warnings"])


def test_the_table_says_each_photos_warnings_on_stderr(local_cli: Cli, tmp_path: Path) -> None:
    """Without --json the table names each photo's issues; the sentences that say what they cost and what to do
    follow it on stderr, once per photo and issue (the missing scale once for the batch)."""
    scene = render_scalp(seed=5060, shape=(1024, 1280), px_per_mm=110.0, difficulty="medium")
    coarse = tmp_path / "coarse.png"
    Image.fromarray(scene.image).resize((640, 512), Image.Resampling.BOX).save(coarse)
    fine = tmp_path / "fine.png"
    Image.fromarray(scene.image).save(fine)
    result = local_cli("analyze", str(coarse), str(fine), "--px-per-mm", "55")
    assert result.exit_code == 0 and "coarse_" in result.stdout  # the narrow table folds the name
    warned = [ln for ln in result.stderr.splitlines() if ln.startswith("hairtrack: warning: ")]
    assert any(ln.startswith("hairtrack: warning: coarse.png: At 55 px/mm a hair 60 µm wide") for ln in warned)
    unscaled = local_cli("analyze", str(fine), str(fine))
    assert unscaled.stderr.count("no scale given") == 1 and "No scale given" not in unscaled.stderr


def test_parallel_jobs_give_the_same_answers(local_cli: Cli, scalps: list[tuple[Path, int]]) -> None:
    paths = [str(p) for p, _ in scalps] * 2
    one = [json.loads(x) for x in local_cli("analyze", *paths, "--px-per-mm", "220", "--json").stdout.splitlines()]
    two = [json.loads(x) for x in local_cli("analyze", *paths, "--px-per-mm", "220", "--json", "--jobs", "2").stdout.splitlines()]
    for a, b in zip(one, two, strict=True):
        a.pop("elapsed_ms"), b.pop("elapsed_ms")
        assert a == b


def test_each_bad_file_gets_its_own_message_and_the_batch_goes_on(local_cli: Cli, scalps: list[tuple[Path, int]], tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(render_scalp(seed=5, shape=(256, 256)).image).save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    files = {
        "empty.jpg": b"",
        "truncated.jpg": jpeg[: len(jpeg) // 3],
        "notes.jpg": b"this is a text file, not a photo\n",
        "dot.png": (lambda b: (Image.new("RGB", (1, 1)).save(b, "PNG"), b.getvalue())[1])(io.BytesIO()),
        "bomb.png": png_header_only(30_000, 30_000),
        "flat.png": (lambda b: (Image.fromarray(np.full((300, 300, 3), (40, 160, 40), np.uint8)).save(b, "PNG"), b.getvalue())[1])(io.BytesIO()),
        # a photo of something that is not scalp: a render's texture in the greens of a lawn
        "lawn.png": (lambda b: (Image.fromarray((render_scalp(seed=5, shape=(300, 300)).image.mean(axis=-1, keepdims=True)
                                                 * np.array([0.3, 0.9, 0.25])).astype(np.uint8)).save(b, "PNG"),
                                b.getvalue())[1])(io.BytesIO()),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    good = str(scalps[0][0])
    args = [good] + [str(tmp_path / n) for n in files] + [str(tmp_path / "missing.jpg"), good]
    result = local_cli("analyze", *args, "--px-per-mm", "220", "--json")
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["image"] for o in objects] == args
    errors = {Path(o["image"]).name: o.get("error") for o in objects}
    assert errors["empty.jpg"] == "the file is empty (0 bytes)"
    assert errors["truncated.jpg"].startswith("truncated or damaged image")
    assert errors["notes.jpg"] == "not an image hairtrack can read (it looks like a text file)"
    assert "1 x 1 px is too small" in errors["dot.png"]
    assert "900 MP is above the 64 MP limit" in errors["bomb.png"]
    assert errors["flat.png"] == "the image is blank (no texture at all)"
    assert errors["lawn.png"] == ("this does not look like a close-up of scalp skin (its colours are those of grass, "
                                  "sky or other things, not skin)")
    assert errors["missing.jpg"] == "no such file"
    assert objects[0]["hair_count"] > 0 and objects[-1]["hair_count"] == objects[0]["hair_count"]


def test_json_stays_on_stdout_while_the_bar_is_drawn_on_a_terminal(local_cli: Cli, scalps: list[tuple[Path, int]],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # `analyze --json > out.jsonl` in a terminal: stderr is a terminal, so the bar is live; stdout is a file
    from rich.console import Console

    import hairtrack.cli._common as common
    import hairtrack.cli.measuring as measuring

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(common, "err", terminal)
    monkeypatch.setattr(measuring, "err", terminal)
    result = local_cli("analyze", *(str(p) for p, _ in scalps), "--px-per-mm", "220", "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["image"] for line in result.stdout.splitlines()] == [str(p) for p, _ in scalps]
    assert "measuring" in screen.getvalue() and '"hair_count"' not in screen.getvalue()
    # stderr a file or a pipe: no bar, and nothing left there by one
    monkeypatch.undo()
    quiet = local_cli("analyze", *(str(p) for p, _ in scalps), "--px-per-mm", "220", "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_width_classes_names_oversized_files_and_faults_each_for_their_own_photo(local_cli: Cli, scalps: list[tuple[Path, int]],
                                                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = str(scalps[0][0])
    default = json.loads(local_cli("analyze", photo, "--px-per-mm", "220", "--json").stdout)
    wide = json.loads(local_cli("analyze", photo, "--px-per-mm", "220", "--json", "--vellus-max-um", "59",
                                "--terminal-min-um", "1000").stdout)
    widths = [h["width_um"] for h in default["hairs"]]
    assert default["terminal_fraction"] == pytest.approx(np.mean([w >= 60 for w in widths]))
    assert wide["terminal_fraction"] == 0.0 and wide["vellus_fraction"] == pytest.approx(np.mean([w < 59 for w in widths]))
    for bad in (["--vellus-max-um", "70"], ["--terminal-min-um", "inf"], ["--vellus-max-um", "0"]):
        refused = local_cli("analyze", photo, *bad)
        assert refused.exit_code == 1 and "need 0 < vellus_max_um <= terminal_min_um" in refused.stderr
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as fh:  # sparse: 600 MB on paper, nothing on disk
        fh.truncate(600 * 2**20)
    named = tmp_path / "crown [left].jpg"
    named.write_bytes(scalps[0][0].read_bytes())
    result = local_cli("analyze", str(huge), str(named), "--px-per-mm", "220")
    assert result.exit_code == 1 and "huge.jpg: the file is larger than 512 MB" in result.stderr
    assert "[left]" in result.stdout  # a name is not read as Rich markup (it once showed as "crown .jpg")
    import hairtrack.imaging.measure as measure

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(measure, "measure_upload", broken)
    faulty = [json.loads(x) for x in local_cli("analyze", photo, str(huge), "--json").stdout.splitlines()]
    assert faulty[0]["error"].startswith("could not be measured: an internal error (RuntimeError: a bug)")
    assert "larger than 512 MB" in faulty[1]["error"]


@pytest.mark.parametrize("value", ["0", "-3.2", "nan", "inf"])
def test_a_bad_scale_is_refused_before_any_work(local_cli: Cli, scalps: list[tuple[Path, int]], value: str) -> None:
    result = local_cli("analyze", str(scalps[0][0]), "--px-per-mm", value)
    assert result.exit_code == 1 and "--px-per-mm must be a finite number > 0" in result.stderr


def test_scan_add_saves_replicates_with_clean_images(cli: Cli, scalps: list[tuple[Path, int]], db_url: str) -> None:
    cli("profile", "add", "p1")
    assert cli("device", "add", "derm", "--px-per-mm", "220").exit_code == 0
    images = [str(p) for p, _ in scalps]
    result = cli("scan", "add", *images, "-p", "p1", "--zone", "crown", "--date", "2025-03-01", "--time", "08:30",
                 "--device", "derm", "--hair-length-mm", "1", "--json")
    assert result.exit_code == 0, result.output
    saved = [json.loads(x) for x in result.stdout.splitlines()]
    assert [s["replicate"] for s in saved] == [1, 2]
    exported = cli("export", "-p", "p1").stdout.splitlines()
    assert len(exported) == 3 and exported[1].startswith("p1,2025-03-01,crown,1,") and ",08:30,1,derm,,scalp1.jpg," in exported[1]
    shown = json.loads(cli("profile", "show", "p1", "--json").stdout)
    assert shown["scans"] == 2
    # two photos of the zone: the note says what a visit like this can show, and asks for a third
    assert "note: 2 photos of the crown on 2025-03-01" in result.stderr and "take 1 more" in result.stderr
    # the same photo again is not a third replicate, nor a later visit; a copy that differs only in its
    # metadata is the same photo
    before = snapshot(db_url)
    again = cli("scan", "add", images[0], "-p", "p1", "--zone", "crown", "--date", "2025-03-01", "--device", "derm")
    assert again.exit_code == 1 and "scalp1.jpg: this photo is already saved for p1 (2025-03-01 crown replicate 1)" in again.stderr
    tagged = Path(images[0]).with_name("tagged.jpg")
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"
    Path(tagged).write_bytes(Path(images[0]).read_bytes()[:2] + _app1(exif.tobytes()) + Path(images[0]).read_bytes()[2:])
    later = cli("scan", "add", str(tagged), "-p", "p1", "--zone", "crown", "--date", "2025-04-01", "--device", "derm")
    assert later.exit_code == 1 and "already saved for p1" in later.stderr
    mirrored = _mirrored(Path(images[0]), Path(images[0]).parent)
    twice = cli("scan", "add", str(mirrored), str(mirrored), "-p", "p1", "--zone", "crown", "--date", "2025-03-01",
                "--device", "derm")
    assert twice.exit_code == 1 and "the same photo as mirrored-scalp1.png earlier in this batch" in twice.stderr
    assert snapshot(db_url) == before
    third = cli("scan", "add", str(mirrored), "-p", "p1", "--zone", "crown", "--date", "2025-03-01", "--device", "derm")
    assert third.exit_code == 0 and "note:" not in third.stderr
    rows = snapshot(db_url)["scans"]
    assert len(rows) == 3 and all("'scalp" in repr(r) or "'mirrored" in repr(r) for r in rows)


def _mirrored(path: Path, folder: Path) -> Path:
    """Another photo of the same kind: ``path`` mirrored, saved as PNG in ``folder``."""
    out = folder / f"mirrored-{path.stem}.png"
    Image.open(path).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out)
    return out


def _app1(payload: bytes) -> bytes:
    """A JPEG APP1 (EXIF) segment holding ``payload``."""
    body = b"Exif\x00\x00" + payload
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_scan_add_reads_each_photo_once_so_a_pipe_works(cli: Cli, scalps: list[tuple[Path, int]], tmp_path: Path,
                                                        db_url: str) -> None:
    # a pipe (e.g. `<(curl ...)`) can be read only once: what is measured must be what is stored
    cli("profile", "add", "p1")
    fifo = tmp_path / "scalp.jpg"
    os.mkfifo(fifo)
    data = scalps[0][0].read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    done: list[Result] = []
    runner = threading.Thread(target=lambda: done.append(cli(
        "scan", "add", str(fifo), "-p", "p1", "--zone", "crown", "--date", "2025-03-01", "--px-per-mm", "220",
        "--json")), daemon=True)
    runner.start()
    runner.join(timeout=60)
    if runner.is_alive():  # it opened the pipe a second time and waits for a writer: give it one, and fail
        with open(fifo, "wb"):
            pass
        runner.join(timeout=30)
        pytest.fail("scan add read the pipe twice (the second read waited for a writer that was gone)")
    writer.join(timeout=10)
    result = done[0]
    assert result.exit_code == 0, result.output
    saved = json.loads(result.stdout)
    direct = json.loads(cli("analyze", str(scalps[0][0]), "--px-per-mm", "220", "--json").stdout)
    assert saved["replicate"] == 1 and saved["hair_count"] == direct["hair_count"] > 0
    assert len(snapshot(db_url)["scans"]) == 1


def test_scan_add_says_what_the_photos_quality_puts_in_doubt(local_cli: Cli, tmp_path: Path) -> None:
    """A blurred photo is saved (a bald spot's photo looks soft too), but its warning is printed beside the
    figure, not only kept in the record."""
    import cv2

    scene = render_scalp(seed=3, difficulty="easy")
    Image.fromarray(cv2.GaussianBlur(scene.image, (0, 0), 6)).save(tmp_path / "soft.png")
    local_cli("profile", "add", "p1")
    result = local_cli("scan", "add", str(tmp_path / "soft.png"), "-p", "p1", "--zone", "crown", "--date", "2025-03-01",
                       "--px-per-mm", "220")
    assert result.exit_code == 0 and "saved p1 2025-03-01 crown replicate 1" in result.stdout
    assert "hairtrack: warning: soft.png: The photo is blurry" in result.stderr


def test_scan_add_is_all_or_nothing(cli: Cli, scalps: list[tuple[Path, int]], tmp_path: Path, db_url: str) -> None:
    cli("profile", "add", "p1")
    before = snapshot(db_url)
    (tmp_path / "bad.jpg").write_bytes(b"")
    result = cli("scan", "add", str(scalps[0][0]), str(tmp_path / "bad.jpg"), "-p", "p1", "--zone", "crown",
                 "--date", "2025-03-01", "--px-per-mm", "220")
    assert result.exit_code == 1
    assert "bad.jpg: the file is empty" in result.stderr and "nothing was saved" in result.stderr
    assert snapshot(db_url) == before
    # a file that cannot be read at all is named in its place, and the others still are not saved
    missing = cli("scan", "add", str(tmp_path / "gone.jpg"), str(scalps[0][0]), "-p", "p1", "--zone", "crown",
                  "--date", "2025-03-01", "--px-per-mm", "220")
    assert missing.exit_code == 1 and "gone.jpg: no such file" in missing.stderr
    assert "1 of 2 images could not be measured" in missing.stderr and snapshot(db_url) == before
    noscale = cli("scan", "add", str(scalps[0][0]), "-p", "p1", "--zone", "crown", "--date", "2025-03-01")
    assert noscale.exit_code == 1 and "needs a scale" in noscale.stderr and "calibration card" in noscale.stderr
    assert snapshot(db_url) == before
    future = cli("scan", "add", str(scalps[0][0]), "-p", "p1", "--zone", "crown", "--date", "2999-01-01", "--px-per-mm", "220")
    assert future.exit_code == 1 and "is in the future" in future.stderr
    # a picture with no usable scalp gives no density: named for what it is (the database's own check once
    # refused the row and blamed a concurrent writer)
    rng = np.random.default_rng(0)
    ramp = np.clip(np.linspace(180, 236, 1280)[None, :] + rng.normal(0, 3, (960, 1280)), 0, 255).astype(np.uint8)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    bare = cli("scan", "add", str(scalps[0][0]), str(tmp_path / "ramp.png"), "-p", "p1", "--zone", "crown",
               "--date", "2025-03-01", "--px-per-mm", "220")
    assert bare.exit_code == 1 and "ramp.png: no density could be measured: only 0% of the picture is usable scalp" in bare.stderr
    assert "another process" not in bare.stderr and snapshot(db_url) == before
    # nor a picture too small to measure (its density is no density, not 0 hairs/cm²)
    Image.open(scalps[0][0]).crop((200, 200, 260, 248)).save(tmp_path / "tiny.png")
    tiny = cli("scan", "add", str(tmp_path / "tiny.png"), "-p", "p1", "--zone", "crown", "--date", "2025-03-01",
               "--px-per-mm", "220")
    assert tiny.exit_code == 1 and "tiny.png: no density could be measured: the picture is only 60 x 48 px" in tiny.stderr
    assert snapshot(db_url) == before


def test_scan_add_takes_the_scale_from_the_calibration_card_in_the_photo(cli: Cli, tmp_path: Path) -> None:
    from tests.imaging.test_card_in_photo import photo_with_card

    cli("profile", "add", "p1")
    path = tmp_path / "with-card.png"
    Image.fromarray(photo_with_card(8.0)).save(path)
    result = cli("scan", "add", str(path), "-p", "p1", "--zone", "crown", "--date", "2025-03-01", "--json")
    assert result.exit_code == 0, result.output
    saved = json.loads(result.stdout)
    assert saved["px_per_mm"] == pytest.approx(8.0, rel=0.03)
    assert any("scale read from the calibration card" in w for w in saved["warnings"])


def test_overview_photos_give_scalp_coverage(local_cli: Cli, tmp_path: Path) -> None:
    from tests.assessment.conftest import render_head

    paths = []
    for frac in (0.1, 0.6):
        path = tmp_path / f"head-{frac}.png"
        Image.fromarray(render_head(hair_from=frac, side=320)[0]).save(path)
        paths.append(str(path))
    result = local_cli("analyze", *paths, "--overview", "top", "--json")
    assert result.exit_code == 0, result.output
    much, little = (json.loads(x) for x in result.stdout.splitlines())
    assert much["mode"] == little["mode"] == "overview" and much["hair_count"] is None
    assert much["coverage_pct"] > little["coverage_pct"] + 20  # less hair drawn, less coverage measured
    # the quality object has a close-up's shape: ok and issues, figures flat beside them (none nested)
    assert {"ok", "issues"} <= set(much["quality"]) and "figures" not in much["quality"]
    lawn = tmp_path / "lawn.png"
    Image.fromarray(np.full((300, 300, 3), (40, 160, 40), np.uint8)).save(lawn)
    refused = local_cli("analyze", str(lawn), "--overview", "top", "--json")
    assert refused.exit_code == 1 and "no head found" in json.loads(refused.stdout)["error"]
    assert local_cli("analyze", paths[0], "--overview", "sideways").exit_code == 1


def test_overlays_circle_each_hair_found_and_never_overwrite_a_photo(local_cli: Cli, scalps: list[tuple[Path, int]],
                                                                     tmp_path: Path) -> None:
    first = scalps[0][0]
    twin = tmp_path / "other" / first.name  # the same name from another folder
    twin.parent.mkdir()
    twin.write_bytes(first.read_bytes())
    decoy = tmp_path / "out" / f"{first.stem}.overlay.png"  # a photo where the first overlay would go
    decoy.parent.mkdir()
    Image.fromarray(render_scalp(seed=9, shape=(64, 64)).image).save(decoy)
    decoy_bytes = decoy.read_bytes()
    paths = [str(first), str(twin), str(decoy), str(tmp_path / "missing.jpg")]
    result = local_cli("analyze", *paths, "--px-per-mm", "220", "--overlay", str(tmp_path / "out"), "--json")
    assert result.exit_code == 1  # the missing photo
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert decoy.read_bytes() == decoy_bytes
    names = [Path(o["overlay"]).name for o in objects[:3]]
    assert names == [f"{first.stem}-2.overlay.png", f"{first.stem}-3.overlay.png", f"{first.stem}.overlay.overlay.png"]
    assert "overlay" not in objects[3] and objects[3]["error"] == "no such file"
    obj = objects[0]
    with Image.open(obj["overlay"]) as shown:
        assert shown.format == "PNG" and shown.size == Image.open(first).size
        assert not shown.info.get("exif") and not getattr(shown, "text", {})  # a copy of health data carries nothing else
        drawn = np.asarray(shown.convert("RGB")).astype(int)
    photo = np.asarray(Image.open(first).convert("RGB")).astype(int)
    changed = np.abs(drawn - photo).sum(axis=2) > 60
    yy, xx = np.mgrid[: photo.shape[0], : photo.shape[1]]
    for hair in obj["hairs"]:  # a ring is drawn round every hair found, and nothing far from the hairs and units
        near = np.hypot(xx - hair["x_px"], yy - hair["y_px"]) < 1.5 * hair["width_px"] + 4
        assert changed[near].any()
    marks = [(h["x_px"], h["y_px"]) for h in obj["hairs"]] + [(u["x_px"], u["y_px"]) for u in obj["follicular_units"]]
    far = np.min([np.hypot(xx - x, yy - y) for x, y in marks], axis=0) > 60
    assert not changed[far].any()
    # an overlay that cannot be written loses nothing: the measurement is there, the failure named, exit 1
    (tmp_path / "out" / "scalp2.overlay.png").mkdir()
    blocked = local_cli("analyze", str(scalps[1][0]), "--px-per-mm", "220", "--overlay", str(tmp_path / "out"), "--json")
    kept = json.loads(blocked.stdout)
    assert blocked.exit_code == 1 and kept["hair_count"] > 0 and "overlay" not in kept
    assert kept["overlay_error"].startswith("the overlay could not be written to")


def test_overlays_of_overview_photos_and_a_folder_in_the_way(local_cli: Cli, tmp_path: Path) -> None:
    from tests.assessment.conftest import render_head

    head = tmp_path / "head.png"
    Image.fromarray(render_head(hair_from=0.4, side=320)[0]).save(head)
    result = local_cli("analyze", str(head), "--overview", "top", "--overlay", str(tmp_path / "a" / "b"))
    assert result.exit_code == 0, result.output
    shown = np.asarray(Image.open(tmp_path / "a" / "b" / "head.overlay.png").convert("RGB"))
    assert shown.shape == np.asarray(Image.open(head)).shape and "overlays written to" in result.stderr
    assert (shown != np.asarray(Image.open(head).convert("RGB"))).any()
    blocked = local_cli("analyze", str(head), "--overview", "top", "--overlay", str(head))
    assert blocked.exit_code == 1 and "a file of that name is in the way" in blocked.stderr and not blocked.stdout


def test_workers_share_the_cores_this_process_may_use(image_threads) -> None:
    import os

    from hairtrack.cli import measuring
    from hairtrack.imaging import learned

    assert 1 <= measuring._usable_cores() <= (os.cpu_count() or 1)
    measuring._init_worker(1)
    assert learned._THREADS == 1


def test_scan_remeasure_brings_stored_photos_to_one_method(cli: Cli, scalps: list[tuple[Path, int]], db_url: str) -> None:
    from hairtrack.imaging.analyze import measurement_method

    cli("profile", "add", "p1")
    for (path, _), day in zip(scalps, ("2025-03-01", "2025-04-01"), strict=True):
        assert cli("scan", "add", str(path), "-p", "p1", "--zone", "crown", "--date", day, "--px-per-mm", "220").exit_code == 0
    learned, classical = measurement_method("learned"), measurement_method("classical")

    def methods() -> list[str]:
        return [row.split(",")[-1] for row in cli("export", "-p", "p1").stdout.splitlines()[1:]]

    assert methods() == [learned, learned]
    idle = cli("scan", "remeasure", "-p", "p1")
    assert idle.exit_code == 0 and "already measured by" in idle.stdout
    # to another method and back: every figure follows the method, and the record says what it replaced
    result = cli("scan", "remeasure", "-p", "p1", "--detector", "classical", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(x["date"], x["method_before"], x["method"], x["saved"]) for x in lines] == [
        ("2025-03-01", learned, classical, True), ("2025-04-01", learned, classical, True)]
    assert lines[1]["registration_redone"] and methods() == [classical, classical]
    before = snapshot(db_url)
    preview = cli("scan", "remeasure", "-p", "p1", "--dry-run")
    assert preview.exit_code == 0 and "2 scans of p1 would be measured again (--dry-run: nothing saved)" in preview.stdout
    assert classical in preview.stdout and snapshot(db_url) == before
    assert cli("scan", "remeasure", "-p", "p1", "--zone", "donor").stdout.startswith("p1 has no stored photo of these zones")
    back = cli("scan", "remeasure", "-p", "p1", "--zone", "crown")
    assert back.exit_code == 0 and "2 scans of p1 measured again and saved" in back.stdout
    assert methods() == [learned, learned]


def test_scan_remeasure_in_parallel_saves_what_one_process_would(cli: Cli, scalps: list[tuple[Path, int]], db_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli("profile", "add", "p1")
    photos = [p for p, _ in scalps] + [_mirrored(p, tmp_path) for p, _ in scalps]  # a photo is saved once
    for path, day in zip(photos, ("2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"), strict=True):
        assert cli("scan", "add", str(path), "-p", "p1", "--zone", "crown", "--date", day, "--px-per-mm", "220").exit_code == 0
    from hairtrack.cli._common import open_store

    def analyses() -> dict:
        with open_store(None, None) as store:  # the test's database, as the commands see it
            return {k: {f: v for f, v in a.items() if f not in ("replaced", "elapsed_ms")}
                    for k, a in store.scan_analyses("p1").items()}

    in_turn = cli("scan", "remeasure", "-p", "p1", "--detector", "classical", "--json")
    assert in_turn.exit_code == 0, in_turn.output
    expected = analyses()
    assert cli("scan", "remeasure", "-p", "p1").exit_code == 0  # back to the learned detector, in turn
    assert analyses() != expected
    from hairtrack.cli import measuring

    pools: list[int] = []
    real_pool = measuring._pool
    monkeypatch.setattr(measuring, "_pool", lambda jobs: pools.append(jobs) or real_pool(jobs))
    parallel = cli("scan", "remeasure", "-p", "p1", "--detector", "classical", "--jobs", "2", "--json")
    assert pools == [2]  # one pool, for the measuring and the registrations
    assert parallel.exit_code == 0, parallel.output
    assert [json.loads(x)["hairs_per_cm2"] for x in parallel.stdout.splitlines()] == [
        json.loads(x)["hairs_per_cm2"] for x in in_turn.stdout.splitlines()]
    # the same figures and the same registrations (three scans have an earlier visit)
    assert analyses() == expected and sum("registration" in a for a in expected.values()) == 3


def _slow_mark(folder: str, i: int, fail_at: int) -> int:
    """A call for the pool tests (top-level, so worker processes can run it): fails at once at ``fail_at``,
    else leaves a mark in ``folder`` after a moment."""
    import time

    from hairtrack.errors import InputError

    if i == fail_at:
        raise InputError(f"photo{i} is broken")
    time.sleep(0.3)
    (Path(folder) / str(i)).touch()
    return i


def test_the_pool_map_keeps_order_bounds_memory_and_raises_at_the_bad_photo(tmp_path: Path) -> None:
    from hairtrack.cli.measuring import _map_in_pool, _pool
    from hairtrack.errors import InputError

    drawn: list[int] = []

    def args(fail_at: int):
        for i in range(10):
            drawn.append(i)
            yield str(tmp_path), i, fail_at

    with _pool(2) as pool:
        results = _map_in_pool(pool, 2)(_slow_mark, args(-1))
        assert next(results) == 0
        assert len(drawn) == 3  # every worker busy and one call waiting, no more
        assert list(results) == list(range(1, 10))
        for mark in tmp_path.iterdir():
            mark.unlink()
        drawn.clear()
        failing = _map_in_pool(pool, 2)(_slow_mark, args(0))
        with pytest.raises(InputError, match="photo0 is broken"):
            next(failing)
        assert len(drawn) == 3  # nothing more was drawn after the failure
    # only calls among the 2 submitted behind the failure can have run
    assert {int(p.name) for p in tmp_path.iterdir()} <= {1, 2}
    # closed early, it draws nothing more, and the pool shuts down after at most the calls in flight
    drawn.clear()
    with _pool(1) as pool:
        early = _map_in_pool(pool, 1)(_slow_mark, args(-1))
        assert next(early) == 0
        early.close()
        assert drawn == [0, 1]


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "nobody"], "no profile named 'nobody'"),
    (["-p", "p1", "--detector", "yolo"], "--detector must be classical or learned"),
    (["-p", "p1", "--zone", "nape"], "unknown zone 'nape'"),
])
def test_scan_remeasure_refuses_bad_requests(local_cli: Cli, args: list[str], message: str) -> None:
    local_cli("profile", "add", "p1")
    result = local_cli("scan", "remeasure", *args)
    assert result.exit_code == 1 and message in result.stderr


def _dies_on_the_doomed(path: str, *_: object) -> dict[str, str]:
    """A stand-in for the measurement, run in the worker processes: its process dies on one photo (as a
    worker killed for memory does)."""
    if "doomed" in path:
        os._exit(9)
    return {"image": path}


def test_a_worker_that_dies_fails_its_photo_and_the_batch_goes_on() -> None:
    """One worker killed (out of memory on a huge photo) broke the whole pool: a traceback and no result for
    any later photo."""
    from hairtrack.cli.measuring import _measure_in_pools

    names = ["a.jpg", "b.jpg", "doomed.jpg", "c.jpg", "d.jpg", "e.jpg"]
    results = list(_measure_in_pools([(n,) for n in names], 2, fn=_dies_on_the_doomed))
    assert [r["image"] for r in results] == names
    assert "error" not in results[0] and "error" not in results[-1]
    assert [r.get("error", "") for r in results].count(
        "could not be measured: the process measuring it stopped (out of memory?)") == 1
    assert "error" in results[2]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file")
def test_an_unreadable_photo_fails_alone(local_cli: Cli, scalps: list[tuple[Path, int]], tmp_path: Path) -> None:
    locked = tmp_path / "locked.jpg"
    locked.write_bytes(scalps[0][0].read_bytes())
    locked.chmod(0)
    result = local_cli("analyze", str(scalps[0][0]), str(locked), "--px-per-mm", "220", "--json")
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1 and len(objects) == 2 and "cannot read it" in objects[1]["error"]


@pytest.mark.skipif(os.name != "posix", reason="file names as bytes are POSIX")
def test_a_file_name_that_is_not_utf8_is_shown_and_saved(local_cli: Cli, cli: Cli, scalps: list[tuple[Path, int]],
                                                          tmp_path: Path) -> None:
    """A name from another system (Latin-1 bytes) wrote an invalid byte into the JSON lines, crashed the
    table, and crashed ``scan add`` when the name reached the database."""
    odd = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"scalp-\xe9t\xe9.jpg"))
    Path(odd).write_bytes(scalps[0][0].read_bytes())
    result = local_cli("analyze", odd, str(tmp_path / "gone\udcff.jpg"), "--px-per-mm", "220", "--json")
    lines = result.stdout.encode("utf-8", "surrogateescape").decode("utf-8").splitlines()  # valid UTF-8
    assert [json.loads(x)["image"] for x in lines] == [str(tmp_path / "scalp-\ufffdt\ufffd.jpg"),
                                                      str(tmp_path / "gone\ufffd.jpg")]
    assert local_cli("analyze", odd, "--px-per-mm", "220").exit_code == 0
    assert cli("profile", "add", "lat").exit_code == 0
    saved = cli("scan", "add", odd, "-p", "lat", "--zone", "crown", "--date", "2026-11-01", "--px-per-mm", "220",
                "--json")
    assert saved.exit_code == 0, saved.output
    assert json.loads(saved.stdout.splitlines()[0])["image"] == "scalp-\ufffdt\ufffd.jpg"


def _always_dies(path: str, *_: object) -> dict[str, str]:
    os._exit(9)


def test_workers_that_cannot_run_stop_the_batch_with_why() -> None:
    """Every photo was reported as "out of memory?" (two pool starts each) when no worker could run at all."""
    from hairtrack.cli.measuring import _measure_in_pools
    from hairtrack.errors import HairtrackError

    results = []
    with pytest.raises(HairtrackError, match="the worker processes stop before they measure anything"):
        for r in _measure_in_pools([(n,) for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg")], 2, fn=_always_dies):
            results.append(r)
    assert len(results) <= 1  # one photo may be blamed before the pattern shows


def test_json_lines_stay_valid_utf8_whatever_a_name_holds(capsys: pytest.CaptureFixture[str]) -> None:
    from hairtrack.cli._common import emit_json

    emit_json({"image": os.fsdecode(b"scan-\xff.jpg")})  # a file name's byte: one U+FFFD, as path_label gives
    emit_json({"other": "\ud800"})  # any other lone surrogate: replaced too, never a crash
    first, second = capsys.readouterr().out.splitlines()
    assert json.loads(first) == {"image": "scan-\ufffd.jpg"} and "\ufffd" in json.loads(second)["other"]


def test_scan_add_stores_a_copy_without_gps_camera_or_comment(local_cli: Cli, tmp_path: Path) -> None:
    """What `scan add` keeps of a phone's JPEG: its pixels, upright, and nothing of where, with what or of whom it
    was taken (the loader's copy, end to end through the command and the image store)."""
    from PIL import ExifTags

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 31.0, 12.0)}
    photo = tmp_path / "phone.jpg"
    Image.fromarray(render_scalp(seed=4, shape=(512, 640), px_per_mm=220.0).image).save(
        photo, "JPEG", exif=exif.tobytes(), quality=95, comment=b"patient 17")
    assert b"SecretCam" in photo.read_bytes() and b"patient 17" in photo.read_bytes()
    assert local_cli("profile", "add", "p1").exit_code == 0
    result = local_cli("scan", "add", str(photo), "-p", "p1", "--zone", "crown", "--date", "2025-03-01",
                       "--px-per-mm", "220")
    assert result.exit_code == 0, result.output
    # the image store's files are named by their SHA-256, without an extension
    stored = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and len(p.name) == 64]
    assert len(stored) == 1, stored
    data = stored[0].read_bytes()
    assert b"SecretCam" not in data and b"patient 17" not in data
    with Image.open(stored[0]) as kept:
        assert not kept.getexif() and kept.size == (640, 512)
