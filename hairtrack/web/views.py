"""What a profile page, its charts and its report show, computed once from the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hairtrack.domain import Measurement, Treatment, Zone
from hairtrack.errors import HairtrackError
from hairtrack.tracking import Store
from hairtrack.tracking.store import ProfileSummary

__all__ = ["ProfileRecord", "profile_record", "zone_figure"]


@dataclass(frozen=True)
class ProfileRecord:
    summary: ProfileSummary
    measurements: list[Measurement]
    treatments: list[Treatment]
    verdict: dict[str, Any] | None
    verdict_error: str | None
    capture: dict[str, Any] | None
    next_scan: Any = None
    stack: dict[str, Any] | None = None
    staging: dict[str, Any] | None = None

    @property
    def zones(self) -> list[Zone]:
        return [z for z in Zone if any(m.zone == z for m in self.measurements)]


def profile_record(store: Store, name: str, *, as_of: dt.date | None = None) -> ProfileRecord:
    """A profile with its record, verdict and capture checks (raises NotFoundError for a stranger's)."""
    from hairtrack.analysis import judge, verdict_to_dict
    from hairtrack.analysis.protocol import check_protocol, next_scan_due, protocol_to_dict, protocol_weights

    summary = store.profile(name)
    measurements = store.measurements(name)
    treatments = store.treatments(name)
    verdict, error, capture = None, None, None
    if measurements:
        from hairtrack.tracking.ingest import matched_pairs, registration_figures

        analyses = store.scan_analyses(name)
        checks = check_protocol(measurements, treatments=treatments, figures=registration_figures(analyses))
        capture = protocol_to_dict(checks)
        try:
            verdict = verdict_to_dict(judge(measurements, treatments, as_of=as_of, profile=name, sex=summary.sex,
                                            scan_weights=protocol_weights(checks), matched=matched_pairs(analyses)))
        except HairtrackError as exc:  # e.g. an as_of before any record: the page still shows the record
            error = str(exc)
    due = next_scan_due(measurements, treatments, today=dt.date.today()) if (measurements or treatments) else None
    stack = None
    if treatments:
        from hairtrack.analysis.stack import describe_stack, stack_to_dict

        stack = stack_to_dict(describe_stack(treatments, verdict=verdict))
    from hairtrack.assessment.record import staging_from
    from hairtrack.domain import Sex

    staging = staging_from(measurements, female=summary.sex is Sex.FEMALE) if measurements else None
    return ProfileRecord(summary, measurements, treatments, verdict, error, capture, due, stack, staging)


def zone_figure(record: ProfileRecord, zone: Zone):  # type: ignore[no-untyped-def]
    """The chart of one zone, for the page (SVG) and the PDF alike."""
    from hairtrack.report.charts import zone_chart

    verdict = record.verdict or {}
    zone_verdict = (verdict.get("zones") or {}).get(zone.value)
    bench = (zone_verdict or {}).get("benchmark") or {}
    return zone_chart(
        zone, record.measurements, record.treatments,
        zone_verdict=zone_verdict, evaluated=verdict.get("evaluated_treatment"),
        benchmark_pct=tuple(bench["range_pct"]) if bench.get("range_pct") else None,
    )
