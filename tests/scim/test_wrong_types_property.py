"""Property: a document with a value of the wrong JSON type for any attribute is refused with
400 invalidValue naming the attribute, and nothing is stored.

The attributes come from the schemas themselves (every writable attribute and sub-attribute
of User, its extensions and Group), so an attribute added later is covered without editing
this test. ``null`` is never wrong (Entra sends it for "no value").
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from scim.groups_schema import GROUP_RESOURCE_TYPE
from scim.schema_model import Attr, ResourceTypeDef
from scim.user_schema import USER_RESOURCE_TYPE
from tests.scim.support import assert_error, create

numbers = st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
texts = st.text(max_size=5)
#: not "true"/"false" in any case: Entra's boolean strings are accepted
non_boolean_texts = texts.filter(lambda text: text.lower() not in ("true", "false"))
plain_objects = st.dictionaries(st.sampled_from(["x", "y"]), texts, min_size=1, max_size=2)


def wrong_scalar(attr: Attr) -> st.SearchStrategy[Any]:
    """A JSON value of a type ``attr`` (not complex) does not take."""
    if attr.type == "boolean":
        return numbers | non_boolean_texts | st.lists(st.booleans(), max_size=2) | plain_objects
    if attr.type in ("integer", "decimal"):
        return st.booleans() | texts | st.lists(numbers, max_size=2) | plain_objects
    return numbers | st.booleans() | st.lists(texts, max_size=2) | plain_objects


def wrong_value(attr: Attr) -> st.SearchStrategy[Any]:
    """A wrong value for ``attr`` itself, or for one of its sub-attributes inside it."""
    if attr.type != "complex":
        return wrong_scalar(attr)
    whole: st.SearchStrategy[Any] = numbers | st.booleans()
    if attr.multi_valued:
        whole |= st.lists(numbers | st.booleans() | st.lists(texts, max_size=1), min_size=1)
    else:
        whole |= st.just([]) | st.lists(plain_objects, min_size=2, max_size=3)
        if attr.sub("value") is None:
            whole |= texts
    writable = [sub for sub in attr.sub_attributes if sub.mutability != "readOnly"]
    inner = st.sampled_from(writable).flatmap(
        lambda sub: wrong_scalar(sub).map(lambda bad: {sub.name: bad})
    )
    if attr.multi_valued:
        inner = inner.map(lambda element: [element])
    return whole | inner


def targets(resource_type: ResourceTypeDef) -> list[tuple[str | None, Attr]]:
    """(extension URN or None for the core schema, attribute) of every writable attribute."""
    found: list[tuple[str | None, Attr]] = []
    for schema in (resource_type.core, *resource_type.extensions):
        urn = None if schema is resource_type.core else schema.id
        found += [(urn, attr) for attr in schema.attributes if attr.mutability != "readOnly"]
    return found


def wrong_documents(resource_type: ResourceTypeDef, base: dict[str, Any]) -> Any:
    def build(target: tuple[str | None, Attr]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        urn, attr = target
        return wrong_value(attr).map(
            lambda bad: (
                attr.name,
                {**base, attr.name: bad} if urn is None else {**base, urn: {attr.name: bad}},
            )
        )

    return st.sampled_from(targets(resource_type)).flatmap(build)


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=wrong_documents(USER_RESOURCE_TYPE, {"userName": "wrong@contoso.com"}))
def test_a_wrong_typed_user_attribute_is_refused(
    scim: TestClient, case: tuple[str, dict[str, Any]]
) -> None:
    name, body = case
    existing = scim.get("/scim/Users", params={"filter": 'userName eq "kept@contoso.com"'})
    kept = existing.json()["Resources"] or [create(scim, "kept@contoso.com", title="kept")]
    error = assert_error(scim.post("/scim/Users", json=body), 400, "invalidValue")
    assert name in error["detail"], (body, error)
    assert_error(scim.put(f"/scim/Users/{kept[0]['id']}", json=body), 400, "invalidValue")
    listed = scim.get("/scim/Users").json()
    assert listed["totalResults"] == 1
    assert listed["Resources"][0] == {**kept[0], "meta": listed["Resources"][0]["meta"]}
    assert listed["Resources"][0]["meta"]["version"] == kept[0]["meta"]["version"]


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=wrong_documents(GROUP_RESOURCE_TYPE, {"displayName": "Wrong"}))
def test_a_wrong_typed_group_attribute_is_refused(
    scim: TestClient, case: tuple[str, dict[str, Any]]
) -> None:
    name, body = case
    error = assert_error(scim.post("/scim/Groups", json=body), 400, "invalidValue")
    assert name in error["detail"], (body, error)
    assert scim.get("/scim/Groups").json()["totalResults"] == 0
