"""Initial schema: profiles, devices, providers, scans, measurements, treatments, sessions.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 13:54:19.812989
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Money: exact NUMERIC on PostgreSQL, decimal text on SQLite (see hairtrack.tracking.models.Amount).
AMOUNT = sa.Numeric(14, 4).with_variant(sa.String(40), "sqlite")

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('px_per_mm', sa.Float(), nullable=False),
    sa.Column('px_per_mm_uncertainty', sa.Float(), nullable=True),
    sa.Column('calibration_method', sa.String(length=20), nullable=False),
    sa.Column('calibrated_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("calibration_method IN ('manual', 'grid', 'card')", name=op.f('ck_devices_calibration_method')),
    sa.CheckConstraint('px_per_mm > 0', name=op.f('ck_devices_px_per_mm_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('name', name=op.f('uq_devices_name'))
    )
    op.create_table('profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IN ('male', 'female')", name=op.f('ck_profiles_sex')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('name', name=op.f('uq_profiles_name'))
    )
    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('ev_source', sa.Text(), nullable=True),
    sa.Column('particles_per_dose', sa.Float(), nullable=True),
    sa.Column('protein_ug_per_dose', sa.Float(), nullable=True),
    sa.Column('size_mode_nm', sa.Float(), nullable=True),
    sa.Column('size_d10_nm', sa.Float(), nullable=True),
    sa.Column('size_d90_nm', sa.Float(), nullable=True),
    sa.Column('characterization_methods', sa.JSON(), nullable=True),
    sa.Column('guarantees_results', sa.Boolean(), nullable=True),
    sa.Column('encourages_tracking', sa.Boolean(), nullable=True),
    sa.Column('price_amount', AMOUNT, nullable=True),
    sa.Column('price_currency', sa.String(length=3), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('name', name=op.f('uq_providers_name'))
    )
    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('zone', sa.Enum('hairline', 'temples', 'mid_scalp', 'crown', 'donor', name='zone', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('replicate', sa.Integer(), nullable=False),
    sa.Column('capture_time', sa.Time(), nullable=True),
    sa.Column('hair_length_mm', sa.Float(), nullable=True),
    sa.Column('device', sa.String(length=100), nullable=True),
    sa.Column('lighting', sa.String(length=100), nullable=True),
    sa.Column('image_name', sa.String(length=500), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('analysis', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hair_length_mm >= 0', name=op.f('ck_scans_hair_length_nonnegative')),
    sa.CheckConstraint('replicate >= 1', name=op.f('ck_scans_replicate_positive')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_scans_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans')),
    sa.UniqueConstraint('profile_id', 'date', 'zone', 'replicate', name='uq_scans_visit_replicate')
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scans_image_sha256'), ['image_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_scans_profile_id'), ['profile_id'], unique=False)

    op.create_table('treatments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('finasteride', 'dutasteride', 'minoxidil_topical', 'minoxidil_oral', 'lllt', 'ketoconazole', 'other', 'prp', 'ev', 'microneedling', name='treatment_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('dose', sa.String(length=200), nullable=True),
    sa.Column('cost_amount', AMOUNT, nullable=True),
    sa.Column('cost_currency', sa.String(length=3), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(cost_amount IS NULL) = (cost_currency IS NULL)', name=op.f('ck_treatments_cost_has_currency')),
    sa.CheckConstraint('cost_amount >= 0', name=op.f('ck_treatments_cost_nonnegative')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_treatments_end_after_start')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_treatments_profile_id_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_treatments_provider_id_providers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatments')),
    sa.UniqueConstraint('profile_id', 'kind', 'start_date', name='uq_treatments_profile_kind_start')
    )
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatments_profile_id'), ['profile_id'], unique=False)

    op.create_table('measurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('hairs_per_cm2', sa.Float(), nullable=True),
    sa.Column('fu_per_cm2', sa.Float(), nullable=True),
    sa.Column('hairs_per_fu', sa.Float(), nullable=True),
    sa.Column('mean_width_um', sa.Float(), nullable=True),
    sa.Column('terminal_fraction', sa.Float(), nullable=True),
    sa.Column('coverage_pct', sa.Float(), nullable=True),
    sa.CheckConstraint("source IN ('import', 'analysis')", name=op.f('ck_measurements_source')),
    sa.CheckConstraint('coverage_pct BETWEEN 0 AND 100', name=op.f('ck_measurements_coverage_range')),
    sa.CheckConstraint('fu_per_cm2 >= 0', name=op.f('ck_measurements_fu_nonnegative')),
    sa.CheckConstraint('hairs_per_cm2 >= 0', name=op.f('ck_measurements_hairs_nonnegative')),
    sa.CheckConstraint('hairs_per_cm2 IS NOT NULL OR coverage_pct IS NOT NULL', name=op.f('ck_measurements_has_density_or_coverage')),
    sa.CheckConstraint('hairs_per_fu >= 1', name=op.f('ck_measurements_hairs_per_fu_min')),
    sa.CheckConstraint('mean_width_um > 0', name=op.f('ck_measurements_width_positive')),
    sa.CheckConstraint('terminal_fraction BETWEEN 0 AND 1', name=op.f('ck_measurements_terminal_fraction_range')),
    sa.ForeignKeyConstraint(['scan_id'], ['scans.id'], name=op.f('fk_measurements_scan_id_scans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements')),
    sa.UniqueConstraint('scan_id', name=op.f('uq_measurements_scan_id'))
    )
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('dose', sa.String(length=200), nullable=True),
    sa.Column('cost_amount', AMOUNT, nullable=True),
    sa.Column('cost_currency', sa.String(length=3), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('(cost_amount IS NULL) = (cost_currency IS NULL)', name=op.f('ck_sessions_cost_has_currency')),
    sa.CheckConstraint('cost_amount >= 0', name=op.f('ck_sessions_cost_nonnegative')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_sessions_provider_id_providers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_sessions_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('treatment_id', 'date', name='uq_sessions_treatment_date')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_treatment_id'), ['treatment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_treatment_id'))

    op.drop_table('sessions')
    op.drop_table('measurements')
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatments_profile_id'))

    op.drop_table('treatments')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scans_profile_id'))
        batch_op.drop_index(batch_op.f('ix_scans_image_sha256'))

    op.drop_table('scans')
    op.drop_table('providers')
    op.drop_table('profiles')
    op.drop_table('devices')
