"""Each measurement names the method that measured it (``measurements.method``), filled in for analysed
scans from the ``method`` their stored analysis already carries.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=100), nullable=True))
    # Read and written in Python, not in SQL: JSON access differs between SQLite and PostgreSQL.
    scans = sa.table("scans", sa.column("id", sa.Integer), sa.column("analysis", sa.JSON))
    measurements = sa.table("measurements", sa.column("scan_id", sa.Integer), sa.column("method", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(scans.c.id, scans.c.analysis).where(scans.c.analysis.is_not(None))).all()
    for scan_id, analysis in rows:
        method = analysis.get("method") if isinstance(analysis, dict) else None
        if isinstance(method, str) and method:
            bind.execute(measurements.update().where(measurements.c.scan_id == scan_id).values(method=method[:100]))


def downgrade() -> None:
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_column("method")
