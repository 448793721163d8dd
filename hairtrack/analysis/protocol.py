"""The capture protocol: check each scan's conditions against the baseline, weight it, and plan the scans.

A change in density means something only when both photos were taken the same way. Each scan of a
profile is checked against the baseline (the scans before the evaluated treatment started) for:

``time_of_day``   taken more than ``time_tolerance_h`` from the baseline's usual hour (hair hydration
                  and styling change the shafts' apparent width and spread over a day);
``hair_length``   entered hair length differs from the baseline's by more than ``hair_length_tolerance_mm``
                  (longer hair covers skin and hides vellus hairs);
``device``        another device, or a px/mm that differs by more than ``px_per_mm_tolerance_pct``;
``lighting``      another lighting label, or brightness / white balance off by more than their tolerance;
``zone_position`` the registration to the earlier scan overlaps less than ``min_overlap_pct``;
``different_field`` the registration says the photo shows another patch of scalp (excluded);
``interval``      a monthly scan taken < ``interval_min_days`` or > ``interval_max_days`` after the last;
``shaft_width``   the zone's hairs measure 1.6 times as wide (or narrow) as at baseline or more: no treatment
                  changes shafts so fast, a wrong scale does (a device saved with another magnification's
                  px/mm); from twice, the scan is excluded: its density would be off by the ratio squared;
``method``        measured by another version of the measurement than the baseline (another detector, new
                  network weights, a changed density; ``imaging.analyze.measurement_method``): its figures
                  are not like for like with the baseline's.
``photo_quality`` the photo's own quality check put its figure in doubt: blurry, over- or underexposed, mostly
                  not usable scalp, hairs too long for the field (down-weighted); shafts whose widths say the
                  scale given is wrong, or a photo of the whole head (excluded). A bald spot's few hairs are a
                  finding, not a fault, and raise no flag.

Each flag carries a factor; a scan's recommended weight is the product of its flags' factors (1.0 when
none, 0.0 when excluded). ``interval`` is informational (factor 1): a late scan is not a worse photo.

:func:`plan_schedule` lays out the baseline window (>= 2 scans, the first at least 14 days before the
first session of the evaluated treatment) and monthly scans at the baseline's time of day;
:func:`schedule_ics` writes it as RFC 5545 iCalendar text and :func:`next_scan_due` names the next one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hairtrack.domain import Measurement, Treatment, Zone
from hairtrack.errors import InputError

__all__ = [
    "ProtocolSettings",
    "ScanFigures",
    "ConditionFlag",
    "ScanCheck",
    "ProtocolSummary",
    "check_protocol",
    "summarize_protocol",
    "protocol_to_dict",
    "protocol_weights",
    "PlannedScan",
    "plan_schedule",
    "schedule_ics",
    "next_scan_due",
    "visit_mdc95_pct",
    "replicate_advice",
]

ScanKey = tuple[dt.date, Zone, int]


@dataclass(frozen=True, slots=True)
class ProtocolSettings:
    """Tolerances of the capture checks and the weight factor each broken rule carries."""

    time_tolerance_h: float = 2.0
    hair_length_tolerance_mm: float = 1.0
    px_per_mm_tolerance_pct: float = 5.0
    brightness_tolerance_pct: float = 15.0
    white_balance_tolerance: float = 0.10
    min_overlap_pct: float = 50.0
    interval_min_days: int = 20
    interval_max_days: int = 45
    down_weight: float = 0.5
    width_ratio_flag: float = 1.6
    width_ratio_exclude: float = 2.0


@dataclass(frozen=True, slots=True)
class ScanFigures:
    """Figures measured from a scan's image, all optional.

    ``brightness`` is the mean linear luminance (0-1) of the skin or of the card's grey patch;
    ``white_balance_gains`` the ``(r, g, b)`` gains from the card; ``overlap_pct`` and
    ``different_field`` come from registering the scan to the previous scan of its zone; ``quality_issues``
    are the photo's ``quality.issues`` (``imaging.quality``). (What measured the scan is the measurement's own
    ``method``.)
    """

    px_per_mm: float | None = None
    brightness: float | None = None
    white_balance_gains: tuple[float, float, float] | None = None
    overlap_pct: float | None = None
    different_field: bool | None = None
    quality_issues: tuple[str, ...] = ()


# quality issues that put a photo's figure in doubt, in words; those that make it wrong are left out
_QUALITY_DOUBT = {"blurry": "blurry", "overexposed": "overexposed", "underexposed": "underexposed",
                  "small_field": "mostly not usable scalp", "hairs_cut_by_field": "of hairs too long for its field",
                  "long_shafts": "of hair too long to count well",
                  "scale_mismatch": "at a scale its shafts' widths disagree with",
                  "overview_photo": "of the whole head, not a close-up"}
_QUALITY_EXCLUDE = {"scale_mismatch", "overview_photo"}


@dataclass(frozen=True, slots=True)
class ConditionFlag:
    """A broken capture rule: ``code`` (see the module docstring), a plain ``message``, its weight ``factor``."""

    code: str
    message: str
    factor: float


@dataclass(frozen=True, slots=True)
class ScanCheck:
    """One scan's capture check: its key, whether it is a baseline scan, its flags and recommended weight."""

    date: dt.date
    zone: Zone
    replicate: int
    baseline: bool
    flags: tuple[ConditionFlag, ...]
    weight: float

    @property
    def excluded(self) -> bool:
        """True when the scan should be kept out of the change estimate."""
        return self.weight == 0.0


@dataclass(frozen=True, slots=True)
class ProtocolSummary:
    """Which scans broke which rule: ``by_rule`` maps a flag code to the keys of the scans that broke it."""

    scans: int
    clean: int
    down_weighted: int
    excluded: int
    by_rule: dict[str, tuple[ScanKey, ...]] = field(default_factory=dict)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _clock_gap_min(a: dt.time, b: dt.time) -> int:
    d = abs(_minutes(a) - _minutes(b)) % 1440
    return min(d, 1440 - d)


def _usual_time(times: Sequence[dt.time]) -> dt.time | None:
    """Circular mean of clock times (so 23:30 and 00:30 average to midnight)."""
    if not times:
        return None
    ang = [2 * math.pi * _minutes(t) / 1440 for t in times]
    m = math.atan2(sum(map(math.sin, ang)), sum(map(math.cos, ang)))
    mins = int(round((m % (2 * math.pi)) * 1440 / (2 * math.pi))) % 1440
    return dt.time(mins // 60, mins % 60)


def _evaluated_start(treatments: Sequence[Treatment]) -> dt.date | None:
    """First day of the evaluated treatment: the one started last (DESIGN 3.3), first session for sessions."""
    if not treatments:
        return None
    latest = max(treatments, key=lambda t: t.date)
    same = [t.date for t in treatments if t.treatment == latest.treatment]
    if latest.treatment.is_session:
        # the sessions of the evaluated kind form one course: its first session starts it
        return min(same)
    return latest.date


def _baseline_dates(measurements: Sequence[Measurement], start: dt.date | None) -> set[dt.date]:
    dates = sorted({m.date for m in measurements})
    if not dates:
        return set()
    if start is None:
        return {dates[0]}
    before = {d for d in dates if d < start}
    return before or {dates[0]}


def _mode(values: Sequence[str]) -> str | None:
    vals = [v.strip().lower() for v in values if v and v.strip()]
    return Counter(vals).most_common(1)[0][0] if vals else None


def _median(values: Sequence[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return statistics.median(vals) if vals else None


def check_protocol(
    measurements: Sequence[Measurement],
    *,
    figures: Mapping[ScanKey, ScanFigures] | None = None,
    treatments: Sequence[Treatment] = (),
    settings: ProtocolSettings = ProtocolSettings(),
) -> tuple[ScanCheck, ...]:
    """Check every scan of one profile against the baseline's capture conditions.

    Parameters
    ----------
    measurements : sequence of Measurement
        One profile's scans.
    figures : mapping, optional
        Extra figures per scan, keyed by ``(date, zone, replicate)``.
    treatments : sequence of Treatment
        The profile's treatments; the baseline is the scans before the evaluated one started
        (without treatments, the first visit).
    settings : ProtocolSettings

    Returns
    -------
    tuple of ScanCheck
        One per measurement, ordered by date, zone and replicate.

    Examples
    --------
    >>> from hairtrack.domain import Measurement, Zone
    >>> m = [Measurement("p", dt.date(2024, 1, 1), Zone.CROWN, capture_time=dt.time(8, 0)),
    ...      Measurement("p", dt.date(2024, 2, 1), Zone.CROWN, capture_time=dt.time(19, 0))]
    >>> [f.code for f in check_protocol(m)[1].flags]
    ['time_of_day']
    """
    figures = dict(figures or {})
    profiles = {m.profile for m in measurements}
    if len(profiles) > 1:
        raise InputError(f"measurements must come from one profile, got {sorted(profiles)}")
    if not measurements:
        return ()
    start = _evaluated_start(treatments)
    base_dates = _baseline_dates(measurements, start)
    base = [m for m in measurements if m.date in base_dates]
    usual = _usual_time([m.capture_time for m in base if m.capture_time is not None])
    length = _median([m.hair_length_mm for m in base])
    device = _mode([m.device or "" for m in base])
    lighting = _mode([m.lighting or "" for m in base])

    def fig(m: Measurement) -> ScanFigures:
        return figures.get((m.date, m.zone, m.replicate), ScanFigures())

    base_figs = [fig(m) for m in base]
    ppmm = _median([f.px_per_mm for f in base_figs])
    bright = _median([f.brightness for f in base_figs])
    wb = [f.white_balance_gains for f in base_figs if f.white_balance_gains is not None]
    wb_ref = tuple(statistics.median(g[i] for g in wb) for i in range(3)) if wb else None
    method = _mode([m.method or "" for m in base])
    zone_width = {z: _median([m.mean_width_um for m in base if m.zone == z]) for z in {m.zone for m in base}}
    s = settings
    dw = s.down_weight
    all_dates = sorted({m.date for m in measurements})

    checks = []
    for m in sorted(measurements, key=lambda m: (m.date, m.zone.value, m.replicate)):
        f = fig(m)
        flags: list[ConditionFlag] = []
        if usual is not None and m.capture_time is not None:
            gap = _clock_gap_min(m.capture_time, usual)
            if gap > 60 * s.time_tolerance_h:
                flags.append(ConditionFlag("time_of_day", f"taken at {m.capture_time:%H:%M}, {gap / 60:.1f} h from the "
                                           f"baseline's usual {usual:%H:%M}: hair hydration differs over a day", dw))
        if length is not None and m.hair_length_mm is not None and abs(m.hair_length_mm - length) > s.hair_length_tolerance_mm:
            flags.append(ConditionFlag("hair_length", f"hair {m.hair_length_mm:g} mm long against {length:g} mm at "
                                       "baseline: longer hair hides skin and fine hairs; cut it to the baseline length", dw))
        if device is not None and m.device and m.device.strip().lower() != device:
            flags.append(ConditionFlag("device", f"taken with '{m.device}', not the baseline's '{device}'", dw))
        elif ppmm is not None and f.px_per_mm is not None and abs(f.px_per_mm / ppmm - 1) * 100 > s.px_per_mm_tolerance_pct:
            flags.append(ConditionFlag("device", f"scale {f.px_per_mm:.1f} px/mm against {ppmm:.1f} at baseline: "
                                       "another magnification or device setting", dw))
        ref_width = zone_width.get(m.zone)
        if ref_width and m.mean_width_um and ref_width > 0 and m.mean_width_um > 0:
            ratio = max(m.mean_width_um / ref_width, ref_width / m.mean_width_um)
            if ratio >= s.width_ratio_flag:
                flags.append(ConditionFlag(
                    "shaft_width", f"the hairs measure {m.mean_width_um:.0f} um wide against {ref_width:.0f} um at "
                    f"baseline ({ratio:.1f}x): the scale given for this photo is probably not the one it was taken "
                    f"at (check the device's px/mm){'; left out' if ratio >= s.width_ratio_exclude else ''}",
                    0.0 if ratio >= s.width_ratio_exclude else dw))
        if lighting is not None and m.lighting and m.lighting.strip().lower() != lighting:
            flags.append(ConditionFlag("lighting", f"lighting '{m.lighting}', not the baseline's '{lighting}'", dw))
        elif bright is not None and f.brightness is not None and bright > 0 and \
                abs(f.brightness / bright - 1) * 100 > s.brightness_tolerance_pct:
            flags.append(ConditionFlag("lighting", f"brightness {f.brightness:.2f} against {bright:.2f} at baseline "
                                       f"(more than {s.brightness_tolerance_pct:g}% off)", dw))
        elif wb_ref is not None and f.white_balance_gains is not None and \
                max(abs(a / b - 1) for a, b in zip(f.white_balance_gains, wb_ref)) > s.white_balance_tolerance:
            flags.append(ConditionFlag("lighting", "white balance differs from the baseline's by more than "
                                       f"{100 * s.white_balance_tolerance:g}%: another light source?", dw))
        if method is not None and m.method and m.method.strip().lower() != method:
            flags.append(ConditionFlag("method", f"measured by '{m.method}', the baseline by '{method}': another "
                                       "version of hairtrack's measurement, so the figures are not like for like", dw))
        doubts = [i for i in f.quality_issues if i in _QUALITY_DOUBT]
        if doubts:
            out = any(i in _QUALITY_EXCLUDE for i in doubts)
            flags.append(ConditionFlag(
                "photo_quality", f"the photo is {' and '.join(_QUALITY_DOUBT[i] for i in doubts)}: its figure is less "
                f"certain{'; left out' if out else ''} (take it again as the baseline was taken)", 0.0 if out else dw))
        if f.different_field:
            flags.append(ConditionFlag("different_field", "the photo shows another patch of scalp than the earlier "
                                       "scan of this zone: kept out of the change estimate", 0.0))
        elif f.overlap_pct is not None and f.overlap_pct < s.min_overlap_pct:
            flags.append(ConditionFlag("zone_position", f"only {f.overlap_pct:.0f}% of the field overlaps the earlier "
                                       f"scan (need {s.min_overlap_pct:g}%): place the scope on the marked spot", dw))
        is_base = m.date in base_dates
        if not is_base:
            earlier = [d for d in all_dates if d < m.date]
            if earlier:
                gap_days = (m.date - earlier[-1]).days
                if gap_days < s.interval_min_days:
                    flags.append(ConditionFlag("interval", f"{gap_days} days after the previous scan: monthly scans "
                                               f"should be {s.interval_min_days}-{s.interval_max_days} days apart", 1.0))
                elif gap_days > s.interval_max_days:
                    flags.append(ConditionFlag("interval", f"{gap_days} days after the previous scan: a month or more "
                                               "was missed", 1.0))
        weight = math.prod(fl.factor for fl in flags)
        checks.append(ScanCheck(m.date, m.zone, m.replicate, is_base, tuple(flags), float(weight)))
    return tuple(checks)


def summarize_protocol(checks: Sequence[ScanCheck]) -> ProtocolSummary:
    """Count clean, down-weighted and excluded scans, and list the scans that broke each rule."""
    by_rule: dict[str, list[ScanKey]] = {}
    for c in checks:
        for f in c.flags:
            by_rule.setdefault(f.code, []).append((c.date, c.zone, c.replicate))
    return ProtocolSummary(
        scans=len(checks),
        clean=sum(1 for c in checks if not c.flags),
        down_weighted=sum(1 for c in checks if 0.0 < c.weight < 1.0),
        excluded=sum(1 for c in checks if c.weight == 0.0),
        by_rule={k: tuple(v) for k, v in sorted(by_rule.items())},
    )


def protocol_weights(checks: Sequence[ScanCheck]) -> dict[ScanKey, float]:
    """The weight of each checked scan, keyed as ``judge(..., scan_weights=...)`` expects."""
    return {(c.date, c.zone, c.replicate): c.weight for c in checks}


def protocol_to_dict(checks: Sequence[ScanCheck]) -> dict[str, Any]:
    """JSON view: ``scans`` (date, zone, replicate, baseline, weight, flags) and ``summary``."""
    s = summarize_protocol(checks)
    return {
        "scans": [{"date": c.date.isoformat(), "zone": c.zone.value, "replicate": c.replicate, "baseline": c.baseline,
                   "weight": c.weight, "flags": [{"code": f.code, "message": f.message} for f in c.flags]}
                  for c in checks],
        "summary": {"scans": s.scans, "clean": s.clean, "down_weighted": s.down_weighted, "excluded": s.excluded,
                    "by_rule": {k: [f"{d.isoformat()}/{z.value}/{r}" for d, z, r in v] for k, v in s.by_rule.items()}},
    }


# ---------------------------------------------------------------------------------------------- schedule

@dataclass(frozen=True, slots=True)
class PlannedScan:
    """A scan in the plan: ``kind`` is ``baseline`` or ``monthly``; ``done`` when a scan exists within 5 days."""

    date: dt.date
    time: dt.time
    kind: str
    label: str
    done: bool


BASELINE_LEAD_DAYS = 14


def visit_mdc95_pct(photos: int, photo_sd_log: float | None = None) -> float:
    """The smallest change (in %) between two visits of ``photos`` photos of a zone each that stands out from
    the photos' own noise: ``1.96 * sqrt(2) * sd / sqrt(photos)`` on the log scale.

    ``photo_sd_log`` defaults to the verdict's prior, hairtrack's measured photo-to-photo noise (12%,
    ``benchmarks/repeatability.py``). The verdict pools several visits, so its own MDC95 is smaller.

    Examples
    --------
    >>> round(visit_mdc95_pct(1)), round(visit_mdc95_pct(3))
    (33, 19)
    """
    from hairtrack.analysis.model import NoisePrior

    if photos < 1:
        raise InputError(f"photos must be at least 1, got {photos}")
    sd = NoisePrior().replicate_sd_log if photo_sd_log is None else photo_sd_log
    return 100.0 * 1.96 * math.sqrt(2.0) * sd / math.sqrt(photos)


def replicate_advice(photos: int, zone: Zone, day: dt.date) -> str | None:
    """What to tell a person who saved ``photos`` photos of ``zone`` on ``day``: ``None`` from three on."""
    if photos >= 3:
        return None
    what = "one photo" if photos == 1 else f"{photos} photos"
    return (f"{what} of the {zone.value.replace('_', ' ')} on {day}: between two visits like this only a change of "
            f"about {visit_mdc95_pct(photos):.0f}% stands out from the noise of the photos (with 3 photos, about "
            f"{visit_mdc95_pct(3):.0f}%); take {3 - photos} more of the same zone today, lifting the scope between them")


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m0 = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m0 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def plan_schedule(
    measurements: Sequence[Measurement],
    treatments: Sequence[Treatment],
    *,
    today: dt.date,
    months: int = 6,
    default_time: dt.time = dt.time(9, 0),
) -> tuple[tuple[PlannedScan, ...], tuple[str, ...]]:
    """Plan the baseline window and the monthly scans.

    The evaluated treatment (the one started last; its first session for session treatments) starts
    on day S. Baseline: two scans, on S - 14 and S - 1, or, with no treatment on record, today and
    today + 14 (start the treatment after the second). Monthly scans: S + k months, the next
    ``months`` of them on or after ``today``. All at the baseline's usual time of day.

    Returns
    -------
    scans : tuple of PlannedScan
        In date order, past ones included (``done`` says whether a scan was recorded near it).
    warnings : tuple of str
        E.g. a first session too soon for a two-week baseline.
    """
    if not (isinstance(months, int) and 1 <= months <= 36):
        raise InputError(f"months must be an integer within 1-36, got {months!r}")
    start = _evaluated_start(treatments)
    base_dates = _baseline_dates(measurements, start)
    when = _usual_time([m.capture_time for m in measurements if m.date in base_dates and m.capture_time]) or default_time
    scan_dates = sorted({m.date for m in measurements})
    warnings: list[str] = []

    def done(d: dt.date) -> bool:
        return any(abs((s - d).days) <= 5 for s in scan_dates)

    plan: list[PlannedScan] = []
    if start is None:
        first = scan_dates[0] if scan_dates else today
        b = [first, first + dt.timedelta(days=BASELINE_LEAD_DAYS)]
        start = b[1] + dt.timedelta(days=1)
        warnings.append(f"no treatment on record: start it on or after {start.isoformat()}, after the second "
                        "baseline scan; monthly dates assume that start")
    else:
        b = [start - dt.timedelta(days=BASELINE_LEAD_DAYS), start - dt.timedelta(days=1)]
        # scans of the last 60 days before the start count as baseline; older ones are history
        before = [d for d in scan_dates if start - dt.timedelta(days=60) <= d < start]
        if before and before[0] <= b[0]:
            b[0] = before[0]
        if b[0] < today and not done(b[0]) and start > today:
            latest_ok = today + dt.timedelta(days=BASELINE_LEAD_DAYS + 1)
            warnings.append(f"the first session on {start.isoformat()} leaves less than 2 weeks of baseline: "
                            f"postpone it to {latest_ok.isoformat()} or later")
    for i, d in enumerate(b, 1):
        plan.append(PlannedScan(d, when, "baseline", f"hairtrack baseline scan {i} of 2", done(d)))
    k, added = 1, 0
    while added < months:
        d = _add_months(start, k)
        k += 1
        if d < today:
            # past dates stay in the plan when done, or when missed within the last 45 days (overdue)
            if done(d) or (today - d).days <= 45:
                plan.append(PlannedScan(d, when, "monthly", f"hairtrack month {k - 1} scan", done(d)))
            continue
        plan.append(PlannedScan(d, when, "monthly", f"hairtrack month {k - 1} scan", done(d)))
        added += 1
    return tuple(sorted(plan, key=lambda p: p.date)), tuple(warnings)


def next_scan_due(
    measurements: Sequence[Measurement], treatments: Sequence[Treatment], *, today: dt.date
) -> PlannedScan | None:
    """The first planned scan not yet done: it may lie in the past (overdue) or ahead."""
    plan, _ = plan_schedule(measurements, treatments, today=today, months=1)
    pending = [p for p in plan if not p.done and p.date >= today - dt.timedelta(days=45)]
    return pending[0] if pending else None


def _escape(text: str) -> str:
    # RFC 5545 section 3.3.11: backslash, semicolon, comma and newline are escaped in TEXT values
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 section 3.1: lines longer than 75 octets continue on the next line after CRLF + space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, limit = [], 75
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:   # never split a UTF-8 sequence
            cut -= 1
        parts.append(data[:cut].decode("utf-8"))
        data = data[cut:]
        limit = 74   # the leading space of a continuation line counts
    return "\r\n ".join(parts)


def schedule_ics(
    measurements: Sequence[Measurement],
    treatments: Sequence[Treatment],
    *,
    today: dt.date,
    months: int = 6,
    profile: str | None = None,
    dtstamp: dt.datetime | None = None,
    duration_min: int = 15,
) -> str:
    """The scan plan as an RFC 5545 iCalendar document (CRLF line ends, folded lines).

    Only scans on or after ``today`` and not yet done are written. Times are floating local times (the
    person's clock, wherever they are). UIDs are stable, so importing a newer file updates the events.

    Examples
    --------
    >>> ics = schedule_ics([], [], today=dt.date(2024, 3, 1), dtstamp=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    >>> ics.splitlines()[0], ics.count("BEGIN:VEVENT")
    ('BEGIN:VCALENDAR', 8)
    """
    if not (isinstance(duration_min, int) and 1 <= duration_min <= 240):
        raise InputError(f"duration_min must be an integer within 1-240, got {duration_min!r}")
    plan, warnings = plan_schedule(measurements, treatments, today=today, months=months)
    profile = profile or next((m.profile for m in measurements), None) or next((t.profile for t in treatments), "me")
    stamp = (dtstamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = hashlib.sha256(profile.encode("utf-8")).hexdigest()[:12]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//hairtrack//scan schedule//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape('hairtrack scans - ' + profile)}"]
    advice = ("Same zone spot, same device and lighting, hair cut to the baseline length, at the usual time. "
              "Take 2-3 replicate photos per zone.")
    for p in plan:
        if p.done or p.date < today:
            continue
        begin = dt.datetime.combine(p.date, p.time)
        end = begin + dt.timedelta(minutes=duration_min)
        desc = advice + ("\n" + "\n".join(warnings) if warnings and p.kind == "baseline" else "")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{p.date:%Y%m%d}-{p.kind}-{tag}@hairtrack",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{begin:%Y%m%dT%H%M%S}",
            f"DTEND:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:{_escape(p.label)}",
            f"DESCRIPTION:{_escape(desc)}",
            f"CATEGORIES:hairtrack,{p.kind}",
            "BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{_escape(p.label)}", "TRIGGER:-PT30M", "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
