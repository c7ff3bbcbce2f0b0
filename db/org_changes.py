"""The org-chart change counter of a tenant.

Every write that changes the shape of a tenant's org chart — a user created or deleted, a
manager set or cleared, a user (de)activated — calls ``note_org_change`` in the same
transaction. Readers that derive something from the tree (transitive report counts, depth)
compare ``org_version`` with the version they derived it at.
"""

from sqlalchemy import Connection, bindparam, select, update

from db.prepared import PreparedWrite
from db.tables import tenants

_NOTE = PreparedWrite(
    update(tenants)
    .where(tenants.c.id == bindparam("tenant_id"))
    .values(org_version=tenants.c.org_version + 1)
)


def note_org_change(connection: Connection, tenant_id: int) -> None:
    _NOTE.execute(connection, {"tenant_id": tenant_id})


def org_version(connection: Connection, tenant_id: int) -> int:
    version = connection.execute(
        select(tenants.c.org_version).where(tenants.c.id == tenant_id)
    ).scalar_one_or_none()
    return int(version or 0)
