"""Alembic environment: runs on the connection handed over by ``db.migrate``."""

from alembic import context
from sqlalchemy import Connection

from db.tables import is_model_object, metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=lambda name, type_, parents: is_model_object(name, type_),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `blink-directory migrate` (db.migrate)")
run_migrations(connection)
