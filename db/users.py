"""The user repository: Core statements over ``db.tables.users``, scoped by tenant.

Functions take and return column values (mappings); what a SCIM document looks like is
the SCIM layer's business (``scim.user_cast``). Writers run inside ``Database.write``'s
transaction, so a failing step leaves nothing behind. Every write that changes the org chart
(create, delete, manager or active changed) notes it with ``db.org_changes.note_org_change``.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from db.activity import (
    Recording,
    event_insert,
    event_insert_from,
    event_values,
    record_events,
)
from db.directory_reads import in_tenant_beside_the_key
from db.errors import Conflict, InvalidReference, Stale
from db.org_changes import bump_statement, bump_values, note_data_change, note_org_change
from db.prepared import PreparedSelect, PreparedWrite
from db.tables import client_columns, group_members, groups, users
from db.types import utcnow

#: Columns a client's document decides (everything but identity, tenancy and meta).
WRITABLE_COLUMNS: tuple[str, ...] = client_columns(users)

_manager = users.alias("manager")
_new_manager = users.alias("new_manager")

#: A user row plus what rendering its manager needs, in one statement.
USER_WITH_MANAGER: Select[Any] = select(
    users,
    _manager.c.display_name.label("manager_display_name"),
).select_from(users.outerjoin(_manager, users.c.manager_id == _manager.c.id))


# The statements of the write paths (an Entra create or manager PATCH runs four to six of
# them) are built once (db.prepared): building them per request was most of a sync's CPU.
_ONE_USER = USER_WITH_MANAGER.where(
    users.c.tenant_id == bindparam("tenant_id"), users.c.id == bindparam("user_id")
)
_GET_USER = PreparedSelect(_ONE_USER)
# PostgreSQL: serialise read-modify-write; SQLite: BEGIN IMMEDIATE does (and renders no FOR).
# FOR NO KEY UPDATE, not FOR UPDATE: the foreign-key check of a concurrent manager PATCH
# takes FOR KEY SHARE on this row, and FOR UPDATE would conflict with it, so PATCHes along a
# manager loop could deadlock (seen as 500s under Entra-style load).
_GET_USER_FOR_UPDATE = PreparedSelect(_ONE_USER.with_for_update(of=users, key_share=True))
_MANAGER_NAME = PreparedSelect(
    select(users.c.display_name).where(
        users.c.tenant_id == bindparam("tenant_id"), users.c.id == bindparam("user_id")
    )
)
#: Every column: ``insert_user`` fills what its caller leaves out with the column's default.
_INSERT_USER = PreparedWrite(
    insert(users).values(
        {column.key: bindparam(column.key, type_=column.type) for column in users.c}
    )
)


@lru_cache(maxsize=512)
def _update_statement(columns: tuple[str, ...]) -> PreparedWrite:
    """UPDATE of ``columns`` plus last_modified and version, of the row at the version it was
    read at (``where_version``): it matches no row when another writer changed it since.
    Only what changed is SET: SQLite rewrites the entries of every index on a SET column,
    changed or not, and dirties more pages to write at commit."""
    return PreparedWrite(
        update(users)
        .where(
            users.c.tenant_id == bindparam("where_tenant_id"),
            users.c.id == bindparam("where_user_id"),
            users.c.version == bindparam("where_version"),
        )
        .values(
            {
                name: bindparam(f"new_{name}", type_=users.c[name].type)
                for name in (*columns, "last_modified", "version")
            }
        )
    )


_INSERT_DEFAULTS: dict[str, Any] = dict.fromkeys(WRITABLE_COLUMNS) | {"active": True}

#: The prefix of the user INSERT's parameters in ``_in_one_statement``: the activity log's
#: INSERT reserves the names of its own columns (``tenant_id``, ...).
_USER_PARAMETER = "user_"


#: The parameters of the new manager's look-up in ``_in_one_statement`` (``new_manager``).
_NEW_MANAGER: tuple[BindParameter[int], BindParameter[str]] = (
    bindparam("of_manager_tenant_id", type_=Integer),
    bindparam("of_manager_id", type_=String),
)


@lru_cache(maxsize=512)
def _in_one_statement(
    columns: tuple[str, ...] | None, org: bool, event: bool, new_manager: bool = False
) -> PreparedWrite:
    """PostgreSQL: a user write, its stripe bump (``db.org_changes``) and, with ``event``, its
    activity event (``db.activity``) in one statement: one round trip instead of three, and
    the same effects in the same transaction. ``columns``: the UPDATE of those columns
    (``_update_statement``), None: the INSERT of a new user.

    An INSERT is a data-modifying CTE of the event's INSERT with the bump (the three read
    none of each other's rows). An UPDATE may match no row (the row changed since it was
    read, or, with ``new_manager``, the tenant has no such manager), and then nothing else
    may happen either, without a rollback to undo it (``Database.write(one_statement=True)``
    runs it in autocommit): the bump and the event are CTEs that take their row from the
    UPDATE's, and the statement is a SELECT of ``(rows updated, the new manager's
    displayName, whether that manager exists)``.

    ``new_manager`` (an UPDATE that sets a manager): the UPDATE joins the manager's row in
    the tenant (``of_manager_tenant_id``, ``of_manager_id``), so that its name comes with the
    write instead of from a SELECT of its own (one round trip less for a manager PATCH)."""
    if columns is None:
        write = insert(users).values(
            {
                column.key: bindparam(_USER_PARAMETER + column.key, type_=column.type)
                for column in users.c
            }
        )
        bump = bump_statement(org=org).cte("bump")
        if not event:
            return PreparedWrite(write.add_cte(bump))
        return PreparedWrite(event_insert().add_cte(write.cte("written"), bump))
    update_statement = _update_statement(columns).statement
    assert isinstance(update_statement, Update)
    tenant, manager = _NEW_MANAGER
    if new_manager:
        update_statement = update_statement.where(
            _manager.c.tenant_id == tenant, _manager.c.id == manager
        ).returning(_manager.c.display_name.label("manager_display_name"))
    else:
        update_statement = update_statement.returning(null().label("manager_display_name"))
    written = update_statement.cte("written")
    wrote = exists(select(literal_column("1")).select_from(written))
    ctes: list[Any] = [written, bump_statement(org=org).where(wrote).cte("bump")]
    if event:
        ctes.append(event_insert_from(select_from=written).cte("event"))
    manager_exists: ColumnElement[Any] = (
        exists(
            select(literal_column("1")).where(
                _new_manager.c.tenant_id == tenant, _new_manager.c.id == manager
            )
        )
        if new_manager
        else true()
    )
    return PreparedWrite(
        select(
            select(func.count()).select_from(written).scalar_subquery(),
            select(written.c.manager_display_name).scalar_subquery(),
            manager_exists,
        ).add_cte(*ctes)
    )


def _write_with_bump(
    connection: Connection,
    tenant_id: int,
    columns: tuple[str, ...] | None,
    parameters: dict[str, Any],
    *,
    org: bool,
    row: Mapping[str, Any],
    recording: Recording | None,
    new_manager: str | None = None,
) -> str | None:
    """Run a user write (``parameters`` of ``_INSERT_USER`` or of ``_update_statement``),
    note the change (``db.org_changes``) and record the event of ``row``, the row as
    written: one statement on PostgreSQL, one each on SQLite (no data-modifying CTEs).

    An UPDATE that matched no row wrote nothing and raises ``Stale``. ``new_manager``
    (PostgreSQL, an UPDATE): the manager the row gets, looked up in the tenant by the write
    itself; returns its displayName, or raises InvalidReference when the tenant has no such
    user (nothing written)."""
    event = None if recording is None else recording.event_of(row)
    if connection.dialect.name == "postgresql":
        if columns is None:
            parameters = {_USER_PARAMETER + key: value for key, value in parameters.items()}
        parameters |= bump_values(tenant_id)
        if recording is not None and event is not None:
            parameters |= event_values(tenant_id, recording.origin, event)
        statement = _in_one_statement(columns, org, event is not None, new_manager is not None)
        if columns is None:
            statement.execute(connection, parameters)
            return None
        parameters["of_manager_tenant_id"] = tenant_id
        parameters["of_manager_id"] = new_manager
        updated, manager_name, manager_exists = statement.rows(connection, parameters)[0]
        if not updated:
            if new_manager is not None and not manager_exists:
                raise _unknown_manager(new_manager)
            raise Stale("the user changed since it was read")
        return None if manager_name is None else str(manager_name)
    assert new_manager is None, "SQLite looks the manager up with a statement of its own"
    statement = _INSERT_USER if columns is None else _update_statement(columns)
    if not statement.execute(connection, parameters):
        raise Stale("the user changed since it was read")
    if org:
        note_org_change(connection, tenant_id)
    else:
        note_data_change(connection, tenant_id)
    if recording is not None and event is not None:
        record_events(connection, tenant_id, recording.origin, [event])
    return None


def get_user(
    connection: Connection, tenant_id: int, user_id: str, *, for_update: bool = False
) -> Mapping[str, Any] | None:
    """The user's row with ``manager_display_name``; ``for_update`` locks it (PostgreSQL)."""
    statement = _GET_USER_FOR_UPDATE if for_update else _GET_USER
    return statement.first(connection, {"tenant_id": tenant_id, "user_id": user_id})


def list_users(
    connection: Connection,
    tenant_id: int,
    where: ColumnElement[bool] | None,
    order_by: tuple[ColumnElement[Any], ...],
    offset: int,
    limit: int,
    where_parameters: Mapping[str, Any] | None = None,
) -> tuple[int, Sequence[Mapping[Any, Any]]]:
    """(total matches, one page of rows), in one statement unless the total needs its own
    count (a template's page that is full, or empty past the first).

    Pass the same ``order_by`` tuple object for the same order: the statement skeleton is
    cached by it, so a request only adds its WHERE clause (the hot path of a provisioning
    cycle spends little time building SQL). With ``where_parameters`` (the values of named
    parameters of ``where``), ``where`` is taken to be a template reused for many values: its
    page statement is compiled once and run through ``db.prepared``.
    """
    parameters = {"tenant_id": tenant_id, "offset": offset, "limit": limit}
    rows: Sequence[Mapping[Any, Any]] = []
    if where_parameters:
        parameters.update(where_parameters)
    if limit > 0 and where is not None and where_parameters:
        # No window count here: an Entra look-up matches 0 or 1 rows, so a page that is not
        # full gives the total itself, and the window would add a sort to every look-up.
        rows = _prepared_page(where, order_by).rows(connection, parameters)
        if len(rows) < limit and (rows or offset == 0):
            return offset + len(rows), rows
        counted = _prepared_count(where).rows(connection, parameters)
        return int(counted[0]["total"]), rows
    if limit > 0 and where is None:
        # The whole tenant: walk the order's index for one page and count separately; a window
        # count would sort the whole tenant for every page.
        rows = list(connection.execute(_tenant_page(order_by), parameters).mappings())
        if offset == 0 and len(rows) < limit:
            return len(rows), rows
    elif limit > 0:
        statement = page_statement(where, order_by)
        rows = list(connection.execute(statement, parameters).mappings())
        if rows:
            return int(rows[0]["total_results"]), rows
    count = _COUNT if where is None else _COUNT.where(where)
    return int(connection.execute(count, parameters).scalar_one()), rows


_TENANT = users.c.tenant_id == bindparam("tenant_id")
_COUNT = select(func.count()).select_from(users).where(_TENANT)


@lru_cache(maxsize=64)
def _page_skeleton(order_by: tuple[ColumnElement[Any], ...]) -> Select[Any]:
    return (
        USER_WITH_MANAGER.add_columns(func.count().over().label("total_results"))
        .where(_TENANT)
        .order_by(*order_by)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


@lru_cache(maxsize=64)
def _tenant_page(order_by: tuple[ColumnElement[Any], ...]) -> Select[Any]:
    return (
        USER_WITH_MANAGER.where(_TENANT)
        .order_by(*order_by)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


@lru_cache(maxsize=256)
def _prepared_page(
    where: ColumnElement[bool], order_by: tuple[ColumnElement[Any], ...]
) -> PreparedSelect:
    return PreparedSelect(_tenant_page(order_by).where(where))


@lru_cache(maxsize=256)
def _prepared_count(where: ColumnElement[bool]) -> PreparedSelect:
    return PreparedSelect(
        select(func.count().label("total")).select_from(users).where(_TENANT, where)
    )


def page_statement(
    where: ColumnElement[bool] | None, order_by: tuple[ColumnElement[Any], ...]
) -> Select[Any]:
    """One page of a tenant's users with their manager's name and the total (a window
    count); bind ``tenant_id``, ``offset`` and ``limit`` when executing it."""
    skeleton = _page_skeleton(order_by)
    return skeleton if where is None else skeleton.where(where)


def _manager_display_name(
    connection: Connection, tenant_id: int, manager_id: str | None
) -> str | None:
    """The displayName of the manager ``manager_id`` (None for no manager); InvalidReference
    when there is no such user in the tenant."""
    if manager_id is None:
        return None
    found = _MANAGER_NAME.rows(connection, {"tenant_id": tenant_id, "user_id": manager_id})
    if not found:
        raise _unknown_manager(manager_id)
    name: str | None = found[0]["display_name"]
    return name


def _unknown_manager(manager_id: str) -> InvalidReference:
    return InvalidReference(f"manager {manager_id!r} is not a user of this tenant")


def _check_writable(values: Mapping[str, Any]) -> None:
    unknown = values.keys() - _INSERT_DEFAULTS.keys()
    if unknown:
        raise ValueError(f"not writable columns: {sorted(unknown)}")


def _integrity(error: IntegrityError) -> Exception:
    message = str(error.orig).lower()
    if "foreign key" in message:
        return InvalidReference("a referenced user does not exist (any more)")
    return Conflict("a user with this userName already exists")


def insert_user(connection: Connection, tenant_id: int, values: Mapping[str, Any]) -> str:
    """Create a user and return its id; see ``create_user_row``."""
    return str(create_user_row(connection, tenant_id, values)["id"])


def create_user_row(
    connection: Connection,
    tenant_id: int,
    values: Mapping[str, Any],
    recording: Recording | None = None,
) -> dict[str, Any]:
    """Create a user; Conflict on a duplicate userName (any case), InvalidReference on a
    manager outside the tenant. Returns the row as ``get_user`` would read it back (every
    column is written from these values, so reading it again is not needed). ``recording``:
    the activity event to record with it (``db.activity.Recording``)."""
    _check_writable(values)
    manager_name = _manager_display_name(connection, tenant_id, values.get("manager_id"))
    now = utcnow()
    row = _INSERT_DEFAULTS | dict(values)
    if row["attributes"] is None:
        row["attributes"] = {}
    row.update(id=str(uuid.uuid4()), tenant_id=tenant_id, created=now, last_modified=now)
    row["version"] = 1
    written = dict(row, manager_display_name=manager_name)
    try:
        _write_with_bump(
            connection, tenant_id, None, row, org=True, row=written, recording=recording
        )
    except IntegrityError as error:
        raise _integrity(error) from None
    return written


def update_user(
    connection: Connection,
    tenant_id: int,
    previous: Mapping[str, Any],
    values: Mapping[str, Any],
    recording: Recording | None = None,
) -> dict[str, Any]:
    """Replace the writable columns of the user ``previous`` (a row from ``get_user``; the
    columns ``values`` leaves out keep their value) and bump its version. Returns the row as
    ``get_user`` would read it back. ``recording``: the activity event to record with it
    (``db.activity.Recording``). The row is written at ``previous``'s version: when another
    writer changed it since, nothing is written and it raises ``Stale`` (``Database.write``
    runs the unit of work again), so ``previous`` need not have been read under a lock; on
    PostgreSQL the write is then one statement (``Database.write(one_statement=True)``)."""
    _check_writable(values)
    row = {**previous, **values}
    manager_id = row["manager_id"]
    manager_changed = manager_id != previous["manager_id"]
    # PostgreSQL looks a new manager up with the UPDATE itself (``_in_one_statement``).
    new_manager = (
        manager_id
        if manager_changed
        and manager_id is not None
        and manager_id != row["id"]
        and connection.dialect.name == "postgresql"
        else None
    )
    if manager_changed and new_manager is None:
        row["manager_display_name"] = _manager_display_name(connection, tenant_id, manager_id)
    if manager_id is not None and manager_id == row["id"]:  # their own manager
        row["manager_display_name"] = row["display_name"]
    if row["attributes"] == previous["attributes"]:
        row["attributes"] = previous["attributes"]  # as stored, key order included
    row["last_modified"] = utcnow()
    row["version"] = previous["version"] + 1
    changed = tuple(name for name in WRITABLE_COLUMNS if row[name] != previous[name])
    parameters = {f"new_{name}": row[name] for name in changed}
    parameters["new_last_modified"] = row["last_modified"]
    parameters["new_version"] = row["version"]
    parameters["where_tenant_id"] = tenant_id
    parameters["where_user_id"] = previous["id"]
    parameters["where_version"] = previous["version"]
    org = manager_changed or bool(row["active"]) != bool(previous["active"])
    try:
        manager = _write_with_bump(
            connection,
            tenant_id,
            changed,
            parameters,
            org=org,
            row=row,
            recording=recording,
            new_manager=new_manager,
        )
    except IntegrityError as error:
        raise _integrity(error) from None
    if new_manager is not None:
        row["manager_display_name"] = manager
    return row


@dataclass(frozen=True, slots=True)
class DeletedUser:
    """What deleting a user changed besides the user: (id, userName) of each report whose
    manager it cleared, (id, displayName) of each group it left."""

    reports: list[tuple[str, str]]
    groups: list[tuple[str, str]]


# The groups a deleted user leaves, bumped (built once; an UPDATE reserves the names of the
# columns it sets, so the WHERE's values are named apart).
_LEAVE_GROUPS = (
    update(groups)
    .where(
        in_tenant_beside_the_key(bindparam("where_tenant_id", type_=Integer), groups),
        groups.c.id.in_(
            select(group_members.c.group_id).where(
                group_members.c.user_id == bindparam("where_user_id", type_=String)
            )
        ),
    )
    .values(version=groups.c.version + 1)
    .returning(groups.c.id, groups.c.display_name)
)


def delete_user(connection: Connection, tenant_id: int, user_id: str) -> DeletedUser | None:
    """Delete a user, clear ``manager`` on their reports (bumping their versions) and remove
    their group memberships (bumping those groups' versions). None if there was none.

    The reports and groups come back from the UPDATEs themselves (RETURNING), not from a read.
    """
    exists = connection.execute(
        select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    ).first()
    if exists is None:
        return None
    now = utcnow()
    reports = connection.execute(
        update(users)
        .where(users.c.tenant_id == tenant_id, users.c.manager_id == user_id)
        .values(manager_id=None, version=users.c.version + 1, last_modified=now)
        .returning(users.c.id, users.c.user_name)
    ).all()
    left = connection.execute(
        _LEAVE_GROUPS,
        {"where_tenant_id": tenant_id, "where_user_id": user_id, "last_modified": now},
    ).all()
    connection.execute(delete(group_members).where(group_members.c.user_id == user_id))
    connection.execute(delete(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id))
    note_org_change(connection, tenant_id)
    return DeletedUser(
        reports=[(report, name) for report, name in reports if report != user_id],
        groups=[(group, name) for group, name in left],
    )
