"""index SCIM's default listing order: (tenant, created, id)

Revision ID: 0003_scim_order
Revises: 0002_graphql
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_scim_order"
down_revision: str | None = "0002_graphql"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_user_tenant_created", "user", ["tenant_id", "created", "id"])


def downgrade() -> None:
    op.drop_index("ix_user_tenant_created", table_name="user")
