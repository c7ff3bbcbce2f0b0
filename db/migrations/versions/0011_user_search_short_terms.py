"""SQLite: a covering index for people searches of one or two characters

Revision ID: 0011_user_search_short_terms
Revises: 0010_user_search_index
Create Date: 2026-11-30

A text shorter than a trigram has no entry in ``user_search`` (migration 0010): such a search
tests every user of the tenant. Without this index that reads the whole ``user`` table, its
widest rows (JSON attributes and all) included, to look at three short columns.
``ix_user_search_short`` holds the active users' (tenant_id, coalesce(display_name, ''), id,
active, display_name, user_name, email): a search of active users (the frontend's) counts
by reading it alone (SQLite's covering index, a tenth of the table's pages), and a page
walks it in the directory's order (displayName byte-wise, then id), testing the three
columns in the index and reading a user's row only when it matches.

Partial (``WHERE active IS 1``, as SQLAlchemy writes ``active.is_(True)``) so that only a
query of active users can use it: a plain directory page keeps its narrower
ix_user_tenant_display_name. ``active`` is a column too, for the count to be covered, and
comes after the order: as a second equality column it made SQLite prefer this index to
(tenant, manager) for one manager's active reports (a team list then read the whole
tenant). A search that includes inactive users reads the table, as before.

PostgreSQL is left as it was: its trigram index serves longer texts, and a short text's scan
there was not measured against an index-only scan.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_user_search_short_terms"
down_revision: str | None = "0010_user_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        'CREATE INDEX IF NOT EXISTS ix_user_search_short ON "user" '
        "(tenant_id, coalesce(display_name, ''), id, active, display_name, user_name, email)"
        " WHERE active IS 1"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ix_user_search_short")
