"""an index for the people search: substrings of displayName, userName and email, any case

Revision ID: 0010_user_search_index
Revises: 0009_tenant_data_version
Create Date: 2026-11-30

PostgreSQL: a trigram GIN index (pg_trgm) over the three lowered columns, which serves
``lower(column) LIKE '%text%'`` for a text of three characters or more. Without its pending
list (``fastupdate = off``): a write goes into the index itself, so no search has to read
through the writes since the last vacuum (the directory is read far more than written).

SQLite: an FTS5 table with the trigram tokenizer, ``user_search``, kept in step with
``user`` by triggers. Its rows are keyed by ``user_search_key`` (an INTEGER PRIMARY KEY per
user id, which VACUUM keeps, unlike the implicit rowid of ``user``): a write finds the row
to replace by that key, one look-up. Searches read candidates from it and check them against
``user`` itself (``db.directory_lists``), so a stale row could cost a candidate, never a
wrong answer.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_user_search_index"
down_revision: str | None = "0009_tenant_data_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("display_name", "user_name", "email")

_DELETE_OLD = """
    DELETE FROM user_search
    WHERE rowid = (SELECT key FROM user_search_key WHERE user_id = old.id);
"""
_INSERT_NEW = """
    INSERT OR IGNORE INTO user_search_key (user_id) VALUES (new.id);
    INSERT INTO user_search (rowid, display_name, user_name, email)
    VALUES ((SELECT key FROM user_search_key WHERE user_id = new.id),
            new.display_name, new.user_name, new.email);
"""
# A SCIM PUT writes every column: only a change of a searched one touches the index.
_CHANGED = (
    "old.id IS NOT new.id OR old.display_name IS NOT new.display_name"
    " OR old.user_name IS NOT new.user_name OR old.email IS NOT new.email"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        columns = ", ".join(f"lower({column}) gin_trgm_ops" for column in _COLUMNS)
        op.execute(
            f'CREATE INDEX ix_user_search_trgm ON "user" USING gin ({columns})'
            " WITH (fastupdate = off)"
        )
        return
    op.execute(
        "CREATE TABLE user_search_key ("
        "key INTEGER PRIMARY KEY, user_id VARCHAR(36) NOT NULL UNIQUE)"
    )
    op.execute(
        "CREATE VIRTUAL TABLE user_search USING fts5("
        "display_name, user_name, email, tokenize = 'trigram case_sensitive 0')"
    )
    op.execute('INSERT INTO user_search_key (user_id) SELECT id FROM "user"')
    op.execute(
        "INSERT INTO user_search (rowid, display_name, user_name, email) "
        'SELECT k.key, u.display_name, u.user_name, u.email FROM "user" u '
        "JOIN user_search_key k ON k.user_id = u.id"
    )
    op.execute(f'CREATE TRIGGER user_search_insert AFTER INSERT ON "user" BEGIN {_INSERT_NEW} END')
    op.execute(
        'CREATE TRIGGER user_search_delete AFTER DELETE ON "user" BEGIN '
        f"{_DELETE_OLD} DELETE FROM user_search_key WHERE user_id = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER user_search_update AFTER UPDATE OF id, display_name, user_name, email "
        f'ON "user" WHEN {_CHANGED} BEGIN {_DELETE_OLD} '
        "UPDATE user_search_key SET user_id = new.id WHERE user_id = old.id; "
        f"{_INSERT_NEW} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_user_search_trgm")
        return
    for trigger in ("user_search_insert", "user_search_delete", "user_search_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS user_search")
    op.execute("DROP TABLE IF EXISTS user_search_key")
