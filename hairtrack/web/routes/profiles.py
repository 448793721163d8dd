"""Profile pages: the list, the dashboard, adding scans, treatments and sessions, export, delete, report."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hairtrack import __version__
from hairtrack.domain import Measurement, Sex, Treatment, Zone
from hairtrack.errors import CsvError, InputError, NotFoundError
from hairtrack.imaging.calibration import check_px_per_mm
from hairtrack.imaging.io import sanitized_copy
from hairtrack.tracking import ingest, write_measurements_csv, write_treatments_csv
from hairtrack.tracking.ingest import NewScan
from hairtrack.tracking.io import export_document, parse_date, parse_money, parse_treatment_kind, parse_zone
from hairtrack.web.forms import form_number
from hairtrack.web.deps import CsrfChecked, OwnerStore, flash, render, run_limited, use_form_token
from hairtrack.imaging.measure import NO_SCALE_TO_SAVE, clean_filename, measure_upload, unusable_reason
from hairtrack.web.views import profile_record, zone_figure

router = APIRouter(prefix="/profiles", tags=["profiles"], include_in_schema=False)
FormToken = Depends(use_form_token)


def _opt(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _time(text: str | None) -> dt.time | None:
    text = _opt(text)
    if text is None:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise InputError(f"time must be HH:MM, got {text!r}") from None


def _attachment(filename: str) -> dict[str, str]:
    """A Content-Disposition that survives any profile name (RFC 6266: an ASCII fallback and UTF-8)."""
    from urllib.parse import quote

    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"}


@router.get("", response_class=HTMLResponse)
def list_profiles(request: Request, store: OwnerStore) -> HTMLResponse:
    return render(request, "profiles.html", {"profiles": store.list_profiles()})


@router.post("", dependencies=[CsrfChecked, FormToken])
def create_profile(
    request: Request, store: OwnerStore, name: Annotated[str, Form()], sex: Annotated[str, Form()] = "",
) -> RedirectResponse:
    if sex and sex not in {x.value for x in Sex}:
        raise InputError(f"sex must be male or female (or not said), got {sex!r}")
    profile = store.add_profile(name.strip(), sex=Sex(sex) if sex else None)
    flash(request, f"Profile {profile.name} created. Add baseline scans before the treatment starts.", "ok")
    return RedirectResponse(f"/profiles/{profile.name}", status_code=303)


@router.get("/{name}", response_class=HTMLResponse)
def dashboard(request: Request, store: OwnerStore, name: str, as_of: str | None = None) -> HTMLResponse:
    from hairtrack.analysis.protocol import visit_mdc95_pct
    from hairtrack.imaging.analyze import measurement_method

    record = profile_record(store, name, as_of=parse_date(as_of, column="as_of") if as_of else None)
    images = store.scan_images(name)
    try:
        method: str | None = measurement_method()
    except InputError:  # unreadable model files: the record still shows; measuring will say what is wrong
        method = None
    # scans with a photo measured by another method: the page offers to measure them again
    stale = [m for m, _ in images if method is not None and ingest.is_stale(m, method)]
    return render(request, "dashboard.html", {
        "record": record, "zones": [z.value for z in Zone], "today": dt.date.today().isoformat(), "today_date": dt.date.today(),
        "scans_with_images": {(m.date, m.zone, m.replicate): sha for m, sha in images},
        "method": method, "stale_methods": sorted({m.method or "(not named)" for m in stale}), "stale_scans": len(stale),
        "one_photo_mdc95": round(visit_mdc95_pct(1)),
    })


@router.post("/{name}/remeasure", dependencies=[CsrfChecked, FormToken])
async def remeasure(request: Request, store: OwnerStore, name: str) -> RedirectResponse:
    """Measure the profile's stored photos that an older method measured again (all or none)."""
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.imaging.measure import measure_stored

    store.profile(name)
    method = measurement_method()
    done = await run_limited(ingest.remeasure_scans, store, name, measure_stored, method=method)
    if done:
        flash(request, f"Measured {len(done)} scan{'s' if len(done) != 1 else ''} again with {method}; "
                       "the figures they replaced are kept with each scan.", "ok")
    else:
        flash(request, f"Every photo is already measured by {method}.", "ok")
    return RedirectResponse(f"/profiles/{name}", status_code=303)


@router.get("/{name}/charts/{zone}.svg")
def chart(store: OwnerStore, name: str, zone: str) -> Response:
    from hairtrack.report.charts import figure_svg

    record = profile_record(store, name)
    return Response(figure_svg(zone_figure(record, parse_zone(zone))), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store"})


async def save_scans(
    request: Request, store: Any, name: str, uploads: list[tuple[str, bytes]], *, zone: str, date: str,
    capture_time: str = "", hair_length_mm: str = "", device: str = "", lighting: str = "", px_per_mm: str = "",
) -> RedirectResponse:
    """Measure every upload first (one bad file saves none), then save each as a replicate."""
    store.profile(name)  # 404 before any work for a profile that is not this owner's
    the_zone = parse_zone(zone)
    day = parse_date(date, today=dt.date.today())
    scale = check_px_per_mm(form_number(px_per_mm, "px_per_mm"))
    if scale is None and _opt(device):
        try:
            scale = store.device(device.strip()).px_per_mm
        except NotFoundError:
            raise InputError(f"no saved device named {device.strip()!r}: give its scale (px/mm) instead") from None
    if not uploads:
        raise InputError("choose at least one photo")
    measured = [await run_limited(measure_upload, data, fname, zone=the_zone, px_per_mm=scale, overlay=False) for fname, data in uploads]
    for (fname, _), m in zip(uploads, measured, strict=True):  # as 'hairtrack scan add': no numbers from a non-scan
        reason = unusable_reason(m.result)
        if reason:
            raise InputError(f"{fname}: {reason}; nothing was saved")
        if m.result["px_per_mm"] is None:  # no scale given, and no calibration card in this photo to give one
            raise InputError(f"{fname}: {NO_SCALE_TO_SAVE}; nothing was saved")
    template = Measurement(
        profile=name, date=day, zone=the_zone, capture_time=_time(capture_time), device=_opt(device), lighting=_opt(lighting),
        hair_length_mm=form_number(hair_length_mm, "hair length (mm)", low=0, high=2000),
    )
    scans = [NewScan(fname, sanitized_copy(data)[0], m.loaded.rgb, m.result) for (fname, data), m in zip(uploads, measured, strict=True)]
    done = await run_limited(ingest.save_scans, store, template, scans)
    saved = len(done)
    flash(request, f"Saved {saved} scan{'s' if saved != 1 else ''} of the {the_zone.value.replace('_', ' ')} on {day}.", "ok")
    from hairtrack.analysis.protocol import replicate_advice

    advice = replicate_advice(max(m.replicate for m in done), the_zone, day)
    if advice:
        flash(request, advice[0].upper() + advice[1:] + ".", "info")
    return RedirectResponse(f"/profiles/{name}", status_code=303)


@router.post("/{name}/scans", dependencies=[CsrfChecked, FormToken])
async def add_scans(
    request: Request,
    store: OwnerStore,
    name: str,
    images: Annotated[list[UploadFile], File()],
    zone: Annotated[str, Form()],
    date: Annotated[str, Form()],
    capture_time: Annotated[str, Form()] = "",
    hair_length_mm: Annotated[str, Form()] = "",
    device: Annotated[str, Form()] = "",
    lighting: Annotated[str, Form()] = "",
    px_per_mm: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Analyse and save one or more images of one zone at one visit (replicates)."""
    uploads = [(clean_filename(u.filename), await u.read()) for u in images if u.filename]
    return await save_scans(request, store, name, uploads, zone=zone, date=date, capture_time=capture_time,
                            hair_length_mm=hair_length_mm, device=device, lighting=lighting, px_per_mm=px_per_mm)


@router.post("/{name}/treatments", dependencies=[CsrfChecked, FormToken])
def add_treatment(
    request: Request, store: OwnerStore, name: str,
    treatment: Annotated[str, Form()], date: Annotated[str, Form()],
    end_date: Annotated[str, Form()] = "", dose: Annotated[str, Form()] = "",
    cost: Annotated[str, Form()] = "", currency: Annotated[str, Form()] = "",
    provider: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
) -> RedirectResponse:
    store.profile(name)
    kind = parse_treatment_kind(treatment)
    if bool(_opt(cost)) != bool(_opt(currency)):
        raise InputError("give the cost and its currency together (e.g. 1500 and USD)")
    end = parse_date(end_date.strip(), column="end date") if _opt(end_date) else None
    if end is not None and kind.is_session:
        raise InputError(f"{kind.value} is recorded per session: leave the end date empty")
    row = Treatment(
        profile=name, treatment=kind, date=parse_date(date.strip()), end_date=end, dose=_opt(dose),
        cost=parse_money(cost, currency) if _opt(cost) else None, provider=_opt(provider), note=_opt(note),
    )
    try:
        store.add_treatment(row)
    except CsvError as exc:
        raise InputError(exc.problems[0][1]) from None
    what = "session" if kind.is_session else "treatment"
    flash(request, f"Recorded the {kind.value} {what} of {row.date}.", "ok")
    return RedirectResponse(f"/profiles/{name}", status_code=303)


@router.get("/{name}/export.csv")
def export_csv(store: OwnerStore, name: str, table: str = "measurements") -> Response:
    if table not in ("measurements", "treatments"):
        raise HTTPException(404, "no such table")
    text = write_measurements_csv(store.measurements(name)) if table == "measurements" else write_treatments_csv(store.treatments(name))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"hairtrack-{name}-{table}.csv"))


@router.get("/{name}/export.json")
def export_json(store: OwnerStore, name: str) -> Response:
    summary = store.profile(name)
    doc = export_document(
        [{"name": summary.name, "sex": summary.sex.value if summary.sex else None, "note": summary.note}],
        store.measurements(name), store.treatments(name), exported_at=dt.datetime.now(dt.UTC), version=__version__,
    )
    return Response(json.dumps(doc, ensure_ascii=False, indent=2), media_type="application/json",
                    headers=_attachment(f"hairtrack-{name}.json"))


@router.post("/{name}/delete", dependencies=[CsrfChecked])
def delete_profile(request: Request, store: OwnerStore, name: str, confirm: Annotated[str, Form()] = "") -> Response:
    store.profile(name)
    if confirm.strip() != name:
        raise InputError(f"to delete everything of {name}, type the profile name {name!r} in the box")
    report = store.delete_profile(name)
    flash(request, f"Deleted {name}: {report.scans} scans, {report.treatments} treatments, {report.sessions} sessions "
                   f"and {report.image_files} image files.", "ok")
    return RedirectResponse("/profiles", status_code=303)


@router.get("/{name}/images/{sha256}")
def image(store: OwnerStore, name: str, sha256: str) -> Response:
    from hairtrack.imaging.io import load_image

    data = store.image_of(name, sha256)
    kind = "image/jpeg" if load_image(data).format == "JPEG" else "image/png"
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{name}/report.{ext}")
def report(store: OwnerStore, name: str, ext: str) -> Response:
    from hairtrack.report import report_html, report_pdf

    record = profile_record(store, name)
    if ext == "pdf":
        return Response(report_pdf(record), media_type="application/pdf",
                        headers=_attachment(f"hairtrack-report-{name}.pdf"))
    if ext == "html":
        return HTMLResponse(report_html(record))
    raise HTTPException(404, "reports come as .pdf or .html")


@router.get("/{name}/compare", response_class=HTMLResponse)
def compare_scans(request: Request, store: OwnerStore, name: str, zone: str, a: str, b: str, blind: str = "") -> HTMLResponse:
    """Two scans of one zone side by side, aligned, with kept/lost/new hairs marked (optionally blind)."""
    import base64

    import numpy as np

    from hairtrack.imaging.io import load_image
    from hairtrack.imaging.overlay import encode_png
    from hairtrack.imaging.register import compare, comparison_to_dict, match_tolerance_px
    from hairtrack.imaging.sidebyside import side_by_side

    the_zone = parse_zone(zone)
    days = (parse_date(a, column="first date"), parse_date(b, column="second date"))
    found = {m.date: sha for m, sha in store.scan_images(name) if m.zone == the_zone and m.replicate == 1}
    missing = [d for d in days if d not in found]
    if missing:
        raise InputError(f"no photo of the {the_zone.value.replace('_', ' ')} on {missing[0]} in this profile")
    analyses = store.scan_analyses(name)
    rgbs = [load_image(store.image_of(name, found[d])).rgb for d in days]
    hairs = [analyses.get((d, the_zone, 1), {}).get("hairs", []) for d in days]
    points = [np.array([(h["y_px"], h["x_px"]) for h in found_hairs], float).reshape(-1, 2) for found_hairs in hairs]
    lengths = [h["length_px"] for found_hairs in hairs for h in found_hairs if h.get("length_px")]
    result = comparison_to_dict(compare(rgbs[0], rgbs[1], points[0], points[1], tol_px=match_tolerance_px(rgbs[0].shape, lengths)))
    picture, _ = side_by_side(rgbs[0], rgbs[1], result, labels=(str(days[0]), str(days[1])), blind=bool(blind))
    return render(request, "compare.html", {
        "name": name, "zone": the_zone.value, "days": days, "blind": bool(blind), "result": result,
        "picture_b64": base64.b64encode(encode_png(picture)).decode(),
    })
