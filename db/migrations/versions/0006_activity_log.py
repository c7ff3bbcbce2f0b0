"""the provisioning activity log: one append-only event per change or refused write

Revision ID: 0006_activity_log
Revises: 0005_manager_order
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_activity_log"
down_revision: str | None = "0005_manager_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activity_event",
        sa.Column("id", EVENT_ID, primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenant.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("client_request_id", sa.String(length=128), nullable=True),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("resource_type", sa.String(length=8), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=True),
        sa.Column("resource_name", sa.String(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("scim_type", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("path", sa.String(), nullable=True),
        sa.Column("changes", JSON_DOCUMENT, nullable=True),
        sa.Column("members_added", JSON_DOCUMENT, nullable=True),
        sa.Column("members_removed", JSON_DOCUMENT, nullable=True),
        sa.Column("member_change_count", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ux_activity_tenant_seq", "activity_event", ["tenant_id", "seq"], unique=True
    )
    unsequenced = sa.text("seq IS NULL")
    op.create_index(
        "ix_activity_unsequenced",
        "activity_event",
        ["tenant_id", "id"],
        postgresql_where=unsequenced,
        sqlite_where=unsequenced,
    )
    op.create_index(
        "ix_activity_tenant_resource", "activity_event", ["tenant_id", "resource_id", "seq"]
    )
    op.create_index("ix_activity_tenant_request", "activity_event", ["tenant_id", "request_id"])
    op.create_index("ix_activity_occurred_at", "activity_event", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("activity_event")
