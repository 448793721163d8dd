"""Commands that measure photos: ``analyze`` (nothing stored) and ``scan add`` (analysed and saved)."""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.markup import escape
from rich.table import Column, Table

from hairtrack.cli._common import DataDirOpt, DbOpt, HairtrackGroup, JsonOpt, emit_json, err, fail, open_store, out, path_label, progress_bar, scale_option
from hairtrack.domain import Measurement, Zone
from hairtrack.errors import HairtrackError
from hairtrack.tracking.io import format_float, parse_date, parse_time, parse_zone

__all__ = ["analyze", "scan_app"]

scan_app = typer.Typer(cls=HairtrackGroup, help="Analyse close-up photos and save them to a profile.", no_args_is_help=True)

# readable=False: a file that cannot be read is that photo's error, not a usage error that stops the batch
ImagesArg = Annotated[list[Path], typer.Argument(help="Photos (JPEG, PNG, TIFF, WebP, HEIC).", show_default=False,
                                                 readable=False)]
ZoneOpt = Annotated[str | None, typer.Option("--zone", help="hairline, temples, mid_scalp, crown or donor.", show_default=False)]
ScaleOpt = Annotated[float | None, typer.Option("--px-per-mm", help="Image pixels per millimetre of scalp.", show_default=False)]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="A saved device (its px/mm is used).", show_default=False)]


def _measure_path(path: str, zone: str | None, px_per_mm: float | None, detector: str | None = None,
                  view: str | None = None, overlay_to: str | None = None,
                  width_classes_um: tuple[float, float] | None = None, data: bytes | None = None) -> dict[str, Any]:
    """One image to its analyze object, or ``{"image", "error"}`` (runs in worker processes). With
    ``overlay_to``, the photo with what was measured drawn on it is written there as PNG and the object
    names it under ``overlay``. ``data``: the file's bytes when the caller has read them already (what is
    measured must be what is stored). Its file names (and messages naming them) are :func:`path_label`'s."""
    result = _measured(path, zone, px_per_mm, detector, view, overlay_to, width_classes_um, data)
    shown = {k: path_label(result[k]) for k in ("image", "overlay", "error", "overlay_error") if k in result}
    return {**result, **shown} if shown else result


def _measured(path: str, zone: str | None, px_per_mm: float | None, detector: str | None, view: str | None,
              overlay_to: str | None, width_classes_um: tuple[float, float] | None,
              data: bytes | None) -> dict[str, Any]:
    from hairtrack.imaging.io import read_photo
    from hairtrack.imaging.measure import measure_overview, measure_upload, unusable_reason

    try:
        if data is None:
            data = read_photo(path)
        if view is not None:  # an overview (head) photo: coverage, not hair counts
            measured = measure_overview(data, path, view=view, zone=Zone(zone) if zone else None, px_per_mm=px_per_mm,
                                        overlay=overlay_to is not None)
            if not measured.result["overview"]["head_found"]:
                return {"image": path, "error": "no head found in this overview photo"}
        else:
            measured = measure_upload(data, path, zone=Zone(zone) if zone else None, px_per_mm=px_per_mm, overlay=False,
                                      detector=detector, width_classes_um=width_classes_um)
    except HairtrackError as exc:
        return {"image": path, "error": str(exc).removeprefix(f"{path}: ")}
    except Exception as exc:  # a fault of ours or of an image library: this photo fails, not the whole batch
        return {"image": path, "error": f"could not be measured: an internal error ({type(exc).__name__}: {exc}); "
                                        "please report it with the photo if you can"}
    result = measured.result
    reason = unusable_reason(result)
    if reason:
        return {"image": path, "error": reason}
    if overlay_to is not None:
        try:
            Path(overlay_to).write_bytes(_overlay_png(measured, view is not None))
        except OSError as exc:  # the measurement stands; the failure is named and sets the exit status
            return {**result, "overlay_error": f"the overlay could not be written to {overlay_to} ({exc.strerror})"}
        result = {**result, "overlay": overlay_to}
    return result


def _overlay_png(measured: Any, overview: bool) -> bytes:
    """The overlay as PNG bytes (no metadata: a scalp photo's copy carries no location). Close-ups keep up
    to 4096 px a side, so that single hairs stay visible on a 12 MP photo; head photos are shown at 1600."""
    import cv2

    from hairtrack.imaging.overlay import draw_analysis, encode_png

    if overview:
        shown = measured.overlay
        scale = min(1.0, 1600 / max(shown.shape[:2]))
        if scale < 1.0:
            shown = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return encode_png(shown)
    return encode_png(draw_analysis(measured.loaded.rgb, measured.result, max_side_px=4096))


def overlay_targets(paths: list[Path], folder: Path) -> list[Path]:
    """Where each photo's overlay goes: ``FOLDER/STEM.overlay.png``, numbered (``STEM-2.overlay.png``) when
    two photos share a name, and never one of the photos themselves.

    >>> [p.name for p in overlay_targets([Path("a/x.jpg"), Path("b/x.jpg"), Path("y.png")], Path("out"))]
    ['x.overlay.png', 'x-2.overlay.png', 'y.overlay.png']
    """
    inputs = {p.resolve() for p in paths}
    taken: set[Path] = set()
    out = []
    for p in paths:
        n, target = 1, folder / f"{p.stem}.overlay.png"
        while target in taken or target.resolve() in inputs:
            n += 1
            target = folder / f"{p.stem}-{n}.overlay.png"
        taken.add(target)
        out.append(target)
    return out


def _overlay_folder(folder: Path) -> Path:
    """Create the overlay folder (and its parents) before any work, or stop with why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        fail(f"--overlay {folder}: a file of that name is in the way; give a folder")
    except OSError as exc:
        fail(f"--overlay {folder}: cannot create it ({exc.strerror})")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"--overlay {folder}: no permission to write there")
    return folder


def _scale(px_per_mm: float | None, device: str | None, db: str | None, data_dir: Path | None) -> float | None:
    if px_per_mm is not None and device is not None:
        fail("give --px-per-mm or --device, not both")
    px_per_mm = scale_option(px_per_mm)
    if device is not None:
        with open_store(db, data_dir) as store:
            return store.device(device).px_per_mm
    return px_per_mm


def _usable_cores() -> int:
    """Cores this process may run on (its affinity, e.g. under taskset or a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    """Give a (spawned) worker process its share of the cores, for OpenCV and the detector alike."""
    from hairtrack.imaging.learned import set_threads

    set_threads(threads)


def _pool(jobs: int) -> ProcessPoolExecutor:
    """Worker processes sharing the cores: OpenCV and the detector would otherwise start a thread per core in
    each. Spawned, not forked: a forked copy of this process would inherit the image libraries' thread pools
    without their threads (the same on every platform; macOS and Windows spawn anyway)."""
    threads = max(1, _usable_cores() // jobs)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))


def _map_in_pool(pool: ProcessPoolExecutor, jobs: int) -> Callable[[Callable[..., Any], Iterable[tuple[Any, ...]]], Generator[Any, None, None]]:
    """An ordered map over ``pool`` (``jobs`` workers) that holds at most ``jobs + 1`` calls in flight (every
    worker busy and one waiting), so that only their arguments (a photo, or the photos of a run of
    registrations) are in memory at once; ``Executor.map`` would draw every argument first. A call that
    raised raises where its result is drawn. When the map is closed or left early, nothing more is drawn
    and the calls still waiting are cancelled; those a worker has taken finish first."""
    def map_calls(fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]) -> Generator[Any, None, None]:
        pending: deque[Future[Any]] = deque()
        try:
            for a in args:
                pending.append(pool.submit(fn, *a))
                if len(pending) > jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()

    return map_calls


def _run(paths: list[Path], zone: str | None, scale: float | None, jobs: int, detector: str | None = None,
         view: str | None = None, overlays: list[Path] | None = None,
         width_classes_um: tuple[float, float] | None = None,
         contents: list[bytes] | None = None) -> Iterator[dict[str, Any]]:
    """Results in input order, with a progress bar on stderr for batches. ``contents``: the files' bytes,
    already read (otherwise each worker reads its file)."""
    targets = [str(t) for t in overlays] if overlays is not None else [None] * len(paths)
    datas = contents if contents is not None else [None] * len(paths)
    args = [(str(p), zone, scale, detector, view, t, width_classes_um, d)
            for p, t, d in zip(paths, targets, datas, strict=True)]
    progress = progress_bar(TextColumn("measuring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            disable=len(paths) < 2)
    with progress:
        task = progress.add_task("measure", total=len(paths))
        if jobs == 1:
            for a in args:
                yield _measure_path(*a)
                progress.advance(task)
        else:
            for result in _measure_in_pools(args, jobs):
                yield result
                progress.advance(task)


def _measure_in_pools(args: list[tuple[Any, ...]], jobs: int,
                      fn: Callable[..., dict[str, Any]] = _measure_path) -> Iterator[dict[str, Any]]:
    """``fn(*a)`` for each of ``args`` in ``jobs`` worker processes, in order, at most ``jobs + 1`` in flight.

    A worker that dies (killed for memory by a 64 MP photo, or by the user) breaks the whole pool, and every
    call in flight fails with it. The first of them is then measured again alone in a fresh worker: if that
    one dies too, it is the photo that killed it and becomes an error; the batch goes on in a new pool. Workers
    that cannot run at all stop the batch with why (:func:`_if_the_pool_cannot_run`).
    """
    from concurrent.futures.process import BrokenProcessPool

    i, lone_deaths = 0, 0
    while i < len(args):
        with _pool(jobs) as pool:
            pending: deque[tuple[int, Future[dict[str, Any]]]] = deque()
            try:
                while i < len(args) or pending:
                    while i < len(args) and len(pending) <= jobs:
                        pending.append((i, pool.submit(fn, *args[i])))
                        i += 1
                    yield pending[0][1].result()
                    pending.popleft()
            except BrokenProcessPool as exc:
                _if_the_pool_cannot_run(exc, lone_deaths)
                first = pending[0][0]
                for _, f in pending:
                    f.cancel()
            else:
                return
        with _pool(1) as alone:
            try:
                result = alone.submit(fn, *args[first]).result()
                lone_deaths = 0
            except BrokenProcessPool as exc:
                lone_deaths += 1
                _if_the_pool_cannot_run(exc, lone_deaths)
                result = {"image": path_label(args[first][0]),
                          "error": "could not be measured: the process measuring it stopped (out of memory?)"}
        yield result
        i = first + 1


def _if_the_pool_cannot_run(exc: BaseException, lone_deaths: int) -> None:
    """Stop the batch, with why, when its workers cannot run at all rather than one photo killing its own: their
    start failed (a broken install), or two photos in a row each killed a fresh worker of their own."""
    if "initializer" in str(exc) or lone_deaths >= 2:
        raise HairtrackError(f"the worker processes stop before they measure anything ({exc}); run with --jobs 1 "
                             "to see why") from exc


def analyze(
    images: ImagesArg,
    zone: ZoneOpt = None,
    px_per_mm: ScaleOpt = None,
    device: DeviceOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = one per core).", min=0)] = 1,
    detector: Annotated[str | None, typer.Option("--detector", help="learned (the default: measured best on real photos) or classical (the documented fallback); see docs/hair_detector_card.md.", show_default=False)] = None,
    overview: Annotated[str | None, typer.Option("--overview", help="The photos are overview (head) photos from this view: front, top, left, right or back; gives scalp coverage instead of hair counts.", show_default=False)] = None,
    overlay: Annotated[Path | None, typer.Option("--overlay", help="Folder for a copy of each photo with what was measured drawn on it (STEM.overlay.png: hairs circled, follicular units boxed with their hair count; for overview photos, hair tinted blue and bare scalp orange). Copies carry no metadata.", show_default=False)] = None,
    vellus_max_um: Annotated[float, typer.Option("--vellus-max-um", help="Hairs thinner than this are vellus (vellus_fraction).")] = 30.0,
    terminal_min_um: Annotated[float, typer.Option("--terminal-min-um", help="Hairs at least this thick are terminal (terminal_fraction).")] = 60.0,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Measure close-up photos: hairs, density, follicular units, widths, quality. Nothing is stored.

    With --json: JSON Lines, one object per image in input order; an image that cannot be measured gives
    {"image", "error"} in its place, the others go on, and the exit status is 1. With --overlay, each
    object also names its overlay file under "overlay" (or why it could not be written under "overlay_error",
    the measurement kept, exit status 1).
    """
    the_zone = parse_zone(zone).value if zone else None
    scale = _scale(px_per_mm, device, db, data_dir)
    workers = jobs or _usable_cores()
    failed = 0
    table = Table(Column("image", overflow="fold"), "hairs", "hairs/cm²", "units/cm²", "hairs/unit", "width µm", "terminal",
                  Column("quality", overflow="fold"))
    if detector is not None and detector not in ("classical", "learned"):
        fail(f"--detector must be classical or learned, got {detector!r}")
    if overview is not None and overview not in ("front", "top", "left", "right", "back"):
        fail(f"--overview must be front, top, left, right or back, got {overview!r}")
    from hairtrack.imaging.analyze import NO_SCALE_SENTENCE, check_width_classes

    try:
        check_width_classes(vellus_max_um, terminal_min_um)
    except HairtrackError as exc:
        fail(f"--vellus-max-um / --terminal-min-um: {exc}")
    targets = overlay_targets(images, _overlay_folder(overlay)) if overlay is not None else None
    said: list[tuple[str, str]] = []  # each close-up's warnings, said under the table (the JSON carries them)
    for result in _run(images, the_zone, scale, min(workers, max(1, len(images))), detector, overview, targets,
                       (vellus_max_um, terminal_min_um)):
        failed += "error" in result or "overlay_error" in result
        if "overlay_error" in result and not json:
            err.print(f"hairtrack: {result['image']}: {result['overlay_error']}", markup=False)
        if json:
            emit_json(result)
        elif "error" in result:
            err.print(f"hairtrack: {result['image']}: {result['error']}", markup=False)
        elif result["mode"] == "overview":
            zones = ", ".join(f"{z} {f['coverage_pct']:.0f}%" for z, f in result["overview"]["zones"].items() if f["coverage_pct"] is not None)
            out.print(f"{Path(result['image']).name}: scalp coverage {result['coverage_pct']:.0f}% ({zones})", markup=False)
        else:
            terminal = result["terminal_fraction"]
            table.add_row(
                escape(Path(result["image"]).name), str(result["hair_count"]), _fmt(result["hairs_per_cm2"], 0),
                _fmt(result["fu_per_cm2"], 0), _fmt(result["hairs_per_fu"], 2), _fmt(result["mean_width_um"], 0),
                "–" if terminal is None else f"{100 * terminal:.0f}%", ", ".join(result["quality"]["issues"]) or "ok",
            )
            said += [(Path(result["image"]).name, w) for w in result["warnings"] if w != NO_SCALE_SENTENCE]
    if not json and table.row_count:
        out.print(table)
        for name, sentence in said:
            _warn(name, sentence)
        if scale is None and overview is None:  # once, not for every photo
            err.print("hairtrack: no scale given (--px-per-mm or --device): counts only, no per-area values", markup=False)
    if not json and overlay is not None and failed < len(images):
        err.print(f"hairtrack: overlays written to {overlay}", markup=False)
    if failed:
        raise typer.Exit(1)


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@scan_app.command("add")
def scan_add(
    images: ImagesArg,
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile (person) name.", show_default=False)],
    zone: Annotated[str, typer.Option("--zone", help="hairline, temples, mid_scalp, crown or donor.", show_default=False)],
    date: Annotated[str, typer.Option("--date", help="Visit date, YYYY-MM-DD.", show_default=False)],
    time: Annotated[str | None, typer.Option("--time", help="Time of day, HH:MM.", show_default=False)] = None,
    hair_length_mm: Annotated[float | None, typer.Option("--hair-length-mm", help="Hair length at the scan.", show_default=False)] = None,
    device: DeviceOpt = None,
    px_per_mm: ScaleOpt = None,
    lighting: Annotated[str | None, typer.Option("--lighting", help="e.g. 'bathroom LED'.", show_default=False)] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Analyse photos of one zone at one visit and save them (several images are replicates).

    All or nothing: if any image cannot be measured, none is saved. The stored copy of each photo has its
    location and camera metadata removed.
    """
    import datetime as dt

    from hairtrack.imaging.io import load_image, read_photo, sanitized_copy
    from hairtrack.imaging.measure import NO_SCALE_TO_SAVE
    from hairtrack.tracking.ingest import NewScan, save_scans

    the_zone = parse_zone(zone)
    day = parse_date(date, today=dt.date.today())
    at = parse_time(time, column="--time") if time else None
    if px_per_mm is not None and device is not None:
        fail("give --px-per-mm or --device, not both")
    px_per_mm = scale_option(px_per_mm)
    if hair_length_mm is not None and not (0 <= hair_length_mm <= 2000):
        fail(f"--hair-length-mm must be between 0 and 2000, got {format_float(hair_length_mm)}")
    with open_store(db, data_dir) as store:
        store.profile(profile)
        scale = px_per_mm if device is None else store.device(device).px_per_mm
        # Each file is read once: the bytes measured are the bytes stored, even from a pipe or a file that
        # changes on disk while the batch runs.
        contents: list[bytes | None] = []
        unread: dict[int, dict[str, Any]] = {}
        for i, path in enumerate(images):
            try:
                contents.append(read_photo(path))
            except HairtrackError as exc:
                contents.append(None)
                unread[i] = {"image": path_label(path), "error": path_label(str(exc).removeprefix(f"{path}: "))}
        ok = [i for i in range(len(images)) if i not in unread]
        measured = dict(zip(ok, _run([images[i] for i in ok], the_zone.value, scale, 1,
                                     contents=[contents[i] for i in ok]), strict=True))
        results = [unread[i] if i in unread else measured[i] for i in range(len(images))]
        # no scale given: each photo's calibration card gives its own, or the photo cannot be saved
        results = [r if "error" in r or r["px_per_mm"] is not None else {"image": r["image"], "error": NO_SCALE_TO_SAVE}
                   for r in results]
        bad = [r for r in results if "error" in r]
        if bad:
            for r in bad:
                err.print(f"hairtrack: {r['image']}: {r['error']}", markup=False)
            fail(f"{len(bad)} of {len(results)} images could not be measured; nothing was saved")
        scans = [NewScan(path_label(path.name), sanitized_copy(data)[0], load_image(data).rgb, {**r, "image": path_label(path.name)})
                 for path, r, data in zip(images, results, contents, strict=True)]
        template = Measurement(profile=profile, date=day, zone=the_zone, capture_time=at, hair_length_mm=hair_length_mm,
                               device=device, lighting=lighting)
        saved = save_scans(store, template, scans)
    if json:
        for m, r in zip(saved, results, strict=True):
            emit_json({"replicate": m.replicate, **r, "image": m.image})
    else:
        for m, r in zip(saved, results, strict=True):
            out.print(f"saved {profile} {m.date} {m.zone.value} replicate {m.replicate}: {format_float(round(m.hairs_per_cm2 or 0, 1))} hairs/cm² ({m.image})", markup=False)
            # what the photo's quality puts in doubt is said where the figure is (the JSON carries it too)
            for w in r.get("warnings", ()):
                _warn(m.image, w)
    from hairtrack.analysis.protocol import replicate_advice

    advice = replicate_advice(max(m.replicate for m in saved), the_zone, day)
    if advice:
        err.print(f"hairtrack: note: {advice}", markup=False)


def _warn(image: str, sentence: str) -> None:
    """Say on stderr what a photo's quality puts in doubt, one line per sentence."""
    err.print(f"hairtrack: warning: {image}: {sentence}", markup=False)


@scan_app.command("remeasure")
def scan_remeasure(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile (person) name.", show_default=False)],
    zone: Annotated[list[str] | None, typer.Option("--zone", help="Only this zone (may be repeated).", show_default=False)] = None,
    every: Annotated[bool, typer.Option("--all", help="Measure every stored photo again, not only those measured by another method.")] = False,
    detector: Annotated[str | None, typer.Option("--detector", help="learned (the default) or classical.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; save nothing.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0 = one per core).", min=0)] = 1,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Measure a profile's stored photos again with this version's method, so that old and new scans compare like for like.

    Each photo keeps its stored scale; registrations to earlier scans are redone where hairs changed; the
    replaced figures stay in each scan's analysis. All or nothing. With --json: JSON Lines, one object per scan.
    """
    from hairtrack.imaging.analyze import DEFAULT_DETECTOR, measurement_method
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.tracking.ingest import remeasure_scans

    if detector is not None and detector not in ("classical", "learned"):
        fail(f"--detector must be classical or learned, got {detector!r}")
    zones = [parse_zone(z) for z in zone] if zone else None
    method = measurement_method(detector or DEFAULT_DETECTOR)
    progress = progress_bar(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} steps"))

    workers = jobs or _usable_cores()
    measure = functools.partial(measure_stored, detector=detector)  # picklable, for the worker processes

    # one pool for the measuring and the registrations, started only when asked for
    with open_store(db, data_dir) as store, progress, (_pool(workers) if workers > 1 else contextlib.nullcontext()) as pool:
        task = progress.add_task("measuring stored photos again", total=None)
        done = remeasure_scans(store, profile, measure, method=method, zones=zones, every=every, save=not dry_run,
                               on_step=lambda label: progress.advance(task),
                               map_calls=None if pool is None else _map_in_pool(pool, workers))
        photos = sum(zones is None or m.zone in zones for m, _ in store.scan_images(profile))
    if json:
        for r in done:
            emit_json({**r.to_dict(), "saved": not dry_run})
        return
    if not done and not photos:
        out.print(f"{profile} has no stored photo{' of these zones' if zones else ''} to measure again (imported rows keep "
                  "their figures)", markup=False)
        return
    if not done:
        out.print(f"every stored photo of {profile} is already measured by {method}; nothing to do (--all measures them anyway)", markup=False)
        return
    table = Table("date", "zone", "rep", "method before", "hairs/cm² before", "now", "change")
    for r in done:
        b, a = r.before.hairs_per_cm2, r.after.hairs_per_cm2
        change = "–" if not b or a is None else f"{100 * (a / b - 1):+.1f}%"
        table.add_row(str(r.after.date), r.after.zone.value, str(r.after.replicate), r.before.method or "(not named)",
                      _fmt(b, 1), _fmt(a, 1), change)
    out.print(table)
    verb = "would be measured again (--dry-run: nothing saved)" if dry_run else "measured again and saved"
    out.print(f"{len(done)} scan{'s' if len(done) != 1 else ''} of {profile} {verb}, now by {method}", markup=False)
