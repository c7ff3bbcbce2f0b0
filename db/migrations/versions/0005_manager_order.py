"""index each manager's reports in the directory's order: (tenant, manager, displayName, id)

The org chart reads a manager's direct reports a page at a time in the directory's order
(displayName byte-wise, then id) and the roots as the users without a manager. This index
serves both as a range of one (tenant, manager) read in order, so neither scans the tenant.
It starts with (tenant_id, manager_id), so ix_user_tenant_manager is dropped as redundant.

ix_user_manager (manager_id alone, for ON DELETE SET NULL of a deleted manager's reports)
becomes partial, without the users that have no manager: otherwise PostgreSQL may read the
roots from it, every tenant's roots at once, filtering out other tenants' users.

Revision ID: 0005_manager_order
Revises: 0004_drop_group_attrs
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_manager_order"
down_revision: str | None = "0004_drop_group_attrs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The same byte-wise expression as ix_user_tenant_display_name (0002, db.collation).
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index(
        "ix_user_tenant_manager_display_name",
        "user",
        ["tenant_id", "manager_id", sa.text(f"coalesce(display_name, ''){collate}"), "id"],
    )
    op.drop_index("ix_user_tenant_manager", table_name="user")
    op.drop_index("ix_user_manager", table_name="user")
    has_manager = sa.text("manager_id IS NOT NULL")
    op.create_index(
        "ix_user_manager",
        "user",
        ["manager_id"],
        postgresql_where=has_manager,
        sqlite_where=has_manager,
    )


def downgrade() -> None:
    op.drop_index("ix_user_manager", table_name="user")
    op.create_index("ix_user_manager", "user", ["manager_id"])
    op.create_index("ix_user_tenant_manager", "user", ["tenant_id", "manager_id"])
    op.drop_index("ix_user_tenant_manager_display_name", table_name="user")
