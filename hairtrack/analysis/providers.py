"""Check an extracellular-vesicle (exosome) provider before paying: red flags a patient can understand.

A provider file (JSON or TOML, DESIGN.md 3.4) says what a clinic publishes about its product: where the
vesicles come from, how many particles and how much protein a dose holds, their size distribution, how
they were characterized, whether the clinic guarantees results or encourages tracking, and the price.
:func:`load_provider` reads and validates it into a :class:`ProviderProfile`; :func:`check_provider`
returns a :class:`ProviderCheck` whose flags each have a ``code``, a ``severity`` (``high``, ``medium``,
``low``, ``info``), a sentence for the patient and the source of the rule.

The characterization check follows the minimal information the EV field asks of any preparation
(MISEV2018, Théry et al. 2018, J Extracell Vesicles 7:1535750, Table 3; kept in MISEV2023, Welsh et al.
2024, J Extracell Vesicles 13:e12404): the source, a quantity (particles and protein), the size
distribution, single-vesicle characterization by an imaging method AND a non-imaging particle method,
and identity by EV marker proteins (a tetraspanin such as CD9/CD63/CD81) with a negative marker.

Size ranges come from the treatment reference (``reference.toml``), and the responder rates quoted
against guarantees from its benchmarks, so the check and the reference pages never disagree.
Information, not advice.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hairtrack.analysis.benchmarks import load_references
from hairtrack.analysis.reference import ev_types
from hairtrack.domain import Money
from hairtrack.errors import InputError
from hairtrack.tracking.currencies import ISO_4217

__all__ = [
    "ProviderProfile", "ProviderFlag", "ProviderCheck", "FxTable", "SEVERITIES", "EXTREME_PRICE_USD",
    "load_provider", "parse_provider", "provider_from_mapping", "provider_record_fields", "fx_table",
    "parse_rate", "check_provider", "provider_check_to_dict",
]

SEVERITIES = ("high", "medium", "low", "info")
# Working figure from hairtrack issue 8: EV sessions typically cost 1,500-5,000 USD; above 5,000 is extreme.
EXTREME_PRICE_USD = Decimal(5000)
_FX_TOML = Path(__file__).with_name("fx_rates.toml")
_MISEV = ("MISEV2018 (Théry C. et al. 2018, J Extracell Vesicles 7:1535750, Table 3); "
          "MISEV2023 (Welsh J. A. et al. 2024, J Extracell Vesicles 13:e12404)")
_FDA_EXOSOMES = "US FDA (6 December 2019) Public Safety Notification on Exosome Products"

_FIELDS = ("name", "ev_source", "particles_per_dose", "protein_ug_per_dose", "size_distribution_nm",
           "characterization_methods", "markers", "guarantees_results", "encourages_tracking",
           "price_per_session", "marketed_as", "fda_claim", "claims_stem_cells", "note")
_SIZE_KEYS = ("mode", "d10", "d90")
_PRICE_KEYS = ("amount", "currency")
_MARKETED_AS = ("exosomes", "small_extracellular_vesicles", "extracellular_vesicles", "other")
_FDA_CLAIMS = ("none", "approved", "cleared", "registered_facility", "ind")
# Names people use for the flat columns of the providers table.
_HINTS = {"size_mode_nm": "size_distribution_nm.mode", "size_d10_nm": "size_distribution_nm.d10",
          "size_d90_nm": "size_distribution_nm.d90", "price_amount": "price_per_session.amount",
          "price_currency": "price_per_session.currency", "price": "price_per_session"}

# Characterization methods by what they show (MISEV2018 Table 3). Keys are lower-case with spaces,
# hyphens and underscores removed.
_PARTICLE = {"nta": "NTA", "nanoparticletrackinganalysis": "NTA", "zetaview": "NTA", "nanosight": "NTA",
             "trps": "TRPS", "tunableresistivepulsesensing": "TRPS", "mrps": "MRPS", "nanoflow": "nano_flow",
             "nanoflowcytometry": "nano_flow", "highresolutionflowcytometry": "nano_flow"}
# DLS is deliberately absent: it measures a bulk average, not single particles, so MISEV2018 Table 3 does
# not count it as single-vesicle characterization (and it gives no particle count).
_IMAGING = {"tem": "TEM", "transmissionelectronmicroscopy": "TEM", "electronmicroscopy": "EM", "em": "EM",
            "cryoem": "cryo_EM", "cryotem": "cryo_EM", "cryoelectronmicroscopy": "cryo_EM", "sem": "SEM",
            "afm": "AFM", "atomicforcemicroscopy": "AFM"}
_MARKER_METHODS = {"westernblot": "western_blot", "wb": "western_blot", "immunoblot": "western_blot",
                   "flowcytometry": "flow_cytometry", "facs": "flow_cytometry", "elisa": "ELISA",
                   "massspectrometry": "mass_spectrometry", "proteomics": "mass_spectrometry",
                   "exoview": "SP-IRIS", "spiris": "SP-IRIS"}
_TETRASPANINS = {"CD9", "CD63", "CD81"}
_NEGATIVE_MARKERS = {"CALNEXIN", "CANX", "GM130", "GOLGA2", "APOA1", "APOA2", "APOB", "ALBUMIN", "ALB",
                     "HISTONE", "HISTONES", "GRP94", "HSP90B1", "CYTOCHROMEC", "CYCS", "TAMMHORSFALL", "UMOD"}


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """What a provider publishes about its EV product (DESIGN.md 3.4); None where it says nothing."""

    name: str
    ev_source: str | None = None
    particles_per_dose: float | None = None
    protein_ug_per_dose: float | None = None
    size_mode_nm: float | None = None
    size_d10_nm: float | None = None
    size_d90_nm: float | None = None
    characterization_methods: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    guarantees_results: bool | None = None
    encourages_tracking: bool | None = None
    price_per_session: Money | None = None
    marketed_as: str | None = None
    fda_claim: str | None = None
    claims_stem_cells: bool | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderFlag:
    """One red flag: a code, a severity, a sentence for the patient and where the rule comes from."""

    code: str
    severity: str
    message: str
    source: str


@dataclass(frozen=True, slots=True)
class ProviderCheck:
    """The result of :func:`check_provider`.

    ``misev_missing`` lists the minimal-information items the provider does not give. ``price_usd`` is the
    price per session in USD, ``usd_per_unit`` the rate used and ``rate_origin`` where it came from
    (``usd``, ``given`` or ``table``, with ``rate_as_of`` the table's date); all None where the price was
    not given or could not be converted.
    """

    name: str
    flags: tuple[ProviderFlag, ...]
    misev_missing: tuple[str, ...]
    price_usd: Decimal | None
    usd_per_unit: Decimal | None
    rate_origin: str | None
    rate_as_of: dt.date | None


@dataclass(frozen=True, slots=True)
class FxTable:
    """The dated, approximate rate table shipped in ``fx_rates.toml``: USD for one unit of each currency."""

    as_of: dt.date
    source: str
    usd_per_unit: Mapping[str, Decimal]


# -- reading ----------------------------------------------------------------------------------------------

def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"field {k!r} appears twice")
        seen[k] = v
    return seen


def parse_provider(text: str, *, fmt: str, origin: str = "provider file") -> ProviderProfile:
    """Parse the text of a provider file, ``fmt`` ``"json"`` or ``"toml"``; see :func:`provider_from_mapping`."""
    if fmt not in ("json", "toml"):
        raise InputError(f"fmt must be 'json' or 'toml', got {fmt!r}")
    if not text.strip():
        raise InputError(f"{origin} is empty; it needs at least a name (see examples/providers/)")
    try:
        if fmt == "json":
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
        else:
            data = tomllib.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{origin} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{origin} is not valid TOML: {e}") from None
    except ValueError as e:
        raise InputError(f"{origin} is not valid JSON: {e}") from None
    return provider_from_mapping(data, origin=origin)


def load_provider(path: str | Path) -> ProviderProfile:
    """Read a provider file: ``.json`` as JSON, ``.toml`` as TOML, anything else by its first character.

    Raises
    ------
    InputError
        The file is missing, empty, not valid JSON/TOML (with the line where the parser gives it), or a
        field is wrong; the message lists every problem found.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"provider file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read provider file {str(p)!r}: {e}") from None
    suffix = p.suffix.lower()
    fmt = "json" if suffix == ".json" else "toml" if suffix == ".toml" else (
        "json" if text.lstrip().startswith("{") else "toml")
    return parse_provider(text, fmt=fmt, origin=f"provider file {p.name}")


class _Problems(list):
    def unknown(self, where: str, key: str, known: tuple[str, ...]) -> None:
        hint = _HINTS.get(key) or next(iter(difflib.get_close_matches(key, known, n=1)), None)
        self.append(f"unknown field {where + str(key)!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; known fields: {', '.join(known)}")


def _kind_of(v: Any) -> str:
    return {bool: "true/false", str: "text", list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def _text(p: _Problems, field: str, v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        p.append(f"{field} must be text, got {v!r} ({_kind_of(v)})")
        return None
    return v.strip() or None


def _bool(p: _Problems, field: str, v: Any) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    p.append(f"{field} must be true or false, got {v!r} ({_kind_of(v)})")
    return None


def _positive(p: _Problems, field: str, v: Any, unit: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        p.append(f"{field} must be a number of {unit}, got {v!r} ({_kind_of(v)})")
        return None
    if not math.isfinite(v) or v <= 0:
        p.append(f"{field} must be a finite number of {unit} > 0, got {v!r}")
        return None
    return float(v)


def _choice(p: _Problems, field: str, v: Any, choices: tuple[str, ...]) -> str | None:
    s = _text(p, field, v)
    if s is None:
        return None
    k = s.lower().replace("-", "_").replace(" ", "_")
    if k not in choices:
        p.append(f"{field} must be one of {', '.join(choices)}, got {v!r}")
        return None
    return k


def _strings(p: _Problems, field: str, v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        p.append(f'{field} must be a list of text, e.g. ["NTA", "TEM"], got {v!r}')
        return ()
    return tuple(x.strip() for x in v if x.strip())


def _currency(p: _Problems, field: str, v: Any) -> str | None:
    if not isinstance(v, str):
        p.append(f"{field} must be an ISO 4217 code such as 'USD' or 'EUR', got {v!r} ({_kind_of(v)})")
        return None
    code = v.strip().upper()
    if code not in ISO_4217:
        close = ([c for c in sorted(ISO_4217) if c[:2] == code[:2]]
                 or difflib.get_close_matches(code, sorted(ISO_4217), n=1))
        p.append(f"unknown currency {v!r} in {field}: not an ISO 4217 code"
                 + (f" (did you mean {close[0]!r}?)" if close else ""))
        return None
    return code


def _amount(p: _Problems, field: str, v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        p.append(f"{field} must be a number or a decimal string such as \"3500.00\", got {v!r} ({_kind_of(v)})")
        return None
    try:
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(str(v).strip().replace(",", ""))
    except InvalidOperation:
        p.append(f"{field} must be a number, got {v!r}")
        return None
    if not d.is_finite() or d < 0:
        p.append(f"{field} must be a finite amount >= 0, got {v!r}")
        return None
    return d


def _table(p: _Problems, field: str, v: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        p.append(f"{field} must be a table with {', '.join(keys)}, got {v!r} ({_kind_of(v)})")
        return {}
    for k in v:
        if k not in keys:
            p.unknown(f"{field}.", k, keys)
    return v


def provider_from_mapping(data: Any, *, origin: str = "provider") -> ProviderProfile:
    """Validate a parsed provider file (a mapping of DESIGN.md 3.4 fields) into a :class:`ProviderProfile`.

    Raises
    ------
    InputError
        Listing every problem: unknown fields (with a did-you-mean), wrong types, sizes or amounts that
        are not positive, sizes out of order (d10 <= mode <= d90), an unknown currency.

    Examples
    --------
    >>> prof = provider_from_mapping({"name": "Clinic", "size_distribution_nm": {"mode": 110, "d10": 70, "d90": 180},
    ...                               "price_per_session": {"amount": "2500", "currency": "eur"}})
    >>> prof.size_mode_nm, prof.price_per_session
    (110.0, Money(amount=Decimal('2500'), currency='EUR'))
    >>> provider_from_mapping({"name": "Clinic", "size_distribution_nm": {"d10": 200, "d90": 90}})
    Traceback (most recent call last):
    ...
    hairtrack.errors.InputError: provider has 1 problem:
    - size_distribution_nm: d10 (200 nm) must not exceed d90 (90 nm)
    """
    if not isinstance(data, dict):
        raise InputError(f"{origin} must hold a table of fields (a JSON object), got {_kind_of(data)}")
    p = _Problems()
    for k in data:
        if k not in _FIELDS:
            p.unknown("", k, _FIELDS)
    name = _text(p, "name", data.get("name"))
    if name is None and not any("name must" in x for x in p):
        p.append("name is required (the clinic or product name)")
    size = _table(p, "size_distribution_nm", data.get("size_distribution_nm"), _SIZE_KEYS)
    mode, d10, d90 = (_positive(p, f"size_distribution_nm.{k}", size.get(k), "nanometres") for k in _SIZE_KEYS)
    order = [(a, b, x, y) for a, b, x, y in (("d10", "mode", d10, mode), ("mode", "d90", mode, d90),
                                            ("d10", "d90", d10, d90)) if x is not None and y is not None]
    for a, b, x, y in order:
        if x > y:
            p.append(f"size_distribution_nm: {a} ({x:g} nm) must not exceed {b} ({y:g} nm)")
            break
    price = _table(p, "price_per_session", data.get("price_per_session"), _PRICE_KEYS)
    money = None
    if price:
        missing = [k for k in _PRICE_KEYS if k not in price]
        if missing:
            p.append(f"price_per_session needs both amount and currency; missing {', '.join(missing)}")
        else:
            amount = _amount(p, "price_per_session.amount", price["amount"])
            currency = _currency(p, "price_per_session.currency", price["currency"])
            if amount is not None and currency is not None:
                money = Money(amount, currency)
    prof = dict(
        ev_source=_text(p, "ev_source", data.get("ev_source")),
        particles_per_dose=_positive(p, "particles_per_dose", data.get("particles_per_dose"), "particles"),
        protein_ug_per_dose=_positive(p, "protein_ug_per_dose", data.get("protein_ug_per_dose"), "micrograms"),
        characterization_methods=_strings(p, "characterization_methods", data.get("characterization_methods")),
        markers=_strings(p, "markers", data.get("markers")),
        guarantees_results=_bool(p, "guarantees_results", data.get("guarantees_results")),
        encourages_tracking=_bool(p, "encourages_tracking", data.get("encourages_tracking")),
        marketed_as=_choice(p, "marketed_as", data.get("marketed_as"), _MARKETED_AS),
        fda_claim=_choice(p, "fda_claim", data.get("fda_claim"), _FDA_CLAIMS),
        claims_stem_cells=_bool(p, "claims_stem_cells", data.get("claims_stem_cells")),
        note=_text(p, "note", data.get("note")),
    )
    if p:
        head = f"{origin} has {len(p)} problem{'s' if len(p) > 1 else ''}:"
        raise InputError("\n".join([head] + [f"- {x}" for x in p]))
    return ProviderProfile(name=name, size_mode_nm=mode, size_d10_nm=d10, size_d90_nm=d90,
                           price_per_session=money, **prof)


def provider_record_fields(profile: ProviderProfile) -> dict[str, Any]:
    """The columns of the ``providers`` table (``tracking.models.Provider``) for this profile.

    Fields the table has no column for (``markers``, ``marketed_as``, ``fda_claim``,
    ``claims_stem_cells``) are not included.
    """
    price = profile.price_per_session
    return {
        "name": profile.name, "ev_source": profile.ev_source, "particles_per_dose": profile.particles_per_dose,
        "protein_ug_per_dose": profile.protein_ug_per_dose, "size_mode_nm": profile.size_mode_nm,
        "size_d10_nm": profile.size_d10_nm, "size_d90_nm": profile.size_d90_nm,
        "characterization_methods": list(profile.characterization_methods) or None,
        "guarantees_results": profile.guarantees_results, "encourages_tracking": profile.encourages_tracking,
        "price_amount": price.amount if price else None, "price_currency": price.currency if price else None,
        "note": profile.note,
    }


# -- currencies -------------------------------------------------------------------------------------------

@functools.cache
def fx_table(path: Path = _FX_TOML) -> FxTable:
    """The shipped approximate rate table (``fx_rates.toml``), with its date and source.

    Examples
    --------
    >>> t = fx_table()
    >>> t.as_of.isoformat(), t.usd_per_unit["USD"]
    ('2025-01-10', Decimal('1.0'))
    """
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    rates = {}
    for code, v in raw["usd_per_unit"].items():
        if code not in ISO_4217 or isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ValueError(f"{path.name}: {code} = {v!r} is not an ISO 4217 code with a rate > 0")
        rates[code] = Decimal(repr(float(v)))
    return FxTable(raw["as_of"], raw["source"], MappingProxyType(rates))


def parse_rate(text: str) -> tuple[str, Decimal]:
    """Parse a ``--rate`` option, ``CUR=USD_PER_UNIT`` (``EUR=1.08``: one euro is 1.08 US dollars).

    Examples
    --------
    >>> parse_rate("eur=1.08")
    ('EUR', Decimal('1.08'))
    """
    code, sep, value = str(text).partition("=")
    code = code.strip().upper()
    if not sep or code not in ISO_4217:
        raise InputError(f"a rate must be CUR=USD_PER_UNIT with an ISO 4217 code, e.g. EUR=1.08; got {text!r}")
    return code, _rate(code, value)


def _rate(code: str, value: Any) -> Decimal:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or d <= 0:
        raise InputError(f"the rate for {code} must be a number of US dollars per {code} > 0, got {value!r}")
    return d


def _usd(price: Money, rates: Mapping[str, Any] | None, today: dt.date):
    """(usd, rate, origin, table date, note) for a price; usd None where no rate is known."""
    if price.currency == "USD":
        return price.amount, Decimal(1), "usd", None, ""
    given = {}
    for code, value in (rates or {}).items():
        c = str(code).strip().upper()
        if c not in ISO_4217:
            raise InputError(f"rates: {code!r} is not an ISO 4217 currency code")
        given[c] = _rate(c, value)
    if price.currency in given:
        r = given[price.currency]
        return price.amount * r, r, "given", None, f"at the rate you gave, 1 {price.currency} = {r} USD"
    table = fx_table()
    if price.currency in table.usd_per_unit:
        r = table.usd_per_unit[price.currency]
        age = (today - table.as_of).days
        old = f", {age // 30} months old" if age >= 60 else ""
        note = (f"at about 1 {price.currency} = {r} USD, an approximate rate from hairtrack's table dated "
                f"{table.as_of.isoformat()}{old}; give a current one with --rate {price.currency}=...")
        return price.amount * r, r, "table", table.as_of, note
    return None, None, None, None, ""


# -- the check --------------------------------------------------------------------------------------------

def _misev_missing(prof: ProviderProfile) -> tuple[list[str], bool]:
    """The minimal-information items the provider does not give, and whether any method is known at all."""
    methods = {_key(m) for m in prof.characterization_methods}
    particle = methods & _PARTICLE.keys()
    imaging = methods & _IMAGING.keys()
    marker_method = methods & _MARKER_METHODS.keys()
    markers = {_key(m).upper() for m in prof.markers}
    missing = []
    if prof.ev_source is None:
        missing.append("the source of the vesicles (which cells or tissue)")
    if prof.particles_per_dose is None:
        missing.append("the number of particles per dose")
    if prof.protein_ug_per_dose is None:
        missing.append("the protein content per dose")
    if prof.size_mode_nm is None and (prof.size_d10_nm is None or prof.size_d90_nm is None):
        missing.append("a size distribution (mode, d10 and d90)")
    if not particle:
        missing.append("a particle counting and sizing method (e.g. NTA or TRPS)")
    if not imaging:
        missing.append("an imaging method showing the vesicles (e.g. TEM or cryo-EM)")
    if not (marker_method and markers & _TETRASPANINS and markers & _NEGATIVE_MARKERS):
        missing.append("EV marker proteins (e.g. CD9, CD63, CD81) shown by western blot or flow cytometry, "
                       "with a negative marker (e.g. calnexin)")
    return missing, bool(particle or imaging or marker_method)


def _size_flag(prof: ProviderProfile) -> ProviderFlag | None:
    if prof.marketed_as not in (None, "exosomes", "small_extracellular_vesicles"):
        return None
    types = {t.key: t for t in ev_types()}
    exo = types["exosomes"]
    lo, hi = exo.size_nm
    mode, d10, d90 = prof.size_mode_nm, prof.size_d10_nm, prof.size_d90_nm
    # hairtrack's rule: the most common size lies outside the exosome range, or at least 90% of the
    # particles lie above it (d10 >= upper bound) or below it (d90 <= lower bound).
    outside = ((mode is not None and not lo <= mode <= hi) or (d10 is not None and d10 >= hi)
               or (d90 is not None and d90 <= lo))
    if not outside:
        return None
    shown = ", ".join(f"{k} {v:g} nm" for k, v in (("mode", mode), ("d10", d10), ("d90", d90)) if v is not None)
    mv, ab = types["microvesicles"], types["apoptotic_bodies"]
    sold = "exosomes" if prof.marketed_as is None else prof.marketed_as.replace("_", " ")
    return ProviderFlag(
        "size_inconsistent", "medium",
        f"The product is sold as {sold}, but its reported size ({shown}) lies well outside the "
        f"{lo:g}-{hi:g} nm of exosomes. Larger particles are microvesicles ({mv.size_nm[0]:g}-{mv.size_nm[1]:,.0f} nm), "
        f"apoptotic bodies ({ab.size_nm[0]:g}-{ab.size_nm[1]:,.0f} nm) or clumps; ask how the size was measured "
        "and what the product really contains.",
        f"{exo.source} {mv.source} {ab.source}")


def check_provider(profile: ProviderProfile, *, rates: Mapping[str, Any] | None = None,
                   today: dt.date | None = None) -> ProviderCheck:
    """Flag what a patient should question before paying this provider.

    Parameters
    ----------
    profile : ProviderProfile
        From :func:`load_provider` or :func:`provider_from_mapping`.
    rates : mapping of currency code to US dollars per unit, optional
        Rates to convert the price with (``{"EUR": 1.08}``); they take precedence over the shipped,
        dated table (:func:`fx_table`). A currency in neither is reported as unknown, never guessed.
    today : date, optional
        To say how old the shipped table is; default ``date.today()``.

    Returns
    -------
    ProviderCheck
        Flags in order of severity (``high`` first). Codes: ``no_characterization``, ``size_inconsistent``,
        ``guaranteed_results``, ``no_tracking_protocol``, ``extreme_pricing``, ``price_not_converted``,
        ``fda_approval_claimed``, ``fda_registration_as_approval``, ``stem_cell_claims``.

    Examples
    --------
    >>> prof = provider_from_mapping({"name": "Quick Clinic", "guarantees_results": True,
    ...                               "price_per_session": {"amount": 6000, "currency": "USD"}})
    >>> [f.code for f in check_provider(prof, today=dt.date(2025, 6, 1)).flags]
    ['no_characterization', 'guaranteed_results', 'extreme_pricing', 'no_tracking_protocol']
    """
    if not isinstance(profile, ProviderProfile):
        raise InputError(f"profile must be a ProviderProfile, got {type(profile).__name__}")
    today = dt.date.today() if today is None else today
    flags: list[ProviderFlag] = []
    missing, any_method = _misev_missing(profile)
    if missing:
        severe = profile.particles_per_dose is None or not any_method or len(missing) >= 4
        flags.append(ProviderFlag(
            "no_characterization", "high" if severe else "medium",
            f"The provider does not say {'; '.join(missing)}. Without these you cannot know what is "
            "injected, how much of it, or whether it is vesicles at all; the field's minimal standard asks "
            "for all of them.", _MISEV))
    size = _size_flag(profile)
    if size is not None:
        flags.append(size)
    if profile.guarantees_results:
        refs = load_references()
        fin = refs["finasteride_regrow_rate"]
        flags.append(ProviderFlag(
            "guaranteed_results", "high",
            "The provider guarantees results. No hair-loss treatment works for everyone: even finasteride, "
            f"the best-studied, regrows visible hair in about {fin.low:g}% of men; an honest provider "
            "does not guarantee a density outcome.", fin.source))
    if profile.encourages_tracking is not True:
        said = "does not encourage" if profile.encourages_tracking is False else "does not say it encourages"
        flags.append(ProviderFlag(
            "no_tracking_protocol", "medium" if profile.encourages_tracking is False else "low",
            f"The provider {said} objective tracking (standardised photos or density counts before and after). "
            "Without a baseline neither of you can tell whether the treatment works; measure with hairtrack "
            "before the first session.", "hairtrack issue 8 (tracking against the same baseline)."))
    if profile.price_per_session is not None:
        price = profile.price_per_session
        usd, rate, origin, as_of, note = _usd(price, rates, today)
        shown = f"{price.amount:,} {price.currency}"
        if usd is None:
            flags.append(ProviderFlag(
                "price_not_converted", "info",
                f"The price is {shown} a session, and hairtrack has no rate for {price.currency}, so it cannot "
                f"say whether this is above {EXTREME_PRICE_USD:,} USD; it will not guess. Give a rate with "
                f"--rate {price.currency}=<US dollars per {price.currency}>.",
                fx_table().source))
        elif usd > EXTREME_PRICE_USD:
            conv = "" if origin == "usd" else f" (about {usd:,.0f} USD {note})"
            flags.append(ProviderFlag(
                "extreme_pricing", "medium",
                f"{shown} a session{conv} is above {EXTREME_PRICE_USD:,} USD, more than the typical "
                "1,500-5,000 USD for an EV session, for a treatment whose benefit is not established.",
                "Threshold: working figure from hairtrack issue 8."
                + ("" if origin in ("usd", "given") else f" Rate: {fx_table().source}.")))
    else:
        usd = rate = origin = as_of = None
    if profile.fda_claim in ("approved", "cleared"):
        flags.append(ProviderFlag(
            "fda_approval_claimed", "high",
            f"The provider says its product is FDA-{profile.fda_claim}. No exosome product is FDA-approved; in "
            "the US exosomes used to treat a condition need FDA approval as a drug or biological product. "
            "Ask for the approval in writing, or for the IND number of a registered trial.", _FDA_EXOSOMES))
    elif profile.fda_claim == "registered_facility":
        flags.append(ProviderFlag(
            "fda_registration_as_approval", "low",
            "The provider cites an FDA-registered facility. Registration is a listing, not approval of the "
            "product, and no exosome product is FDA-approved.",
            f"{_FDA_EXOSOMES}; 21 CFR 807.39 (registration does not denote approval)."))
    if profile.claims_stem_cells:
        flags.append(ProviderFlag(
            "stem_cell_claims", "medium",
            "The provider presents the product as a stem-cell treatment. Vesicles are not cells: either the "
            "product is mislabelled or it is an unapproved cell product. The FDA warns that clinics marketing "
            "unapproved 'stem cell' products are now also offering exosome products.", _FDA_EXOSOMES))
    flags.sort(key=lambda f: SEVERITIES.index(f.severity))
    return ProviderCheck(profile.name, tuple(flags), tuple(missing), usd, rate, origin, as_of)


def provider_check_to_dict(check: ProviderCheck) -> dict[str, Any]:
    """The JSON object of a check: money as decimal strings (USD rounded to cents), dates as ISO strings."""
    return {
        "name": check.name,
        "flags": [{"code": f.code, "severity": f.severity, "message": f.message, "source": f.source}
                  for f in check.flags],
        "misev_missing": list(check.misev_missing),
        "price_usd": None if check.price_usd is None else str(check.price_usd.quantize(Decimal("0.01"))),
        "usd_per_unit": None if check.usd_per_unit is None else str(check.usd_per_unit),
        "rate_origin": check.rate_origin,
        "rate_as_of": None if check.rate_as_of is None else check.rate_as_of.isoformat(),
    }
