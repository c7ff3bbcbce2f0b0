"""The directory's tables, declared once with SQLModel.

Created only through the Alembic migrations in ``db/migrations`` (a test checks that the two
agree). Repositories use the Core ``Table`` objects exported at the bottom (``users``,
``groups``, ...): the ORM's identity map buys nothing for short request-scoped statements.

A user's SCIM document is split in two: attributes Blink filters, sorts or walks the org chart
on live in typed, indexed columns; everything else Entra sent (more emails, addresses, roles,
...) is kept verbatim in ``attributes`` so that a GET returns exactly what was written.
"""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, func
from sqlmodel import Field, SQLModel

from db.types import JSONDocument, UTCDateTime, utcnow


class Tenant(SQLModel, table=True):
    __tablename__ = "tenant"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=63, unique=True, nullable=False)
    name: str = Field(max_length=255, nullable=False)
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class TenantOrgVersion(SQLModel, table=True):
    """One stripe of a tenant's two change counters (see ``db.org_changes``): every write
    that changes the org chart bumps ``version`` of one stripe, every write of the tenant
    bumps ``data_version``; each counter is the sum over the tenant's stripes. One row per
    tenant would make every parallel writer of a tenant wait for the others' commits on its
    lock."""

    __tablename__ = "tenant_org_version"

    tenant_id: int = Field(
        sa_column=Column(
            ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    stripe: int = Field(primary_key=True)
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    data_version: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(
        sa_column=Column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    scope: str = Field(max_length=16, nullable=False)  # "scim" or "graphql"
    name: str = Field(max_length=255, nullable=False)
    token_hash: str = Field(max_length=64, unique=True, nullable=False)  # SHA-256, hex
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthClient(SQLModel, table=True):
    """An OAuth 2.0 client (RFC 6749 §4.4): one tenant, one scope, any number of secrets."""

    __tablename__ = "oauth_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True, nullable=False)  # public, not a secret
    tenant_id: int = Field(
        sa_column=Column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    scope: str = Field(max_length=16, nullable=False)  # "scim" or "graphql"
    name: str = Field(max_length=255, nullable=False)
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    revoked: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthClientSecret(SQLModel, table=True):
    """One of a client's secrets; several may be active at once, so they can be rotated."""

    __tablename__ = "oauth_client_secret"

    id: int | None = Field(default=None, primary_key=True)
    oauth_client_id: int = Field(
        sa_column=Column(
            ForeignKey("oauth_client.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    secret_hash: str = Field(max_length=64, unique=True, nullable=False)  # SHA-256, hex
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthAccessToken(SQLModel, table=True):
    """An access token minted from one secret: valid until it expires or either is revoked."""

    __tablename__ = "oauth_access_token"

    id: int | None = Field(default=None, primary_key=True)
    secret_id: int = Field(
        sa_column=Column(
            ForeignKey("oauth_client_secret.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True, nullable=False)  # SHA-256, hex
    issued: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: str = Field(primary_key=True, max_length=36)  # UUID string: the SCIM id
    tenant_id: int = Field(
        sa_column=Column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    )
    user_name: str = Field(sa_column=Column(String, nullable=False))
    external_id: str | None = Field(default=None, sa_column=Column(String))
    active: bool = Field(default=True, nullable=False)
    display_name: str | None = Field(default=None, sa_column=Column(String))
    title: str | None = Field(default=None, sa_column=Column(String))
    given_name: str | None = Field(default=None, sa_column=Column(String))
    family_name: str | None = Field(default=None, sa_column=Column(String))
    formatted_name: str | None = Field(default=None, sa_column=Column(String))
    middle_name: str | None = Field(default=None, sa_column=Column(String))
    honorific_prefix: str | None = Field(default=None, sa_column=Column(String))
    honorific_suffix: str | None = Field(default=None, sa_column=Column(String))
    email: str | None = Field(default=None, sa_column=Column(String))  # the work email
    work_phone: str | None = Field(default=None, sa_column=Column(String))
    mobile_phone: str | None = Field(default=None, sa_column=Column(String))
    department: str | None = Field(default=None, sa_column=Column(String))
    employee_number: str | None = Field(default=None, sa_column=Column(String))
    manager_id: str | None = Field(
        default=None,
        sa_column=Column(String(36), ForeignKey("user.id", ondelete="SET NULL")),
    )
    company: str | None = Field(default=None, sa_column=Column(String))
    description: str | None = Field(default=None, sa_column=Column(String))
    location: str | None = Field(default=None, sa_column=Column(String))
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONDocument, nullable=False)
    )
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_modified: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, nullable=False)


class Group(SQLModel, table=True):
    __tablename__ = "group"

    id: str = Field(primary_key=True, max_length=36)
    tenant_id: int = Field(
        sa_column=Column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    )
    display_name: str = Field(sa_column=Column(String, nullable=False))
    external_id: str | None = Field(default=None, sa_column=Column(String))
    created: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_modified: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, nullable=False)


class GroupMember(SQLModel, table=True):
    """One row per membership: adding or removing a member never rewrites a list."""

    __tablename__ = "group_member"

    group_id: str = Field(
        sa_column=Column(String(36), ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


#: SQLite gives a row id (and so autoincrement) only to an INTEGER primary key.
_EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class ActivityEvent(SQLModel, table=True):
    """One change a client made to one resource, or one write it was refused (append-only).

    ``id`` is given at insert and orders nothing a reader relies on; ``seq`` is the tenant's
    commit-ordered position, given once the event's transaction has committed (see
    ``db.activity``), and readers page by it. Attribute values are JSON as SCIM sent them.
    """

    __tablename__ = "activity_event"

    id: int | None = Field(default=None, sa_column=Column(_EVENT_ID, primary_key=True))
    tenant_id: int = Field(
        sa_column=Column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)
    )
    seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # The token is kept by id and name, not by reference: its events outlive it.
    actor_token_id: int | None = Field(default=None)
    actor_name: str = Field(sa_column=Column(String, nullable=False))
    request_id: str = Field(sa_column=Column(String(128), nullable=False))
    client_request_id: str | None = Field(default=None, sa_column=Column(String(128)))
    operation: str = Field(max_length=8, nullable=False)  # CREATE, REPLACE, UPDATE, DELETE
    outcome: str = Field(max_length=8, nullable=False)  # SUCCESS, FAILURE
    resource_type: str = Field(max_length=8, nullable=False)  # User, Group
    resource_id: str | None = Field(default=None, sa_column=Column(String(36)))
    resource_name: str | None = Field(default=None, sa_column=Column(String))
    # A refused write: the answer's status, scimType and detail, and what was asked.
    status: int | None = Field(default=None)
    scim_type: str | None = Field(default=None, sa_column=Column(String(32)))
    detail: str | None = Field(default=None, sa_column=Column(String))
    method: str | None = Field(default=None, sa_column=Column(String(8)))
    path: str | None = Field(default=None, sa_column=Column(String))
    # [{"attribute": SCIM path, "oldValue": JSON, "newValue": JSON}, ...]
    changes: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONDocument))
    # Member ids, the first MAX_LISTED_MEMBERS of each; member_change_count counts them all.
    members_added: list[str] | None = Field(default=None, sa_column=Column(JSONDocument))
    members_removed: list[str] | None = Field(default=None, sa_column=Column(JSONDocument))
    member_change_count: int = Field(default=0, nullable=False)


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


tenants = _table(Tenant)
tenant_org_versions = _table(TenantOrgVersion)
api_tokens = _table(ApiToken)
oauth_clients = _table(OAuthClient)
oauth_client_secrets = _table(OAuthClientSecret)
oauth_access_tokens = _table(OAuthAccessToken)
users = _table(User)
groups = _table(Group)
group_members = _table(GroupMember)
activity_events = _table(ActivityEvent)

# Case-insensitive uniqueness and look-ups use indexes on lower(...): SCIM userName and group
# displayName are caseExact=false, and Entra matches on them.
Index("ux_user_tenant_username", users.c.tenant_id, func.lower(users.c.user_name), unique=True)
Index("ix_user_tenant_external_id", users.c.tenant_id, users.c.external_id)
Index("ix_user_tenant_email", users.c.tenant_id, func.lower(users.c.email))
# For ON DELETE SET NULL (a deleted manager's reports, whatever the tenant). Partial: users
# without a manager are the roots, which only a (tenant, manager) index should serve.
Index(
    "ix_user_manager",
    users.c.manager_id,
    postgresql_where=users.c.manager_id.is_not(None),
    sqlite_where=users.c.manager_id.is_not(None),
)
# SCIM lists users by (created, id) when no sortBy is given: pages walk this index.
Index("ix_user_tenant_created", users.c.tenant_id, users.c.created, users.c.id)
# The directory's default order (displayName byte-wise, then id): pages read the index, no
# sort. On PostgreSQL migration 0002 builds the middle expression with COLLATE "C" (see
# db.collation); reflection cannot see an index collation, so the model leaves it out.
Index(
    "ix_user_tenant_display_name",
    users.c.tenant_id,
    func.coalesce(users.c.display_name, ""),
    users.c.id,
)
# Each manager's reports in that order (the org chart's pages, and the roots as the users
# without a manager): a range of one (tenant, manager), read in order. Built like the index
# above (COLLATE "C" on PostgreSQL, migration 0005); it also serves (tenant, manager) look-ups.
Index(
    "ix_user_tenant_manager_display_name",
    users.c.tenant_id,
    users.c.manager_id,
    func.coalesce(users.c.display_name, ""),
    users.c.id,
)
Index(
    "ux_group_tenant_display_name",
    groups.c.tenant_id,
    func.lower(groups.c.display_name),
    unique=True,
)
Index("ix_group_tenant_external_id", groups.c.tenant_id, groups.c.external_id)

# The activity log: a tenant's events by position (paging, "everything after seq N"), the
# events still waiting for their position, one resource's history, one request's events,
# a tenant's events since a time (the provisioning health), and the old ones retention
# prunes.
Index("ux_activity_tenant_seq", activity_events.c.tenant_id, activity_events.c.seq, unique=True)
Index(
    "ix_activity_unsequenced",
    activity_events.c.tenant_id,
    activity_events.c.id,
    postgresql_where=activity_events.c.seq.is_(None),
    sqlite_where=activity_events.c.seq.is_(None),
)
Index(
    "ix_activity_tenant_resource",
    activity_events.c.tenant_id,
    activity_events.c.resource_id,
    activity_events.c.seq,
)
Index("ix_activity_tenant_request", activity_events.c.tenant_id, activity_events.c.request_id)
Index(
    "ix_activity_tenant_occurred_at",
    activity_events.c.tenant_id,
    activity_events.c.occurred_at,
    # The window's counts by outcome and operation come from the index alone (SQLite's
    # covering index; a visible page's index-only scan on PostgreSQL).
    activity_events.c.outcome,
    activity_events.c.operation,
    activity_events.c.seq,
)
Index("ix_activity_occurred_at", activity_events.c.occurred_at)

metadata = SQLModel.metadata

#: Columns the store keeps by itself: identity, tenancy and meta. No client writes them.
SYSTEM_COLUMNS = frozenset({"id", "tenant_id", "created", "last_modified", "version"})


def client_columns(table: Table) -> tuple[str, ...]:
    """The names of ``table``'s columns that a client's document decides, in table order."""
    return tuple(column.name for column in table.columns if column.name not in SYSTEM_COLUMNS)


#: SQLite's full-text table of the people search and the tables FTS5 keeps for it
#: (migration 0010): a virtual table the models cannot declare; triggers keep it in step
#: with ``user``. On PostgreSQL the search index is ``ix_user_search_trgm`` (pg_trgm GIN).
SEARCH_TABLE = "user_search"
#: Indexes of the search that only one database has or that the models cannot describe
#: (migrations 0010 to 0012), which the models therefore leave out.
SEARCH_INDEXES = frozenset(
    {"ix_user_search_trgm", "ix_user_search_short", "ix_user_search_short_page"}
)
#: PostgreSQL's stored, lowered text of the search on ``user`` (migration 0012): generated by
#: the database from three columns, written by no one, and absent from SQLite.
SEARCH_COLUMNS = frozenset({"search_text"})


def is_model_object(name: str | None, type_: str) -> bool:
    """Whether a reflected object belongs to the models (Alembic's ``include_name`` hook):
    not the search table, its FTS5 shadow tables, PostgreSQL's search column, nor the search's
    indexes (the trigram index needs an operator class the models cannot compare; each
    database has its own short terms' index)."""
    if type_ == "table" and name is not None:
        return name != SEARCH_TABLE and not name.startswith(SEARCH_TABLE + "_")
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    return not (type_ == "index" and name in SEARCH_INDEXES)
