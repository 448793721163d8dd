"""Commands that judge and report: ``verdict`` and ``report``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer

from hairtrack.cli._common import DataDirOpt, DbOpt, JsonOpt, emit_json, err, fail, open_store, out, read_input_file
from hairtrack.errors import CsvError, HairtrackError, InputError
from hairtrack.tracking import read_measurements_csv, read_treatments_csv
from hairtrack.tracking.io import parse_date, parse_treatment_kind

__all__ = ["verdict", "report"]


def _render_verdict(v: dict) -> None:  # type: ignore[type-arg]
    o = v["overall"]
    et = v["evaluated_treatment"]
    out.print(f"[bold]{v['profile']}[/bold] as of {v['as_of']}: [bold]{o['verdict'].replace('_', ' ')}[/bold]"
              + (f" ({et['treatment']} since {et['start']}, {v['phase'].replace('_', ' ')})" if et["treatment"] else ""))
    for zone, z in v["zones"].items():
        ci = z.get("change_pct_ci95")
        change = f"{z['change_pct']:+.1f}% [{ci[0]:+.1f}, {ci[1]:+.1f}]" if z.get("change_pct") is not None and ci else "–"
        out.print(f"  {zone:10s} {change:28s} {z['verdict'].replace('_', ' ')}", markup=False)
    for message in v.get("messages", []):
        out.print(f"  - {message}", markup=False)
    for flag in v.get("flags", []):
        out.print(f"  ! {flag['code']}: {flag['message']}", markup=False)


def verdict(
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Judge a stored profile.", show_default=False)] = None,
    measurements: Annotated[Path | None, typer.Option("--measurements", help="Or judge straight from a measurements CSV (one JSON line per profile in it).", show_default=False)] = None,
    treatments: Annotated[Path | None, typer.Option("--treatments", help="The treatments CSV that goes with --measurements.", show_default=False)] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge the record as it stood on this date (YYYY-MM-DD).", show_default=False)] = None,
    treatment: Annotated[str | None, typer.Option("--treatment", help="The treatment to evaluate (default: the one started last).", show_default=False)] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Is the treatment working? A statistical verdict per zone and overall (JSON Lines with --json)."""
    from hairtrack.analysis import judge, verdict_to_dict
    from hairtrack.analysis.protocol import check_protocol, protocol_weights

    if (profile is None) == (measurements is None):
        fail("give either --profile or --measurements")
    if treatments is not None and measurements is None:
        fail("--treatments goes with --measurements")
    day = parse_date(as_of, column="--as-of") if as_of else None
    kind = parse_treatment_kind(treatment) if treatment else None
    records: dict[str, tuple[list, list, object]] = {}
    figures: dict = {}
    matched: list = []
    if profile is not None:
        from hairtrack.tracking.ingest import matched_pairs, registration_figures

        with open_store(db, data_dir) as store:
            summary = store.profile(profile)
            records[profile] = (store.measurements(profile), store.treatments(profile), summary.sex)
            analyses = store.scan_analyses(profile)
            figures = registration_figures(analyses)
            matched = matched_pairs(analyses)
    else:
        assert measurements is not None
        by_profile: dict[str, tuple[list, list, object]] = defaultdict(lambda: ([], [], None))
        try:
            for m in read_measurements_csv(read_input_file(measurements)).rows:
                by_profile[m.profile][0].append(m)
            if treatments is not None:
                for t in read_treatments_csv(read_input_file(treatments)).rows:
                    if t.profile in by_profile:
                        by_profile[t.profile][1].append(t)
                    else:
                        err.print(f"hairtrack: note: treatments of {t.profile!r} have no measurements; skipped", markup=False)
        except CsvError as exc:
            fail(exc, context="verdict input")
        records = dict(sorted(by_profile.items()))
    failed = False
    for name, (ms, ts, sex) in records.items():
        try:
            weights = protocol_weights(check_protocol(ms, treatments=ts, figures=figures))
            result = verdict_to_dict(judge(ms, ts, as_of=day, treatment=kind, profile=name, sex=sex, scan_weights=weights,
                                           matched=matched))
        except InputError:
            raise
        except HairtrackError as exc:
            err.print(f"hairtrack: error: {name}: {exc}", markup=False)
            failed = True
            continue
        if json:
            emit_json(result)
        else:
            _render_verdict(result)
    if failed:
        raise typer.Exit(1)


def report(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile to report on.", show_default=False)],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="FILE.pdf or FILE.html", show_default=False)],
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write the report a person takes to their dermatologist (PDF or HTML)."""
    from hairtrack.report import report_html, report_pdf
    from hairtrack.web.views import profile_record

    suffix = out_path.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        fail(f"--out must end in .pdf or .html, got {out_path.name!r}")
    with open_store(db, data_dir) as store:
        record = profile_record(store, profile)
    data = report_pdf(record) if suffix == ".pdf" else report_html(record).encode()
    tmp = out_path.with_name(out_path.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(out_path)
    out.print(f"wrote {out_path} ({len(data) / 1024:.0f} KB)", markup=False)
