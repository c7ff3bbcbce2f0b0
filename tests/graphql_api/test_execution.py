"""The executor's short path for plain attribute fields answers exactly as graphql-core does."""

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.graphql_api.execution import PlainFieldsExecutor, direct, use_direct_resolvers


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    size: int
    colour: Colour
    seen: datetime

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


class Loose:
    """Whatever a resolver handed back: the attributes need not have the declared types."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


GOOD = {
    "name": "a",
    "nickname": None,
    "size": 3,
    "colour": Colour.RED,
    "seen": datetime(2024, 1, 2, tzinfo=UTC),
}
CASES = [
    GOOD,
    {**GOOD, "nickname": "b"},
    {**GOOD, "name": None},  # null for a non-null field
    {**GOOD, "size": "many"},  # a value the scalar refuses
    {**GOOD, "size": 2**40},  # out of Int's range
    {k: v for k, v in GOOD.items() if k != "size"},  # no such attribute
]


def answer(executor: type[StrawberryGraphQLCoreExecutionContext], things: list[Any]) -> Any:
    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> list[Thing | None]:
            return things

    schema = strawberry.Schema(query=Query, execution_context_class=executor)
    result = schema.execute_sync("{ things { name nickname size colour seen shout __typename } }")
    return result.data, [(e.message, e.path) for e in result.errors or []]


@pytest.mark.parametrize("values", CASES)
def test_same_answer_and_errors_as_graphql_core(values: dict[str, Any]) -> None:
    things = [Loose(**values), Loose(**GOOD)]
    expected = answer(StrawberryGraphQLCoreExecutionContext, things)
    assert answer(PlainFieldsExecutor, things) == expected


def greeting_in(thing: Any, context: dict[str, str]) -> str:
    return f"{context['greeting']}, {thing.name}"


@strawberry.type
class Greeted:
    name: str

    @strawberry.field(metadata=direct(greeting_in))
    def greeting(self, info: strawberry.Info) -> str:
        raise AssertionError("strawberry's resolver is not called")


def test_a_direct_resolver_is_called_with_the_context() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def greeted(self) -> Greeted:
            return Greeted(name="Ada")

    schema = strawberry.Schema(query=Query)
    use_direct_resolvers(schema._schema)
    result = schema.execute_sync("{ greeted { greeting } }", context_value={"greeting": "Hi"})
    assert result.errors is None
    assert result.data == {"greeted": {"greeting": "Hi, Ada"}}


def test_a_field_with_arguments_cannot_be_direct() -> None:
    @strawberry.type
    class Query:
        @strawberry.field(metadata=direct(greeting_in))
        def greeting(self, name: str) -> str:
            return name

    with pytest.raises(TypeError, match=r"Query\.greeting"):
        use_direct_resolvers(strawberry.Schema(query=Query)._schema)
