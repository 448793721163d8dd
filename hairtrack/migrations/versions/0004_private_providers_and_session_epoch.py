"""Providers belong to an owner (where a person was treated is their data); a user's session epoch lets
sign-out end every session cookie issued before.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_providers_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(batch_op.f("ix_providers_owner_id"), ["owner_id"], unique=False)
        batch_op.drop_constraint("uq_providers_name", type_="unique")
        batch_op.create_index("uq_providers_owner_name", ["owner_id", "name"], unique=True)
        batch_op.create_index(
            "uq_providers_local_name", ["name"], unique=True,
            sqlite_where=sa.text("owner_id IS NULL"), postgresql_where=sa.text("owner_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_index("uq_providers_local_name")
        batch_op.drop_index("uq_providers_owner_name")
        batch_op.create_unique_constraint("uq_providers_name", ["name"])
        batch_op.drop_index(batch_op.f("ix_providers_owner_id"))
        batch_op.drop_constraint(batch_op.f("fk_providers_owner_id_users"), type_="foreignkey")
        batch_op.drop_column("owner_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
