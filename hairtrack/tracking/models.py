"""SQLAlchemy 2 models of the record: profiles, scans with their measurements, treatments, sessions,
providers and capture devices.

Only :mod:`hairtrack.tracking.store` uses these; everything else sees the plain dataclasses of
:mod:`hairtrack.domain`. The schema is created and changed by the Alembic migrations in
``hairtrack/migrations``; a test checks that the migrated schema equals this metadata.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from hairtrack.domain import TreatmentKind, Zone

__all__ = [
    "Base",
    "Amount",
    "User",
    "Profile",
    "Device",
    "Provider",
    "Scan",
    "MeasurementRow",
    "TreatmentCourse",
    "Session",
]

# Stable constraint names, so that Alembic can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Amount(TypeDecorator[Decimal]):
    """An exact money amount: NUMERIC(14, 4) on PostgreSQL, decimal text on SQLite.

    SQLite has no decimal type; storing text keeps 1234.56 exactly 1234.56 instead of a float.
    """

    impl = sa.Numeric(14, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(14, 4))

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))


def _enum(enum_cls: type, name: str) -> sa.Enum:
    # Stored as plain strings with a CHECK constraint: portable, and readable in SQL.
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        length=20,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A web account (multi-user mode). Profiles without an owner belong to the local user."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    # Bumped on sign-out: every session cookie issued before carries an older value and stops working.
    session_epoch: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)


class Profile(Base):
    """A person whose hair is tracked; names are unique per owner."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    sex: Mapped[str | None] = mapped_column(sa.String(10))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    scans: Mapped[list[Scan]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", passive_deletes=True
    )
    treatments: Mapped[list[TreatmentCourse]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.CheckConstraint("sex IN ('male', 'female')", name="sex"),
        sa.Index("uq_profiles_owner_name", "owner_id", "name", unique=True),
        # NULLs never collide in a unique index: the local (owner-less) names need one of their own.
        sa.Index(
            "uq_profiles_local_name", "name", unique=True,
            sqlite_where=sa.text("owner_id IS NULL"), postgresql_where=sa.text("owner_id IS NULL"),
        ),
    )


class Device(Base):
    """A capture device (dermoscope, phone + macro lens) and its calibrated scale."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    px_per_mm: Mapped[float] = mapped_column(sa.Float)
    px_per_mm_uncertainty: Mapped[float | None] = mapped_column(sa.Float)
    calibration_method: Mapped[str] = mapped_column(sa.String(20), default="manual")
    calibrated_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    __table_args__ = (
        sa.CheckConstraint("px_per_mm > 0", name="px_per_mm_positive"),
        sa.CheckConstraint("calibration_method IN ('manual', 'grid', 'card')", name="calibration_method"),
    )


class Provider(Base):
    """A clinic or product supplier, with the EV characterization data it publishes (DESIGN 3.4)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    ev_source: Mapped[str | None] = mapped_column(sa.Text)
    particles_per_dose: Mapped[float | None] = mapped_column(sa.Float)
    protein_ug_per_dose: Mapped[float | None] = mapped_column(sa.Float)
    size_mode_nm: Mapped[float | None] = mapped_column(sa.Float)
    size_d10_nm: Mapped[float | None] = mapped_column(sa.Float)
    size_d90_nm: Mapped[float | None] = mapped_column(sa.Float)
    characterization_methods: Mapped[list[str] | None] = mapped_column(sa.JSON)
    guarantees_results: Mapped[bool | None] = mapped_column(sa.Boolean)
    encourages_tracking: Mapped[bool | None] = mapped_column(sa.Boolean)
    price_amount: Mapped[Decimal | None] = mapped_column(Amount)
    price_currency: Mapped[str | None] = mapped_column(sa.String(3))
    note: Mapped[str | None] = mapped_column(sa.Text)
    document: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # the file it was checked from
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    __table_args__ = (
        # Where a person was treated is their data: each owner has their own providers.
        sa.Index("uq_providers_owner_name", "owner_id", "name", unique=True),
        sa.Index(
            "uq_providers_local_name", "name", unique=True,
            sqlite_where=sa.text("owner_id IS NULL"), postgresql_where=sa.text("owner_id IS NULL"),
        ),
    )


class Scan(Base):
    """One image (or one imported measurement) of one zone at one visit.

    Several scans of the same profile, date and zone are replicates, numbered from 1.
    """

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    zone: Mapped[Zone] = mapped_column(_enum(Zone, "zone"))
    date: Mapped[dt.date] = mapped_column(sa.Date)
    replicate: Mapped[int] = mapped_column(sa.Integer, default=1)
    capture_time: Mapped[dt.time | None] = mapped_column(sa.Time)
    hair_length_mm: Mapped[float | None] = mapped_column(sa.Float)
    device: Mapped[str | None] = mapped_column(sa.String(100))
    lighting: Mapped[str | None] = mapped_column(sa.String(100))
    image_name: Mapped[str | None] = mapped_column(sa.String(500))
    image_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    profile: Mapped[Profile] = relationship(back_populates="scans")
    measurement: Mapped[MeasurementRow | None] = relationship(
        back_populates="scan", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )

    __table_args__ = (
        sa.UniqueConstraint("profile_id", "date", "zone", "replicate", name="uq_scans_visit_replicate"),
        sa.CheckConstraint("replicate >= 1", name="replicate_positive"),
        sa.CheckConstraint("hair_length_mm >= 0", name="hair_length_nonnegative"),
    )


class MeasurementRow(Base):
    """The figures measured on a scan (by hairtrack's analysis, or imported from a CSV)."""

    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(sa.ForeignKey("scans.id", ondelete="CASCADE"), unique=True)
    source: Mapped[str] = mapped_column(sa.String(20), default="import")
    hairs_per_cm2: Mapped[float | None] = mapped_column(sa.Float)
    fu_per_cm2: Mapped[float | None] = mapped_column(sa.Float)
    hairs_per_fu: Mapped[float | None] = mapped_column(sa.Float)
    mean_width_um: Mapped[float | None] = mapped_column(sa.Float)
    terminal_fraction: Mapped[float | None] = mapped_column(sa.Float)
    coverage_pct: Mapped[float | None] = mapped_column(sa.Float)
    # The measurement's method (analyze's ``method``); kept per row so that imported figures carry theirs.
    method: Mapped[str | None] = mapped_column(sa.String(100))

    scan: Mapped[Scan] = relationship(back_populates="measurement")

    __table_args__ = (
        sa.CheckConstraint("source IN ('import', 'analysis')", name="source"),
        sa.CheckConstraint("hairs_per_cm2 >= 0", name="hairs_nonnegative"),
        sa.CheckConstraint("fu_per_cm2 >= 0", name="fu_nonnegative"),
        sa.CheckConstraint("hairs_per_fu >= 1", name="hairs_per_fu_min"),
        sa.CheckConstraint("mean_width_um > 0", name="width_positive"),
        sa.CheckConstraint("terminal_fraction BETWEEN 0 AND 1", name="terminal_fraction_range"),
        sa.CheckConstraint("coverage_pct BETWEEN 0 AND 100", name="coverage_range"),
        sa.CheckConstraint(
            "hairs_per_cm2 IS NOT NULL OR coverage_pct IS NOT NULL", name="has_density_or_coverage"
        ),
    )


class TreatmentCourse(Base):
    """A treatment of a profile.

    A continuous treatment (finasteride, minoxidil, ...) has a start, an optional end, a dose and
    optionally a cost. A session treatment (PRP, EV, microneedling) is one course per kind whose
    ``start_date`` is its first session; the sessions carry dates, doses and costs.
    """

    __tablename__ = "treatments"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TreatmentKind] = mapped_column(_enum(TreatmentKind, "treatment_kind"))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    dose: Mapped[str | None] = mapped_column(sa.String(200))
    cost_amount: Mapped[Decimal | None] = mapped_column(Amount)
    cost_currency: Mapped[str | None] = mapped_column(sa.String(3))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=_utcnow)

    profile: Mapped[Profile] = relationship(back_populates="treatments")
    provider: Mapped[Provider | None] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="treatment",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Session.date",
    )

    __table_args__ = (
        sa.UniqueConstraint("profile_id", "kind", "start_date", name="uq_treatments_profile_kind_start"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        sa.CheckConstraint("cost_amount >= 0", name="cost_nonnegative"),
        sa.CheckConstraint(
            "(cost_amount IS NULL) = (cost_currency IS NULL)", name="cost_has_currency"
        ),
    )


class Session(Base):
    """One session of a session treatment (PRP, EV, microneedling)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("treatments.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[dt.date] = mapped_column(sa.Date)
    dose: Mapped[str | None] = mapped_column(sa.String(200))
    cost_amount: Mapped[Decimal | None] = mapped_column(Amount)
    cost_currency: Mapped[str | None] = mapped_column(sa.String(3))
    provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("providers.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    treatment: Mapped[TreatmentCourse] = relationship(back_populates="sessions")
    provider: Mapped[Provider | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("treatment_id", "date", name="uq_sessions_treatment_date"),
        sa.CheckConstraint("cost_amount >= 0", name="cost_nonnegative"),
        sa.CheckConstraint(
            "(cost_amount IS NULL) = (cost_currency IS NULL)", name="cost_has_currency"
        ),
    )
