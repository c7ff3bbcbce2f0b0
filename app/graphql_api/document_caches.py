"""Strawberry's parser and validation caches, each carrying the limit that applies at its step.

Strawberry runs every hook of every schema extension on every request, and each hook is a
context manager built and entered anew. ``MaxTokensLimiter`` and ``AddValidationRules`` only
set an option (the token limit of the parse, the extra rules of the validation) in a hook of
their own, so here each option is set by the cache of the step it governs, in that cache's
hook: two hooks a request instead of four, with the same documents refused.

The caches stay keyed as strawberry keys them: the parse by the query and its options (the
token limit included), the validation by the schema, the document and the rules.
"""

from collections.abc import Iterator, Sequence

from strawberry.extensions import ParserCache, ValidationCache

from graphql import ASTValidationRule


class TokenLimitedParserCache(ParserCache):
    """``ParserCache`` that parses with ``max_tokens`` (``MaxTokensLimiter``'s limit)."""

    def __init__(self, max_tokens: int, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield from super().on_parse()


class RuledValidationCache(ValidationCache):
    """``ValidationCache`` that validates with ``rules`` added (``AddValidationRules``)."""

    def __init__(self, rules: Sequence[type[ASTValidationRule]], maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.rules = tuple(rules)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield from super().on_validate()
