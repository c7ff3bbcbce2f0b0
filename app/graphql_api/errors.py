"""Errors a client may see. Everything else is masked unless settings.debug is on."""

from graphql import GraphQLError


class ApiError(Exception):
    """A client mistake (bad argument, bad cursor, exceeded limit): its message is shown."""


def should_mask(error: GraphQLError) -> bool:
    """Show GraphQL's own errors (syntax, validation, limits) and ApiErrors; mask the rest."""
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError)
