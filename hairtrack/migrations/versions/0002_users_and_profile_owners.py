"""Web accounts: a users table, and an owner for each profile (none = the local user).

Profile names become unique per owner instead of globally, so that one clinic user's names reveal
nothing to another.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_profiles_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.drop_constraint("uq_profiles_name", type_="unique")
        batch_op.create_index("uq_profiles_owner_name", ["owner_id", "name"], unique=True)
        batch_op.create_index(
            "uq_profiles_local_name", ["name"], unique=True,
            sqlite_where=sa.text("owner_id IS NULL"), postgresql_where=sa.text("owner_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index("uq_profiles_local_name")
        batch_op.drop_index("uq_profiles_owner_name")
        batch_op.create_unique_constraint("uq_profiles_name", ["name"])
        batch_op.drop_constraint(batch_op.f("fk_profiles_owner_id_users"), type_="foreignkey")
        batch_op.drop_column("owner_id")
    op.drop_table("users")
