"""The CSV readers and writers on their own (no database): parsing, every refusal, and the round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hairtrack.domain import Measurement, Money, Treatment, TreatmentKind, Zone
from hairtrack.errors import CsvError, InputError
from hairtrack.tracking.io import (
    MEASUREMENT_COLUMNS,
    TREATMENT_COLUMNS,
    format_amount,
    format_float,
    read_measurements_csv,
    read_treatments_csv,
    write_measurements_csv,
    write_treatments_csv,
)

TODAY = dt.date(2026, 1, 1)


def problems(data: bytes, **kwargs: object) -> list[tuple[int, str]]:
    with pytest.raises(CsvError) as info:
        read_measurements_csv(data, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def test_reads_columns_in_any_order_with_optional_ones_absent() -> None:
    data = b"hairs_per_cm2,zone,date,profile\n150.5,Mid-Scalp,2025-03-01,anna\n"
    (m,) = read_measurements_csv(data, today=TODAY).rows
    assert m == Measurement(profile="anna", date=dt.date(2025, 3, 1), zone=Zone.MID_SCALP, replicate=1, hairs_per_cm2=150.5)


def test_missing_replicates_are_numbered_after_the_given_ones() -> None:
    data = b"date,zone,replicate,hairs_per_cm2\n2025-03-01,crown,,1\n2025-03-01,crown,2,2\n2025-03-01,crown,,3\n2025-03-01,donor,,4\n"
    parsed = read_measurements_csv(data, profile="p", today=TODAY)
    assert [(m.zone.value, m.replicate, m.hairs_per_cm2) for m in parsed.rows] == [
        ("crown", 3, 1.0), ("crown", 2, 2.0), ("crown", 4, 3.0), ("donor", 1, 4.0)
    ]
    assert parsed.lines == (2, 3, 4, 5)


def test_coverage_only_rows_are_accepted() -> None:
    (m,) = read_measurements_csv(b"date,zone,coverage_pct\n2025-03-01,crown,62.5\n", profile="p", today=TODAY).rows
    assert m.coverage_pct == 62.5 and m.hairs_per_cm2 is None


def test_utf8_byte_order_mark_is_dropped_not_read_into_the_header() -> None:
    # Excel's "CSV UTF-8" starts files with a BOM; it carries no data.
    (m,) = read_measurements_csv(b"\xef\xbb\xbfdate,zone,hairs_per_cm2\n2025-03-01,crown,1\n", profile="p", today=TODAY).rows
    assert m.date == dt.date(2025, 3, 1)


def test_crlf_line_endings_and_quoted_fields_with_commas_and_newlines() -> None:
    data = b'date,zone,hairs_per_cm2,note\r\n2025-03-01,crown,1,"after a wash, ""wet""\r\nsecond line"\r\n2025-03-02,crown,2,\r\n'
    parsed = read_measurements_csv(data, profile="p", today=TODAY)
    assert parsed.rows[0].note == 'after a wash, "wet"\r\nsecond line'
    assert parsed.lines == (2, 4)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", (1, "the file is empty")),
        (b"   \n\n", (1, "the file is empty")),
        (b"date,zone,hairs_per_cm2\n", (2, "no data rows after the header")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,nape,1\n", (2, "unknown zone 'nape'; expected one of hairline, temples, mid_scalp, crown, donor")),
        (b"date,zone,hairs_per_cm2\n2025-02-30,crown,1\n", (2, "date '2025-02-30' is not a real date")),
        (b"date,zone,hairs_per_cm2\n03/01/2025,crown,1\n", (2, "date '03/01/2025' is not a date in YYYY-MM-DD form")),
        (b"date,zone,hairs_per_cm2\n2026-06-01,crown,1\n", (2, "date 2026-06-01 is in the future (today is 2026-01-01)")),
        (b"date,zone,hairs_per_cm2\n1899-12-31,crown,1\n", (2, "date 1899-12-31 is before 1900")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,-3\n", (2, "hairs_per_cm2 -3 is negative")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,abc\n", (2, "hairs_per_cm2 'abc' is not a number")),
        (b'date,zone,hairs_per_cm2\n2025-03-01,crown,"152,3"\n', (2, "hairs_per_cm2 '152,3' is not a number (use a dot as the decimal separator)")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,nan\n", (2, "hairs_per_cm2 'nan' is not a finite number")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,5000\n", (2, "hairs_per_cm2 5000 is above 1000 hairs/cm2")),
        (b"date,zone,terminal_fraction,hairs_per_cm2\n2025-03-01,crown,75,1\n", (2, "terminal_fraction 75 is above 1")),
        (b"date,zone,replicate,hairs_per_cm2\n2025-03-01,crown,0,1\n", (2, "replicate '0' is not a whole number >= 1")),
        (b"date,zone,capture_time,hairs_per_cm2\n2025-03-01,crown,25:00,1\n", (2, "capture_time '25:00' is not a real time of day")),
        (b"date,zone,hairs_per_cm2,coverage_pct\n2025-03-01,crown,,\n", (2, "needs hairs_per_cm2 or coverage_pct (both are empty)")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,1,2\n", (2, "4 fields, but the header has 3")),
        (b"zone,hairs_per_cm2\ncrown,1\n", (1, "missing required column 'date'")),
        (b"date,zone\n2025-03-01,crown\n", (1, "missing required column: one of 'hairs_per_cm2' or 'coverage_pct'")),
        (b"date,zone,zone,hairs_per_cm2\n2025-03-01,crown,crown,1\n", (1, "column 'zone' appears twice in the header")),
        (b"date,zone,hairs_per_cm,hairs_per_cm2\n2025-03-01,crown,1,1\n", (1, "unknown column 'hairs_per_cm'; did you mean 'hairs_per_cm2'?")),
        (b"date,,zone,hairs_per_cm2\n2025-03-01,,crown,1\n", (1, "column 2 of the header has no name")),
        ("date,zone,hairs_per_cm2,note\n2025-03-01,crown,1,caf\u00e9\n".encode("latin-1"), (2, "the file is not UTF-8 text (byte 0xe9); save it as UTF-8")),
        ("date,zone,hairs_per_cm2\n".encode("utf-16"), (1, "the file is UTF-16 or UTF-32 encoded")),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", (3, "the file contains NUL bytes")),
        (b"date,zone,hairs_per_cm2\n2025-03-01,crown,1\n2025-03-01,crown,2\n", None),  # auto replicates: fine
        (b"date,zone,replicate,hairs_per_cm2\n2025-03-01,crown,1,1\n2025-03-01,crown,1,2\n", (3, "p 2025-03-01 crown replicate 1 is already on line 2")),
        (b"profile,date,zone,hairs_per_cm2\nq,2025-03-01,crown,1\n", (2, "profile 'q' differs from --profile 'p'")),
    ],
)
def test_each_bad_input_is_refused_with_its_line_and_reason(data: bytes, expected: tuple[int, str] | None) -> None:
    if expected is None:
        assert len(read_measurements_csv(data, profile="p", today=TODAY).rows) == 2
        return
    found = problems(data, profile="p")
    line, reason = expected
    assert found[0][0] == line
    assert found[0][1].startswith(reason), found


def test_profile_column_is_required_without_profile_option() -> None:
    assert problems(b"date,zone,hairs_per_cm2\n2025-03-01,crown,1\n") == [(1, "missing required column 'profile'")]


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    data = b"date,zone,hairs_per_cm2\n2025-03-01,crown,1\n2025-13-01,crown,1\n2025-03-02,crown,x\n2025-03-03,crown,1\n"
    assert [line for line, _ in problems(data, profile="p")] == [3, 4]


def test_a_bad_profile_name_is_refused() -> None:
    with pytest.raises(InputError, match="profile name '../etc' is not usable"):
        read_measurements_csv(b"date,zone,hairs_per_cm2\n2025-03-01,crown,1\n", profile="../etc", today=TODAY)


@pytest.mark.parametrize("value", [0.1 + 0.2, 150.0, 1e-7, 123.456, 0.0])
def test_format_float_reads_back_exactly(value: float) -> None:
    assert float(format_float(value)) == value


def test_format_amount_strips_storage_zeros() -> None:
    assert [format_amount(Decimal(x)) for x in ("800.0000", "800.5000", "0", "1E+3")] == ["800", "800.5", "0", "1000"]


def test_measurements_round_trip_through_text() -> None:
    rows = [
        Measurement(
            profile="anna k", date=dt.date(2025, 3, 1), zone=Zone.CROWN, replicate=2, hairs_per_cm2=0.1 + 0.2,
            fu_per_cm2=70.25, hairs_per_fu=2.1, mean_width_um=61.5, terminal_fraction=0.75, coverage_pct=None,
            capture_time=dt.time(8, 30), hair_length_mm=1.0, device="dermlite", lighting="led",
            image="IMG_0001.HEIC", note='after a "wash", \u00e9t\u00e9\nline two',
        ),
        Measurement(profile="b", date=dt.date(2025, 3, 2), zone=Zone.DONOR, coverage_pct=80.0, capture_time=dt.time(8, 30, 15)),
    ]
    text = write_measurements_csv(rows)
    assert text.splitlines()[0] == ",".join(MEASUREMENT_COLUMNS)
    assert read_measurements_csv(text.encode(), today=TODAY).rows == tuple(rows)


def test_treatments_parse_and_round_trip() -> None:
    data = (
        b"profile,treatment,date,end_date,dose,cost,currency,provider,note\n"
        b"p,finasteride,2024-03-01,2025-01-01,1 mg daily,25.50,usd,,\n"
        b"p,EV,2027-02-10,,2 ml,2500,EUR,Clinic A,planned\n"
    )
    rows = read_treatments_csv(data).rows
    assert rows == (
        Treatment("p", TreatmentKind.FINASTERIDE, dt.date(2024, 3, 1), dt.date(2025, 1, 1), "1 mg daily", Money(Decimal("25.50"), "USD")),
        Treatment("p", TreatmentKind.EV, dt.date(2027, 2, 10), None, "2 ml", Money(Decimal("2500"), "EUR"), "Clinic A", "planned"),
    )
    text = write_treatments_csv(rows)
    assert text.splitlines()[0] == ",".join(TREATMENT_COLUMNS)
    assert read_treatments_csv(text.encode()).rows == rows


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("minoxidil,2025-01-01,,,,,", "unknown treatment 'minoxidil'; did you mean minoxidil_topical or minoxidil_oral?"),
        ("finasteride,2025-01-01,2024-01-01,,,,", "end_date 2024-01-01 is before date 2025-01-01"),
        ("prp,2025-01-01,2025-02-01,,,,", "prp is recorded per session: end_date must be empty"),
        ("prp,2025-01-01,,,800,,", "cost is given without a currency"),
        ("prp,2025-01-01,,,,USD,", "currency is given without a cost"),
        ("prp,2025-01-01,,,800,XYZ,", "currency 'XYZ' is unknown"),
        ("prp,2025-01-01,,,-800,USD,", "cost -800 is negative"),
        ("prp,2025-01-01,,,lots,USD,", "cost 'lots' is not a number"),
        ("prp,2025-02-29,,,,,", "date '2025-02-29' is not a real date"),
    ],
)
def test_bad_treatment_rows_are_refused(row: str, reason: str) -> None:
    data = f"treatment,date,end_date,dose,cost,currency,provider\n{row}\n".encode()
    with pytest.raises(CsvError) as info:
        read_treatments_csv(data, profile="p")
    assert info.value.problems[0][0] == 2
    assert info.value.problems[0][1].startswith(reason)
