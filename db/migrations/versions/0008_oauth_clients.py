"""OAuth 2.0 client credentials: clients, their secrets and the access tokens they mint

Revision ID: 0008_oauth_clients
Revises: 0007_org_version_stripes
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_oauth_clients"
down_revision: str | None = "0007_org_version_stripes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created", UTC_DATETIME, nullable=False),
        sa.Column("revoked", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_index("ix_oauth_client_tenant_id", "oauth_client", ["tenant_id"])
    op.create_table(
        "oauth_client_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("oauth_client_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created", UTC_DATETIME, nullable=False),
        sa.Column("expires", UTC_DATETIME, nullable=False),
        sa.Column("last_used", UTC_DATETIME, nullable=True),
        sa.Column("revoked", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["oauth_client_id"], ["oauth_client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index(
        "ix_oauth_client_secret_oauth_client_id", "oauth_client_secret", ["oauth_client_id"]
    )
    op.create_table(
        "oauth_access_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued", UTC_DATETIME, nullable=False),
        sa.Column("expires", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["secret_id"], ["oauth_client_secret.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_oauth_access_token_secret_id", "oauth_access_token", ["secret_id"])
    op.create_index("ix_oauth_access_token_expires", "oauth_access_token", ["expires"])


def downgrade() -> None:
    op.drop_table("oauth_access_token")
    op.drop_table("oauth_client_secret")
    op.drop_table("oauth_client")
