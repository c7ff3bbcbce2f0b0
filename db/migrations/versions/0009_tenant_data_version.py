"""A counter of every write per tenant, beside the org-chart counter in its stripes

Revision ID: 0009_tenant_data_version
Revises: 0007_org_version_stripes
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_tenant_data_version"
# Follows oauth's 0008_oauth_clients once both are merged (re-chained at merge).
down_revision: str | None = "0008_oauth_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column with a constant default: no table rebuild on SQLite (see 0004 and 0007).
    with op.batch_alter_table("tenant_org_version", recreate="never") as batch:
        batch.add_column(
            sa.Column("data_version", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_org_version", recreate="never") as batch:
        batch.drop_column("data_version")
