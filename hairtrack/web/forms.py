"""Reading numbers typed into forms, the same way on every page."""

from __future__ import annotations

import math

from hairtrack.errors import InputError

__all__ = ["form_number"]


def form_number(
    text: str | None, name: str, *, low: float = -math.inf, high: float = math.inf, thousands: bool = False
) -> float | None:
    """A number from a form field, or None when it is left empty.

    A comma is a decimal comma ("152,5"), or with ``thousands`` a digit-group separator ("2,000,000");
    the value must be finite and within ``[low, high]``; the message names the field.

    Examples
    --------
    >>> form_number(" 152,5 ", "px_per_mm", low=0), form_number("", "x"), form_number("2,000", "n", thousands=True)
    (152.5, None, 2000.0)
    """
    text = (text or "").strip()
    if not text:
        return None
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "") if thousands else text.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {text!r}")
    if not low <= value <= high:
        bounds = f"between {low:g} and {high:g}" if math.isfinite(low) and math.isfinite(high) else (
            f"at least {low:g}" if math.isfinite(low) else f"at most {high:g}")
        raise InputError(f"{name} must be {bounds}, got {text}")
    return value
