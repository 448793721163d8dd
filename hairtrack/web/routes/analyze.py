"""The analyze page (no account), the analyze API and the health check."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hairtrack.domain import Zone
from hairtrack.imaging.calibration import check_px_per_mm
from hairtrack.errors import InputError
from hairtrack.web.forms import form_number
from hairtrack.web.deps import CsrfChecked, CurrentOwner, OptionalOwner, StoreDep, run_limited, render, session_owner, use_form_token
from hairtrack.imaging.measure import clean_filename, measure_upload

router = APIRouter(tags=["analyze"])


def _zone(text: str | None) -> Zone | None:
    if not text:
        return None
    try:
        return Zone(text)
    except ValueError:
        raise InputError(f"unknown zone {text!r}; expected one of {', '.join(z.value for z in Zone)}") from None


@router.get("/", response_class=HTMLResponse, summary="The analyze page")
def analyze_page(request: Request, owner: OptionalOwner) -> HTMLResponse:
    return render(request, "analyze.html", {"zones": [z.value for z in Zone]})


@router.post("/analyze", response_class=HTMLResponse, summary="Analyze a photo from the form", dependencies=[CsrfChecked])
async def analyze_form(
    request: Request,
    image: Annotated[UploadFile, File(description="the photo")],
    zone: Annotated[str, Form()] = "",
    px_per_mm: Annotated[str, Form()] = "",
) -> HTMLResponse:
    data = await image.read()
    measured = await _measure(data, clean_filename(image.filename), _zone(zone), check_px_per_mm(form_number(px_per_mm, "px_per_mm")))
    from hairtrack.imaging.overlay import encode_png
    from hairtrack.report.charts import figure_svg, width_histogram

    widths = [h["width_um"] for h in measured.result["hairs"] if h.get("width_um") is not None]
    histogram = base64.b64encode(figure_svg(width_histogram(widths))).decode() if widths else None
    owner = session_owner(request, request.app.state.store)
    profiles = request.app.state.store.as_owner(owner.id).list_profiles() if owner else []
    return render(request, "analyze.html", {
        "profiles": profiles,
        "upload_b64": base64.b64encode(data).decode() if profiles else None,
        "upload_name": clean_filename(image.filename),
        "today": dt.date.today().isoformat(),
        "zones": [z.value for z in Zone],
        "form": {"zone": zone, "px_per_mm": px_per_mm},
        "result": measured.result,
        "overlay_b64": base64.b64encode(encode_png(measured.overlay)).decode(),
        "histogram_b64": histogram,
    })


async def _measure(data: bytes, name: str, zone: Zone | None, px_per_mm: float | None) -> Any:
    return await run_limited(measure_upload, data, name, zone=zone, px_per_mm=px_per_mm)


@router.post("/analyze/save", summary="Save an analysed photo to a profile", dependencies=[CsrfChecked, Depends(use_form_token)])
async def save_analyzed(
    request: Request,
    owner: CurrentOwner,
    profile: Annotated[str, Form()],
    zone: Annotated[str, Form()],
    date: Annotated[str, Form()],
    image_b64: Annotated[str, Form()],
    filename: Annotated[str, Form()] = "upload",
    px_per_mm: Annotated[str, Form()] = "",
    capture_time: Annotated[str, Form()] = "",
) -> Response:
    from hairtrack.web.routes.profiles import save_scans

    try:
        data = base64.b64decode(image_b64, validate=True)
    except ValueError:
        raise InputError("the photo did not come back intact; analyze it again") from None
    store = request.app.state.store.as_owner(owner.id)
    return await save_scans(request, store, profile, [(clean_filename(filename), data)], zone=zone, date=date,
                            capture_time=capture_time, px_per_mm=px_per_mm)


@router.post("/api/analyze", summary="Measure one photo (no account needed; nothing is stored)")
async def analyze_api(
    image: Annotated[UploadFile, File(description="JPEG, PNG, TIFF, WebP or HEIC photo of one zone")],
    zone: Annotated[str | None, Form()] = None,
    px_per_mm: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    data = await image.read()
    measured = await _measure(data, clean_filename(image.filename), _zone(zone), check_px_per_mm(form_number(px_per_mm, "px_per_mm")))
    return JSONResponse(measured.result)


@router.get("/healthz", summary="Liveness and database check")
def healthz(store: StoreDep) -> dict[str, Any]:
    store.list_profiles()  # touches the database
    return {"status": "ok", "database": store.dialect, "schema": store.revision}
