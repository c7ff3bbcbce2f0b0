"""Tenants: one per Blink customer. Every other row belongs to exactly one."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from db.errors import Conflict, NotFound
from db.org_changes import create_org_version
from db.tables import tenants
from db.types import utcnow

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class TenantRecord:
    id: int
    slug: str
    name: str
    created: datetime


def _record(row: object) -> TenantRecord:
    return TenantRecord(row.id, row.slug, row.name, row.created)  # type: ignore[attr-defined]


def create_tenant(connection: Connection, slug: str, name: str | None = None) -> TenantRecord:
    if not SLUG_PATTERN.match(slug):
        raise ValueError(
            f"invalid tenant slug {slug!r}: use 1-63 lower-case letters, digits and hyphens"
        )
    created = utcnow()
    try:
        with connection.begin_nested():
            tenant_id = connection.execute(
                insert(tenants)
                .values(slug=slug, name=name or slug, created=created)
                .returning(tenants.c.id)
            ).scalar_one()
    except IntegrityError as error:
        raise Conflict(f"tenant {slug!r} already exists") from error
    create_org_version(connection, tenant_id)
    return TenantRecord(tenant_id, slug, name or slug, created)


def get_tenant(connection: Connection, slug: str) -> TenantRecord:
    row = connection.execute(select(tenants).where(tenants.c.slug == slug)).first()
    if row is None:
        raise NotFound(f"no tenant {slug!r}")
    return _record(row)


def list_tenants(connection: Connection) -> list[TenantRecord]:
    rows = connection.execute(select(tenants).order_by(tenants.c.slug))
    return [_record(row) for row in rows]


def count_tenants(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(tenants)).scalar_one()
