"""Property: random sequences of group PATCHes never yield a 500; a failed PATCH changes
nothing; a successful one changes exactly what its operations say — no member lost or added."""

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from db.database import Database
from tests.conftest import TenantTokens
from tests.scim.groups_support import make_users, patch

POOL = 6
UNKNOWN = "no-such-user"
_names = itertools.count()

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
index_lists = st.lists(st.integers(0, POOL - 1), max_size=4)


@dataclass
class Model:
    display_name: str
    external_id: str | None = None
    members: set[str] = field(default_factory=set)


def _refs(ids: list[str]) -> list[dict[str, Any]]:
    return [{"$ref": None, "value": i} for i in ids]


# (operation, how it changes the model if the PATCH succeeds) — ids are filled in per test.
Op = tuple[str, Any]
member_op = st.one_of(
    st.tuples(st.sampled_from(["add", "Add"]), index_lists).map(lambda t: ("add", t)),
    st.tuples(st.just("replace"), index_lists).map(lambda t: ("replace", t)),
    st.tuples(st.just("Remove"), index_lists).map(lambda t: ("remove_listed", t)),
    index_lists.filter(bool).map(lambda i: ("remove_filter", i)),
    st.just(("remove_all", None)),
    st.tuples(st.sampled_from(["add", "replace"]), index_lists).map(lambda t: ("unknown", t)),
)
field_op = st.one_of(
    text.map(lambda v: ("rename", v)),
    st.tuples(text, st.one_of(st.none(), text)).map(lambda t: ("pathless", t)),
    st.just(("remove_external_id", None)),
)
garbage_op = st.sampled_from(
    [
        {"op": "move", "path": "members"},
        {"op": "add", "path": "nickName", "value": "x"},
        {"op": "remove", "path": "displayName"},
        {"op": "add", "path": "members", "value": [{"display": "x"}]},
        {"op": "add", "path": "members", "value": [{"value": 5}]},
        {"op": "add", "path": "members", "value": [{"value": "x", "type": "Group"}]},
        {"op": "remove", "path": 'members[display eq "x"]'},
        {"op": "replace", "path": "id", "value": "other"},
        {"op": "remove"},
    ]
)
any_op = st.one_of(
    member_op.map(lambda o: ("member", o)),
    field_op.map(lambda o: ("field", o)),
    garbage_op.map(lambda o: ("garbage", o)),
)


def _render(kind_op: tuple[str, Any], users: list[str]) -> dict[str, Any]:
    kind, op = kind_op
    if kind == "garbage":
        return dict(op)
    name, arg = op
    if kind == "member":
        if name == "add":
            return {"op": arg[0], "path": "members", "value": _refs([users[i] for i in arg[1]])}
        if name == "replace":
            return {"op": "replace", "path": "members", "value": _refs([users[i] for i in arg[1]])}
        if name == "remove_listed":
            return {"op": "Remove", "path": "members", "value": _refs([users[i] for i in arg[1]])}
        if name == "remove_filter":
            path = " or ".join(f'value eq "{users[i]}"' for i in arg)
            return {"op": "remove", "path": f"members[{path}]"}
        if name == "remove_all":
            return {"op": "remove", "path": "members"}
        ids = [users[i] for i in arg[1]] + [UNKNOWN]
        return {"op": arg[0], "path": "members", "value": _refs(ids)}
    if name == "rename":
        return {"op": "Replace", "path": "displayName", "value": arg}
    if name == "pathless":
        return {"op": "replace", "value": {"displayName": arg[0], "externalId": arg[1]}}
    return {"op": "remove", "path": "externalId"}


def _apply(model: Model, kind_op: tuple[str, Any], users: list[str]) -> bool:
    """Apply to the model; False when the operation must be refused."""
    kind, op = kind_op
    if kind == "garbage":
        return False
    name, arg = op
    if name == "unknown":
        return False
    if name == "add":
        model.members |= {users[i] for i in arg[1]}
    elif name == "replace":
        model.members = {users[i] for i in arg[1]}
    elif name == "remove_listed":
        model.members -= {users[i] for i in arg[1]}
    elif name == "remove_filter":
        model.members -= {users[i] for i in arg}
    elif name == "remove_all":
        model.members = set()
    elif name == "rename":
        if not arg.strip() or "\x00" in arg:
            return False
        model.display_name = arg
    elif name == "pathless":
        display, external = arg
        if not display.strip() or "\x00" in display or (external and "\x00" in external):
            return False
        model.display_name, model.external_id = display, external or None
    else:
        model.external_id = None
    return True


@pytest.fixture
def users(database: Database, tenant: TenantTokens) -> list[str]:
    return make_users(database, tenant.slug, POOL)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(patches=st.lists(st.lists(any_op, min_size=1, max_size=3), min_size=1, max_size=5))
def test_random_group_patches(scim: TestClient, users: list[str], patches: list[Any]) -> None:
    name = f"group-{next(_names)}"
    created = scim.post("/scim/Groups", json={"displayName": name})
    assert created.status_code == 201
    url = f"/scim/Groups/{created.json()['id']}"
    model = Model(name)
    for operations in patches:
        candidate = Model(model.display_name, model.external_id, set(model.members))
        valid = all(_apply(candidate, op, users) for op in operations)
        response = scim.patch(url, json=patch(*[_render(op, users) for op in operations]))
        assert response.status_code < 500, response.text
        if response.status_code == 409:  # a rename onto the name of an earlier example's group
            valid = False
        else:
            assert response.status_code == (200 if valid else 400), response.text
        if valid:
            model = candidate
        body = scim.get(url).json()
        assert body["displayName"] == model.display_name
        assert body.get("externalId") == model.external_id
        assert {m["value"] for m in body["members"]} == model.members
