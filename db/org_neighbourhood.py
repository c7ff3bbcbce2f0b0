"""The org chart around a person in one statement: the person with the managers above, the
first page of their team, and the first page of their manager's team (their peers).

Asked apart, that is the upward walk (``db.org_chains``) and then the teams' pages
(``db.directory_lists.direct_reports_pages``). Here they are parts of one UNION ALL of user
rows, each as its own statement would read it: the walk from the person by id, and each team
as a range of ix_user_tenant_manager_display_name in the directory's order, cut after its
page. The manager's team finds the manager through the person's row (a scalar subquery on the
primary key). A leading ``part`` column tells the parts apart; the walk's rows keep their
depth.
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
    literal,
    select,
    union_all,
)

from db.directory_lists import UserPage, team_page, team_range
from db.directory_reads import USER_COLUMNS, UserRecord
from db.org_chains import ONE_BY_ID, Path, collect_paths
from db.tables import users

_PATH, _TEAM, _MANAGERS_TEAM = 0, 1, 2


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


def org_neighbourhood(
    connection: Connection,
    tenant_id: int,
    user_id: str,
    *,
    max_depth: int,
    team: FirstPage | None,
    managers_team: FirstPage | None,
) -> Neighbourhood:
    """What ``upward_paths`` gives for the person with ``max_depth`` managers, and what
    ``direct_reports_pages`` gives (no cursor) for the person's team and their manager's."""
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "key": user_id,
        "max_depth": max(max_depth, 0),
    }
    if team is not None:
        values["team_limit"] = team.first + 1
    if managers_team is not None:
        values["managers_team_limit"] = managers_team.first + 1
    statement = _statement(
        None if team is None else team.include_inactive,
        None if managers_team is None else managers_team.include_inactive,
    )
    walk: list[Sequence[Any]] = []
    parts: dict[int, list[UserRecord]] = {_TEAM: [], _MANAGERS_TEAM: []}
    for row in connection.execute(statement, values):
        if row[0] == _PATH:
            walk.append((user_id, *row[1:]))
        else:
            parts[row[0]].append(UserRecord(*row[2:]))
    # The parts of a UNION ALL come in no promised order: each is put back in its own.
    walk.sort(key=lambda row: row[1])
    path = collect_paths(walk, [user_id])[user_id]
    if not path:
        return Neighbourhood([], None, None)
    has_manager = path[0].manager_id is not None
    return Neighbourhood(
        path,
        None if team is None else team_page(parts[_TEAM], team.first),
        None
        if managers_team is None or not has_manager
        else team_page(parts[_MANAGERS_TEAM], managers_team.first),
    )


@cache
def _statement(team: bool | None, managers_team: bool | None) -> Select[Any] | CompoundSelect[Any]:
    """Built once per shape (which teams, each with inactive members or not): the tenant,
    the person, the depth and the pages' sizes are bound."""
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
                # out of index reach, as in db.org_chains: the primary key finds the person
                person.c.tenant_id + 0 == bindparam("tenant_id", type_=Integer),
            )
            .scalar_subquery()
        )
        parts.append(
            _team(
                _MANAGERS_TEAM, users.c.manager_id == manager, managers_team, "managers_team_limit"
            )
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _team(
    part: int, manager: ColumnElement[bool], include_inactive: bool, limit: str
) -> Select[Any]:
    """One team's first page, as ``direct_reports_pages`` reads it for one manager."""
    page = team_range(manager, include_inactive, False, limit).subquery()
    # the walk's depth column: a team's rows have none
    return select(literal(part).label("part"), literal(0).label("depth"), *page.c)
