"""Commands for the record: profiles, treatments, sessions, devices, CSV import and export."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hairtrack import __version__
from hairtrack.cli._common import (
    DataDirOpt,
    DbOpt,
    HairtrackGroup,
    JsonOpt,
    ProfileOpt,
    emit_json,
    err,
    fail,
    open_store,
    out,
    read_input_file,
)
from hairtrack.domain import Sex, Treatment
from hairtrack.errors import CsvError, InputError
from hairtrack.tracking import Store, read_measurements_csv, read_treatments_csv, write_measurements_csv, write_treatments_csv
from hairtrack.tracking.io import export_document, format_amount, format_float, parse_date, parse_money, parse_treatment_kind
from hairtrack.tracking.store import ProfileSummary

__all__ = ["profile_app", "treatment_app", "session_app", "import_app", "device_app", "export", "render_profile"]

profile_app = typer.Typer(cls=HairtrackGroup, help="Add, list, show and delete profiles (people).", no_args_is_help=True)
treatment_app = typer.Typer(cls=HairtrackGroup, help="Record continuous treatments (finasteride, minoxidil, ...).", no_args_is_help=True)
session_app = typer.Typer(cls=HairtrackGroup, help="Record sessions of PRP, EV (exosome) or microneedling.", no_args_is_help=True)
import_app = typer.Typer(cls=HairtrackGroup, help="Import CSV files, all-or-nothing.", no_args_is_help=True)
device_app = typer.Typer(cls=HairtrackGroup, help="Saved capture devices and their scale (px/mm).", no_args_is_help=True)

DateArg = Annotated[str, typer.Option(help="Date, YYYY-MM-DD.", show_default=False)]


def _summary_dict(p: ProfileSummary) -> dict[str, object]:
    return {
        "name": p.name, "sex": p.sex, "note": p.note, "scans": p.scans, "visits": p.visits,
        "first_scan": p.first_scan, "last_scan": p.last_scan, "zones": [z.value for z in p.zones],
        "treatments": p.treatments, "sessions": p.sessions,
    }


# -- profile ----------------------------------------------------------------------------------------------


@profile_app.command("add")
def profile_add(
    name: Annotated[str, typer.Argument(help="A name you will recognise, e.g. 'me' or a patient code.")],
    sex: Annotated[Sex | None, typer.Option(help="Chooses the staging scale (Norwood or Ludwig/Sinclair).")] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Create a profile."""
    with open_store(db, data_dir) as store:
        summary = store.add_profile(name, sex=sex, note=note)
    if json:
        emit_json(_summary_dict(summary))
    else:
        out.print(f"added profile {summary.name}", markup=False)


@profile_app.command("list")
def profile_list(db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False) -> None:
    """List profiles with how many scans and treatments each has."""
    with open_store(db, data_dir) as store:
        profiles = store.list_profiles()
    if json:
        emit_json([_summary_dict(p) for p in profiles])
        return
    if not profiles:
        err.print("no profiles yet: 'hairtrack profile add NAME' or 'hairtrack import measurements FILE'")
        return
    table = Table("profile", "sex", "scans", "visits", "first scan", "last scan", "zones", "treatments", "sessions")
    for p in profiles:
        table.add_row(
            p.name, p.sex or "", str(p.scans), str(p.visits), str(p.first_scan or ""), str(p.last_scan or ""),
            ", ".join(z.value for z in p.zones), str(p.treatments), str(p.sessions),
        )
    out.print(table)


@profile_app.command("show")
def profile_show(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show a profile: density per zone and visit, treatments and sessions."""
    with open_store(db, data_dir) as store:
        render_profile(store, name, json=json)


def render_profile(store: Store, name: str, *, json: bool = False) -> None:
    """Print one profile's record (shared with 'hairtrack demo')."""
    summary = store.profile(name)
    measurements = store.measurements(name)
    treatments = store.treatments(name)
    if json:
        doc = export_document(
            [_summary_dict(summary)], measurements, treatments,
            exported_at=dt.datetime.now(dt.UTC), version=__version__,
        )
        emit_json(doc["profiles"][0])
        return
    out.print(f"[bold]{summary.name}[/bold]: {summary.scans} scans over {summary.visits} visits"
              f" ({summary.first_scan or '-'} to {summary.last_scan or '-'})")
    zones = [z for z in summary.zones]
    if measurements:
        table = Table(title="mean hairs/cm² per visit (replicates averaged; n = images)", title_justify="left")
        table.add_column("date")
        for z in zones:
            table.add_column(z.value, justify="right")
        by_visit: dict[dt.date, dict[str, list[float]]] = {}
        for m in measurements:
            value = m.hairs_per_cm2 if m.hairs_per_cm2 is not None else None
            if value is not None:
                by_visit.setdefault(m.date, {}).setdefault(m.zone.value, []).append(value)
        for date in sorted(by_visit):
            cells = []
            for z in zones:
                values = by_visit[date].get(z.value, [])
                cells.append(f"{sum(values) / len(values):.1f} (n={len(values)})" if values else "")
            table.add_row(str(date), *cells)
        out.print(table)
    if treatments:
        table = Table("treatment", "date", "end", "dose", "cost", "provider", title="treatments and sessions", title_justify="left")
        totals: dict[tuple[str, str], float] = {}
        for t in treatments:
            cost = f"{format_amount(t.cost.amount)} {t.cost.currency}" if t.cost else ""
            table.add_row(t.treatment.value, str(t.date), str(t.end_date or ""), t.dose or "", cost, t.provider or "")
            if t.cost:
                key = (t.treatment.value, t.cost.currency)
                totals[key] = totals.get(key, 0) + float(t.cost.amount)
        out.print(table)
        for (kind, currency), total in sorted(totals.items()):
            out.print(f"total spent on {kind}: {format_float(round(total, 2))} {currency}", markup=False)


@profile_app.command("delete")
def profile_delete(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Delete a profile with every scan, measurement, treatment, session and image file of it."""
    with open_store(db, data_dir) as store:
        summary = store.profile(name)
        if not yes:
            if not sys.stdin.isatty():
                fail(f"deleting {name!r} needs confirmation: add --yes")
            typer.confirm(
                f"Delete profile {name!r} with {summary.scans} scans and {summary.treatments} treatments? "
                "This cannot be undone", abort=True,
            )
        report = store.delete_profile(name)
    if json:
        emit_json(report)
    else:
        out.print(
            f"deleted profile {report.profile}: {report.scans} scans, {report.measurements} measurements, "
            f"{report.treatments} treatments, {report.sessions} sessions, {report.providers} providers, "
            f"{report.image_files} image files",
            markup=False,
        )


# -- treatments and sessions --------------------------------------------------------------------------------


def _treatment(
    profile: str, kind: str, date: str, end: str | None, dose: str | None, cost: str | None,
    currency: str | None, provider: str | None, note: str | None,
) -> Treatment:
    if (cost is None) != (currency is None):
        raise InputError("--cost and --currency go together (e.g. --cost 1500 --currency USD)")
    return Treatment(
        profile=profile,
        treatment=parse_treatment_kind(kind),
        date=parse_date(date),
        end_date=parse_date(end, column="end") if end else None,
        dose=dose,
        cost=parse_money(cost, currency) if cost is not None and currency is not None else None,
        provider=provider,
        note=note,
    )


CostOpt = Annotated[str | None, typer.Option(help="Amount paid, e.g. 1500 or 79.90 (needs --currency).", show_default=False)]
CurrencyOpt = Annotated[str | None, typer.Option(help="ISO 4217 code: USD, EUR, GBP, ...", show_default=False)]
ProviderOpt = Annotated[str | None, typer.Option(help="Clinic or supplier name.", show_default=False)]
NoteOpt = Annotated[str | None, typer.Option(help="Free text.", show_default=False)]


@treatment_app.command("add")
def treatment_add(
    profile: ProfileOpt,
    treatment: Annotated[str, typer.Option(help="finasteride, dutasteride, minoxidil_topical, minoxidil_oral, lllt, ketoconazole or other.")],
    start: DateArg,
    end: Annotated[str | None, typer.Option(help="Date stopped, YYYY-MM-DD (omit while ongoing).", show_default=False)] = None,
    dose: Annotated[str | None, typer.Option(help="e.g. '1 mg daily', '5% twice daily'.", show_default=False)] = None,
    cost: CostOpt = None,
    currency: CurrencyOpt = None,
    provider: ProviderOpt = None,
    note: NoteOpt = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Record a continuous treatment (started on --start, ongoing unless --end)."""
    t = _treatment(profile, treatment, start, end, dose, cost, currency, provider, note)
    if t.treatment.is_session:
        fail(f"{t.treatment.value} is recorded one session at a time: use 'hairtrack session add'")
    with open_store(db, data_dir) as store:
        _store_one(store, t)
    out.print(f"recorded {t.treatment.value} for {profile} from {t.date}" + (f" to {t.end_date}" if t.end_date else ""), markup=False)


@treatment_app.command("list")
def treatment_list(profile: ProfileOpt, db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False) -> None:
    """List a profile's treatments and sessions."""
    with open_store(db, data_dir) as store:
        rows = store.treatments(profile)
    if json:
        emit_json([treatment_row for treatment_row in export_document(
            [{"name": profile}], [], rows, exported_at=dt.datetime.now(dt.UTC), version=__version__
        )["profiles"][0]["treatments"]])
        return
    sys.stdout.write(write_treatments_csv(rows))


@session_app.command("add")
def session_add(
    profile: ProfileOpt,
    treatment: Annotated[str, typer.Option(help="prp, ev or microneedling.")],
    date: DateArg,
    dose: Annotated[str | None, typer.Option(help="e.g. '2 x 10^10 particles', '8 ml PRP'.", show_default=False)] = None,
    cost: CostOpt = None,
    currency: CurrencyOpt = None,
    provider: ProviderOpt = None,
    note: NoteOpt = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Record one session of a session treatment."""
    t = _treatment(profile, treatment, date, None, dose, cost, currency, provider, note)
    if not t.treatment.is_session:
        fail(f"{t.treatment.value} is a continuous treatment: use 'hairtrack treatment add'")
    with open_store(db, data_dir) as store:
        _store_one(store, t)
    out.print(f"recorded a {t.treatment.value} session for {profile} on {t.date}", markup=False)


def _store_one(store: Store, t: Treatment) -> None:
    store.profile(t.profile)  # a clear "no profile named" before anything else
    try:
        store.add_treatment(t)
    except CsvError as exc:  # the store speaks in rows; here there is one row and no file
        fail(exc.problems[0][1])


# -- import / export ------------------------------------------------------------------------------------------

CsvPath = Annotated[Path, typer.Argument(help="CSV file (UTF-8), or - for standard input.", show_default=False)]
ImportProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile for rows without one (the profile column may then be absent).", show_default=False),
]
CreateOpt = Annotated[bool, typer.Option("--create/--no-create", help="Create profiles named in the file that do not exist yet.")]


@import_app.command("measurements")
def import_measurements(
    path: CsvPath, profile: ImportProfileOpt = None, create: CreateOpt = True,
    db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False,
) -> None:
    """Import a measurements CSV: one row per analysed image (DESIGN 3.2). All rows or none."""
    data = read_input_file(path)
    try:
        parsed = read_measurements_csv(data, profile=profile)
        with open_store(db, data_dir) as store:
            report = store.import_measurements(parsed, create_profiles=create)
    except CsvError as exc:
        fail(exc, context=str(path))
    _report_import(report, "measurements", json)


@import_app.command("treatments")
def import_treatments(
    path: CsvPath, profile: ImportProfileOpt = None, create: CreateOpt = True,
    db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False,
) -> None:
    """Import a treatments CSV: a row per continuous treatment or per session (DESIGN 3.2). All rows or none."""
    data = read_input_file(path)
    try:
        parsed = read_treatments_csv(data, profile=profile)
        with open_store(db, data_dir) as store:
            report = store.import_treatments(parsed, create_profiles=create)
    except CsvError as exc:
        fail(exc, context=str(path))
    _report_import(report, "treatment rows", json)


def _report_import(report: object, what: str, json: bool) -> None:
    if json:
        emit_json(report)
        return
    created = getattr(report, "profiles_created")
    extra = f" (new profiles: {', '.join(created)})" if created else ""
    out.print(f"imported {getattr(report, 'rows')} {what}{extra}", markup=False)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"


class ExportTable(StrEnum):
    measurements = "measurements"
    treatments = "treatments"


def export(
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Only this profile (default: all).", show_default=False)] = None,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv: one table; json: everything, nested by profile.")] = ExportFormat.csv,
    table: Annotated[ExportTable, typer.Option(help="Which CSV table (csv format only).")] = ExportTable.measurements,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of standard output.", show_default=False)] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Export the record: the CSV reads back with 'hairtrack import' to the same rows."""
    import json as json_lib

    with open_store(db, data_dir) as store:
        profiles = [store.profile(profile)] if profile else store.list_profiles()
        measurements = store.measurements(profile)
        treatments = store.treatments(profile)
    if format is ExportFormat.csv:
        text = write_measurements_csv(measurements) if table is ExportTable.measurements else write_treatments_csv(treatments)
    else:
        doc = export_document(
            [{"name": p.name, "sex": p.sex.value if p.sex else None, "note": p.note} for p in profiles],
            measurements, treatments, exported_at=dt.datetime.now(dt.UTC), version=__version__,
        )
        text = json_lib.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out_path is None:
        sys.stdout.write(text)
    else:
        tmp = out_path.with_name(out_path.name + ".partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_path)
        err.print(f"wrote {out_path}", markup=False)


# -- devices ------------------------------------------------------------------------------------------------------


@device_app.command("add")
def device_add(
    name: Annotated[str, typer.Argument(help="e.g. 'dermlite-dl200' or 'pixel8-macro'.")],
    px_per_mm: Annotated[float, typer.Option("--px-per-mm", help="Image pixels per millimetre of scalp.", show_default=False)],
    uncertainty: Annotated[float | None, typer.Option("--uncertainty", help="Standard uncertainty of px/mm.", show_default=False)] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing device's scale.")] = False,
    note: NoteOpt = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Save a capture device with its known scale."""
    import math

    if uncertainty is not None and not (math.isfinite(uncertainty) and uncertainty >= 0):
        fail(f"--uncertainty must be a finite number >= 0, got {format_float(uncertainty)}")
    with open_store(db, data_dir) as store:
        info = store.add_device(name, px_per_mm, px_per_mm_uncertainty=uncertainty, note=note, replace=replace)
    if json:
        emit_json(info)
    else:
        out.print(f"saved device {info.name}: {format_float(info.px_per_mm)} px/mm", markup=False)
    _note_coarse(info.px_per_mm)


@device_app.command("calibrate")
def device_calibrate(
    name: Annotated[str, typer.Argument(help="Device to save (or recalibrate with --replace).")],
    image: Annotated[Path, typer.Argument(help="Photo of millimetre graph paper, a ruler or a checkerboard, taken with this device at its scan distance.", show_default=False)],
    grid_mm: Annotated[float, typer.Option("--grid-mm", help="Spacing of the grid lines in mm (a checkerboard: the side of one square).")] = 1.0,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing device's scale.")] = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Measure a device's px/mm from a photo of a grid, and save it."""
    from hairtrack.imaging import load_image, measure_grid

    measured = measure_grid(load_image(image).rgb, grid_mm=grid_mm)
    with open_store(db, data_dir) as store:
        info = store.add_device(
            name, measured.px_per_mm, px_per_mm_uncertainty=measured.uncertainty_px_per_mm,
            calibration_method="grid", note=f"measured from {image.name}", replace=replace,
        )
    if json:
        emit_json({"device": info, "grid": measured})
    else:
        out.print(
            f"saved device {info.name}: {measured.px_per_mm:.2f} ± {measured.uncertainty_px_per_mm:.2f} px/mm "
            f"(grid period {measured.period_px:.2f} px, "
            f"{'a checkerboard' if measured.pattern == 'checkerboard' else 'graph paper' if measured.axes == 2 else 'one set of lines'}"
            f"{', read from the lines’ positions: a few across the frame' if measured.read_from == 'line positions' else ''})",
            markup=False,
        )
    _note_coarse(measured.px_per_mm)


def _note_coarse(px_per_mm: float) -> None:
    """Say on stderr, when a device is saved, that its close-ups are too coarse for the learned detector."""
    from hairtrack.imaging.analyze import coarse_scale_sentence

    sentence = coarse_scale_sentence(px_per_mm)
    if sentence is not None:
        err.print(f"note: {sentence} Its close-ups will be named coarse_scale.", markup=False)


@device_app.command("list")
def device_list(db: DbOpt = None, data_dir: DataDirOpt = None, json: JsonOpt = False) -> None:
    """List saved devices."""
    with open_store(db, data_dir) as store:
        devices = store.devices()
    if json:
        emit_json(devices)
        return
    table = Table("device", "px/mm", "±", "method", "calibrated", "note")
    for d in devices:
        # to 0.01 px/mm, as 'device calibrate' prints it (a measured scale carries 15 digits); --json keeps them all
        table.add_row(d.name, format_float(round(d.px_per_mm, 2)),
                      format_float(None if d.px_per_mm_uncertainty is None else round(d.px_per_mm_uncertainty, 2)),
                      d.calibration_method, str(d.calibrated_on or ""), d.note or "")
    out.print(table)
