"""Migrations create exactly the tables the models declare, on every backend."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db.engine import create_engine_for
from db.migrate import current_revision, head_revision, is_up_to_date, upgrade
from db.tables import metadata
from tests.conftest import reset_postgres_schema


def migrate_from_scratch(url: str) -> None:
    if url.startswith("postgresql"):
        reset_postgres_schema(url)
    engine = create_engine_for(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def test_migrations_reach_head_and_match_the_models(database_url: str) -> None:
    url = database_url
    if url.startswith("sqlite"):
        url = url.replace("directory.db", "scratch.db")
    migrate_from_scratch(url)
    engine = create_engine_for(url)
    try:
        assert current_revision(engine) == head_revision()
        assert is_up_to_date(engine)
        assert {"tenant", "api_token", "user", "group", "group_member"} <= set(
            inspect(engine).get_table_names()
        )
        with engine.connect() as connection, warnings.catch_warnings():
            # SQLite cannot reflect expression indexes (lower(userName)); alembic says so.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
        assert is_up_to_date(engine)
    finally:
        engine.dispose()
