"""Stored JSON is read and written with orjson, and with the standard library where orjson
refuses."""

import math

from sqlalchemy import Connection, select, text, update

from db.database import Database
from db.engine import dump_json, load_json
from db.tables import users
from db.tenants import create_tenant
from db.users import get_user, insert_user


def test_orjson_reads_ordinary_documents() -> None:
    assert load_json('{"emails": [{"type": "work"}], "n": 1.5}') == {
        "emails": [{"type": "work"}],
        "n": 1.5,
    }


def test_what_orjson_refuses_still_reads() -> None:
    assert math.isnan(load_json('{"nan": NaN}')["nan"])
    assert load_json('{"huge": 1e400}')["huge"] == math.inf


def test_stored_attributes_read_back(database: Database) -> None:
    attributes = {"nickName": "Al", "addresses": [{"type": "work", "locality": "Zürich"}]}

    def write(connection: Connection) -> tuple[int, str]:
        tenant = create_tenant(connection, "acme").id
        return tenant, insert_user(
            connection, tenant, {"user_name": "alice", "attributes": attributes}
        )

    tenant, user_id = database.write_sync(write)
    row = database.read_sync(lambda connection: get_user(connection, tenant, user_id))
    assert row is not None
    assert row["attributes"] == attributes
    if database.is_sqlite:  # only SQLite's JSON text can hold NaN (JSONB refuses it)
        database.write_sync(
            lambda connection: connection.execute(
                update(users).values(attributes=text("'{\"nan\": NaN}'"))
            )
        )
        row = database.read_sync(lambda connection: get_user(connection, tenant, user_id))
        assert row is not None
        assert math.isnan(row["attributes"]["nan"])


def test_documents_are_written_compact_by_orjson_and_by_the_standard_library_where_it_refuses() -> (
    None
):
    assert dump_json({"a": [1, None, "Zürich"]}) == '{"a":[1,null,"Zürich"]}'
    assert dump_json({"huge": 2**70, 1: "x"}) == '{"huge": 1180591620717411303424, "1": "x"}'


def test_stored_json_is_compact_text(database: Database) -> None:
    """What the store holds is orjson's compact text (SQLite keeps it as written; PostgreSQL's
    JSONB parses it), and reads back as it was sent."""
    attributes = {"nickName": "Al", "addresses": [{"type": "work", "n": 2**70}]}

    def write(connection: Connection) -> tuple[int, str]:
        tenant = create_tenant(connection, "acme").id
        return tenant, insert_user(connection, tenant, {"user_name": "al", "attributes": {}})

    tenant, user_id = database.write_sync(write)
    database.write_sync(
        lambda connection: connection.execute(
            update(users).where(users.c.id == user_id).values(attributes={"nickName": "Al"})
        )
    )
    if database.is_sqlite:
        stored = database.read_sync(
            lambda connection: connection.execute(
                select(text("attributes")).select_from(users).where(users.c.id == user_id)
            ).scalar_one()
        )
        assert stored == '{"nickName":"Al"}'
    database.write_sync(
        lambda connection: connection.execute(
            update(users).where(users.c.id == user_id).values(attributes=attributes)
        )
    )
    row = database.read_sync(lambda connection: get_user(connection, tenant, user_id))
    assert row is not None
    assert row["attributes"] == attributes
