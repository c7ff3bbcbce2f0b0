"""What a user's own selection asks of the managers above it, read before the user is fetched.

``user(id)`` fetches the user with as much of its upward path as its fields will show
(``db.org_chains``): with its manager for ``manager``, with the whole chain for
``managementChain``. The person and what is above them then come back in one statement instead
of one per level of the answer. Directives are not evaluated: a field skipped by ``@skip`` or
``@include`` only makes the fetch a little wider.

The answer depends only on the operation's document and on where the field is in it, not on
the variables, so it is worked out once per operation and field (``info.selected_fields``
converts the whole selection below the field, every argument included) and kept with the
parsed operation, which the parser cache hands out again for the same document.
"""

from collections.abc import Iterable

from graphql.pyutils import Path as ResponsePath
from strawberry.types.nodes import SelectedField, Selection

from app.graphql_api.context import Info
from app.graphql_api.identity_cache import DOCUMENTS_KEPT, IdentityCache
from app.graphql_api.limits import MAX_CHAIN_DEPTH
from graphql import OperationDefinitionNode


def managers_wanted(info: Info) -> int:
    """How many managers above the user the fields of this ``user`` selection show:
    ``MAX_CHAIN_DEPTH`` for ``managementChain`` (whatever its ``maxDepth``), 1 for
    ``manager``, else 0."""
    operation = info.operation
    answers = _ANSWERS.get(operation)
    if answers is None:
        answers = {}
        _ANSWERS.keep(operation, answers)
    where = _field_path(info)
    wanted = answers.get(where)
    if wanted is None:
        wanted = answers[where] = _depth_of(info.selected_fields[0].selections)
    return wanted


def _field_path(info: Info) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    path: ResponsePath | None = info.path
    while path is not None:
        if isinstance(path.key, str):  # list positions do not change the selection
            keys.append(path.key)
        path = path.prev
    return tuple(keys)


def _depth_of(selections: Iterable[Selection]) -> int:
    depth = 0
    for selection in selections:
        if not isinstance(selection, SelectedField):  # a fragment: its fields are the user's
            depth = max(depth, _depth_of(selection.selections))
        elif selection.name == "managementChain":
            return MAX_CHAIN_DEPTH
        elif selection.name == "manager":
            depth = max(depth, 1)
    return depth


#: By operation: the depth each ``user`` field of it wants, by the field's path.
_ANSWERS: IdentityCache[OperationDefinitionNode, dict[tuple[str | int, ...], int]] = IdentityCache(
    DOCUMENTS_KEPT
)
