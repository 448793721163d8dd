"""What a profile page, its charts and its report show, computed once from the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hairtrack.domain import Measurement, Treatment, Zone
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

    @property
    def zones(self) -> list[Zone]:
        return [z for z in Zone if any(m.zone == z for m in self.measurements)]


def profile_record(store: Store, name: str, *, as_of: dt.date | None = None) -> ProfileRecord:
    """A profile with its record, verdict and capture checks (raises NotFoundError for a stranger's)."""
    from hairtrack.analysis import judge, verdict_to_dict

    summary = store.profile(name)
    measurements = store.measurements(name)
    treatments = store.treatments(name)
    verdict, error = None, None
    if measurements:
        try:
            verdict = verdict_to_dict(judge(measurements, treatments, as_of=as_of, profile=name, sex=summary.sex))
        except Exception as exc:  # a verdict that cannot be formed must not take the page down with it
            error = str(exc)
    return ProfileRecord(summary, measurements, treatments, verdict, error, _capture(measurements, treatments))


def _capture(measurements: list[Measurement], treatments: list[Treatment]) -> dict[str, Any] | None:
    try:
        from hairtrack.analysis import protocol
    except ImportError:  # pragma: no cover - the protocol checks ship with hairtrack
        return None
    if not measurements or not hasattr(protocol, "capture_report"):
        return None
    return protocol.capture_report(measurements, treatments)


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
