"""The User type reads the store's record: every plain field answers its column as stored,
a manager answers the same however it was fetched, and a value the type refuses fails with
graphql-core's own error."""

import dataclasses
from datetime import datetime
from typing import Any

import strawberry

from app.graphql_api.users.types import User
from db.directory_reads import UserRecord, users_by_ids
from db.tenants import get_tenant
from tests.graphql_api.conftest import SeededOrg

ORG_SIZE = 40

# GraphQL names that are not the column's name in camelCase.
RENAMED = {"created": "createdAt", "last_modified": "updatedAt"}
NOT_FIELDS = {"manager_id"}  # shown as the `manager` object


def graphql_name(column: str) -> str:
    first, *rest = column.split("_")
    return RENAMED.get(column, first + "".join(part.title() for part in rest))


def as_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def stored(seeded: SeededOrg, user_id: str) -> UserRecord:
    def read(connection: Any) -> UserRecord:
        tenant = get_tenant(connection, "acme")
        assert tenant is not None
        return users_by_ids(connection, tenant_id=tenant.id, ids=[user_id])[user_id]

    return seeded.database.read_sync(read)


def a_user_with_a_manager(seeded: SeededOrg) -> str:
    return next(p.id for p in seeded.org.people.values() if p.manager_id is not None)


def test_every_column_is_a_field_answering_the_stored_value(seeded: SeededOrg) -> None:
    plain = seeded.acme.data(
        '{ __type(name: "User") { fields { name args { name } type { kind ofType { kind } } } } }'
    )["__type"]["fields"]
    leaf = {"SCALAR", "ENUM"}
    plain_names = {
        f["name"]
        for f in plain
        if not f["args"]
        and (f["type"]["kind"] in leaf or (f["type"]["ofType"] or {}).get("kind") in leaf)
    }
    record = stored(seeded, a_user_with_a_manager(seeded))
    columns = {
        graphql_name(f.name): f.name for f in dataclasses.fields(record) if f.name not in NOT_FIELDS
    }
    # every plain field is a column and every column a field: nothing is mapped by hand
    assert plain_names - {"directReportCount", "reportCount"} == set(columns)
    user = seeded.acme.data(
        f"query($id: ID!) {{ user(id: $id) {{ {' '.join(sorted(columns))} }} }}",
        {"id": record.id},
    )["user"]
    assert user == {name: as_json(getattr(record, column)) for name, column in columns.items()}
    assert user["displayName"] is not None
    assert user["userName"]


def test_a_manager_answers_the_same_loaded_or_brought_with_a_page(seeded: SeededOrg) -> None:
    user_id = a_user_with_a_manager(seeded)
    fields = "id userName displayName title manager { id displayName }"
    loaded = seeded.acme.data(
        f"query($id: ID!) {{ user(id: $id) {{ manager {{ {fields} }} }} }}", {"id": user_id}
    )["user"]["manager"]
    listed = seeded.acme.data(
        f"{{ users(first: 100) {{ edges {{ node {{ id manager {{ {fields} }} }} }} }} }}"
    )["users"]["edges"]
    from_page = next(e["node"]["manager"] for e in listed if e["node"]["id"] == user_id)
    assert loaded == from_page
    assert loaded["id"] == seeded.org.people[user_id].manager_id


def test_a_value_the_type_refuses_fails_as_graphql_core_reports_it(seeded: SeededOrg) -> None:
    record = stored(seeded, a_user_with_a_manager(seeded))
    broken = dataclasses.replace(record, user_name=None)  # type: ignore[arg-type]

    @strawberry.type
    class Query:
        @strawberry.field(graphql_type=list[User | None])
        @staticmethod
        def users() -> list[UserRecord]:
            return [broken, record]

    schema = strawberry.Schema(query=Query, types=[User])
    result = schema.execute_sync("{ users { id userName title } }")
    assert result.data == {
        "users": [None, {"id": record.id, "userName": record.user_name, "title": record.title}]
    }
    assert [(e.message, e.path) for e in result.errors or []] == [
        ("Cannot return null for non-nullable field User.userName.", ["users", 0, "userName"])
    ]
