"""Errors a client may see. Everything else is masked unless settings.debug is on."""

from typing import ClassVar

from graphql import GraphQLError

#: What a client sees instead of a masked error's message (strawberry's MaskErrors).
UNEXPECTED_ERROR = "Unexpected error."


class ApiError(Exception):
    """A client mistake (bad argument, bad cursor, exceeded limit): its message is shown."""

    # graphql-core copies an original error's ``extensions`` into the GraphQL error, so the
    # answer carries the code the request log already names these errors by.
    extensions: ClassVar[dict[str, object]] = {"code": "BAD_USER_INPUT"}


def should_mask(error: GraphQLError) -> bool:
    """Show GraphQL's own errors (syntax, validation, limits) and ApiErrors; mask the rest."""
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError)


def is_masked(error: GraphQLError) -> bool:
    """Whether ``error`` is what MaskErrors put in place of an unexpected one."""
    return error.original_error is None and error.message == UNEXPECTED_ERROR
