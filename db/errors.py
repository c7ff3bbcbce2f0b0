"""Exceptions raised by the store, in one place.

StoreError
├── NotFound          a tenant, token, user or group that does not exist (in this tenant)
├── Conflict          a uniqueness rule was broken (userName, group displayName, tenant slug)
└── InvalidReference  a reference names nothing in this tenant (manager, group member)
"""


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    pass


class Conflict(StoreError):
    pass


class InvalidReference(StoreError):
    pass
