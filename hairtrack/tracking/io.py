"""CSV and JSON in and out (DESIGN 3.2): pure functions between bytes/text and domain records.

Readers check every row and report every problem as ``line N: reason`` (up to ``MAX_PROBLEMS``) in one
:class:`~hairtrack.errors.CsvError`, so a person can fix a file in one pass; they never return part of a
file. Writers produce the columns in the contract's order; reading what they wrote gives the same records.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from hairtrack.domain import Measurement, Money, Treatment, TreatmentKind, Zone
from hairtrack.errors import CsvError, InputError
from hairtrack.tracking.currencies import ISO_4217

__all__ = [
    "MEASUREMENT_COLUMNS",
    "TREATMENT_COLUMNS",
    "MAX_PROBLEMS",
    "ParsedCsv",
    "read_measurements_csv",
    "read_treatments_csv",
    "write_measurements_csv",
    "write_treatments_csv",
    "measurement_to_dict",
    "treatment_to_dict",
    "validate_profile_name",
    "parse_zone",
    "parse_treatment_kind",
    "parse_date",
    "parse_time",
    "parse_money",
    "format_float",
    "format_amount",
    "export_document",
]

MEASUREMENT_COLUMNS = (
    "profile", "date", "zone", "replicate", "hairs_per_cm2", "fu_per_cm2", "hairs_per_fu",
    "mean_width_um", "terminal_fraction", "coverage_pct", "capture_time", "hair_length_mm",
    "device", "lighting", "image", "note", "method",
)  # fmt: skip
TREATMENT_COLUMNS = ("profile", "treatment", "date", "end_date", "dose", "cost", "currency", "provider", "note")
MAX_PROBLEMS = 50

# Plausible ranges: wider than any human scalp, narrow enough to catch a unit or column mix-up.
# Densities above ~400 hairs/cm2 are not reported in adults (Rushton 1991, Br J Dermatol 125:1).
_RANGES: dict[str, tuple[float, float, str]] = {
    "hairs_per_cm2": (0.0, 1000.0, "hairs/cm2"),
    "fu_per_cm2": (0.0, 500.0, "units/cm2"),
    "hairs_per_fu": (1.0, 10.0, "hairs per unit"),
    "mean_width_um": (1.0, 300.0, "um"),
    "terminal_fraction": (0.0, 1.0, "(a share between 0 and 1)"),
    "coverage_pct": (0.0, 100.0, "%"),
    "hair_length_mm": (0.0, 2000.0, "mm"),
}
_TEXT_LIMITS = {"device": 100, "lighting": 100, "method": 100, "image": 500, "note": 2000, "dose": 200, "provider": 200}
_PROFILE_RE = re.compile(r"^[^\W_][\w .@+'-]{0,99}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_EARLIEST = dt.date(1900, 1, 1)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ParsedCsv(Generic[T]):
    """Records read from a CSV file and the line each one started on (for later error messages)."""

    rows: tuple[T, ...]
    lines: tuple[int, ...]


class _RowError(Exception):
    pass


# -- field parsers: raise _RowError(reason) or InputError(reason) ---------------------------------------


def validate_profile_name(name: str) -> str:
    """Return ``name`` if it is a usable profile name, else raise :class:`InputError`.

    Examples
    --------
    >>> validate_profile_name("anna.k")
    'anna.k'
    """
    if not _PROFILE_RE.match(name or ""):
        raise InputError(
            f"profile name {name!r} is not usable: 1-100 letters, digits, spaces or . @ + ' - "
            "starting with a letter or digit"
        )
    return name


def parse_zone(text: str) -> Zone:
    """Parse a zone name, forgiving case, spaces and hyphens (``Mid-Scalp`` is ``mid_scalp``)."""
    return Zone.parse(text)


def parse_treatment_kind(text: str) -> TreatmentKind:
    """Parse a treatment name; an ambiguous one (``minoxidil``) is refused with the choices."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return TreatmentKind(key)
    except ValueError:
        near = [k.value for k in TreatmentKind if k.value.startswith(key)] if key else []
        if not near:
            near = difflib.get_close_matches(key, [k.value for k in TreatmentKind], n=2)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise InputError(
            f"unknown treatment {text!r}{hint} (known: {', '.join(k.value for k in TreatmentKind)})"
        ) from None


def parse_date(text: str, *, column: str = "date", today: dt.date | None = None) -> dt.date:
    """Parse a YYYY-MM-DD date that exists; with ``today``, refuse a date after it."""
    if not _DATE_RE.match(text):
        raise InputError(f"{column} {text!r} is not a date in YYYY-MM-DD form")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{column} {text!r} is not a real date") from None
    if value < _EARLIEST:
        raise InputError(f"{column} {text} is before 1900")
    if today is not None and value > today:
        raise InputError(f"{column} {text} is in the future (today is {today.isoformat()})")
    return value


def _parse_time(text: str, column: str) -> dt.time:
    m = _TIME_RE.match(text)
    if not m:
        raise _RowError(f"{column} {text!r} is not a time in HH:MM form")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _RowError(f"{column} {text!r} is not a real time of day")
    return dt.time(hour, minute, second)


def parse_time(text: str, *, column: str = "time") -> dt.time:
    """Parse HH:MM (or HH:MM:SS) into a time of day, refusing 25:00 and the like."""
    try:
        return _parse_time(text, column)
    except _RowError as exc:
        raise InputError(str(exc)) from None


def _parse_float(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        hint = " (use a dot as the decimal separator)" if re.fullmatch(r"-?\d+,\d+", text) else ""
        raise _RowError(f"{column} {text!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise _RowError(f"{column} {text!r} is not a finite number")
    low, high, unit = _RANGES[column]
    if value < low:
        what = "negative" if value < 0 else f"below {format_float(low)}"
        raise _RowError(f"{column} {text} is {what}; it must be between {format_float(low)} and {format_float(high)} {unit}")
    if value > high:
        raise _RowError(f"{column} {text} is above {format_float(high)} {unit}, beyond any human scalp; check the column and unit")
    return value


def _parse_replicate(text: str, column: str) -> int:
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise _RowError(f"{column} {text!r} is not a whole number >= 1")
    return int(text)


def parse_money(amount: str | Decimal, currency: str) -> Money:
    """Build :class:`Money` from an amount and an ISO 4217 code; refuse negatives and unknown codes."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise InputError(f"cost {amount!r} is not a number") from None
    if not value.is_finite():
        raise InputError(f"cost {amount!r} is not a finite number")
    if value < 0:
        raise InputError(f"cost {amount} is negative")
    if value >= Decimal("1e10"):
        raise InputError(f"cost {amount} is implausibly large")
    code = currency.strip().upper()
    if code not in ISO_4217:
        raise InputError(f"currency {currency!r} is unknown: give an ISO 4217 code such as USD, EUR, GBP")
    return Money(value, code)


def _text(column: str) -> Callable[[str, str], str]:
    def parse(value: str, _column: str) -> str:
        if len(value) > _TEXT_LIMITS[column]:
            raise _RowError(f"{column} is longer than {_TEXT_LIMITS[column]} characters")
        return value

    return parse


# -- decoding and the shared row loop -----------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        raise CsvError([(1, "the file is UTF-16 or UTF-32 encoded (it starts with that byte-order mark); save it as UTF-8")])
    # A UTF-8 byte-order mark (Excel's "CSV UTF-8") carries no data: drop it rather than read it into
    # the first column's name.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise CsvError([(1, "the file is empty; expected a header row")])
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CsvError([(data.count(b"\n", 0, nul) + 1, "the file contains NUL bytes: it is not a text CSV file")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CsvError(
            [(line, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8")]
        ) from None


def _read_header(
    reader: Any, columns: Sequence[str], required: Sequence[str], required_any: Sequence[str] = ()
) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise CsvError([(1, "the file is empty; expected a header row")]) from None
    except csv.Error as exc:
        raise CsvError([(1, f"malformed CSV: {exc}")]) from None
    names = [h.strip().lower() for h in header]
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if not name:
            problems.append((1, f"column {i} of the header has no name"))
        elif name in seen:
            problems.append((1, f"column {name!r} appears twice in the header"))
        elif name not in columns:
            near = difflib.get_close_matches(name, columns, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append((1, f"unknown column {name!r}{hint} (known: {', '.join(columns)})"))
        seen.add(name)
    for name in required:
        if name not in seen:
            problems.append((1, f"missing required column {name!r}"))
    if required_any and not seen.intersection(required_any):
        problems.append((1, f"missing required column: one of {' or '.join(map(repr, required_any))}"))
    if problems:
        raise CsvError(problems)
    return names


def _rows(text: str, names: list[str], reader: Any) -> Iterable[tuple[int, dict[str, str]]]:
    """Yield (line number, {column: stripped value}) for each non-blank row; raise on a ragged row."""
    while True:
        start = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _LineError(start, f"malformed CSV: {exc}") from None
        if not raw or all(not cell.strip() for cell in raw):
            continue
        if len(raw) != len(names):
            raise _LineError(start, f"{len(raw)} fields, but the header has {len(names)}")
        yield start, {name: cell.strip() for name, cell in zip(names, raw, strict=True)}


class _LineError(Exception):
    def __init__(self, line: int, reason: str):
        self.line, self.reason = line, reason


def _read(
    data: bytes,
    columns: Sequence[str],
    required: Sequence[str],
    parse_row: Callable[[dict[str, str]], Any],
    key: Callable[[Any], tuple[Any, ...]],
    describe: Callable[[Any], str],
    required_any: Sequence[str] = (),
) -> tuple[list[Any], list[int]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    names = _read_header(reader, columns, required, required_any)
    rows: list[Any] = []
    lines: list[int] = []
    problems: list[tuple[int, str]] = []
    first_line_of: dict[tuple[Any, ...], int] = {}
    try:
        for line, cells in _rows(text, names, reader):
            try:
                row = parse_row(cells)
            except (_RowError, InputError) as exc:
                problems.append((line, str(exc)))
            else:
                k = key(row)
                if k in first_line_of:
                    problems.append((line, f"{describe(row)} is already on line {first_line_of[k]}"))
                else:
                    first_line_of[k] = line
                    rows.append(row)
                    lines.append(line)
            if len(problems) >= MAX_PROBLEMS:
                problems.append((line, f"stopped after {MAX_PROBLEMS} problems"))
                break
    except _LineError as exc:
        problems.append((exc.line, exc.reason))
    if problems:
        raise CsvError(problems)
    if not rows:
        raise CsvError([(reader.line_num + 1, "no data rows after the header")])
    return rows, lines


def _cell(cells: dict[str, str], name: str) -> str:
    return cells.get(name, "")


def _profile_of(cells: dict[str, str], profile: str | None) -> str:
    named = _cell(cells, "profile")
    if profile is not None:
        if named and named != profile:
            raise _RowError(f"profile {named!r} differs from --profile {profile!r}")
        return profile
    if not named:
        raise _RowError("profile is empty (give it in the file or with --profile)")
    return validate_profile_name(named)


# -- measurements ---------------------------------------------------------------------------------------

_MEASUREMENT_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "replicate": _parse_replicate,
    **{name: _parse_float for name in _RANGES},
    "capture_time": _parse_time,
    "device": _text("device"),
    "lighting": _text("lighting"),
    "image": _text("image"),
    "note": _text("note"),
    "method": _text("method"),
}


def read_measurements_csv(
    data: bytes, *, profile: str | None = None, today: dt.date | None = None
) -> ParsedCsv[Measurement]:
    """Read a measurements CSV (DESIGN 3.2) into :class:`Measurement` records.

    Parameters
    ----------
    data : bytes
        The file's bytes, UTF-8 (a UTF-8 byte-order mark is allowed).
    profile : str, optional
        Profile for rows whose ``profile`` is empty; a row naming another profile is an error.
        Without it the ``profile`` column is required.
    today : date, optional
        Dates after it are refused (default: today's date).

    Returns
    -------
    ParsedCsv
        The records in file order, with their line numbers. A row without ``replicate`` gets the
        next number after the highest one given for its profile, date and zone in the file.

    Raises
    ------
    CsvError
        Every problem found, as ``(line, reason)``; nothing is returned for a file with any.

    Examples
    --------
    >>> csv_bytes = b"date,zone,hairs_per_cm2\\n2025-03-01,crown,152.5\\n2025-03-01,crown,149\\n"
    >>> parsed = read_measurements_csv(csv_bytes, profile="p1", today=dt.date(2025, 6, 1))
    >>> [(m.zone.value, m.replicate, m.hairs_per_cm2) for m in parsed.rows]
    [('crown', 1, 152.5), ('crown', 2, 149.0)]
    """
    if profile is not None:
        validate_profile_name(profile)
    today = today or dt.date.today()
    required = ["date", "zone"] + ([] if profile else ["profile"])

    def parse_row(cells: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "profile": _profile_of(cells, profile),
            "date": parse_date(_cell(cells, "date"), today=today),
            "zone": parse_zone(_cell(cells, "zone")),
        }
        for name, parse in _MEASUREMENT_PARSERS.items():
            cell = _cell(cells, name)
            values[name] = parse(cell, name) if cell else None
        if values["hairs_per_cm2"] is None and values["coverage_pct"] is None:
            raise _RowError("needs hairs_per_cm2 or coverage_pct (both are empty)")
        return values

    def key(v: dict[str, Any]) -> tuple[Any, ...]:
        # Rows without a replicate number never collide here; they are numbered below.
        return (v["profile"], v["date"], v["zone"], v["replicate"] or object())

    def describe(v: dict[str, Any]) -> str:
        return f"{v['profile']} {v['date']} {v['zone']} replicate {v['replicate']}"

    rows, lines = _read(
        data, MEASUREMENT_COLUMNS, required, parse_row, key, describe, ("hairs_per_cm2", "coverage_pct")
    )
    highest: dict[tuple[Any, ...], int] = {}
    for r in rows:
        if r["replicate"] is not None:
            k = (r["profile"], r["date"], r["zone"])
            highest[k] = max(highest.get(k, 0), r["replicate"])
    out = []
    for r in rows:
        if r["replicate"] is None:
            k = (r["profile"], r["date"], r["zone"])
            highest[k] = r["replicate"] = highest.get(k, 0) + 1
        out.append(Measurement(**r))
    return ParsedCsv(tuple(out), tuple(lines))


def format_float(value: float | None) -> str:
    """Shortest text that reads back as the same float; whole numbers without '.0'.

    Examples
    --------
    >>> format_float(150.0), format_float(0.1 + 0.2), format_float(None)
    ('150', '0.30000000000000004', '')
    """
    if value is None:
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def format_amount(value: Decimal | None) -> str:
    """A money amount without trailing zeros or exponent (``Decimal('800.0000')`` -> ``'800'``)."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def measurement_to_dict(m: Measurement) -> dict[str, str]:
    """One measurements-CSV row (all columns, as text) for ``m``."""
    out: dict[str, str] = {}
    for f in fields(Measurement):
        value = getattr(m, f.name)
        if isinstance(value, float):
            out[f.name] = format_float(value)
        elif isinstance(value, dt.time):
            out[f.name] = value.strftime("%H:%M") if value.second == 0 else value.isoformat()
        elif value is None:
            out[f.name] = ""
        else:
            out[f.name] = str(value)
    return out


def _write(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_measurements_csv(measurements: Iterable[Measurement]) -> str:
    """The measurements CSV of ``measurements``, every column, in the order given."""
    return _write(MEASUREMENT_COLUMNS, (measurement_to_dict(m) for m in measurements))


# -- treatments -----------------------------------------------------------------------------------------


def read_treatments_csv(data: bytes, *, profile: str | None = None) -> ParsedCsv[Treatment]:
    """Read a treatments CSV (DESIGN 3.2) into :class:`Treatment` records.

    Continuous treatments take one row each (``date`` is the start); session treatments (PRP, EV,
    microneedling) take one row per session and no ``end_date``. Dates may lie in the future (a
    planned start). ``cost`` needs ``currency`` and the reverse.

    Raises
    ------
    CsvError
        Every problem found, as ``(line, reason)``.
    """
    if profile is not None:
        validate_profile_name(profile)
    required = ["treatment", "date"] + ([] if profile else ["profile"])

    def parse_row(cells: dict[str, str]) -> Treatment:
        kind = parse_treatment_kind(_cell(cells, "treatment"))
        start = parse_date(_cell(cells, "date"))
        end = parse_date(_cell(cells, "end_date"), column="end_date") if _cell(cells, "end_date") else None
        if end is not None and kind.is_session:
            raise _RowError(f"{kind.value} is recorded per session: end_date must be empty")
        if end is not None and end < start:
            raise _RowError(f"end_date {end} is before date {start}")
        cost_text, currency = _cell(cells, "cost"), _cell(cells, "currency")
        if cost_text and not currency:
            raise _RowError("cost is given without a currency")
        if currency and not cost_text:
            raise _RowError("currency is given without a cost")
        return Treatment(
            profile=_profile_of(cells, profile),
            treatment=kind,
            date=start,
            end_date=end,
            dose=_text("dose")(_cell(cells, "dose"), "dose") or None,
            cost=parse_money(cost_text, currency) if cost_text else None,
            provider=_text("provider")(_cell(cells, "provider"), "provider") or None,
            note=_text("note")(_cell(cells, "note"), "note") or None,
        )

    def key(t: Treatment) -> tuple[Any, ...]:
        return (t.profile, t.treatment, t.date)

    def describe(t: Treatment) -> str:
        what = "session" if t.treatment.is_session else "start"
        return f"{t.profile} {t.treatment.value} {what} on {t.date}"

    rows, lines = _read(data, TREATMENT_COLUMNS, required, parse_row, key, describe)
    return ParsedCsv(tuple(rows), tuple(lines))


def treatment_to_dict(t: Treatment) -> dict[str, str]:
    """One treatments-CSV row (all columns, as text) for ``t``."""
    return {
        "profile": t.profile,
        "treatment": t.treatment.value,
        "date": t.date.isoformat(),
        "end_date": t.end_date.isoformat() if t.end_date else "",
        "dose": t.dose or "",
        "cost": format_amount(t.cost.amount) if t.cost else "",
        "currency": t.cost.currency if t.cost else "",
        "provider": t.provider or "",
        "note": t.note or "",
    }


def write_treatments_csv(treatments: Iterable[Treatment]) -> str:
    """The treatments CSV of ``treatments``, every column, in the order given."""
    return _write(TREATMENT_COLUMNS, (treatment_to_dict(t) for t in treatments))


# -- JSON -------------------------------------------------------------------------------------------------

EXPORT_FORMAT = "hairtrack-export"
EXPORT_VERSION = 1


def _typed(record: Measurement | Treatment) -> dict[str, Any]:
    """A record as JSON-ready values: numbers stay numbers, dates ISO text, money exact text + currency."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, dt.date | dt.time):
            value = value.isoformat()
        elif isinstance(value, Money):
            out["currency"] = value.currency
            value = format_amount(value.amount)
        elif isinstance(value, Zone | TreatmentKind):
            value = value.value
        out[f.name] = value
    if isinstance(record, Treatment) and "currency" not in out:
        out["currency"] = None
    return out


def export_document(
    profiles: Sequence[dict[str, Any]],
    measurements: Sequence[Measurement],
    treatments: Sequence[Treatment],
    *,
    exported_at: dt.datetime,
    version: str,
) -> dict[str, Any]:
    """The JSON export: every profile with its measurements and treatments nested under it.

    ``profiles`` are dicts with at least ``name`` (plus ``sex``, ``note``). Measurements and treatments
    keep their order and drop the redundant ``profile`` key inside each profile.
    """
    by_profile: dict[str, dict[str, Any]] = {
        p["name"]: {**p, "measurements": [], "treatments": []} for p in profiles
    }
    for m in measurements:
        row = _typed(m)
        by_profile[row.pop("profile")]["measurements"].append(row)
    for t in treatments:
        row = _typed(t)
        by_profile[row.pop("profile")]["treatments"].append(row)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": exported_at.isoformat(timespec="seconds"),
        "hairtrack_version": version,
        "profiles": list(by_profile.values()),
    }
