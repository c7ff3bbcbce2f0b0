"""A user and the newest page of its history, in one statement.

A person's history ("why is Ada's manager wrong?") names the person and pages through the
events about them. Asked apart, that is the user's row and then the page of
``ix_activity_tenant_resource``; here the user's row is joined (outer, so a user without
history still comes back) to the page of its numbered events below the cursor, newest first,
with the page's LIMIT. The user is found by its unique key (id, or the tenant's lowered
userName). Each row repeats the user's columns; the page is small (``MAX_FIRST`` events and
one more).

The page is the one ``db.activity_reads.resource_activity_pages`` gives for the same user,
``first`` and ``before``: the same conditions (numbered events of resource type ``User``
with that id, in the tenant), the same order and the same look-ahead row for ``has_next``.
"""

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
    true,
)

from db.activity import ResourceType
from db.activity_reads import EVENT_COLUMNS, EventPage, EventRecord
from db.directory_reads import USER_COLUMNS, UserRecord, in_tenant_beside_the_key
from db.tables import activity_events, users

_EVENTS = activity_events.c
_USER_WIDTH = len(USER_COLUMNS)


def user_with_activity(
    connection: Connection,
    tenant_id: int,
    key: str,
    *,
    by_name: bool,
    first: int,
    before: int | None,
) -> tuple[UserRecord | None, EventPage]:
    """The user (by id, or by userName in any case when ``by_name``) and the ``first`` newest
    events of its history below seq ``before``; (None, an empty page) for no such user."""
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "key": key.lower() if by_name else key,
        "resource_type": ResourceType.USER.value,
        "limit": first + 1,
    }
    if before is not None:
        values["before"] = before
    rows = connection.execute(_statement(by_name, before is not None), values).all()
    if not rows:
        return None, EventPage([], False)
    user = UserRecord(*rows[0][:_USER_WIDTH])
    # A user without (more) history: the outer join's one row, its event columns all NULL.
    events = [EventRecord(*row[_USER_WIDTH:]) for row in rows if row[_USER_WIDTH] is not None]
    return user, EventPage(events[:first], len(events) > first)


@cache
def _statement(by_name: bool, before: bool) -> Select[Any]:
    """Built once per way of naming the user and per page position: a request only binds.

    The page is a subquery of its own, found through the user's id (a scalar subquery on the
    same unique key), so it walks ``ix_activity_tenant_resource`` newest first and stops at
    the LIMIT, as the page alone does: a join ordered by the events' seq would sort all of
    the user's history first on PostgreSQL."""
    tenant_id = bindparam("tenant_id", type_=Integer)
    key: ColumnElement[str] = func.lower(users.c.user_name) if by_name else users.c.id
    # By name, (tenant_id, lower(user_name)) is the index: ux_user_tenant_username.
    in_tenant = users.c.tenant_id == tenant_id if by_name else in_tenant_beside_the_key(tenant_id)
    the_user = (in_tenant, key == bindparam("key", type_=String))
    history = [
        _EVENTS.tenant_id == tenant_id,
        _EVENTS.resource_type == bindparam("resource_type", type_=String),
        _EVENTS.resource_id == select(users.c.id).where(*the_user).scalar_subquery(),
        _EVENTS.seq.is_not(None),
    ]
    if before:
        history.append(_EVENTS.seq < bindparam("before", type_=_EVENTS.seq.type))
    page = (
        select(*EVENT_COLUMNS)
        .where(*history)
        .order_by(_EVENTS.seq.desc())
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    return (
        select(*USER_COLUMNS, *page.c)
        .select_from(users.outerjoin(page, true()))
        .where(*the_user)
        .order_by(page.c.seq.desc())
    )
