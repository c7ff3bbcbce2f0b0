"""The org chart around a person in one statement: the person with the managers above, the
first page of their team, the first page of their manager's team (their peers), and the
first page of their groups (a profile card's).

Asked apart, that is the upward walk (``db.org_chains``) and then the teams' pages
(``db.directory_lists.direct_reports_pages``). Here they are parts of one UNION ALL of user
rows, each as its own statement would read it: the walk from the person by id, and each team
as a range of ix_user_tenant_manager_display_name in the directory's order, cut after its
page. The manager's team finds the manager through the person's row (a scalar subquery on the
primary key). A leading ``part`` column tells the parts apart; the walk's rows keep their
depth. The groups' rows take the shape of user rows: each group column under the user
column of the same name (``id``, ``display_name``, ``external_id``, ``created``,
``last_modified``), NULL under the others, and the person's number of groups in the depth's
place.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

from db.directory_groups import (
    GROUP_COLUMNS,
    UserGroupsPage,
    first_groups_of_user,
    first_groups_page,
)
from db.directory_lists import UserPage, team_page, team_range
from db.directory_reads import USER_COLUMNS, UserRecord, in_tenant_beside_the_key
from db.org_chains import ONE_BY_ID, Path, collect_paths
from db.tables import users

_PATH, _TEAM, _MANAGERS_TEAM, _GROUPS = 0, 1, 2, 3

_USER_COLUMN_NAMES = [column.name for column in USER_COLUMNS]
#: Where each group column is in a row of the union (after ``part`` and ``depth``).
_GROUP_PLACES = {column.name: 2 + _USER_COLUMN_NAMES.index(column.name) for column in GROUP_COLUMNS}


@dataclass(frozen=True, slots=True)
class FirstPage:
    """A first page of a team: inactive members or not, and how many."""

    include_inactive: bool
    first: int


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    #: The person then the managers above, nearest first; empty when there is no such user.
    path: Path
    #: The first page of the person's team, when asked for.
    team: UserPage | None
    #: The first page of the person's manager's team (the person included), when asked for
    #: and the person has a manager.
    managers_team: UserPage | None
    #: The first page of the person's groups, when asked for.
    groups: UserGroupsPage | None = None


def org_neighbourhood(
    connection: Connection,
    tenant_id: int,
    user_id: str,
    *,
    max_depth: int,
    team: FirstPage | None,
    managers_team: FirstPage | None,
    groups: int | None = None,
) -> Neighbourhood:
    """What ``upward_paths`` gives for the person with ``max_depth`` managers, what
    ``direct_reports_pages`` gives (no cursor) for the person's team and their manager's, and
    what ``groups_of_users`` gives for the first ``groups`` of the person's groups."""
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "key": user_id,
        "max_depth": max(max_depth, 0),
    }
    if team is not None:
        values["team_limit"] = team.first + 1
    if managers_team is not None:
        values["managers_team_limit"] = managers_team.first + 1
    if groups is not None:
        values["groups_limit"] = groups + 1
    statement = _statement(
        None if team is None else team.include_inactive,
        None if managers_team is None else managers_team.include_inactive,
        groups is not None,
    )
    walk: list[Sequence[Any]] = []
    parts: dict[int, list[UserRecord]] = {_TEAM: [], _MANAGERS_TEAM: []}
    group_rows: list[dict[str, Any]] = []
    for row in connection.execute(statement, values):
        if row[0] == _PATH:
            walk.append((user_id, *row[1:]))
        elif row[0] == _GROUPS:
            group_rows.append(_group_row(row))
        else:
            parts[row[0]].append(UserRecord(*row[2:]))
    # The parts of a UNION ALL come in no promised order: collect_paths puts the walk in
    # its own.
    path = collect_paths(walk, [user_id])[user_id]
    if not path:
        return Neighbourhood([], None, None)
    has_manager = path[0].manager_id is not None
    # Nor do the groups' rows: put back in groups_page's order (code points, as team_page).
    group_rows.sort(key=lambda row: (row["display_name"], row["id"]))
    return Neighbourhood(
        path,
        None if team is None else team_page(parts[_TEAM], team.first),
        None
        if managers_team is None or not has_manager
        else team_page(parts[_MANAGERS_TEAM], managers_team.first),
        None if groups is None else first_groups_page(group_rows, groups),
    )


def _group_row(row: Sequence[Any]) -> dict[str, Any]:
    """A group's row of the union as ``first_groups_of_user`` gives it."""
    found = {name: row[place] for name, place in _GROUP_PLACES.items()}
    found["total"] = row[1]
    return found


@cache
def _statement(
    team: bool | None, managers_team: bool | None, groups: bool
) -> Select[Any] | CompoundSelect[Any]:
    """Built once per shape (which teams, each with inactive members or not; groups or not):
    the tenant, the person, the depth and the pages' sizes are bound."""
    walk = ONE_BY_ID.subquery("walk")
    parts: list[Select[Any]] = [
        select(
            literal(_PATH).label("part"),
            walk.c.depth,
            *(walk.c[column.name] for column in USER_COLUMNS),
        )
    ]
    key = bindparam("key", type_=String)
    if team is not None:
        parts.append(_team(_TEAM, users.c.manager_id == key, team, "team_limit"))
    if managers_team is not None:
        person = users.alias("person")
        manager = (
            select(person.c.manager_id)
            .where(
                person.c.id == key,
                in_tenant_beside_the_key(bindparam("tenant_id", type_=Integer), person),
            )
            .scalar_subquery()
        )
        parts.append(
            _team(
                _MANAGERS_TEAM, users.c.manager_id == manager, managers_team, "managers_team_limit"
            )
        )
    if groups:
        parts.append(_groups(key))
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _groups(key: ColumnElement[str]) -> Select[Any]:
    """The person's first page of groups, in the shape of the walk's user rows."""
    page = first_groups_of_user(key, "groups_limit").subquery()
    return select(
        literal(_GROUPS).label("part"),
        page.c.total,
        *(
            page.c[column.name] if column.name in page.c else cast(null(), column.type)
            for column in USER_COLUMNS
        ),
    )


def _team(
    part: int, manager: ColumnElement[bool], include_inactive: bool, limit: str
) -> Select[Any]:
    """One team's first page, as ``direct_reports_pages`` reads it for one manager."""
    page = team_range(manager, include_inactive, False, limit).subquery()
    # the walk's depth column: a team's rows have none
    return select(literal(part).label("part"), literal(0).label("depth"), *page.c)
