"""Migrations create exactly the tables the models declare, on every backend."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from db.engine import create_engine_for
from db.migrate import current_revision, head_revision, is_up_to_date, upgrade
from db.tables import is_model_object, metadata
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
            opts = {
                "compare_type": True,
                # The search index lives outside the models (see db.tables.is_model_object).
                "include_name": lambda name, type_, parents: is_model_object(name, type_),
            }
            context = MigrationContext.configure(connection, opts=opts)
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


def test_dropping_group_attributes_keeps_groups_members_and_the_name_index(
    database_url: str,
) -> None:
    """0004 drops a column of ``group``, which ``group_member`` references with ON DELETE
    CASCADE: rebuilding the table (batch mode's way on SQLite) would delete every membership."""
    url = database_url
    if url.startswith("sqlite"):
        url = url.replace("directory.db", "scratch.db")
    if url.startswith("postgresql"):
        reset_postgres_schema(url)
    engine = create_engine_for(url)
    try:
        upgrade(engine, "0003_scim_order")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tenant (slug, name, created, org_version)"
                    " VALUES ('a', 'A', CURRENT_TIMESTAMP, 0)"
                )
            )
            tenant = connection.execute(text("SELECT id FROM tenant")).scalar_one()
            connection.execute(
                text(
                    'INSERT INTO "user" (id, tenant_id, user_name, active, attributes, created,'
                    " last_modified, version) VALUES ('u1', :t, 'ann', true, '{}',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"t": tenant},
            )
            connection.execute(
                text(
                    'INSERT INTO "group" (id, tenant_id, display_name, attributes, created,'
                    " last_modified, version) VALUES ('g1', :t, 'Sales', '{}',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"t": tenant},
            )
            connection.execute(text("INSERT INTO group_member VALUES ('g1', 'u1')"))
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT * FROM group_member")).all() == [("g1", "u1")]
            assert "attributes" not in {c["name"] for c in inspect(connection).get_columns("group")}
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "group" (id, tenant_id, display_name, created, last_modified,'
                    " version) VALUES ('g2', :t, 'SALES', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                ),
                {"t": tenant},
            )
    finally:
        engine.dispose()
