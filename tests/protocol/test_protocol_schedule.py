"""The scan schedule: RFC 5545 iCalendar output, the two-week baseline rule and the next scan due."""

from __future__ import annotations

import datetime as dt

import pytest

from hairtrack.analysis.protocol import next_scan_due, plan_schedule, schedule_ics
from hairtrack.domain import Measurement, Treatment, TreatmentKind, Zone
from hairtrack.errors import InputError

STAMP = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def _parse(ics: str) -> list[dict[str, str]]:
    """Unfold and split into components: a list of {property: value} per VEVENT (plus the calendar)."""
    assert "\n" not in ics.replace("\r\n", "")           # CRLF only, no bare LF or CR
    assert ics.endswith("\r\n")
    physical = ics.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    unfolded: list[str] = []
    for line in physical:
        if line.startswith(" "):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    comps, stack = [], []
    for line in unfolded:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append({"_type": value})
        elif name == "END":
            comp = stack.pop()
            assert comp["_type"] == value
            comps.append(comp)
        else:
            stack[-1].setdefault(name, value)
    assert not stack
    return comps


def _events(ics: str) -> list[dict[str, str]]:
    return [c for c in _parse(ics) if c["_type"] == "VEVENT"]


def test_ics_is_well_formed_with_required_properties():
    ics = schedule_ics([], [], today=dt.date(2024, 3, 1), months=6, profile="alex", dtstamp=STAMP)
    cal = next(c for c in _parse(ics) if c["_type"] == "VCALENDAR")
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    events = _events(ics)
    assert len(events) == 8
    assert len({e["UID"] for e in events}) == 8
    for e in events:
        assert e["DTSTAMP"] == "20240301T120000Z"
        start = dt.datetime.strptime(e["DTSTART"], "%Y%m%dT%H%M%S")
        assert dt.datetime.strptime(e["DTEND"], "%Y%m%dT%H%M%S") > start
        assert start.date() >= dt.date(2024, 3, 1)


def test_baseline_window_is_two_weeks_before_the_first_session_at_the_baseline_time():
    first = dt.date(2024, 4, 15)
    sessions = [Treatment("p", TreatmentKind.PRP, first), Treatment("p", TreatmentKind.PRP, dt.date(2024, 5, 15))]
    earlier = [Measurement("p", dt.date(2023, 1, 1), Zone.CROWN, capture_time=dt.time(7, 30))]
    ics = schedule_ics(earlier, sessions, today=dt.date(2024, 3, 1), months=3, dtstamp=STAMP)
    events = _events(ics)
    starts = [dt.datetime.strptime(e["DTSTART"], "%Y%m%dT%H%M%S") for e in events]
    baseline = [s.date() for s, e in zip(starts, events) if "baseline" in e["SUMMARY"]]
    assert len(baseline) >= 2
    assert min(baseline) <= first - dt.timedelta(days=14) and max(baseline) < first
    monthly = [s.date() for s, e in zip(starts, events) if "month" in e["SUMMARY"]]
    assert monthly == [dt.date(2024, 5, 15), dt.date(2024, 6, 15), dt.date(2024, 7, 15)]
    assert {s.time() for s in starts} == {dt.time(7, 30)}      # the baseline's time of day


def test_first_session_too_soon_warns():
    _, warnings = plan_schedule([], [Treatment("p", TreatmentKind.EV, dt.date(2024, 3, 6))], today=dt.date(2024, 3, 1))
    assert warnings and "less than 2 weeks" in warnings[0]


def test_long_lines_fold_without_splitting_characters_and_text_is_escaped():
    name = "Zoë; the, long\\name " + "é" * 60
    ics = schedule_ics([], [], today=dt.date(2024, 3, 1), profile=name, dtstamp=STAMP)
    cal = next(c for c in _parse(ics) if c["_type"] == "VCALENDAR")   # _parse checks 75 octets
    assert cal["X-WR-CALNAME"] == "hairtrack scans - Zoë\\; the\\, long\\\\name " + "é" * 60


def test_next_scan_due():
    start = dt.date(2024, 1, 10)
    treat = [Treatment("p", TreatmentKind.MINOXIDIL_TOPICAL, start)]
    scans = [Measurement("p", d, Zone.CROWN, capture_time=dt.time(9, 0))
             for d in (dt.date(2023, 12, 27), dt.date(2024, 1, 9), dt.date(2024, 2, 10))]
    due = next_scan_due(scans, treat, today=dt.date(2024, 2, 20))
    assert (due.date, due.kind, due.time) == (dt.date(2024, 3, 10), "monthly", dt.time(9, 0))
    overdue = next_scan_due(scans, treat, today=dt.date(2024, 3, 20))
    assert overdue.date == dt.date(2024, 3, 10) and overdue.date < dt.date(2024, 3, 20)


def test_schedule_validates_months():
    with pytest.raises(InputError, match="months must be"):
        schedule_ics([], [], today=dt.date(2024, 3, 1), months=0)
