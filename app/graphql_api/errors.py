"""Errors a client may see. Everything else is masked unless settings.debug is on."""

from typing import ClassVar

from db.errors import QueryTimeout, Unavailable
from graphql import GraphQLError

#: What a client sees instead of a masked error's message (strawberry's MaskErrors).
UNEXPECTED_ERROR = "Unexpected error."


class ApiError(Exception):
    """A client mistake (bad argument, bad cursor, exceeded limit): its message is shown."""

    # graphql-core copies an original error's ``extensions`` into the GraphQL error, so the
    # answer carries the code the request log already names these errors by.
    extensions: ClassVar[dict[str, object]] = {"code": "BAD_USER_INPUT"}


def should_mask(error: GraphQLError) -> bool:
    """Show GraphQL's own errors (syntax, validation, limits), ApiErrors and an unavailable
    store (its message says only that); mask the rest."""
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError | Unavailable)


def unavailable_code(error: GraphQLError) -> str | None:
    """``extensions.code`` of an error the store raised for being out of reach, else None."""
    original = error.original_error
    if isinstance(original, QueryTimeout):
        return "QUERY_TIMEOUT"
    if isinstance(original, Unavailable):
        return "SERVICE_UNAVAILABLE"
    return None


def is_masked(error: GraphQLError) -> bool:
    """Whether ``error`` is what MaskErrors put in place of an unexpected one."""
    return error.original_error is None and error.message == UNEXPECTED_ERROR
