"""Commands of the capture protocol: ``compare``, ``card`` and ``schedule``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from hairtrack.cli._common import DataDirOpt, DbOpt, JsonOpt, emit_json, err, fail, open_store, out, path_label, scale_option

__all__ = ["compare", "card", "schedule"]


def compare(
    image_a: Annotated[Path, typer.Argument(help="The earlier photo of the zone.", show_default=False)],
    image_b: Annotated[Path, typer.Argument(help="The later photo of the same zone.", show_default=False)],
    px_per_mm: Annotated[float | None, typer.Option("--px-per-mm", help="Scale, for the hair detector's length limits.", show_default=False)] = None,
    side_by_side: Annotated[Path | None, typer.Option("--side-by-side", help="Also write the aligned pair, hairs marked, to this PNG.", show_default=False)] = None,
    blind: Annotated[bool, typer.Option("--blind", help="With --side-by-side: random order, no dates, no lost/new colours; the order goes to FILE.key.txt.")] = False,
    json: JsonOpt = False,
) -> None:
    """The same zone at two visits: overlap, transform, and the hairs kept, lost and new in the common field."""
    import numpy as np
    from PIL import Image

    from hairtrack.imaging import analyze, load_image
    from hairtrack.imaging.register import compare as compare_images
    from hairtrack.imaging.register import comparison_to_dict, match_tolerance_px

    px_per_mm = scale_option(px_per_mm)
    a, b = load_image(image_a), load_image(image_b)
    hairs, lengths = [], []
    for img in (a, b):
        found = analyze(img.rgb, px_per_mm, exclude=img.transparent).hairs  # see-through parts are no scalp
        hairs.append(np.array([(h.row_px, h.col_px) for h in found], dtype=float).reshape(-1, 2))
        lengths += [h.length_px for h in found]
    tol = match_tolerance_px(a.rgb.shape, lengths)
    result = comparison_to_dict(compare_images(a.rgb, b.rgb, hairs[0], hairs[1], tol_px=tol))
    result = {"image_a": path_label(image_a), "image_b": path_label(image_b), **result}
    if side_by_side is not None:
        from hairtrack.imaging.sidebyside import side_by_side as compose

        picture, order = compose(a.rgb, b.rgb, result, labels=(path_label(image_a.name), path_label(image_b.name)),
                                 blind=blind)
        Image.fromarray(picture).save(side_by_side)
        if blind:
            key = side_by_side.with_name(side_by_side.name + ".key.txt")
            names = (path_label(image_a), path_label(image_b))
            key.write_text(f"photo 1 = {names[order[0]]}\nphoto 2 = {names[order[1]]}\n")
            err.print(f"wrote {side_by_side} (blind; the order is in {key.name}: open it after judging)", markup=False)
        else:
            err.print(f"wrote {side_by_side}", markup=False)
    if json:
        emit_json(result)
        return
    if "different_field" in result["flags"]:
        out.print("different field: these photos do not show the same patch of scalp; "
                  "they are kept out of any change estimate (" + "; ".join(result.get("reasons", [])) + ")", markup=False)
        return
    out.print(f"overlap {result['overlap_pct']:.0f}% of the first photo; in the common field: "
              f"{len(result['kept'])} hairs kept, {len(result['lost'])} lost, {len(result['new'])} new"
              + (f" ({result['change_pct']:+.1f}%)" if result.get("change_pct") is not None else ""), markup=False)
    for flag in result["flags"]:
        out.print(f"  ! {flag}", markup=False)


def card(
    out_path: Annotated[Path, typer.Option("--out", "-o", help="PDF to write.", show_default=False)],
    dpi: Annotated[int, typer.Option(help="Print resolution: 600, 1200 or 2400.")] = 600,
) -> None:
    """Write the printable calibration card (ArUco markers, a millimetre scale, a grey patch)."""
    from hairtrack.imaging.card import card_pdf

    if out_path.suffix.lower() != ".pdf":
        fail(f"--out must end in .pdf, got {out_path.name!r}")
    card_pdf(out_path, dpi=float(dpi))  # refuses a resolution it does not print at, by name
    out.print(f"wrote {out_path}: print it at 100% (actual size) and check that the 50 mm bar measures 50 mm", markup=False)


def schedule(
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile.", show_default=False)],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="iCalendar file to write (.ics).", show_default=False)],
    months: Annotated[int, typer.Option(help="Months of monthly scans to plan.", min=1, max=36)] = 6,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write the baseline window and the monthly scans as calendar events, at the baseline's time of day."""
    from hairtrack.analysis.protocol import plan_schedule, schedule_ics

    with open_store(db, data_dir) as store:
        store.profile(profile)
        measurements, treatments = store.measurements(profile), store.treatments(profile)
    today = dt.date.today()
    plan, warnings = plan_schedule(measurements, treatments, today=today, months=months)
    text = schedule_ics(measurements, treatments, today=today, months=months, profile=profile)
    out_path.write_bytes(text.encode("utf-8"))
    if json:
        emit_json({"profile": profile, "out": str(out_path), "warnings": list(warnings),
                   "scans": [{"date": p.date, "time": p.time, "kind": p.kind, "label": p.label, "done": p.done} for p in plan]})
        return
    for warning in warnings:
        err.print(f"hairtrack: note: {warning}", markup=False)
    pending = [p for p in plan if not p.done]
    out.print(f"wrote {out_path}: {len(plan)} scans planned, {len(pending)} still to do"
              + (f"; next: {pending[0].label} on {pending[0].date} at {pending[0].time.strftime('%H:%M')}" if pending else ""), markup=False)
