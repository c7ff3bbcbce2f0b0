"""Parsing and validation of a repeated query are served from the caches, with the schema's
own limit rules in place, and the validation's verdicts kept are bounded."""

from typing import Any, ClassVar

import anyio
import pytest

import app.graphql_api.schema as schema_module
from app.graphql_api.document_caches import ValidatedDocuments
from app.graphql_api.limits import MAX_ALIASES
from graphql import GraphQLError, ValidationContext, ValidationRule, parse


class CountingRule(ValidationRule):
    """Counts how often the query is validated: graphql-core makes one per validation."""

    validations: ClassVar[int] = 0

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        type(self).validations += 1


def test_a_repeated_query_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = [*schema_module.LIMIT_RULES, CountingRule]
    monkeypatch.setattr(schema_module, "LIMIT_RULES", rules)
    monkeypatch.setattr(CountingRule, "validations", 0)
    schema = schema_module.build_schema()
    query = "{ tenant { slug } validatedOnce: tenant { name } }"
    results: list[Any] = []

    async def run_three_times() -> None:
        for _ in range(3):
            results.append(await schema.execute(query, context_value=None))

    anyio.run(run_three_times)
    assert CountingRule.validations == 1
    # validation ran (and passed): execution got as far as the resolver, which needs a token
    assert all(result.errors and "Unexpected" in result.errors[0].message for result in results)


def test_an_invalid_query_is_answered_the_same_errors_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = [*schema_module.LIMIT_RULES, CountingRule]
    monkeypatch.setattr(schema_module, "LIMIT_RULES", rules)
    monkeypatch.setattr(CountingRule, "validations", 0)
    schema = schema_module.build_schema()
    aliases = " ".join(f"a{i}: tenant {{ slug }}" for i in range(MAX_ALIASES + 1))
    queries = ["{ tenant { noSuchField } }", f"{{ {aliases} }}"]
    answers: list[list[str]] = []

    async def run_each_twice() -> None:
        for query in queries:
            for _ in range(2):
                result = await schema.execute(query, context_value=None)
                assert result.data is None
                answers.append([error.message for error in result.errors or ()])

    anyio.run(run_each_twice)
    assert CountingRule.validations == len(queries)
    assert answers[0] == answers[1] == ["Cannot query field 'noSuchField' on type 'Tenant'."]
    assert answers[2] == answers[3] == [f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"]


def test_the_verdicts_kept_are_bounded_and_the_oldest_go_first() -> None:
    documents = ValidatedDocuments([], kept=3)
    parsed = [parse(f"{{ a{i}: tenant {{ slug }} }}") for i in range(5)]
    error = GraphQLError("invalid")
    for index, document in enumerate(parsed):
        documents.keep(document, [error] if index % 2 else [])
        assert len(documents) <= 3
    assert [documents.get(document) for document in parsed] == [
        None,
        None,
        [],
        [error],
        [],
    ]
    # a verdict asked for is the most recent: the next document pushes out another
    documents.get(parsed[2])
    documents.keep(parsed[0], [])
    assert documents.get(parsed[2]) == []
    assert documents.get(parsed[3]) is None


def test_an_equal_document_parsed_anew_is_not_taken_for_the_one_kept() -> None:
    documents = ValidatedDocuments([], kept=3)
    kept = parse("{ tenant { slug } }")
    documents.keep(kept, [])
    again = parse("{ tenant { slug } }")
    assert again == kept
    assert documents.get(again) is None
    assert documents.get(kept) == []
