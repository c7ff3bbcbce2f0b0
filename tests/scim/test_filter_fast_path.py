"""Entra's ``<attribute> eq "<string>"`` look-up through the cached template (scim.filters
``bind_user_filter``) gives the same users and the same errors as the full compiler."""

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from scim.errors import ScimError
from scim.filters import bind_user_filter, compile_user_filter
from tests.scim.support import CORE, ENTERPRISE, assert_error, create
from tests.scim.test_filter_users import UNKNOWN_OR_WRONG

TRICKY = [
    'Quote"Inside@contoso.com',
    "Back\\slash@contoso.com",
    "Zoë.Ünïcode@contoso.com",
    "MiXeD.Case@Contoso.COM",
    "tab\tand\u2028separator",
]


def _filter(path: str, value: str) -> str:
    return f"{path} eq {json.dumps(value)}"


@pytest.mark.parametrize(
    "path",
    [
        "userName",
        "USERNAME",
        "externalId",
        "id",
        "emails.value",
        f"{CORE}:userName",
        f"{ENTERPRISE}:employeeNumber",
    ],
)
def test_the_shape_is_one_template_for_every_value(path: str) -> None:
    first = bind_user_filter(_filter(path, "a@contoso.com"))
    second = bind_user_filter(_filter(path, 'b"\\é@contoso.com'))
    assert first.is_template
    assert second.where is first.where
    assert second.parameters == {"filter_value": 'b"\\é@contoso.com'}


@pytest.mark.parametrize(
    "text",
    [
        'emails[type eq "work"].value eq "a"',  # brackets: the full compiler
        'active eq "true"',  # a boolean compared with a string
        'meta.created eq "2024-01-01T00:00:00Z"',  # a timestamp
        'userName eq ""',  # empty value
        'userName co "a"',
        'userName eq "a" ',
        '(userName eq "a")',
    ],
)
def test_other_shapes_take_the_full_compiler(text: str) -> None:
    bound = bind_user_filter(text)
    assert not bound.is_template
    assert bound.where is compile_user_filter(text)


@pytest.mark.parametrize(
    "text",
    [
        *(text for text, _ in UNKNOWN_OR_WRONG),
        'unknown eq "a"',
        'password eq "a"',
        'roles.value eq "admin"',
        f'{ENTERPRISE}:userName eq "x"',
        'userName eq "a\\u0000b"',  # NUL
        'userName eq "\\ud800"',  # lone surrogate
        'userName eq "a\\qb"',  # invalid escape
        'userName eq "a',
    ],
)
def test_refusals_are_the_full_compilers(text: str) -> None:
    with pytest.raises(ScimError) as fast:
        bind_user_filter(text)
    with pytest.raises(ScimError) as full:
        compile_user_filter(text)
    assert (fast.value.status, fast.value.scim_type, str(fast.value)) == (
        full.value.status,
        full.value.scim_type,
        str(full.value),
    )


@pytest.fixture
def tricky(scim: TestClient) -> list[dict[str, Any]]:
    return [
        create(
            scim,
            name,
            externalId=f"ext-{name}",
            emails=[{"type": "work", "value": name.replace("\t", "-"), "primary": True}],
        )
        for name in TRICKY
    ]


def _ids(scim: TestClient, text: str) -> list[str]:
    response = scim.get("/scim/Users", params={"filter": text})
    assert response.status_code == 200, response.text
    return [user["id"] for user in response.json()["Resources"]]


@pytest.mark.parametrize("index", range(len(TRICKY)))
def test_same_users_as_the_full_compiler(
    scim: TestClient, tricky: list[dict[str, Any]], index: int
) -> None:
    user = tricky[index]
    name = TRICKY[index]
    # SQLite's lower() folds ASCII only: non-ASCII case variants are compared, not predicted
    ascii_upper = name.upper() if name.isascii() else None
    cases: list[tuple[str, str, bool | None]] = [
        ("userName", name, True),
        ("userName", name.upper(), True if ascii_upper else None),
        ("externalId", f"ext-{name}", True),
        ("externalId", f"EXT-{name}", False),  # case-exact
        ("id", user["id"], True),
        ("emails.value", name.replace("\t", "-").swapcase(), True if ascii_upper else None),
        ("userName", name + "x", False),
    ]
    for path, value, found in cases:
        text = _filter(path, value)
        assert bind_user_filter(text).is_template
        fast = _ids(scim, text)
        assert fast == _ids(scim, f"({text})"), text  # the full compiler agrees
        if found is not None:
            assert fast == ([user["id"]] if found else []), text


def test_the_rendered_resource_is_the_same(scim: TestClient, tricky: list[dict[str, Any]]) -> None:
    text = _filter("userName", TRICKY[2])
    fast = scim.get("/scim/Users", params={"filter": text}).json()
    full = scim.get("/scim/Users", params={"filter": f"({text})"}).json()
    assert fast == full
    assert fast["Resources"] == [scim.get(f"/scim/Users/{tricky[2]['id']}").json()]


def test_a_page_past_the_match_still_counts_it(
    scim: TestClient, tricky: list[dict[str, Any]]
) -> None:
    text = _filter("userName", TRICKY[0])
    body = scim.get("/scim/Users", params={"filter": text, "startIndex": 2}).json()
    assert (body["totalResults"], body["Resources"]) == (1, [])
    body = scim.get("/scim/Users", params={"filter": text, "count": 0}).json()
    assert (body["totalResults"], body["Resources"]) == (1, [])


def test_unknown_attribute_is_still_invalid_filter(scim: TestClient) -> None:
    response = scim.get("/scim/Users", params={"filter": 'roles.value eq "x"'})
    assert_error(response, 400, "invalidFilter")


def test_a_full_page_counts_every_match(scim: TestClient) -> None:
    for number in range(3):
        create(scim, f"engineer{number}@contoso.com", title="Engineer")
    create(scim, "manager@contoso.com", title="Manager")
    text = 'title eq "Engineer"'
    assert bind_user_filter(text).is_template

    def page(**params: Any) -> tuple[int, int]:
        body = scim.get("/scim/Users", params={"filter": text, **params}).json()
        return body["totalResults"], len(body["Resources"])

    assert page(count=2) == (3, 2)  # full: the total takes a count of its own
    assert page(count=3) == (3, 3)
    assert page(startIndex=3, count=2) == (3, 1)  # the last page gives the total itself
    assert page(startIndex=5, count=2) == (3, 0)  # past the end: counted
    assert page() == (3, 3)
