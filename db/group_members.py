"""Group membership: one ``group_member`` row per (group, user), changed k rows at a time.

Nothing here reads or rewrites a group's whole membership unless the caller asks for it
(``load_members``, ``replace_members``): adding or removing k members validates the k ids in
one query and inserts/deletes k rows, so a 100,000-member group takes a one-member add as
cheaply as an empty group. Inserts ignore rows that already exist (``ON CONFLICT DO
NOTHING``), which makes concurrent adds of the same member harmless on both databases.

These functions do not bump the group's version; ``db.groups`` does that around them.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Exists,
    Insert,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from db.directory_reads import in_tenant_beside_the_key
from db.errors import InvalidReference
from db.id_lists import DIALECTS, listed_ids
from db.tables import group_members, groups, users

#: Ids per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535 bound-parameter limits.
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Member:
    """A member as SCIM shows it: the user's id and displayName (``display``), if any."""

    user_id: str
    display: str | None


@dataclass(slots=True)
class MemberDelta:
    """Who a write made a member and who it took out, net (a member added and removed again
    by one PATCH is in neither), each in the order the store reported them."""

    added: dict[str, None] = field(default_factory=dict)  # ordered sets of user ids
    removed: dict[str, None] = field(default_factory=dict)

    def add(self, user_ids: Iterable[str]) -> "MemberDelta":
        for user_id in user_ids:
            if user_id in self.removed:
                del self.removed[user_id]
            else:
                self.added[user_id] = None
        return self

    def remove(self, user_ids: Iterable[str]) -> "MemberDelta":
        for user_id in user_ids:
            if user_id in self.added:
                del self.added[user_id]
            else:
                self.removed[user_id] = None
        return self

    def merge(self, other: "MemberDelta") -> "MemberDelta":
        return self.remove(other.removed).add(other.added)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def unique_ids(user_ids: Iterable[str]) -> list[str]:
    """The ids in first-seen order, each once."""
    return list(dict.fromkeys(user_ids))


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def require_users(connection: Connection, tenant_id: int, user_ids: Sequence[str]) -> None:
    """Raise ``InvalidReference`` unless every id names a user of this tenant.

    One query for the whole list, each id probed by primary key (``_PROBES``). The error
    names the first unknown id and says so when it is a group of this tenant (nested groups
    are not supported).
    """
    if not user_ids:
        return
    probe = _PROBES[connection.dialect.name]
    probed = connection.execute(probe, {"ids": list(user_ids), "tenant_id": tenant_id})
    found = {user_id for user_id in probed.scalars() if user_id is not None}
    if len(found) < len(user_ids):
        unknown = next(user_id for user_id in user_ids if user_id not in found)
        raise InvalidReference(_unknown_member_detail(connection, tenant_id, unknown))


def _probe(dialect: str) -> Select[Any]:
    """For each id of the list bound as ``ids`` (``db.id_lists``), the id again when it
    names a user of the tenant ``tenant_id``, else NULL: a probe by primary key per id."""
    wanted = listed_ids(dialect)
    tenant = bindparam("tenant_id", type_=Integer)
    probe = (
        select(users.c.id)
        .where(users.c.id == wanted.c.value, in_tenant_beside_the_key(tenant))
        .scalar_subquery()
    )
    return select(probe).select_from(wanted)


_PROBES = {dialect: _probe(dialect) for dialect in DIALECTS}


def _unknown_member_detail(connection: Connection, tenant_id: int, member_id: str) -> str:
    is_group = connection.execute(
        select(groups.c.id).where(
            in_tenant_beside_the_key(tenant_id, groups), groups.c.id == member_id
        )
    ).first()
    if is_group is not None:
        return f"member {member_id!r} is a group; nested groups are not supported"
    return f"member {member_id!r} is not a user of this tenant"


def _insert_ignoring_existing(connection: Connection) -> Insert:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(group_members).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(group_members).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database {dialect!r}")  # pragma: no cover


# Writes return the user ids they actually added or removed (RETURNING: no extra read), for
# the activity log.


def insert_members(
    connection: Connection, tenant_id: int, group_id: str, user_ids: Sequence[str]
) -> list[str]:
    """Add users to a group; existing members are left alone. Unknown ids add nobody.
    Returns the users that were not members before."""
    ids = unique_ids(user_ids)
    require_users(connection, tenant_id, ids)
    if not ids:
        return []
    # One statement for any number of rows: SQLAlchemy sends the list as multi-row INSERTs
    # ("insertmanyvalues") of a statement it compiled once, with RETURNING.
    statement = _insert_ignoring_existing(connection).returning(group_members.c.user_id)
    rows = [{"group_id": group_id, "user_id": user_id} for user_id in ids]
    try:
        added = list(connection.execute(statement, rows).scalars())
    except IntegrityError as error:
        # A user deleted between the check and the insert (foreign key violation).
        raise InvalidReference("a member was deleted while being added; retry") from error
    return added


def delete_members(connection: Connection, group_id: str, user_ids: Sequence[str]) -> list[str]:
    """Remove the listed users from a group; ids that are not members are ignored. Returns
    the users removed."""
    removed: list[str] = []
    for batch in chunks(unique_ids(user_ids)):
        removed.extend(
            connection.execute(
                delete(group_members)
                .where(group_members.c.group_id == group_id, group_members.c.user_id.in_(batch))
                .returning(group_members.c.user_id)
            ).scalars()
        )
    return removed


def delete_all_members(connection: Connection, group_id: str) -> None:
    connection.execute(delete(group_members).where(group_members.c.group_id == group_id))


def take_all_members(connection: Connection, group_id: str) -> list[str]:
    """Remove every member of a group; returns them."""
    return list(
        connection.execute(
            delete(group_members)
            .where(group_members.c.group_id == group_id)
            .returning(group_members.c.user_id)
        ).scalars()
    )


def replace_members(
    connection: Connection, tenant_id: int, group_id: str, user_ids: Sequence[str]
) -> MemberDelta:
    """Make exactly ``user_ids`` the membership (RFC 7644 replace semantics); returns who
    joined and who left.

    Members that stay are not touched; removing the others needs one ``NOT IN`` over the new
    list, or, for lists longer than one chunk, clearing the group and inserting the list.
    """
    ids = unique_ids(user_ids)
    require_users(connection, tenant_id, ids)
    if len(ids) <= CHUNK:
        removed = list(
            connection.execute(
                delete(group_members)
                .where(group_members.c.group_id == group_id, group_members.c.user_id.not_in(ids))
                .returning(group_members.c.user_id)
            ).scalars()
        )
    else:
        removed = take_all_members(connection, group_id)
    delta = MemberDelta().remove(removed)
    return delta.add(insert_members(connection, tenant_id, group_id, ids))


def member_of(user_id: str) -> Exists:
    """A WHERE clause on ``groups``: the group has this user as a member (indexed EXISTS)."""
    return exists().where(
        and_(group_members.c.group_id == groups.c.id, group_members.c.user_id == user_id)
    )


def _member_display() -> Any:
    """The member's displayName, probed by the user's primary key for each member row.

    A join would let the planner merge the membership with the whole primary key of
    ``user``, walking every user of the tenant between the first and the last member;
    a probe per member keeps the read proportional to the members it returns, whatever
    the statistics say about the tenant.
    """
    return (
        select(users.c.display_name)
        .where(users.c.id == group_members.c.user_id)
        .scalar_subquery()
        .label("display")
    )


def load_members(connection: Connection, group_ids: Sequence[str]) -> dict[str, list[Member]]:
    """The members of each group, in user-id order, with the user's displayName.

    No fallback to userName: ``display`` then reads back exactly what clients wrote, which
    conformance suites compare after a PATCH.
    """
    members: dict[str, list[Member]] = {group_id: [] for group_id in group_ids}
    for batch in chunks(list(group_ids)):
        rows = connection.execute(
            select(group_members.c.group_id, group_members.c.user_id, _member_display())
            .where(group_members.c.group_id.in_(batch))
            .order_by(group_members.c.group_id, group_members.c.user_id)
        )
        for group_id, user_id, name in rows:
            members[group_id].append(Member(user_id, name))
    return members


def load_members_up_to(connection: Connection, group_id: str, limit: int) -> list[Member] | None:
    """The group's members if there are at most ``limit``, else None (reads ``limit + 1`` rows)."""
    rows = connection.execute(
        select(group_members.c.user_id, _member_display())
        .where(group_members.c.group_id == group_id)
        .order_by(group_members.c.user_id)
        .limit(limit + 1)
    ).all()
    if len(rows) > limit:
        return None
    return [Member(user_id, name) for user_id, name in rows]


def count_members(connection: Connection, group_id: str) -> int:
    return connection.execute(
        select(func.count()).select_from(group_members).where(group_members.c.group_id == group_id)
    ).scalar_one()
