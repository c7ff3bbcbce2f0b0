"""an index for the people search: substrings of displayName, userName and email, any case

Revision ID: 0010_user_search_index
Revises: 0009_tenant_data_version
Create Date: 2026-11-30

PostgreSQL: a trigram GIN index (pg_trgm) over the three lowered columns, which serves
``lower(column) LIKE '%text%'`` for a text of three characters or more. Without its pending
list (``fastupdate = off``): a write goes into the index itself, so no search has to read
through the writes since the last vacuum (the directory is read far more than written).

SQLite: an FTS5 table with the trigram tokenizer, ``user_search``, kept in step with
``user`` by triggers. Its rows are found by the user's id (an indexed column, matched as a
phrase, then compared exactly): the implicit rowid of ``user`` is no key, VACUUM may
renumber it. Searches read candidates from it and check them against ``user`` itself
(``db.directory_lists``), so a stale row could cost a candidate, never a wrong answer.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_user_search_index"
down_revision: str | None = "0009_tenant_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("display_name", "user_name", "email")

# The row of user ``old.id``: the id matched as a phrase of its column (an index look-up),
# then exactly; an id under three characters has no trigram, and is found by a scan.
_DELETE_OLD = """
    DELETE FROM user_search
    WHERE user_search MATCH '{user_id} : "' || replace(old.id, '"', '""') || '"'
      AND user_id = old.id AND length(old.id) >= 3;
    DELETE FROM user_search WHERE length(old.id) < 3 AND user_id = old.id;
"""
_INSERT_NEW = """
    INSERT INTO user_search (user_id, display_name, user_name, email)
    VALUES (new.id, new.display_name, new.user_name, new.email);
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        columns = ", ".join(f"lower({column}) gin_trgm_ops" for column in _COLUMNS)
        op.execute(f'CREATE INDEX ix_user_search_trgm ON "user" USING gin ({columns}) WITH (fastupdate = off)')
        return
    op.execute(
        "CREATE VIRTUAL TABLE user_search USING fts5("
        "user_id, display_name, user_name, email, tokenize = 'trigram case_sensitive 0')"
    )
    op.execute(
        "INSERT INTO user_search (user_id, display_name, user_name, email) "
        'SELECT id, display_name, user_name, email FROM "user"'
    )
    op.execute(f'CREATE TRIGGER user_search_insert AFTER INSERT ON "user" BEGIN {_INSERT_NEW} END')
    op.execute(f'CREATE TRIGGER user_search_delete AFTER DELETE ON "user" BEGIN {_DELETE_OLD} END')
    op.execute(
        "CREATE TRIGGER user_search_update AFTER UPDATE OF id, display_name, user_name, email "
        f'ON "user" BEGIN {_DELETE_OLD} {_INSERT_NEW} END'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_user_search_trgm")
        return
    for trigger in ("user_search_insert", "user_search_delete", "user_search_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS user_search")
