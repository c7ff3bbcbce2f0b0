"""PostgreSQL: the people search's lowered text, stored, and a covering index for short terms

Revision ID: 0012_user_search_text
Revises: 0011_user_search_short_terms
Create Date: 2026-11-30

The search (``db.directory_lists.search_conditions``) asks whether displayName, userName or
email contains a text, in any case. On PostgreSQL it was ``lower(column) LIKE '%text%'`` on
each of the three columns. A text of one or two characters is in no trigram, so its count
read every row of the tenant and lowered three columns of each: with the C.UTF-8 collation,
``lower()`` converts each string to wide characters and back, and that was most of the count's
time (docs/performance.md has the figures).

``search_text`` is that lowered text, kept by PostgreSQL itself (a stored generated column):
the three columns, each lowered, with a line break between them, NULL as empty. A text without
a line break is contained in it exactly when it is contained in one of the three lowered
columns, so the condition becomes ``search_text LIKE '%text%'``, and nothing is lowered when
searching.

* ``ix_user_search_trgm`` is now one trigram GIN index over ``search_text`` (it was one over
  the three lowered columns). A line break is not a word character for pg_trgm, so the
  trigrams are the same.
* ``ix_user_search_short`` holds (tenant_id) with ``search_text`` for the active users: a
  short text's count reads this index alone (an index-only scan), not the table. SQLite has
  an index of the same name and purpose (migration 0011).
* ``ix_user_search_short_page`` holds the active users in the directory's order (the key of
  ix_user_tenant_display_name) with ``search_text``, and ``display_name`` itself (PostgreSQL
  only answers from an index whose expression names a column when the column is there too).
  A short text's page (``UserSet.page``: the page's ids first, then their rows) walks it in
  order, testing each user in the index, and reads a row only for the page. It is a second
  index because it is wider: with it alone, PostgreSQL's estimates send a count to the table.
* Either is read alone only where the visibility map allows: once vacuumed (autovacuum does
  it in production). Before that PostgreSQL reads the table as before, and lowers nothing.

Adding a stored generated column rewrites the table once, under an exclusive lock (seconds
for 100,000 users). The models leave the column out (``db.tables.SEARCH_COLUMNS``): no write
names it, and PostgreSQL keeps it in step with every INSERT and UPDATE.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_user_search_text"
down_revision: str | None = "0011_user_search_short_terms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEARCH_TEXT = (
    "lower(coalesce(display_name, '') || chr(10) || coalesce(user_name, '')"
    " || chr(10) || coalesce(email, ''))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f'ALTER TABLE "user" ADD COLUMN search_text text GENERATED ALWAYS AS ({_SEARCH_TEXT})'
        " STORED"
    )
    op.execute("DROP INDEX IF EXISTS ix_user_search_trgm")
    op.execute(
        'CREATE INDEX ix_user_search_trgm ON "user" USING gin (search_text gin_trgm_ops)'
        " WITH (fastupdate = off)"
    )
    # ``search_text IS NOT NULL`` (it never is NULL) keeps both to searches: PostgreSQL takes a
    # partial index only for a query that implies its predicate, and a search's strict test
    # of search_text does; a team list of active users does not, and keeps its own index.
    searched = "WHERE active IS TRUE AND search_text IS NOT NULL"
    op.execute(
        f'CREATE INDEX ix_user_search_short ON "user" (tenant_id) INCLUDE (search_text) {searched}'
    )
    op.execute(
        'CREATE INDEX ix_user_search_short_page ON "user" '
        """(tenant_id, (coalesce(display_name, '') COLLATE "C"), id)"""
        f" INCLUDE (search_text, display_name) {searched}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_user_search_short_page")
    op.execute("DROP INDEX IF EXISTS ix_user_search_short")
    op.execute("DROP INDEX IF EXISTS ix_user_search_trgm")
    op.execute('ALTER TABLE "user" DROP COLUMN IF EXISTS search_text')
    columns = ", ".join(
        f"lower({column}) gin_trgm_ops" for column in ("display_name", "user_name", "email")
    )
    op.execute(
        f'CREATE INDEX ix_user_search_trgm ON "user" USING gin ({columns})'
        " WITH (fastupdate = off)"
    )
