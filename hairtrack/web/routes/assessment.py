"""Head photos: Norwood stage with its probabilities, the segmented overlay, self-assessment diagrams
and the graft estimate (no account needed; nothing is stored)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from hairtrack.errors import InputError
from hairtrack.imaging.measure import clean_filename
from hairtrack.web.forms import form_number
from hairtrack.web.deps import CsrfChecked, run_limited, render, session_owner

router = APIRouter(tags=["assessment"])
MAX_PHOTOS = 10


def _assess(uploads: list[tuple[str, bytes]], combine: bool) -> tuple[list[dict[str, Any]], list[str]]:
    from hairtrack.assessment import assess_photos, norwood_to_dict
    from hairtrack.imaging.coverage import coverage_overlay
    from hairtrack.imaging.io import load_image
    from hairtrack.imaging.overlay import encode_png

    if not uploads:
        raise InputError("choose at least one head photo")
    if len(uploads) > MAX_PHOTOS:
        raise InputError(f"at most {MAX_PHOTOS} photos at a time, got {len(uploads)}")
    # Head photos need no fine detail: decoding them at most 1600 px a side bounds memory and time.
    images = [load_image(data, name=name, max_side_px=1600).rgb for name, data in uploads]
    from hairtrack.assessment.grafts import bare_areas_from_photos

    assessed = assess_photos(images, names=[n for n, _ in uploads], combine=combine)
    results = [norwood_to_dict(r) for r in assessed]
    for r, d in zip(assessed, results):
        # a photo with the calibration card gives each zone's bare area: the graft form starts from them
        bare = bare_areas_from_photos([r.coverage]) if r.coverage is not None else {}
        if "temples" in bare:
            bare["hairline"] = round(bare.get("hairline", 0.0) + bare.pop("temples"), 1)
        d["bare_areas_cm2"] = bare or None
    overlays = []
    for rgb in images:
        shown = coverage_overlay(rgb)
        scale = 480 / max(shown.shape[:2])
        if scale < 1:
            import cv2

            shown = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        overlays.append(base64.b64encode(encode_png(shown)).decode())
    return results, overlays


async def _uploads(images: list[UploadFile]) -> list[tuple[str, bytes]]:
    return [(clean_filename(u.filename), await u.read()) for u in images if u.filename]


@router.post("/norwood", response_class=HTMLResponse, summary="Norwood stage from head photos (form)", dependencies=[CsrfChecked])
async def norwood_form(request: Request, images: Annotated[list[UploadFile], File()], combine: Annotated[str, Form()] = "") -> HTMLResponse:
    results, overlays = await run_limited(_assess, await _uploads(images), bool(combine))
    return render(request, "norwood.html", {"results": results, "overlays": overlays, "combined": bool(combine)})


@router.post("/api/norwood", summary="Norwood stage from head photos (one object per photo, or one with combine=true)")
async def norwood_api(images: Annotated[list[UploadFile], File()], combine: Annotated[bool, Form()] = False) -> JSONResponse:
    results, _ = await run_limited(_assess, await _uploads(images), combine)
    return JSONResponse(results if not combine else results[0])


@router.get("/stages", response_class=HTMLResponse, include_in_schema=False)
def stages(request: Request) -> HTMLResponse:
    from hairtrack.assessment import all_diagrams

    diagrams = {scale: {stage: base64.b64encode(svg.encode()).decode() for stage, svg in items.items()}
                for scale, items in all_diagrams().items()}
    return render(request, "stages.html", {"diagrams": diagrams})


@router.get("/grafts", response_class=HTMLResponse, include_in_schema=False)
def grafts_page(request: Request, stage: str = "", area_hairline: str = "", area_mid_scalp: str = "",
                area_crown: str = "") -> HTMLResponse:
    owner = session_owner(request, request.app.state.store)
    profiles = request.app.state.store.as_owner(owner.id).list_profiles() if owner else []
    # areas measured on a head photo with the card arrive in the link; the form only shows them
    form = {f"area_{z}": v for z, v in (("hairline", area_hairline), ("mid_scalp", area_mid_scalp),
                                          ("crown", area_crown)) if v}
    return render(request, "grafts.html", {"stage": stage, "profiles": profiles, "form": form})


@router.post("/grafts", response_class=HTMLResponse, include_in_schema=False, dependencies=[CsrfChecked])
async def grafts_form(request: Request) -> HTMLResponse:
    from hairtrack.assessment import estimate_grafts, graft_estimate_to_dict
    from hairtrack.assessment.record import donor_profile_from, existing_units_from

    form = await request.form()
    get = lambda key: str(form.get(key) or "")  # noqa: E731
    areas = {z: v for z in ("hairline", "mid_scalp", "crown") if (v := form_number(get(f"area_{z}"), f"{z} area")) is not None}
    if not areas:
        raise InputError("give the bald area of at least one zone in cm²")
    owner = session_owner(request, request.app.state.store)
    donor, present = None, None
    if get("profile") and owner is not None:
        measurements = request.app.state.store.as_owner(owner.id).measurements(get("profile"))
        donor, present = donor_profile_from(measurements), existing_units_from(measurements) or None
    estimate = graft_estimate_to_dict(estimate_grafts(areas, existing_units_per_cm2=present, donor=donor, stage=get("stage") or None))
    profiles = request.app.state.store.as_owner(owner.id).list_profiles() if owner else []
    return render(request, "grafts.html", {"stage": get("stage"), "profiles": profiles, "form": dict(form), "estimate": estimate})
