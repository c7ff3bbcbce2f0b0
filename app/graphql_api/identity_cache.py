"""Values kept by the identity of a parsed document, or of a part of one.

Strawberry's parser cache answers the same ``DocumentNode`` object for the same query text, so
what is worked out once per document (its validation's verdict, what a field's selection asks
for) can be kept by that object. Not by its value: graphql-core's AST nodes hash by walking
the whole tree, on every look-up. An entry holds its object, so while it is kept no other
object can take its id.
"""

from collections import OrderedDict
from typing import Generic, TypeVar

#: Documents the parser cache keeps, and so every cache kept by a document or a part of one:
#: one that keeps more would hold documents the parser no longer answers.
DOCUMENTS_KEPT = 256

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """The values of the last ``kept`` objects, by identity; the least recently used goes."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(id(key))
        if entry is None:
            return None
        self._entries.move_to_end(id(key))
        return entry[1]

    def keep(self, key: K, value: V) -> None:
        self._entries[id(key)] = (key, value)
        self._entries.move_to_end(id(key))
        if len(self._entries) > self.kept:
            self._entries.popitem(last=False)
