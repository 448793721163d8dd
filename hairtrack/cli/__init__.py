"""The ``hairtrack`` command line: each command parses, calls one core function and renders."""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from typing import Annotated

import typer

from hairtrack import __version__
from hairtrack.cli import assessment_cmds, judging, measuring, protocol_cmds, providers_cmds, records, serving
from hairtrack.cli._common import DataDirOpt, DbOpt, HairtrackGroup, JsonOpt, emit_json, err, open_store, out, progress_bar, settings_from
from hairtrack.domain import Measurement
from hairtrack.errors import ConflictError
from hairtrack.tracking import Store
from hairtrack.tracking import read_measurements_csv, read_treatments_csv
from hairtrack.tracking.db import head_revision

__all__ = ["app", "main"]

app = typer.Typer(
    cls=HairtrackGroup,
    name="hairtrack",
    help="Measure scalp hair density from photos and track whether a treatment is working. "
    "Your data stays on this machine unless you export it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # never print health data in a traceback
)
app.add_typer(records.profile_app, name="profile")
app.add_typer(records.treatment_app, name="treatment")
app.add_typer(records.session_app, name="session")
app.add_typer(records.import_app, name="import")
app.add_typer(records.device_app, name="device")
app.add_typer(measuring.scan_app, name="scan")
app.command("analyze")(measuring.analyze)
app.command("export")(records.export)
app.command("verdict")(judging.verdict)
app.command("report")(judging.report)
app.command("serve")(serving.serve)
app.command("compare")(protocol_cmds.compare)
app.command("card")(protocol_cmds.card)
app.command("schedule")(protocol_cmds.schedule)
app.command("provider-check")(providers_cmds.provider_check)
app.command("info")(providers_cmds.info)
app.command("norwood")(assessment_cmds.norwood)
app.command("grafts")(assessment_cmds.grafts)
app.command("diagrams")(assessment_cmds.diagrams)

SAMPLE_PROFILE = "sample"
SAMPLE_NOTE = "hairtrack's bundled sample history (made up; safe to delete)"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hairtrack {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """hairtrack: local-first hair density tracking."""


@app.command()
def demo(
    images: Annotated[bool, typer.Option("--images/--no-images", help="Make a synthetic close-up for every scan and measure it (about 20 s), as the web demo does; without, import the sample's figures directly.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Leave an existing sample profile as it is.")] = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Load the bundled sample history as profile 'sample' (replacing an earlier copy) and show it.

    The sample is a made-up year: a finasteride stack, an EV course, monthly scans of four zones.
    """
    sample = resources.files("hairtrack.tracking") / "sample"
    measurements = read_measurements_csv((sample / "measurements.csv").read_bytes(), profile=SAMPLE_PROFILE)
    treatments = read_treatments_csv((sample / "treatments.csv").read_bytes(), profile=SAMPLE_PROFILE)
    with open_store(db, data_dir) as store:
        existing = {p.name: p for p in store.list_profiles()}
        if SAMPLE_PROFILE in existing:
            if existing[SAMPLE_PROFILE].note != SAMPLE_NOTE:
                raise ConflictError(
                    f"a profile named {SAMPLE_PROFILE!r} exists and is not the sample; rename it or use --db"
                )
            # An interrupted earlier run leaves a partial sample: keep only a complete one.
            complete = existing[SAMPLE_PROFILE].scans == len(measurements.rows) and existing[SAMPLE_PROFILE].treatments > 0
            keep = keep and complete
            if not keep:
                store.delete_profile(SAMPLE_PROFILE)
        if SAMPLE_PROFILE not in existing or not keep:
            store.add_profile(SAMPLE_PROFILE, note=SAMPLE_NOTE)
            if images:
                _demo_with_images(store, measurements.rows)
            else:
                store.import_measurements(measurements)
            store.import_treatments(treatments)
            if not json:
                err.print(f"loaded the sample history into {store.display_url}", markup=False)
        records.render_profile(store, SAMPLE_PROFILE, json=json)


def _demo_with_images(store: Store, rows: tuple[Measurement, ...]) -> None:
    """Render a close-up per sample row, measure it as any photo, and save it as a scan."""
    from rich.progress import Progress

    from hairtrack.imaging.io import sanitized_copy
    from hairtrack.imaging.measure import measure_upload
    from hairtrack.synth.history import images_for_history

    px_per_mm = 100.0
    with progress_bar(*Progress.get_default_columns()) as progress:
        task = progress.add_task("making and measuring the sample scans", total=len(rows))
        for row, jpeg in images_for_history(rows, px_per_mm=px_per_mm):
            name = f"{row.date}-{row.zone.value}-{row.replicate}.jpg"
            r = measure_upload(jpeg, name, zone=row.zone, px_per_mm=px_per_mm, overlay=False).result
            clean, _ = sanitized_copy(jpeg)
            store.add_scan(
                replace(row, hairs_per_cm2=r["hairs_per_cm2"], fu_per_cm2=r["fu_per_cm2"], hairs_per_fu=r["hairs_per_fu"],
                        mean_width_um=r["mean_width_um"], terminal_fraction=r["terminal_fraction"], image=name),
                image_bytes=clean, analysis=r,
            )
            progress.advance(task)


@app.command("db-info")
def db_info(db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False) -> None:
    """Show where the data is kept and the schema version (migrating an older database first)."""
    settings = settings_from(db, data_dir)
    with open_store(db, data_dir) as store:
        info = {
            "database": store.display_url,
            "dialect": store.dialect,
            "schema_revision": store.revision,
            "schema_head": head_revision(),
            "data_dir": str(settings.data_dir),
            "image_dir": str(settings.image_dir),
            "profiles": len(store.list_profiles()),
        }
    if json:
        emit_json(info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}", markup=False)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="hairtrack")
