"""Exceptions raised by the store, in one place.

StoreError
├── NotFound          a tenant, token, user or group that does not exist (in this tenant)
├── Conflict          a uniqueness rule was broken (userName, group displayName, tenant slug)
├── InvalidReference  a reference names nothing in this tenant (manager, group member)
├── Stale             a write found its row changed since it was read (the unit of work runs again)
└── Unavailable       the database cannot be reached, or lost the connection mid-way
    └── QueryTimeout  a statement ran past the statement timeout and was cancelled
"""


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class InvalidReference(StoreError):
    pass


class Stale(StoreError):
    """A write matched no row because another writer changed the row since the unit of work
    read it: nothing was written. ``Database.write`` runs the unit of work again."""


class Unavailable(StoreError):
    """Nothing was answered because the database was out of reach (down, restarting, its
    connection cut, every pooled connection busy). Nothing the request asked for was
    committed, unless the connection broke while committing: a client may send it again."""


class QueryTimeout(Unavailable):
    """PostgreSQL cancelled a statement that ran longer than the statement timeout."""
