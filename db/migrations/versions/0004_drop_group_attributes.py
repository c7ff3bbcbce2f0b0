"""drop group.attributes: nothing ever wrote to it but an empty document

Revision ID: 0004_drop_group_attrs
Revises: 0003_scim_order
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_drop_group_attrs"
down_revision: str | None = "0003_scim_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Never a rebuild of the table on SQLite (batch mode's default for a dropped column): the
    # rebuild drops the old table, and with foreign keys on that deletes every membership
    # (ON DELETE CASCADE); reflection would also lose the lower(displayName) unique index.
    # SQLite drops the column in place (ALTER TABLE ... DROP COLUMN, SQLite 3.35+).
    with op.batch_alter_table("group", recreate="never") as batch:
        batch.drop_column("attributes")


def downgrade() -> None:
    with op.batch_alter_table("group", recreate="never") as batch:
        batch.add_column(
            sa.Column("attributes", JSON_DOCUMENT, nullable=False, server_default="{}")
        )
