"""Strawberry's parser and validation caches, each carrying the checks of its step.

Strawberry runs every hook of every schema extension on every request, and each hook is a
context manager built and entered anew. ``MaxTokensLimiter`` and ``AddValidationRules`` only
set an option (the token limit of the parse, the extra rules of the validation) in a hook of
their own, and the cost rule needs the validated document and the variables, which the
validation step has. So each option and check is applied by the cache of the step it
governs, in that cache's hook: two hooks a request where there were five, with the same
documents refused with the same errors.

The parse stays keyed as strawberry keys it, by the query and its options (the token limit
included), and answers the same document object for the same query. The validation's
verdicts are kept by that object (``ValidatedDocuments``, one store per schema and rules):
strawberry's own cache is keyed by the document's hash, and graphql-core's AST nodes
compute their hash by walking the whole tree, on every look-up. A document the store does
not hold (new, or parsed anew after the parser cache let it go) is validated through
strawberry's cache as before. The checks run on every request, after the cached validation
passed: they read the variables.
"""

from collections.abc import Callable, Iterator, Sequence

from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from app.graphql_api.identity_cache import IdentityCache
from graphql import ASTValidationRule, DocumentNode, GraphQLError

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


class ValidatedDocuments(IdentityCache[DocumentNode, list[GraphQLError]]):
    """The validation errors (empty: valid) of the last ``kept`` documents validated with
    ``rules`` added, by the identity of the document object (the parser cache answers the
    same object for the same query)."""

    def __init__(self, rules: Sequence[type[ASTValidationRule]], kept: int) -> None:
        super().__init__(kept)
        self.rules = tuple(rules)


class RuledValidationCache(ValidationCache):
    """``ValidationCache`` that validates with the rules of ``documents`` added
    (``AddValidationRules``) and keeps the verdict there, then runs ``checks`` on an
    operation that passed them."""

    def __init__(self, documents: ValidatedDocuments, checks: Sequence[Check] = ()) -> None:
        super().__init__(maxsize=documents.kept)
        self.documents = documents
        self.checks = tuple(checks)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        errors = None if document is None else self.documents.get(document)
        if errors is None:
            context.validation_rules = (*context.validation_rules, *self.documents.rules)
            for _ in super().on_validate():  # validates (strawberry's cache); nothing after
                pass
            errors = context.pre_execution_errors or []
            if document is not None:
                self.documents.keep(document, errors)
        # Set even when empty: strawberry validates again when no extension has.
        context.pre_execution_errors = errors
        if not errors:
            for check in self.checks:
                check_errors = check(context)
                if check_errors:
                    context.pre_execution_errors = check_errors
                    break
        # strawberry reads the errors while this hook waits here.
        yield
