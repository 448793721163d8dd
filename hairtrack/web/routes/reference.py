"""The treatment reference and the provider check (no account needed to read or check; saving needs one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from hairtrack.analysis.providers import check_provider, parse_rate, provider_check_to_dict, provider_from_mapping, provider_record_fields
from hairtrack.analysis.reference import claims, ev_types, mechanisms, prp_vs_ev, reference_to_dict, treatment_info
from hairtrack.analysis.stack import MEDICAL_DISCLAIMER
from hairtrack.domain import TreatmentKind
from hairtrack.errors import InputError
from hairtrack.web.forms import form_number
from hairtrack.web.deps import CsrfChecked, render, session_owner, use_form_token

router = APIRouter(tags=["reference"])

METHODS = ("NTA", "TRPS", "TEM", "cryo-EM", "western_blot", "flow_cytometry", "DLS", "BCA")


@router.get("/info", response_class=HTMLResponse, include_in_schema=False)
def info_page(request: Request) -> HTMLResponse:
    return render(request, "info.html", {
        "treatments": [treatment_info(k) for k in TreatmentKind], "ev_types": ev_types(), "mechanisms": mechanisms(),
        "claims": claims(), "comparison": prp_vs_ev(), "disclaimer": MEDICAL_DISCLAIMER,
    })


@router.get("/api/info", summary="The sourced treatment reference")
def info_api(treatment: str | None = None) -> dict[str, Any]:
    return reference_to_dict(treatment_info(treatment)) if treatment else reference_to_dict()


@router.get("/providers", response_class=HTMLResponse, include_in_schema=False)
def providers_page(request: Request) -> HTMLResponse:
    owner = session_owner(request, request.app.state.store)
    saved = request.app.state.store.as_owner(owner.id).providers() if owner else []
    return render(request, "providers.html", {"methods": METHODS, "saved": saved, "form": {}, "disclaimer": MEDICAL_DISCLAIMER})


def _tri(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.post("/providers", response_class=HTMLResponse, include_in_schema=False, dependencies=[CsrfChecked, Depends(use_form_token)])
async def check_provider_form(request: Request) -> HTMLResponse:
    form = await request.form()
    get = lambda key: str(form.get(key) or "").strip()  # noqa: E731
    document: dict[str, Any] = {"name": get("name")}
    for key in ("ev_source", "note"):
        if get(key):
            document[key] = get(key)
    for key in ("particles_per_dose", "protein_ug_per_dose"):
        if get(key):
            document[key] = form_number(get(key), key, thousands=True)
    size = {k: form_number(get(f"size_{k}"), f"size {k}", thousands=True) for k in ("mode", "d10", "d90") if get(f"size_{k}")}
    if size:
        document["size_distribution_nm"] = size
    methods = [m for m in METHODS if form.get(f"method_{m}")]
    if methods:
        document["characterization_methods"] = methods
    markers = [m.strip() for m in get("markers").split(",") if m.strip()]
    if markers:
        document["markers"] = markers
    for key in ("guarantees_results", "encourages_tracking", "claims_stem_cells"):
        if _tri(get(key)) is not None:
            document[key] = _tri(get(key))
    for key in ("marketed_as", "fda_claim"):
        if get(key):
            document[key] = get(key)
    if get("price_amount") or get("price_currency"):
        document["price_per_session"] = {"amount": get("price_amount"), "currency": get("price_currency")}
    rates = dict(parse_rate(get("rate"))) if get("rate") else None
    profile = provider_from_mapping(document, origin="the form")
    check = provider_check_to_dict(check_provider(profile, rates=rates))
    owner = session_owner(request, request.app.state.store)
    mine = request.app.state.store.as_owner(owner.id) if owner else None
    saved_note = None
    if form.get("save") and mine is not None:
        created = mine.save_provider(provider_record_fields(profile), document)
        saved_note = f"Saved {profile.name} ({'new' if created else 'updated'}); sessions naming it link to it."
    saved = mine.providers() if mine else []
    return render(request, "providers.html", {"methods": METHODS, "saved": saved, "form": dict(form), "check": check,
                                              "saved_note": saved_note, "disclaimer": MEDICAL_DISCLAIMER})


@router.post("/api/provider-check", summary="Red flags of a provider (body: the DESIGN 3.4 provider object)")
def provider_check_api(body: dict[str, Any], rate: str | None = None) -> dict[str, Any]:
    rates = dict([parse_rate(rate)]) if rate else None
    return provider_check_to_dict(check_provider(provider_from_mapping(body, origin="the request"), rates=rates))
