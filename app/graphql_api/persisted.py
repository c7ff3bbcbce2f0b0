"""Automatic persisted queries: a client may send an operation by the SHA-256 of its text.

The convention is Apollo's: ``extensions.persistedQuery = {"version": 1, "sha256Hash": H}``.
Sent with its ``query``, the document is checked against ``H`` and registered; sent without,
it is looked up, and an unknown hash is answered with the error code
``PERSISTED_QUERY_NOT_FOUND``, upon which the client sends it again with its text. The
documents of ``graphql/operations`` are registered when the app starts, so the frontend's own
operations are known by hash in every process from the first request.

The registry is per process and bounded (least recently used go first): a hash one worker
has not seen costs the client one round trip more, never a wrong answer, since a document is
only ever stored under its own hash.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

#: The frontend's operations, when the app runs from its source tree (as shipped).
OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
#: Distinct documents kept per process.
MAX_DOCUMENTS = 1024

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
BAD_PERSISTED_QUERY = "BAD_PERSISTED_QUERY"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueryError(Exception):
    """A persisted-query request that cannot run: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class PersistedQueries:
    def __init__(self, max_documents: int = MAX_DOCUMENTS) -> None:
        self._max = max_documents
        self._documents: OrderedDict[str, str] = OrderedDict()

    def register(self, document: str) -> str:
        """Keep ``document`` under its hash; the hash."""
        digest = sha256_hex(document)
        self._documents[digest] = document
        self._documents.move_to_end(digest)
        while len(self._documents) > self._max:
            self._documents.popitem(last=False)
        return digest

    def register_files(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self.register(path.read_text())

    def resolve(self, query: object, extensions: object) -> str | None:
        """The document to run: ``query`` itself when no persisted query is asked for (None
        when there is neither: strawberry answers that), else the registered one.
        ``PersistedQueryError`` when the hash is unknown, malformed or does not match."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return query if isinstance(query, str) else None
        if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
            raise PersistedQueryError(
                BAD_PERSISTED_QUERY, "persistedQuery must be an object of version 1", 400
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise PersistedQueryError(
                BAD_PERSISTED_QUERY, "persistedQuery.sha256Hash must be 64 hex digits", 400
            )
        digest = digest.lower()
        if isinstance(query, str):
            if sha256_hex(query) != digest:
                raise PersistedQueryError(
                    BAD_PERSISTED_QUERY, "the query's SHA-256 does not match sha256Hash", 400
                )
            self.register(query)
            return query
        document = self._documents.get(digest)
        if document is None:
            raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound", 200)
        self._documents.move_to_end(digest)
        return document


def frontend_queries() -> PersistedQueries:
    """A registry that knows the frontend's operations from the start."""
    registry = PersistedQueries()
    if OPERATIONS.is_dir():
        registry.register_files(sorted(OPERATIONS.glob("*.graphql")))
    return registry
