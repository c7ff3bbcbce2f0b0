"""What a user's own selection asks of the store, read before the user is fetched.

``user(id)`` fetches the user with as much of its upward path as its fields will show
(``db.org_chains``): with its manager for ``manager``, with the whole chain for
``managementChain``. The person and what is above them then come back in one statement instead
of one per level of the answer. A user whose selection shows no manager but its ``activity``
comes with that page of its history instead (``db.user_activity``), or else with the page of
its ``directReports`` (``db.user_team``); one with its chain, with the first pages of its
team, of its peers and of its groups (``db.org_neighbourhood``). Directives are not
evaluated: a field skipped by ``@skip`` or ``@include`` only makes the fetch a little wider.

The answer depends only on the operation's document and on where the field is in it, not on
the variables, so it is worked out once per operation and field (``info.selected_fields``
converts the whole selection below the field, every argument included) and kept with the
parsed operation, which the parser cache hands out again for the same document. The history's
and team pages do depend on the variables (``first``, ``after``): what is kept is where their
arguments are in the document, and each request reads their values.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql.pyutils import Path as ResponsePath
from strawberry.types.nodes import SelectedField, Selection

from app.graphql_api.activity_pages import decode_activity_position
from app.graphql_api.context import Info
from app.graphql_api.errors import ApiError
from app.graphql_api.identity_cache import DOCUMENTS_KEPT, IdentityCache
from app.graphql_api.limits import MAX_CHAIN_DEPTH, checked_first
from app.graphql_api.user_pages import decode_user_position
from db.directory_lists import UserSort
from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    value_from_ast,
)


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


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """The page of a user's ``activity`` its selection asks for: the checked page size and
    the seq below which it starts (``activity_page_of_resource``'s key for it)."""

    size: int
    before: int | None


@dataclass(frozen=True, slots=True)
class TeamPage:
    """The page of a user's ``directReports`` its selection asks for, as
    ``direct_reports_page`` keys it: inactive ones or not, the checked page size, the
    position after which it starts."""

    include_inactive: bool
    size: int
    after: tuple[Any, str] | None


def history_wanted(info: Info) -> HistoryPage | None:
    """The page of the user's history its fields will show, when the selection holds exactly
    one ``activity`` field that this can find (no named fragment in the way) and its arguments
    are valid; else None, and the field reads (or refuses) its page itself."""
    found = _page_arguments(info, "activity")
    if found is None:
        return None
    first, after, _ = found
    try:
        return HistoryPage(checked_first(first), decode_activity_position(after))
    except ApiError:
        return None


def team_wanted(info: Info, field: str = "directReports") -> TeamPage | None:
    """The page of the user's direct reports its fields will show, like ``history_wanted``;
    with ``field="peers"``, the page of its peers (whose arguments are the same)."""
    found = _page_arguments(info, field)
    if found is None:
        return None
    first, after, include_inactive = found
    try:
        size, position = checked_first(first), decode_user_position(UserSort(), after)
    except ApiError:
        return None
    return TeamPage(include_inactive is True, size, position)


def groups_wanted(info: Info) -> int | None:
    """The size of the first page of the user's ``groups`` its fields will show, like
    ``history_wanted``; None also for a page after a cursor."""
    found = _page_arguments(info, "groups")
    if found is None or found[1] is not None:
        return None
    try:
        return checked_first(found[0])
    except ApiError:
        return None


def _page_arguments(info: Info, field: str) -> tuple[int | None, str | None, bool | None] | None:
    """``first``, ``after`` and ``includeInactive`` of the one ``field`` under this ``user``
    field, this request's values; None when there is no such one field, or when a value is
    not of its argument's type (execution reports that)."""
    arguments = _arguments_of(info, field)
    if arguments is None:
        return None
    first = _value(arguments, "first", GraphQLInt, info)
    after = _value(arguments, "after", GraphQLString, info)
    include_inactive = _value(arguments, "includeInactive", GraphQLBoolean, info)
    if first is not None and not isinstance(first, int):
        return None
    if after is not None and not isinstance(after, str):
        return None
    if include_inactive is not None and not isinstance(include_inactive, bool):
        return None
    return first, after, include_inactive


def _value(
    arguments: Mapping[str, ValueNode], name: str, kind: GraphQLScalarType, info: Info
) -> object:
    node = arguments.get(name)
    variables = info.variable_values
    if node is None or (isinstance(node, VariableNode) and node.name.value not in variables):
        return None  # not given: the argument's default (None, or False for includeInactive)
    return value_from_ast(node, kind, variables)


def _arguments_of(info: Info, name: str) -> Mapping[str, ValueNode] | None:
    """The argument nodes of the one field ``name`` under this ``user`` field, by argument
    name, worked out once per operation; None when there is not exactly one to be found."""
    operation = info.operation
    found = _CHILDREN.get(operation)
    if found is None:
        found = {}
        _CHILDREN.keep(operation, found)
    where = (_field_path(info), name)
    if where not in found:
        found[where] = _child_arguments(operation, *where)
    return found[where]


def _child_arguments(
    operation: OperationDefinitionNode, where: tuple[str | int, ...], name: str
) -> Mapping[str, ValueNode] | None:
    """The arguments of the one field ``name`` under the root field at ``where``."""
    if len(where) != 1:
        return None  # ``user`` is a root field; anywhere else, let the field read its page
    (key,) = where
    roots = list(_fields(operation.selection_set))
    if None in roots:
        return None  # a named fragment: its fields are not in the operation
    fields = [
        field
        for root in roots
        if root is not None and (root.alias or root.name).value == key
        for field in _fields(root.selection_set)
    ]
    if None in fields:
        return None
    named = [field for field in fields if field is not None and field.name.value == name]
    if len(named) != 1:
        return None
    return {argument.name.value: argument.value for argument in named[0].arguments or ()}


def _fields(selection_set: SelectionSetNode | None) -> Iterator[FieldNode | None]:
    """The fields of a selection set, inline fragments' included; None for a named fragment."""
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set)
        else:
            yield None


#: By operation: the arguments of a field under each ``user`` field, by the ``user`` field's
#: path and the field's name.
_CHILDREN: IdentityCache[
    OperationDefinitionNode,
    dict[tuple[tuple[str | int, ...], str], Mapping[str, ValueNode] | None],
] = IdentityCache(DOCUMENTS_KEPT)
