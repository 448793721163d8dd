"""Capture-protocol weights in the verdict: excluded scans leave, down-weighted visits widen the interval."""

from __future__ import annotations

import datetime as dt

from hairtrack.analysis import judge
from hairtrack.analysis.protocol import check_protocol
from hairtrack.domain import TreatmentKind
from hairtrack.synth import simulate_patient


def _person():  # type: ignore[no-untyped-def]
    return simulate_patient(11, effect_pct=20.0, treatment=TreatmentKind.PRP, months=9, replicates=3)


def test_a_weight_of_zero_leaves_the_scan_out_and_says_so() -> None:
    p = _person()
    last = max(m.date for m in p.measurements)
    weights = {(m.date, m.zone, m.replicate): 0.0 for m in p.measurements if m.date == last}
    with_weights = judge(p.measurements, p.treatments, as_of=last, scan_weights=weights)
    without_rows = judge([m for m in p.measurements if m.date != last], p.treatments, as_of=last)
    assert "capture_excluded" in {f.code for f in with_weights.flags}
    assert with_weights.overall.change_pct == without_rows.overall.change_pct


def test_down_weighted_visits_widen_the_interval_and_are_flagged() -> None:
    p = _person()
    plain = judge(p.measurements, p.treatments)
    start = p.truth.start
    weights = {(m.date, m.zone, m.replicate): 0.25 for m in p.measurements if m.date > start}
    weighted = judge(p.measurements, p.treatments, scan_weights=weights)
    assert "capture_down_weighted" in {f.code for f in weighted.flags}
    width = lambda v: v.overall.change_pct_ci95[1] - v.overall.change_pct_ci95[0]  # noqa: E731
    assert width(weighted) > 1.1 * width(plain)  # zone noise x4; shared and donor terms unchanged


def test_protocol_checks_feed_the_verdict() -> None:
    p = _person()
    late = max(m.date for m in p.measurements)
    # The last visit was taken at night with another device: two rules broken.
    moved = [m if m.date != late else type(m)(**{**{f: getattr(m, f) for f in m.__slots__}, "capture_time": dt.time(23, 0), "device": "phone"})
             for m in p.measurements]
    base = [m if m.capture_time else type(m)(**{**{f: getattr(m, f) for f in m.__slots__}, "capture_time": dt.time(8, 0), "device": "derm"}) for m in moved]
    checks = check_protocol(base, treatments=p.treatments)
    weights = {(c.date, c.zone, c.replicate): c.weight for c in checks}
    assert min(weights.values()) < 1.0
    verdict = judge(base, p.treatments, scan_weights=weights)
    assert "capture_down_weighted" in {f.code for f in verdict.flags}
