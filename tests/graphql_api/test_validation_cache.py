"""Parsing and validation of a repeated query are served from the caches, with the schema's
own limit rules in place."""

from typing import Any, ClassVar

import anyio
import pytest

import app.graphql_api.schema as schema_module
from graphql import ValidationContext, ValidationRule


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
