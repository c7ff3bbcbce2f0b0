"""the org version of a tenant in stripes: no row that every writer of a tenant must lock

Revision ID: 0007_org_version_stripes
Revises: 0006_activity_log
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_org_version_stripes"
down_revision: str | None = "0006_activity_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIPES = 16  # db.org_changes.STRIPES when this migration was written


def upgrade() -> None:
    op.create_table(
        "tenant_org_version",
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenant.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("stripe", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    # The version so far goes to stripe 0, so that no tenant's version moves backwards.
    op.execute(
        "INSERT INTO tenant_org_version (tenant_id, stripe, version)"
        " SELECT id, 0, org_version FROM tenant"
    )
    for stripe in range(1, STRIPES):
        op.execute(
            "INSERT INTO tenant_org_version (tenant_id, stripe, version)"
            f" SELECT id, {stripe}, 0 FROM tenant"
        )
    # Never a rebuild of the table on SQLite (see 0004): every table references tenant with
    # ON DELETE CASCADE, and dropping the old table would delete them all.
    with op.batch_alter_table("tenant", recreate="never") as batch:
        batch.drop_column("org_version")


def downgrade() -> None:
    with op.batch_alter_table("tenant", recreate="never") as batch:
        batch.add_column(
            sa.Column("org_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE tenant SET org_version = (SELECT coalesce(sum(version), 0)"
        " FROM tenant_org_version WHERE tenant_org_version.tenant_id = tenant.id)"
    )
    op.drop_table("tenant_org_version")
