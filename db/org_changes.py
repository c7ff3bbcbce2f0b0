"""The org-chart change counter of a tenant.

Every write that changes the shape of a tenant's org chart — a user created or deleted, a
manager set or cleared, a user (de)activated — calls ``note_org_change`` once in the same
transaction. Readers that derive something from the tree (transitive report counts, depth)
compare ``org_version`` with the version they derived it at.

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

from sqlalchemy import Connection, bindparam, func, insert, select, update

from db.prepared import PreparedWrite
from db.tables import tenant_org_versions as stripes

#: Stripes per tenant: more than the writers one tenant normally has open at once.
STRIPES = 16

_FREE_STRIPE = (
    select(stripes.c.stripe)
    .where(stripes.c.tenant_id == bindparam("free_tenant_id"))
    .order_by(func.random())  # spread the bumps: fewer locked rows to step over
    .limit(1)
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_BUMP_FREE = PreparedWrite(
    update(stripes)
    .where(stripes.c.tenant_id == bindparam("where_tenant_id"), stripes.c.stripe == _FREE_STRIPE)
    .values(version=stripes.c.version + 1)
)
# Every stripe is held by an open transaction: wait for one of them, as one row would.
_BUMP_ANY = PreparedWrite(
    update(stripes)
    .where(
        stripes.c.tenant_id == bindparam("where_tenant_id"),
        stripes.c.stripe == bindparam("where_stripe"),
    )
    .values(version=stripes.c.version + 1)
)


def create_org_version(connection: Connection, tenant_id: int) -> None:
    """The stripes of a new tenant, all at 0."""
    connection.execute(
        insert(stripes),
        [{"tenant_id": tenant_id, "stripe": stripe, "version": 0} for stripe in range(STRIPES)],
    )


def note_org_change(connection: Connection, tenant_id: int) -> None:
    bumped = _BUMP_FREE.execute(
        connection, {"where_tenant_id": tenant_id, "free_tenant_id": tenant_id}
    )
    if not bumped:
        _BUMP_ANY.execute(
            connection,
            {"where_tenant_id": tenant_id, "where_stripe": random.randrange(STRIPES)},  # noqa: S311 (no secret)
        )


def org_version(connection: Connection, tenant_id: int) -> int:
    version = connection.execute(
        select(func.sum(stripes.c.version)).where(stripes.c.tenant_id == tenant_id)
    ).scalar_one_or_none()
    return int(version or 0)
