"""Malformed filters are 400 invalidFilter naming the problem; no string raises anything else."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db.database import Database
from db.tables import groups, users
from scim.errors import ScimError, ScimType
from scim.filter_syntax import MAX_FILTER_LENGTH
from scim.filters import compile_group_filter, compile_user_filter

SYNTAX_ERRORS: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("userName", "end of filter"),
    ("userName eq", "end of filter"),
    ('userName eq "unterminated', "unterminated string at position 12"),
    ('userName eq "x" and', "end of filter"),
    ('userName eq "x" or or userName pr', "'or' at position 19"),
    ('(userName eq "x"', "end of filter"),
    ('userName eq "x")', "')' at position 15"),
    ('userName eq "x" title pr', "'title' at position 16"),
    ('userName regex "x"', "'regex'"),
    ("userName eq 'single'", '"\'" at position 12'),
    ('userName eq "bad \\q escape"', "invalid string"),
    ('userName eq "raw \x01 control"', "invalid string"),
    ('userName ! "x"', "'!'"),
    ('not userName eq "x"', "'userName'"),
    ('emails[type eq "work"', "end of filter"),
    ('emails[type eq "work"]].value eq "x"', "']'"),
    ('emails[type eq "work"].value.type eq "x"', "'type' at position 28"),
    ('emails.value[type eq "work"].value eq "x"', "malformed attribute path"),
    ('userName eq "x"\nor title pr', "'\\n'"),
    ("userName eq 012", "'12'"),
    ('userName eq "x" and ()', "')'"),
    ("[]", "'['"),
]


@pytest.mark.parametrize(("text", "named"), SYNTAX_ERRORS)
def test_syntax_errors_are_invalid_filter(text: str, named: str) -> None:
    for compile_filter in (compile_user_filter, compile_group_filter):
        with pytest.raises(ScimError) as raised:
            compile_filter(text)
        assert raised.value.status == 400
        assert raised.value.scim_type is ScimType.INVALID_FILTER
        assert named in raised.value.detail


def test_overlong_filter_is_refused() -> None:
    text = 'userName eq "' + "x" * MAX_FILTER_LENGTH + '"'
    with pytest.raises(ScimError, match="longer than"):
        compile_user_filter(text)


def test_deep_nesting_is_refused_not_recursed() -> None:
    text = "(" * 1000 + 'userName eq "x"' + ")" * 1000
    with pytest.raises(ScimError, match="nested more than"):
        compile_user_filter(text)
    negated = "not (" * 400 + 'userName eq "x"' + ")" * 400
    with pytest.raises(ScimError, match="nested more than"):
        compile_user_filter(negated)


def test_long_flat_chains_compile(database: Database) -> None:
    text = " or ".join(f'userName eq "u{i}"' for i in range(150))
    assert len(text) < MAX_FILTER_LENGTH
    condition = compile_user_filter(text)
    count = select(func.count()).select_from(users).where(condition)
    assert database.read_sync(lambda c: c.execute(count).scalar_one()) == 0


# -- fuzzing -------------------------------------------------------------------------------------

ATTRIBUTES = [
    "userName",
    "USERNAME",
    "externalId",
    "id",
    "active",
    "title",
    "displayName",
    "name.givenName",
    "name",
    "emails",
    "emails.value",
    "emails.type",
    "phoneNumbers",
    "members",
    "members.value",
    "meta.created",
    "meta.lastModified",
    "schemas",
    "groups",
    "nickName",
    "bogus",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:blink:2.0:User:company",
    "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co"]

values = st.one_of(
    st.text().map(json.dumps),
    st.text().map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(
        [
            "true",
            "false",
            "null",
            "42",
            "-1.5e3",
            '"True"',
            '"2024-01-01T00:00:00Z"',
            '"9999-12-31T23:59:59-14:00"',
            '"0001-01-01T00:00:00+14:00"',
            '"%_/\\\\"',
            '"\' OR 1=1 --"',
        ]
    ),
)
comparisons = st.one_of(
    st.builds(lambda a: f"{a} pr", st.sampled_from(ATTRIBUTES)),
    st.builds(
        lambda a, o, v: f"{a} {o} {v}",
        st.sampled_from(ATTRIBUTES),
        st.sampled_from(OPERATORS),
        values,
    ),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", children, children),
        st.builds(lambda a, b: f"{a} or {b}", children, children),
        st.builds(lambda a: f"not ({a})", children),
        st.builds(lambda a: f"({a})", children),
        st.builds(
            lambda p, a: f"{p}[{a}]",
            st.sampled_from(["emails", "members", "phoneNumbers"]),
            children,
        ),
        st.builds(
            lambda a, o, v: f'emails[type eq "work"].{a} {o} {v}',
            st.sampled_from(["value", "type", "nope"]),
            st.sampled_from(OPERATORS),
            values,
        ),
    )


filters = st.recursive(comparisons, _combine, max_leaves=8)
TOKENS = [*ATTRIBUTES, *OPERATORS, "and", "or", "not", "pr", "(", ")", "[", "]", '"x"', "true"]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)
filterish = st.text(alphabet=string.ascii_letters + string.digits + " ()[].\"\\:-_%$!'\t\n")


def _compiles_or_refuses(text: str) -> list[object]:
    """Compile for both resources; only ScimError 400 invalidFilter may escape."""
    compiled: list[object] = []
    for compile_filter, table in ((compile_user_filter, users), (compile_group_filter, groups)):
        try:
            condition = compile_filter(text)
        except ScimError as error:
            refused = (error.status, error.scim_type, bool(error.detail))
            assert refused == (400, ScimType.INVALID_FILTER, True)
            continue
        compiled.append(select(func.count()).select_from(table).where(condition))
    return compiled


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), filterish, token_soup))
def test_no_string_raises_anything_but_invalid_filter(text: str) -> None:
    _compiles_or_refuses(text)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=filters)
def test_generated_filters_compile_and_run_or_are_refused(database: Database, text: str) -> None:
    # the database is only read, so sharing one across examples is sound
    for statement in _compiles_or_refuses(text):
        assert database.read_sync(lambda c, s=statement: c.execute(s).scalar_one()) == 0
