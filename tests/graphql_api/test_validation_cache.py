"""Parsing and validation of a repeated query are served from the caches."""

import anyio
from strawberry.extensions.validation_cache import _get_validate_cache

from app.graphql_api.schema import build_schema


def test_a_repeated_query_is_validated_once() -> None:
    schema = build_schema()
    cached_validate = _get_validate_cache(256)
    query = "{ tenant { slug } }"

    async def run_twice() -> None:
        for _ in range(2):
            await schema.execute(query, context_value=None)

    before = cached_validate.cache_info()  # type: ignore[attr-defined]
    anyio.run(run_twice)
    after = cached_validate.cache_info()  # type: ignore[attr-defined]
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 1
