"""The domain vocabulary shared by every stage: zones, treatments and the records that flow between them.

These are plain frozen dataclasses: the record store turns database rows into them, the CSV reader
produces them, and the statistics consume them. Nothing here touches a file or a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Zone",
    "TreatmentKind",
    "CONTINUOUS_TREATMENTS",
    "SESSION_TREATMENTS",
    "Sex",
    "Measurement",
    "Treatment",
    "Money",
]


class Zone(StrEnum):
    """Scalp zones. ``donor`` (occipital) is the within-person control: androgen-insensitive."""

    HAIRLINE = "hairline"
    TEMPLES = "temples"
    MID_SCALP = "mid_scalp"
    CROWN = "crown"
    DONOR = "donor"

    @classmethod
    def parse(cls, text: str) -> Zone:
        """A zone from its name, forgiving case, spaces and hyphens (``Mid-Scalp`` is ``mid_scalp``).

        >>> Zone.parse(" Mid-Scalp ")
        <Zone.MID_SCALP: 'mid_scalp'>
        """
        from hairtrack.errors import InputError

        try:
            return cls(str(text).strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            raise InputError(f"unknown zone {text!r}; expected one of {', '.join(z.value for z in cls)}") from None


class TreatmentKind(StrEnum):
    """Treatments hairtrack knows. Continuous ones have a start and optional end; the others are sessions."""

    FINASTERIDE = "finasteride"
    DUTASTERIDE = "dutasteride"
    MINOXIDIL_TOPICAL = "minoxidil_topical"
    MINOXIDIL_ORAL = "minoxidil_oral"
    LLLT = "lllt"
    KETOCONAZOLE = "ketoconazole"
    OTHER = "other"
    PRP = "prp"
    EV = "ev"
    MICRONEEDLING = "microneedling"

    @property
    def is_session(self) -> bool:
        """True for treatments recorded one session at a time (PRP, EV, microneedling)."""
        return self in SESSION_TREATMENTS


SESSION_TREATMENTS = frozenset({TreatmentKind.PRP, TreatmentKind.EV, TreatmentKind.MICRONEEDLING})
CONTINUOUS_TREATMENTS = frozenset(set(TreatmentKind) - SESSION_TREATMENTS)


class Sex(StrEnum):
    """Used to pick the staging scale (Norwood for men, Ludwig/Sinclair for women)."""

    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its ISO 4217 currency code; amounts are exact decimals, never floats."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Measurement:
    """One analysed image of one zone at one visit (a row of the measurements CSV).

    Several measurements of the same profile, date and zone are replicates, numbered from 1.
    Values that need a scale or were not measured are ``None``.
    """

    profile: str
    date: dt.date
    zone: Zone
    replicate: int = 1
    hairs_per_cm2: float | None = None
    fu_per_cm2: float | None = None
    hairs_per_fu: float | None = None
    mean_width_um: float | None = None
    terminal_fraction: float | None = None
    coverage_pct: float | None = None
    capture_time: dt.time | None = None
    hair_length_mm: float | None = None
    device: str | None = None
    lighting: str | None = None
    image: str | None = None
    note: str | None = None
    # What measured the figures (the analyze object's ``method``, e.g. ``learned/f588b811d0/r3``): figures
    # from different methods are not like for like. ``None`` for a row imported without one.
    method: str | None = None


@dataclass(frozen=True, slots=True)
class Treatment:
    """A continuous treatment (``date`` = start, optional ``end_date``) or one session of a session treatment.

    ``cost`` is the cost of this row: of the session, or of the continuous treatment over its span.
    """

    profile: str
    treatment: TreatmentKind
    date: dt.date
    end_date: dt.date | None = None
    dose: str | None = None
    cost: Money | None = None
    provider: str | None = None
    note: str | None = None
