"""index the directory's default order: (tenant, displayName byte-wise, id)

Revision ID: 0002_graphql
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_graphql"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index(
        "ix_user_tenant_display_name",
        "user",
        ["tenant_id", sa.text(f"coalesce(display_name, ''){collate}"), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_user_tenant_display_name", table_name="user")
