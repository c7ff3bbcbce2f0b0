"""A schema extension that tells the request log and metrics what a GraphQL request did, and
masks unexpected errors.

It records, on the current request's facts (``app.request_context``), the operation's name
and the codes of its errors (``app.graphql_api.cost`` records the cost there). GraphQL answers
most errors with status 200, so the request log cannot learn them from the status.
"""

from collections.abc import Iterator

from strawberry.extensions import MaskErrors

from app.graphql_api.errors import UNEXPECTED_ERROR, is_masked, should_mask, unavailable_code
from app.request_context import current_request
from graphql import GraphQLError, OperationDefinitionNode


def error_code(error: GraphQLError) -> str:
    """The error's own ``extensions.code``, else a code for its kind."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    unavailable = unavailable_code(error)
    if unavailable is not None:
        return unavailable
    if should_mask(error) or is_masked(error):
        return "INTERNAL_SERVER_ERROR"
    if error.original_error is not None:
        return "BAD_USER_INPUT"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def _mask_none(_: GraphQLError) -> bool:
    return False


class ObservingMaskErrors(MaskErrors):
    """strawberry's ``MaskErrors`` that, in the same hook and before it masks, records what
    the operation did for the request log: its name and the codes of its errors, read from the
    errors as raised (a masked one would only say INTERNAL_SERVER_ERROR for all). One hook
    instead of an extension of its own: strawberry builds and enters every hook anew on every
    request. ``mask=False`` (debug) records without masking.

    The operation's masking is done here with ``MaskErrors``' own ``should_mask_error`` and
    ``anonymise_error``, only when the result has errors: ``MaskErrors`` first asks whether
    the result is an instance of a runtime-checkable ``Protocol``, a check Python answers by
    collecting the protocol's attributes anew on each call, costlier than all the rest of the
    hook. A subscription's events are masked by ``MaskErrors``' ``on_stream_result`` as
    before; an error it masked is not masked again here (it has no original error)."""

    def __init__(self, *, mask: bool = True) -> None:
        super().__init__(
            should_mask_error=should_mask if mask else _mask_none, error_message=UNEXPECTED_ERROR
        )

    def on_operation(self) -> Iterator[None]:
        yield
        self._record()
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [
                self.anonymise_error(error) if self.should_mask_error(error) else error
                for error in result.errors
            ]

    def _record(self) -> None:
        facts = current_request()
        if facts is None:
            return
        context = self.execution_context
        facts.graphql = True
        facts.graphql_operation = context.operation_name
        document = context.graphql_document
        if facts.graphql_operation is None and document is not None:
            for node in document.definitions:
                if isinstance(node, OperationDefinitionNode):
                    facts.graphql_operation = node.name.value if node.name else None
                    break
        result = context.result
        errors = (result.errors if result is not None else None) or context.pre_execution_errors
        if errors:
            facts.graphql_error_codes = [error_code(error) for error in errors]
