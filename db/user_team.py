"""A user and the first page of its direct reports, in one statement.

A team list names the manager and pages through their team. Asked apart, that is the
manager's row and then the page ``db.directory_lists.direct_reports_pages`` reads for one
manager; here both are parts of one UNION ALL of user rows: the user by id, and the team's
range of ix_user_tenant_manager_display_name in the directory's order, cut after the page.
A leading ``part`` column tells the user's row from the reports' (a user may manage itself).
"""

from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Integer,
    String,
    bindparam,
    literal,
    select,
    union_all,
)

from db.directory_lists import UserPage, team_page, team_range
from db.directory_reads import USER_COLUMNS, UserRecord, in_tenant_beside_the_key
from db.tables import users

_USER, _REPORT = 0, 1


def user_with_direct_reports(
    connection: Connection,
    tenant_id: int,
    user_id: str,
    *,
    include_inactive: bool,
    first: int,
    after: tuple[Any, str] | None,
) -> tuple[UserRecord | None, UserPage]:
    """The user and the page of its direct reports ``direct_reports_pages`` gives for it;
    (None, an empty page) for no such user of the tenant."""
    values: dict[str, Any] = {"tenant_id": tenant_id, "user_id": user_id, "limit": first + 1}
    if after is not None:
        values["after_key"], values["after_id"] = after
    user: UserRecord | None = None
    reports: list[UserRecord] = []
    for row in connection.execute(_statement(include_inactive, after is not None), values):
        record = UserRecord(*row[1:])
        if row[0] == _USER:
            user = record
        else:
            reports.append(record)
    if user is None:
        return None, UserPage([], [], False)
    # The parts of a UNION ALL come in no promised order: team_page puts it back in order.
    return user, team_page(reports, first)


@cache
def _statement(include_inactive: bool, after: bool) -> CompoundSelect[Any]:
    """Built once per shape: the tenant, the user, the page size and the cursor are bound."""
    tenant_id = bindparam("tenant_id", type_=Integer)
    user_id = bindparam("user_id", type_=String)
    the_user = select(literal(_USER).label("part"), *USER_COLUMNS).where(
        users.c.id == user_id, in_tenant_beside_the_key(tenant_id)
    )
    team = team_range(users.c.manager_id == user_id, include_inactive, after, "limit").subquery()
    # The team in a subquery of its own: a compound SELECT takes one ORDER BY and LIMIT.
    return union_all(the_user, select(literal(_REPORT).label("part"), *team.c))
