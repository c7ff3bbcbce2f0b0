"""The change counters of a tenant: its org-chart version and its data version.

Every write that changes the shape of a tenant's org chart — a user created or deleted, a
manager set or cleared, a user (de)activated — calls ``note_org_change`` once in the same
transaction. Readers that derive something from the tree (transitive report counts, depth)
compare ``org_version`` with the version they derived it at.

Every other write of the tenant's data (a user's attributes, a group, a membership, a refused
write the activity log records) calls ``note_data_change`` instead; ``note_org_change`` counts
as one too. The data version (``TenantVersions.data``) thus moves with every committed write
of the tenant and never with another tenant's: the GraphQL answers' ETags are derived from it.
It is a counter of its own rather than the activity log's latest ``seq``: events are numbered
after their commit (``db.activity``), so the latest ``seq`` lags behind a commit, and the log
can be turned off. It is not the org version either, which only moves with the tree and
keys the (costly) whole-tree figures: an attribute change must not re-derive them.

The statement that reads the counters (``tenant_versions``) also tells whether some committed
activity event of the tenant still waits for its number (``db.activity``): a GraphQL request
reads the counters before it runs anyway (the ETag), and a reader of the log numbers the
waiting events first, so it needs no statement of its own to know whether any wait.

The counter is striped: a tenant has ``STRIPES`` rows in ``tenant_org_version``, a change adds
one to one of them, and the version is their sum. A single counter row would be locked by
every writer of the tenant from its bump to its commit, so a tenant's parallel writers (Entra
sends several requests at once) would run one after the other on PostgreSQL. A writer here
takes a stripe no other open transaction holds (``FOR UPDATE SKIP LOCKED``), so writers wait
on the counter only when more than ``STRIPES`` of one tenant are open at once. The sum
still works as a version: each committed change makes it larger, a reader's one statement
sees committed stripes only, and so a version read before a change is always smaller than one
read after it, whichever process reads it.

SQLite has one writer at a time and no row locks: it ignores ``FOR UPDATE``, and the
statement just bumps a random stripe.
"""

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Exists, Integer, Update, bindparam, func, insert, select, update

from db.prepared import PreparedWrite
from db.tables import activity_events
from db.tables import tenant_org_versions as stripes

#: Stripes per tenant: more than the writers one tenant normally has open at once.
STRIPES = 16

_FREE_STRIPE = (
    select(stripes.c.stripe)
    .where(stripes.c.tenant_id == bindparam("bump_free_tenant_id"))
    .order_by(func.random())  # spread the bumps: fewer locked rows to step over
    .limit(1)
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)


def bump_statement(*, org: bool) -> Update:
    """The UPDATE of one stripe for one change (``org``: of the org chart too), in one
    statement: a stripe no open transaction holds, else (every stripe is held) the stripe
    ``bump_stripe``, whose holder it waits for, as one row would. Its values come from
    ``bump_values``. A statement of its own (``note_org_change``), or, on PostgreSQL, a
    data-modifying CTE of the write it counts (``db.users``), which saves a round trip."""
    counters: dict[str, Any] = {"data_version": stripes.c.data_version + 1}
    if org:
        counters["version"] = stripes.c.version + 1
    return (
        update(stripes)
        .where(
            stripes.c.tenant_id == bindparam("bump_tenant_id"),
            stripes.c.stripe == func.coalesce(_FREE_STRIPE, bindparam("bump_stripe")),
        )
        .values(**counters)
    )


def bump_values(tenant_id: int) -> dict[str, Any]:
    """The values of ``bump_statement``'s parameters for a change of ``tenant_id``."""
    return {
        "bump_tenant_id": tenant_id,
        "bump_free_tenant_id": tenant_id,
        "bump_stripe": random.randrange(STRIPES),  # noqa: S311 (no secret)
    }


_ORG_CHANGE = PreparedWrite(bump_statement(org=True))
_DATA_CHANGE = PreparedWrite(bump_statement(org=False))


@dataclass(frozen=True, slots=True)
class TenantVersions:
    """A tenant's counters as one statement read them: ``org`` moves with the org chart,
    ``data`` with every write; ``unnumbered_events``: whether, as that statement saw it,
    some committed activity event waited for its number."""

    org: int
    data: int
    unnumbered_events: bool


def create_org_version(connection: Connection, tenant_id: int) -> None:
    """The stripes of a new tenant, all at 0."""
    connection.execute(
        insert(stripes),
        [
            {"tenant_id": tenant_id, "stripe": stripe, "version": 0, "data_version": 0}
            for stripe in range(STRIPES)
        ],
    )


def note_org_change(connection: Connection, tenant_id: int) -> None:
    """A change of the org chart (and so of the tenant's data): one UPDATE of one stripe."""
    _ORG_CHANGE.execute(connection, bump_values(tenant_id))


def note_data_change(connection: Connection, tenant_id: int) -> None:
    """A change of the tenant's data that leaves the org chart as it was."""
    _DATA_CHANGE.execute(connection, bump_values(tenant_id))


def org_version(connection: Connection, tenant_id: int) -> int:
    version = connection.execute(
        select(func.sum(stripes.c.version)).where(stripes.c.tenant_id == tenant_id)
    ).scalar_one_or_none()
    return int(version or 0)


#: Whether some committed event of the tenant (the bound ``tenant_id``) waits for its number:
#: one index probe (``ix_activity_unsequenced``, or the tenant's NULLs in
#: ``ux_activity_tenant_seq``), whatever the size of the log.
UNNUMBERED_EVENTS: Exists = (
    select(activity_events.c.id)
    .where(
        activity_events.c.tenant_id == bindparam("tenant_id", type_=Integer),
        activity_events.c.seq.is_(None),
    )
    .exists()
)

_VERSIONS = select(
    func.coalesce(func.sum(stripes.c.version), 0),
    func.coalesce(func.sum(stripes.c.data_version), 0),
    UNNUMBERED_EVENTS,
).where(stripes.c.tenant_id == bindparam("tenant_id", type_=Integer))


def tenant_versions(connection: Connection, tenant_id: int) -> TenantVersions:
    """Both counters in one statement over the tenant's stripes (its primary key's prefix),
    and whether events wait for their number."""
    org, data, unnumbered = connection.execute(_VERSIONS, {"tenant_id": tenant_id}).one()
    return TenantVersions(org=int(org), data=int(data), unnumbered_events=bool(unnumbered))
