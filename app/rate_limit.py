"""Per-token rate limit: a token bucket for each bearer token, in this worker's memory.

A token may send ``burst`` requests at once and ``rate`` per second after that; a request over
the limit is answered 429 with ``Retry-After`` (seconds until one request is allowed again)
and never reaches the front-end. Buckets are per worker process: with ``--workers N`` a token
may send up to N times the rate in total (documented for operators).

Microsoft Entra counts a 429 as a failed request, retries it much later, and quarantines a
job whose failures pile up; the defaults are far above what Entra sends so that only a
runaway client meets the limit.
"""

import math
from collections.abc import Callable
from time import monotonic

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.metrics import Metrics
from app.request_context import current_request
from db.tokens import TokenGrant

Rejection = Callable[[int, str], Response]


class TokenBuckets:
    """One bucket per key: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """0 when a request may go now (and it is counted), else the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            tokens = self.burst
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()
        else:
            tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


class RateLimit:
    """ASGI middleware behind ``RequireToken``: limits each token's requests."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        buckets: TokenBuckets,
        reject: Rejection,
        front_end: str,
        metrics: Metrics | None = None,
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.reject = reject
        self.limited = metrics.rate_limited.labels(front_end) if metrics is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        grant: TokenGrant | None = scope.get("state", {}).get("grant")
        if grant is not None:
            wait = self.buckets.take(grant.principal)
            if wait > 0:
                await self._too_many(wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _too_many(self, wait: float) -> Response:
        if self.limited is not None:
            self.limited.inc()
        facts = current_request()
        if facts is not None:
            facts.rate_limited = True
        seconds = max(1, math.ceil(wait))
        response = self.reject(429, f"too many requests for this token; retry after {seconds} s")
        response.headers["Retry-After"] = str(seconds)
        return response
