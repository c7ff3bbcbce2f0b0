"""Stored JSON is read with orjson, and with the standard library where orjson refuses."""

import math

from sqlalchemy import Connection, text, update

from db.database import Database
from db.engine import load_json
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
