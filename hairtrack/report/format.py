"""Small formatters shared by the pages and the report."""

from __future__ import annotations

from typing import Any

from hairtrack.domain import Money
from hairtrack.tracking.io import format_amount

__all__ = ["fmt", "pct", "signed", "money", "FORMATTERS"]


def fmt(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or an en dash for a missing value."""
    if value is None:
        return "–"
    return f"{float(value):,.{digits}f}"


def pct(share: Any, digits: int = 0) -> str:
    """A share (0-1) as a percentage."""
    return "–" if share is None else f"{100 * float(share):.{digits}f}%"


def signed(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value):+.{digits}f}"


def money(value: Money | None) -> str:
    return "" if value is None else f"{format_amount(value.amount)} {value.currency}"


FORMATTERS = {"fmt": fmt, "pct": pct, "signed": signed, "money": money}
