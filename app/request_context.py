"""What one request has learnt about itself, for its log line and its metrics.

The request log middleware starts a ``RequestFacts`` for every HTTP request and makes it the
current one (a context variable); the layers below fill in what only they know — the GraphQL
operation and its error codes, whether a traceback was logged — without knowing who reads it.
The object is shared by reference, so work run in a copied context (worker threads) still
writes to the request's own facts.
"""

from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestFacts:
    request_id: str
    #: Set by the GraphQL front-end when it ran an operation (named or anonymous).
    graphql: bool = False
    graphql_operation: str | None = None
    graphql_error_codes: list[str] = field(default_factory=list)
    graphql_cost: int | None = None
    rate_limited: bool = False
    #: Set when a log record with a traceback was written during this request, so the
    #: request log does not write the same traceback a second time.
    traceback_logged: bool = False


_current: ContextVar[RequestFacts | None] = ContextVar("blink_request", default=None)


def current_request() -> RequestFacts | None:
    """The facts of the request being served here, or None outside a request."""
    return _current.get()


def start_request(request_id: str) -> tuple[RequestFacts, Token[RequestFacts | None]]:
    facts = RequestFacts(request_id)
    return facts, _current.set(facts)


def end_request(token: Token[RequestFacts | None]) -> None:
    _current.reset(token)
