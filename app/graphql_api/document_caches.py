"""Strawberry's parser and validation caches, each carrying the checks of its step.

Strawberry runs every hook of every schema extension on every request, and each hook is a
context manager built and entered anew. ``MaxTokensLimiter`` and ``AddValidationRules`` only
set an option (the token limit of the parse, the extra rules of the validation) in a hook of
their own, and the cost rule needs the validated document and the variables, which the
validation step has. So each option and check is applied by the cache of the step it
governs, in that cache's hook: two hooks a request where there were five, with the same
documents refused with the same errors.

The caches stay keyed as strawberry keys them: the parse by the query and its options (the
token limit included), the validation by the schema, the document and the rules. The
checks run on every request, after the cached validation passed: they read the variables.
"""

from collections.abc import Callable, Iterator, Sequence

from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from graphql import ASTValidationRule, GraphQLError

#: A check of a validated operation with its variables: its errors, none when it may run.
Check = Callable[[ExecutionContext], list[GraphQLError]]


class TokenLimitedParserCache(ParserCache):
    """``ParserCache`` that parses with ``max_tokens`` (``MaxTokensLimiter``'s limit)."""

    def __init__(self, max_tokens: int, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield from super().on_parse()


class RuledValidationCache(ValidationCache):
    """``ValidationCache`` that validates with ``rules`` added (``AddValidationRules``), then
    runs ``checks`` on an operation that passed them."""

    def __init__(
        self, rules: Sequence[type[ASTValidationRule]], maxsize: int, checks: Sequence[Check] = ()
    ) -> None:
        super().__init__(maxsize=maxsize)
        self.rules = tuple(rules)
        self.checks = tuple(checks)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (*context.validation_rules, *self.rules)
        # The cache's hook validates before it yields; strawberry reads the errors while the
        # hook is suspended. So the checks run between the two, and may add errors.
        validating = super().on_validate()
        next(validating)
        if not context.pre_execution_errors:
            for check in self.checks:
                errors = check(context)
                if errors:
                    context.pre_execution_errors = errors
                    break
        yield
        next(validating, None)
