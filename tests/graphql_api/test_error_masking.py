"""Unexpected errors are masked, in a query's answer and in a subscription's events, and
shown as raised when debugging; client errors are shown either way."""

from typing import Any

import anyio
import pytest

from app.graphql_api.errors import UNEXPECTED_ERROR
from app.graphql_api.limits import COST_BUDGET
from app.graphql_api.schema import build_schema

# Without a context the resolvers fail with an AttributeError: a fault of the server.
FAILING_QUERY = "{ tenant { slug } }"
FAILING_SUBSCRIPTION = "subscription { directoryChanges { seq } }"


def query_errors(debug: bool, query: str) -> list[Any]:
    schema = build_schema(debug=debug)

    async def run() -> list[Any]:
        result = await schema.execute(query, context_value=None)
        return list(result.errors or ())

    return anyio.run(run)


def first_event_errors(debug: bool) -> list[Any]:
    schema = build_schema(debug=debug)

    async def run() -> list[Any]:
        events = await schema.subscribe(FAILING_SUBSCRIPTION, context_value=None)
        assert hasattr(events, "__aiter__"), events
        async for event in events:
            return list(event.errors or ())
        raise AssertionError("no event")

    return anyio.run(run)


def test_an_unexpected_error_of_a_query_is_masked() -> None:
    errors = query_errors(False, FAILING_QUERY)
    assert [error.message for error in errors] == [UNEXPECTED_ERROR]
    assert errors[0].original_error is None
    assert errors[0].path == ["tenant"]  # where it happened is kept


def test_an_unexpected_error_of_a_subscription_event_is_masked() -> None:
    assert [error.message for error in first_event_errors(False)] == [UNEXPECTED_ERROR]


@pytest.mark.parametrize("debug", [False, True])
def test_client_errors_are_shown(debug: bool) -> None:
    query = "{ users(first: 100) { edges { node { directReports(first: 100) { edges { node {"
    query += " directReports(first: 100) { totalCount } } } } } } } }"
    assert [error.message for error in query_errors(debug, query)] == [
        f"query cost 1010100 exceeds the budget of {COST_BUDGET} "
        "(each connection counts `first` nodes per parent node)"
    ]


def test_debugging_shows_unexpected_errors_as_raised() -> None:
    (error,) = query_errors(True, FAILING_QUERY)
    assert isinstance(error.original_error, AttributeError)
    assert error.message == str(error.original_error)
    (event_error,) = first_event_errors(True)
    assert event_error.message != UNEXPECTED_ERROR
