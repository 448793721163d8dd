"""JSON API for profiles (signed-in owner only; another owner's profile is a 404)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from hairtrack import __version__
from hairtrack.domain import Sex
from hairtrack.tracking.io import export_document, parse_date
from hairtrack.web.deps import CsrfChecked, OwnerStore
from hairtrack.web.views import profile_record

router = APIRouter(prefix="/api", tags=["profiles"])


class NewProfile(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["me"])
    sex: Sex | None = None
    note: str | None = Field(default=None, max_length=2000)


def _summary(p: Any) -> dict[str, Any]:
    return {
        "name": p.name, "sex": p.sex.value if p.sex else None, "note": p.note, "scans": p.scans, "visits": p.visits,
        "first_scan": p.first_scan.isoformat() if p.first_scan else None,
        "last_scan": p.last_scan.isoformat() if p.last_scan else None,
        "zones": [z.value for z in p.zones], "treatments": p.treatments, "sessions": p.sessions,
    }


@router.get("/profiles", summary="The signed-in owner's profiles")
def list_profiles(store: OwnerStore) -> list[dict[str, Any]]:
    return [_summary(p) for p in store.list_profiles()]


@router.post("/profiles", status_code=201, summary="Create a profile", dependencies=[CsrfChecked])
def create_profile(store: OwnerStore, body: Annotated[NewProfile, Body()]) -> dict[str, Any]:
    return _summary(store.add_profile(body.name, sex=body.sex, note=body.note))


@router.get("/profiles/{name}", summary="A profile with its measurements and treatments")
def get_profile(store: OwnerStore, name: str) -> dict[str, Any]:
    summary = store.profile(name)
    doc = export_document(
        [_summary(summary)], store.measurements(name), store.treatments(name),
        exported_at=dt.datetime.now(dt.UTC), version=__version__,
    )
    return doc["profiles"][0]


@router.get("/profiles/{name}/verdict", summary="The verdict object (DESIGN 3.3) for a profile")
def get_verdict(store: OwnerStore, name: str, as_of: str | None = None) -> dict[str, Any]:
    record = profile_record(store, name, as_of=parse_date(as_of, column="as_of") if as_of else None)
    if record.verdict is None:
        return {"profile": name, "overall": {"verdict": "insufficient_data"}, "messages": [record.verdict_error or "no scans yet"]}
    return record.verdict


@router.delete("/profiles/{name}", summary="Delete a profile with everything of it", dependencies=[CsrfChecked])
def delete_profile(store: OwnerStore, name: str) -> dict[str, Any]:
    report = store.delete_profile(name)
    return {"deleted": name, "scans": report.scans, "measurements": report.measurements, "treatments": report.treatments,
            "sessions": report.sessions, "image_files": report.image_files}


@router.post("/profiles/{name}/remeasure", summary="Measure the stored photos again with this version's method",
             dependencies=[CsrfChecked])
async def remeasure(store: OwnerStore, name: str, every: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """The scans of ``name`` with a photo that another method measured (all of them with ``every``) are measured
    again, at their stored scale, all or none; ``dry_run`` saves nothing. Returns the method and, per scan,
    the figures before and after."""
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.tracking.ingest import remeasure_scans
    from hairtrack.web.deps import run_limited

    store.profile(name)
    method = measurement_method()
    done = await run_limited(remeasure_scans, store, name, measure_stored, method=method, every=every, save=not dry_run)
    return {"profile": name, "method": method, "saved": not dry_run, "scans": [r.to_dict() for r in done]}
