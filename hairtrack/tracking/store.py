"""The record store: the only code that reads or writes the database and the image store.

Every public method is one transaction: it either happens whole or not at all. Callers get the
plain records of :mod:`hairtrack.domain` and the small result dataclasses below, never ORM objects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import copy
import hashlib
import re
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from hairtrack.config import Settings
from hairtrack.domain import Measurement, Money, Sex, Treatment, TreatmentKind, Zone
from hairtrack.errors import ConflictError, CsvError, InputError, NotFoundError
from hairtrack.tracking import db
from hairtrack.tracking.images import ImageStore
from hairtrack.tracking.io import ParsedCsv, validate_profile_name
from hairtrack.tracking.models import (
    Device,
    MeasurementRow,
    Profile,
    Provider,
    Scan,
    Session,
    TreatmentCourse,
    User,
)

__all__ = ["Store", "ProfileSummary", "ImportReport", "DeletionReport", "DeviceInfo", "UserInfo"]

_MEASURE_FIELDS = (
    "hairs_per_cm2", "fu_per_cm2", "hairs_per_fu", "mean_width_um", "terminal_fraction", "coverage_pct", "method",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """A profile and how much record it has."""

    name: str
    sex: Sex | None
    note: str | None
    created_at: dt.datetime
    scans: int
    visits: int
    first_scan: dt.date | None
    last_scan: dt.date | None
    zones: tuple[Zone, ...]
    treatments: int
    sessions: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added."""

    rows: int
    profiles_created: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeletionReport:
    """What deleting a profile removed: rows per table and image files."""

    profile: str
    scans: int
    measurements: int
    treatments: int
    sessions: int
    providers: int
    image_files: int


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A web account."""

    id: int
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A saved capture device and its scale."""

    name: str
    px_per_mm: float
    px_per_mm_uncertainty: float | None
    calibration_method: str
    calibrated_on: dt.date | None
    note: str | None


class Store:
    """The record of every profile, on SQLite or PostgreSQL, plus the image files.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (see :func:`hairtrack.config.database_url`).
    image_dir : Path
        Root of the content-addressed image store.
    busy_timeout_s : float
        How long a write waits for another writer (SQLite) before :class:`DatabaseBusyError`.
    migrate : bool
        Bring the schema up to date on opening (the default; an empty database gets every table).
    """

    def __init__(self, url: str, *, image_dir: Path, busy_timeout_s: float = 10.0, migrate: bool = True):
        self.url = url
        self.images = ImageStore(image_dir)
        self._owner: int | None = None
        self._engines = db.create_engines(url, busy_timeout_s=busy_timeout_s)
        try:
            if migrate:
                self.revision = db.migrate(self._engines)
        except BaseException:
            self._engines.dispose()
            raise

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the store the settings name (creating and migrating it if needed)."""
        return cls(settings.database_url, image_dir=settings.image_dir, busy_timeout_s=settings.busy_timeout_s)

    def as_owner(self, user_id: int | None) -> Store:
        """The same store seen by one web user: only that user's profiles exist for it.

        ``None`` is the local owner (the command line and the single-user web app). The copy shares the
        engines; close the original, not the copy.
        """
        view = copy.copy(self)
        view._owner = user_id
        return view

    @property
    def owner(self) -> int | None:
        return self._owner

    def close(self) -> None:
        self._engines.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        """The database URL with any password masked, for printing."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self._engines.dialect

    @contextlib.contextmanager
    def _read(self) -> Iterator[OrmSession]:
        with db.translate_db_errors(), OrmSession(self._engines.read) as s, s.begin():
            yield s

    @contextlib.contextmanager
    def _write(self) -> Iterator[OrmSession]:
        try:
            with db.translate_db_errors(), OrmSession(self._engines.write, expire_on_commit=False) as s, s.begin():
                yield s
        except sa.exc.IntegrityError as exc:
            # Reached only when a concurrent writer (PostgreSQL) inserted the same key first: the
            # checks below catch everything a single writer can get wrong.
            raise ConflictError(
                f"another process changed the same records at the same time; nothing was saved, try again ({exc.orig})"
            ) from exc

    # -- profiles ---------------------------------------------------------------------------------------

    def add_profile(self, name: str, *, sex: Sex | None = None, note: str | None = None) -> ProfileSummary:
        """Create a profile; :class:`ConflictError` if the name is taken."""
        validate_profile_name(name)
        with self._write() as s:
            if _find_profile(s, name, self._owner) is not None:
                raise ConflictError(f"profile {name!r} already exists")
            s.add(Profile(name=name, sex=sex.value if sex else None, note=note, owner_id=self._owner))
        return self.profile(name)

    def profile(self, name: str) -> ProfileSummary:
        """One profile's summary; :class:`NotFoundError` if there is none by that name."""
        with self._read() as s:
            summaries = _summaries(s, name, self._owner)
        if not summaries:
            raise NotFoundError(f"no profile named {name!r}")
        return summaries[0]

    def list_profiles(self) -> list[ProfileSummary]:
        """Every profile, by name."""
        with self._read() as s:
            return _summaries(s, None, self._owner)

    def delete_profile(self, name: str) -> DeletionReport:
        """Remove a profile with every scan, measurement, treatment, session and image file of it.

        Image files shared with another profile's scans (identical bytes) stay until that one goes too.
        """
        with self._write() as s:
            profile = _require_profile(s, name, self._owner)
            scan_ids = sa.select(Scan.id).where(Scan.profile_id == profile.id)
            course_ids = sa.select(TreatmentCourse.id).where(TreatmentCourse.profile_id == profile.id)
            counts = {
                "scans": s.scalar(sa.select(sa.func.count()).select_from(scan_ids.subquery())) or 0,
                "measurements": s.scalar(
                    sa.select(sa.func.count()).where(MeasurementRow.scan_id.in_(scan_ids))
                ) or 0,
                "treatments": s.scalar(sa.select(sa.func.count()).select_from(course_ids.subquery())) or 0,
                "sessions": s.scalar(sa.select(sa.func.count()).where(Session.treatment_id.in_(course_ids))) or 0,
            }
            digests = set(
                s.scalars(sa.select(Scan.image_sha256).where(Scan.profile_id == profile.id, Scan.image_sha256.is_not(None)))
            )
            # The database cascades to scans, measurements, treatments and sessions (ON DELETE CASCADE).
            s.execute(sa.delete(Profile).where(Profile.id == profile.id))
            still_used = set(
                s.scalars(sa.select(Scan.image_sha256).where(Scan.image_sha256.in_(digests)))
            ) if digests else set()
            counts["providers"] = _delete_orphan_providers(s)
        # Files go only after the rows are gone for good: a failed commit must not lose images. Another
        # process may have saved the same bytes since: look again just before deleting.
        candidates = sorted(digests - still_used)
        if candidates:
            with self._read() as s:
                candidates = [d for d in candidates if s.scalar(sa.select(Scan.id).where(Scan.image_sha256 == d).limit(1)) is None]
        removed = sum(self.images.delete(d) for d in candidates)
        return DeletionReport(profile=name, image_files=removed, **counts)

    # -- measurements and scans ----------------------------------------------------------------------

    def import_measurements(
        self, parsed: ParsedCsv[Measurement] | Sequence[Measurement], *, create_profiles: bool = True
    ) -> ImportReport:
        """Add measurements (one scan each) in one transaction: all of them, or none.

        Raises
        ------
        CsvError
            A row that is already stored (same profile, date, zone and replicate), or names a missing
            profile when ``create_profiles`` is false; with the line numbers of ``parsed``.
        """
        rows, lines = _rows_and_lines(parsed)
        with self._write() as s:
            profiles, created = _profiles_for(s, {m.profile for m in rows}, rows, lines, create_profiles, self._owner)
            existing = set(
                s.execute(
                    sa.select(Profile.name, Scan.date, Scan.zone, Scan.replicate)
                    .join(Scan.profile)
                    .where(Profile.name.in_(list(profiles)), _mine(self._owner))
                )
            )
            problems = [
                (line, f"{m.profile} {m.date} {m.zone.value} replicate {m.replicate} is already stored")
                for m, line in zip(rows, lines, strict=True)
                if (m.profile, m.date, m.zone, m.replicate) in existing
            ]
            if problems:
                raise CsvError(problems[:50])
            for m in rows:
                s.add(_scan_from(m, profiles[m.profile], source="import"))
        return ImportReport(rows=len(rows), profiles_created=tuple(created))

    def add_scan(
        self,
        measurement: Measurement,
        *,
        image_bytes: bytes | None = None,
        analysis: dict[str, Any] | None = None,
    ) -> Measurement:
        """Save one analysed scan with its image (stored by content hash) and its full analysis.

        A ``replicate`` that is taken for that profile, date and zone moves to the next free number.
        """
        return self.add_scans([(measurement, image_bytes, analysis)])[0]

    def add_scans(
        self, items: Sequence[tuple[Measurement, bytes | None, dict[str, Any] | None]]
    ) -> list[Measurement]:
        """Save several analysed scans in one transaction: all of them, or none (and no stray image file).

        Each item is ``(measurement, image_bytes, analysis)``; replicates are numbered after those taken.
        """
        created: list[str] = []
        try:
            with self._write() as s:
                saved = []
                for measurement, image_bytes, analysis in items:
                    profile = _require_profile(s, measurement.profile, self._owner)
                    taken = set(
                        s.scalars(
                            sa.select(Scan.replicate).where(
                                Scan.profile_id == profile.id, Scan.date == measurement.date, Scan.zone == measurement.zone
                            )
                        )
                    )
                    replicate = measurement.replicate
                    while replicate in taken:
                        replicate += 1
                    digest = None
                    if image_bytes is not None:
                        existed = self.images.exists(hashlib.sha256(image_bytes).hexdigest())
                        digest = self.images.put(image_bytes)
                        if not existed:
                            created.append(digest)
                    if measurement.method is None and isinstance((analysis or {}).get("method"), str):
                        # the analysis names what measured it: so does the measurement
                        measurement = dataclasses.replace(measurement, method=analysis["method"][:100])  # type: ignore[index]
                    scan = _scan_from(measurement, profile, source="analysis")
                    scan.replicate, scan.image_sha256, scan.analysis = replicate, digest, analysis
                    s.add(scan)
                    s.flush()
                    saved.append(_measurement_of(scan, measurement.profile))
        except BaseException:
            for digest in created:  # the rows never landed: neither do their files
                self.images.delete(digest)
            raise
        return saved

    def replace_analyses(
        self, profile: str, items: Sequence[tuple[Measurement, str, dict[str, Any]]]
    ) -> list[Measurement]:
        """Replace the figures and stored analysis of analysed scans, in one transaction (all or none).

        Each item is ``(measurement, image_sha256, analysis)``: the scan is found by the measurement's date,
        zone and replicate, and must still show that image (:class:`ConflictError` otherwise, e.g. when
        another process deleted and re-added it meanwhile). Capture conditions, notes and the image stay
        as they are; the measured figures, ``method`` and the analysis are replaced.
        """
        with self._write() as s:
            prof = _require_profile(s, profile, self._owner)
            saved = []
            for measurement, sha256, analysis in items:
                scan = s.scalars(
                    sa.select(Scan).options(selectinload(Scan.measurement)).where(
                        Scan.profile_id == prof.id, Scan.date == measurement.date, Scan.zone == measurement.zone,
                        Scan.replicate == measurement.replicate,
                    )
                ).one_or_none()
                where = f"{profile} {measurement.date} {measurement.zone.value} replicate {measurement.replicate}"
                if scan is None:
                    raise NotFoundError(f"no scan {where}")
                if scan.image_sha256 != sha256:
                    raise ConflictError(f"the scan {where} no longer shows the image that was measured; nothing was saved")
                row = scan.measurement
                if row is None:
                    row = scan.measurement = MeasurementRow()
                row.source = "analysis"
                for f in _MEASURE_FIELDS:
                    setattr(row, f, getattr(measurement, f))
                scan.analysis = analysis
                s.flush()
                saved.append(_measurement_of(scan, profile))
        return saved

    def measurements(self, profile: str | None = None) -> list[Measurement]:
        """Stored measurements, ordered by profile, date, zone and replicate."""
        with self._read() as s:
            query = (
                sa.select(Scan, Profile.name)
                .join(Scan.profile)
                .options(selectinload(Scan.measurement))
                .order_by(Profile.name, Scan.date, Scan.zone, Scan.replicate)
            )
            if profile is not None:
                _require_profile(s, profile, self._owner)
                query = query.where(Profile.name == profile)
            query = query.where(_mine(self._owner))
            return [_measurement_of(scan, name) for scan, name in s.execute(query)]

    def scan_images(self, profile: str) -> list[tuple[Measurement, str]]:
        """The (measurement, image SHA-256) of every scan of ``profile`` that has a stored image."""
        with self._read() as s:
            _require_profile(s, profile, self._owner)
            rows = s.execute(
                sa.select(Scan, Profile.name)
                .join(Scan.profile)
                .options(selectinload(Scan.measurement))
                .where(Profile.name == profile, _mine(self._owner), Scan.image_sha256.is_not(None))
                .order_by(Scan.date, Scan.zone, Scan.replicate)
            )
            return [(_measurement_of(scan, name), scan.image_sha256 or "") for scan, name in rows]

    def scan_analyses(self, profile: str) -> dict[tuple[dt.date, Zone, int], dict[str, Any]]:
        """The stored analysis of each analysed scan of ``profile``, by (date, zone, replicate)."""
        with self._read() as s:
            _require_profile(s, profile, self._owner)
            rows = s.execute(
                sa.select(Scan.date, Scan.zone, Scan.replicate, Scan.analysis)
                .join(Scan.profile)
                .where(Profile.name == profile, _mine(self._owner), Scan.analysis.is_not(None))
            )
            return {(d, Zone(z), r): dict(a) for d, z, r, a in rows if a}

    # -- treatments -------------------------------------------------------------------------------------

    def add_treatment(self, treatment: Treatment, *, create_profile: bool = False) -> Treatment:
        """Record a continuous treatment, or one session of a session treatment (PRP, EV, ...)."""
        self.import_treatments([treatment], create_profiles=create_profile)
        return treatment

    def import_treatments(
        self, parsed: ParsedCsv[Treatment] | Sequence[Treatment], *, create_profiles: bool = True
    ) -> ImportReport:
        """Add treatments and sessions in one transaction: all of them, or none.

        Raises
        ------
        CsvError
            A continuous treatment with the same start, or a session on the same date, is already stored.
        """
        rows, lines = _rows_and_lines(parsed)
        with self._write() as s:
            profiles, created = _profiles_for(s, {t.profile for t in rows}, rows, lines, create_profiles, self._owner)
            providers: dict[str, Provider] = {}
            problems: list[tuple[int, str]] = []
            for t, line in zip(rows, lines, strict=True):
                profile = profiles[t.profile]
                provider = _provider(s, t.provider, providers, self._owner) if t.provider else None
                cost = (t.cost.amount, t.cost.currency) if t.cost else (None, None)
                if t.treatment.is_session:
                    course = s.scalar(
                        sa.select(TreatmentCourse).where(
                            TreatmentCourse.profile_id == profile.id, TreatmentCourse.kind == t.treatment
                        )
                    )
                    if course is None:
                        course = TreatmentCourse(profile=profile, kind=t.treatment, start_date=t.date)
                        s.add(course)
                    elif any(x.date == t.date for x in course.sessions):
                        problems.append((line, f"{t.profile} {t.treatment.value} session on {t.date} is already stored"))
                        continue
                    course.start_date = min(course.start_date, t.date)
                    course.sessions.append(
                        Session(date=t.date, dose=t.dose, cost_amount=cost[0], cost_currency=cost[1], provider=provider, note=t.note)
                    )
                    s.flush()
                else:
                    clash = s.scalar(
                        sa.select(TreatmentCourse.id).where(
                            TreatmentCourse.profile_id == profile.id,
                            TreatmentCourse.kind == t.treatment,
                            TreatmentCourse.start_date == t.date,
                        )
                    )
                    if clash is not None:
                        problems.append((line, f"{t.profile} {t.treatment.value} started on {t.date} is already stored"))
                        continue
                    s.add(
                        TreatmentCourse(
                            profile=profile, kind=t.treatment, start_date=t.date, end_date=t.end_date, dose=t.dose,
                            cost_amount=cost[0], cost_currency=cost[1], provider=provider, note=t.note,
                        )
                    )
                    s.flush()
            if problems:
                raise CsvError(problems[:50])
        return ImportReport(rows=len(rows), profiles_created=tuple(created))

    def treatments(self, profile: str | None = None) -> list[Treatment]:
        """Continuous treatments and sessions as rows, ordered by profile, date and treatment."""
        with self._read() as s:
            query = (
                sa.select(TreatmentCourse, Profile.name)
                .join(TreatmentCourse.profile)
                .options(
                    selectinload(TreatmentCourse.sessions).selectinload(Session.provider),
                    selectinload(TreatmentCourse.provider),
                )
            )
            if profile is not None:
                _require_profile(s, profile, self._owner)
                query = query.where(Profile.name == profile)
            query = query.where(_mine(self._owner))
            out: list[Treatment] = []
            for course, name in s.execute(query):
                if course.kind.is_session:
                    out.extend(
                        Treatment(
                            profile=name, treatment=course.kind, date=x.date, dose=x.dose,
                            cost=_money(x.cost_amount, x.cost_currency),
                            provider=x.provider.name if x.provider else None, note=x.note,
                        )
                        for x in course.sessions
                    )
                else:
                    out.append(
                        Treatment(
                            profile=name, treatment=course.kind, date=course.start_date, end_date=course.end_date,
                            dose=course.dose, cost=_money(course.cost_amount, course.cost_currency),
                            provider=course.provider.name if course.provider else None, note=course.note,
                        )
                    )
        return sorted(out, key=lambda t: (t.profile, t.date, t.treatment.value))

    # -- web accounts -----------------------------------------------------------------------------------

    def create_user(self, email: str, password_hash: str) -> UserInfo:
        """Create a web account; :class:`ConflictError` if the e-mail address has one."""
        email = _normalise_email(email)
        with self._write() as s:
            if s.scalar(sa.select(User.id).where(User.email == email)) is not None:
                raise ConflictError(f"an account for {email} already exists")
            user = User(email=email, password_hash=password_hash)
            s.add(user)
            s.flush()
            return UserInfo(id=user.id, email=user.email, password_hash=user.password_hash)

    def user_by_email(self, email: str) -> UserInfo | None:
        with self._read() as s:
            user = s.scalar(sa.select(User).where(User.email == _normalise_email(email, strict=False)))
            return UserInfo(id=user.id, email=user.email, password_hash=user.password_hash) if user else None

    def user(self, user_id: int) -> UserInfo | None:
        with self._read() as s:
            user = s.get(User, user_id)
            return UserInfo(id=user.id, email=user.email, password_hash=user.password_hash) if user else None

    def session_epoch(self, user_id: int) -> int | None:
        """The user's current session epoch (None for an unknown user)."""
        with self._read() as s:
            return s.scalar(sa.select(User.session_epoch).where(User.id == user_id))

    def end_sessions(self, user_id: int) -> int:
        """Invalidate every session of a user (sign-out); returns the new epoch."""
        with self._write() as s:
            s.execute(sa.update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
            return int(s.scalar(sa.select(User.session_epoch).where(User.id == user_id)) or 0)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a stored hash (after a successful sign-in whose hash needed new parameters)."""
        with self._write() as s:
            s.execute(sa.update(User).where(User.id == user_id).values(password_hash=password_hash))

    def image_of(self, profile: str, sha256: str) -> bytes:
        """A stored image, only if a scan of this owner's ``profile`` uses it (else :class:`NotFoundError`)."""
        with self._read() as s:
            found = s.scalar(
                sa.select(Scan.id)
                .join(Scan.profile)
                .where(Profile.name == profile, _mine(self._owner), Scan.image_sha256 == sha256)
                .limit(1)
            )
        if found is None or not self.images.exists(sha256):
            raise NotFoundError("no such image")
        return self.images.read(sha256)

    # -- providers ----------------------------------------------------------------------------------------

    def save_provider(self, fields: dict[str, Any], document: dict[str, Any] | None = None) -> bool:
        """Save a checked provider by name (columns of ``providers`` plus its whole document); a provider
        already known by that name, e.g. from a session's provider column, is updated and stays linked.
        Returns True when it was new."""
        name = str(fields.get("name") or "").strip()
        if not name or len(name) > 200:
            raise InputError(f"a provider needs a name of 1-200 characters, got {name!r}")
        allowed = {c.key for c in sa.inspect(Provider).column_attrs} - {"id", "created_at", "owner_id", "document"}
        unknown = set(fields) - allowed
        if unknown:
            raise InputError(f"unknown provider fields: {', '.join(sorted(unknown))}")
        with self._write() as s:
            provider = s.scalar(sa.select(Provider).where(Provider.name == name, _their(self._owner)))
            created = provider is None
            if provider is None:
                provider = Provider(name=name, owner_id=self._owner)
                s.add(provider)
            for key, value in fields.items():
                setattr(provider, key, value)
            provider.document = document
        return created

    def providers(self) -> list[dict[str, Any]]:
        """Saved providers (name, price, whether a checked document is kept), by name."""
        with self._read() as s:
            return [
                {"name": p.name, "price_amount": p.price_amount, "price_currency": p.price_currency,
                 "checked": p.document is not None}
                for p in s.scalars(sa.select(Provider).where(_their(self._owner)).order_by(Provider.name))
            ]

    def provider_document(self, name: str) -> dict[str, Any]:
        """The document a saved provider was checked from (:class:`NotFoundError` if none)."""
        with self._read() as s:
            provider = s.scalar(sa.select(Provider).where(Provider.name == name, _their(self._owner)))
            if provider is None or provider.document is None:
                raise NotFoundError(f"no checked provider named {name!r}")
            return dict(provider.document)

    # -- devices ----------------------------------------------------------------------------------------

    def add_device(
        self,
        name: str,
        px_per_mm: float,
        *,
        px_per_mm_uncertainty: float | None = None,
        calibration_method: str = "manual",
        calibrated_on: dt.date | None = None,
        note: str | None = None,
        replace: bool = False,
    ) -> DeviceInfo:
        """Save a capture device's scale; with ``replace`` an existing device of that name is updated."""
        if not name.strip() or len(name) > 100:
            raise InputError(f"device name must be 1-100 characters, got {name!r}")
        from hairtrack.imaging.calibration import check_px_per_mm

        if check_px_per_mm(px_per_mm) is None:
            raise InputError("a device needs its px_per_mm")
        with self._write() as s:
            device = s.scalar(sa.select(Device).where(Device.name == name))
            if device is not None and not replace:
                raise ConflictError(f"device {name!r} already exists (use --replace to recalibrate it)")
            if device is None:
                device = Device(name=name)
                s.add(device)
            device.px_per_mm = float(px_per_mm)
            device.px_per_mm_uncertainty = px_per_mm_uncertainty
            device.calibration_method = calibration_method
            device.calibrated_on = calibrated_on or dt.date.today()
            device.note = note
        return self.device(name)

    def device(self, name: str) -> DeviceInfo:
        """A saved device; :class:`NotFoundError` if none has that name."""
        with self._read() as s:
            device = s.scalar(sa.select(Device).where(Device.name == name))
            if device is None:
                known = ", ".join(s.scalars(sa.select(Device.name).order_by(Device.name))) or "none yet"
                raise NotFoundError(f"no device named {name!r} (saved devices: {known})")
            return _device_info(device)

    def devices(self) -> list[DeviceInfo]:
        with self._read() as s:
            return [_device_info(d) for d in s.scalars(sa.select(Device).order_by(Device.name))]


# -- helpers (run inside a session) -------------------------------------------------------------------


def _rows_and_lines(parsed: ParsedCsv[Any] | Sequence[Any]) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    if isinstance(parsed, ParsedCsv):
        return parsed.rows, parsed.lines
    rows = tuple(parsed)
    return rows, tuple(range(1, len(rows) + 1))


_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _normalise_email(email: str, *, strict: bool = True) -> str:
    email = email.strip().lower()
    if strict and (len(email) > 254 or not _EMAIL_RE.match(email)):
        raise InputError(f"{email!r} is not an e-mail address")
    return email


def _mine(owner: int | None) -> sa.ColumnElement[bool]:
    """The profiles an owner may see: a web user's own, or (owner None) the local, command-line ones."""
    return Profile.owner_id.is_(None) if owner is None else Profile.owner_id == owner


def _find_profile(s: OrmSession, name: str, owner: int | None) -> Profile | None:
    return s.scalar(sa.select(Profile).where(Profile.name == name, _mine(owner)))


def _require_profile(s: OrmSession, name: str, owner: int | None) -> Profile:
    profile = _find_profile(s, name, owner)
    if profile is None:
        raise NotFoundError(f"no profile named {name!r} (see 'hairtrack profile list')")
    return profile


def _profiles_for(
    s: OrmSession, names: set[str], rows: Sequence[Any], lines: Sequence[int], create: bool, owner: int | None
) -> tuple[dict[str, Profile], list[str]]:
    found = {p.name: p for p in s.scalars(sa.select(Profile).where(Profile.name.in_(sorted(names)), _mine(owner)))}
    missing = sorted(names - set(found))
    if missing and not create:
        problems = [(line, f"no profile named {r.profile!r}") for r, line in zip(rows, lines, strict=True) if r.profile in missing]
        raise CsvError(problems[:50])
    for name in missing:
        found[name] = Profile(name=validate_profile_name(name), owner_id=owner)
        s.add(found[name])
    s.flush()
    return found, missing


def _their(owner: int | None) -> sa.ColumnElement[bool]:
    """The providers an owner may see (each owner has their own, like profiles)."""
    return Provider.owner_id.is_(None) if owner is None else Provider.owner_id == owner


def _provider(s: OrmSession, name: str, cache: dict[str, Provider], owner: int | None) -> Provider:
    if name not in cache:
        provider = s.scalar(sa.select(Provider).where(Provider.name == name, _their(owner)))
        if provider is None:
            provider = Provider(name=name, owner_id=owner)
            s.add(provider)
        cache[name] = provider
    return cache[name]


def _delete_orphan_providers(s: OrmSession) -> int:
    """Remove providers that only existed as a name on deleted treatments (where a person was treated
    is their data too); providers saved with their own details stay."""
    used = sa.union(
        sa.select(TreatmentCourse.provider_id).where(TreatmentCourse.provider_id.is_not(None)),
        sa.select(Session.provider_id).where(Session.provider_id.is_not(None)),
    ).subquery()
    details = [
        Provider.ev_source, Provider.particles_per_dose, Provider.protein_ug_per_dose, Provider.size_mode_nm,
        Provider.size_d10_nm, Provider.size_d90_nm, Provider.characterization_methods, Provider.guarantees_results,
        Provider.encourages_tracking, Provider.price_amount, Provider.note, Provider.document,
    ]
    orphans = list(
        s.scalars(
            sa.select(Provider.id).where(Provider.id.not_in(sa.select(used.c[0])), *[c.is_(None) for c in details])
        )
    )
    if orphans:
        s.execute(sa.delete(Provider).where(Provider.id.in_(orphans)))
    return len(orphans)


def _money(amount: Any, currency: str | None) -> Money | None:
    return Money(amount, currency) if amount is not None and currency else None


def _scan_from(m: Measurement, profile: Profile, *, source: str) -> Scan:
    return Scan(
        profile=profile, zone=m.zone, date=m.date, replicate=m.replicate, capture_time=m.capture_time,
        hair_length_mm=m.hair_length_mm, device=m.device, lighting=m.lighting, image_name=m.image, note=m.note,
        measurement=MeasurementRow(source=source, **{f: getattr(m, f) for f in _MEASURE_FIELDS}),
    )


def _measurement_of(scan: Scan, profile: str) -> Measurement:
    row = scan.measurement
    return Measurement(
        profile=profile, date=scan.date, zone=Zone(scan.zone), replicate=scan.replicate,
        **{f: (getattr(row, f) if row else None) for f in _MEASURE_FIELDS},
        capture_time=scan.capture_time, hair_length_mm=scan.hair_length_mm, device=scan.device,
        lighting=scan.lighting, image=scan.image_name, note=scan.note,
    )


def _device_info(d: Device) -> DeviceInfo:
    return DeviceInfo(
        name=d.name, px_per_mm=d.px_per_mm, px_per_mm_uncertainty=d.px_per_mm_uncertainty,
        calibration_method=d.calibration_method, calibrated_on=d.calibrated_on, note=d.note,
    )


def _summaries(s: OrmSession, name: str | None, owner: int | None) -> list[ProfileSummary]:
    scan_stats = (
        sa.select(
            Scan.profile_id,
            sa.func.count(Scan.id).label("scans"),
            sa.func.count(sa.distinct(Scan.date)).label("visits"),
            sa.func.min(Scan.date).label("first"),
            sa.func.max(Scan.date).label("last"),
        )
        .group_by(Scan.profile_id)
        .subquery()
    )
    query = (
        sa.select(Profile, scan_stats.c.scans, scan_stats.c.visits, scan_stats.c.first, scan_stats.c.last)
        .outerjoin(scan_stats, scan_stats.c.profile_id == Profile.id)
        .options(selectinload(Profile.treatments).selectinload(TreatmentCourse.sessions))
        .where(_mine(owner))
        .order_by(Profile.name)
    )
    if name is not None:
        query = query.where(Profile.name == name)
    out = []
    for profile, scans, visits, first, last in s.execute(query):
        zones = set(s.scalars(sa.select(Scan.zone).distinct().where(Scan.profile_id == profile.id)))
        out.append(
            ProfileSummary(
                name=profile.name, sex=Sex(profile.sex) if profile.sex else None, note=profile.note,
                created_at=profile.created_at, scans=scans or 0, visits=visits or 0, first_scan=first, last_scan=last,
                zones=tuple(z for z in Zone if z in zones),
                treatments=len(profile.treatments),
                sessions=sum(len(c.sessions) for c in profile.treatments),
            )
        )
    return out

