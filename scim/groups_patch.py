"""PATCH on a Group (RFC 7644 §3.5.2) in every form Entra and the RFC use.

Membership operations become k-row store calls, never a read-modify-write of the member
list:

* ``add`` members (any length; existing members are a no-op) → insert k rows;
* ``replace`` members → the list becomes the membership (RFC semantics);
* ``remove`` members with a ``value`` list (Entra's legacy form) → remove only those;
* ``remove`` ``members[value eq "<id>"]`` → remove that member;
* ``remove`` members without a value → remove all.

All operations run in the caller's transaction: they apply together or not at all, and a
failure names the operation that failed.
"""

import re
from typing import Any

from sqlalchemy import Connection

from db import groups as repo
from db.errors import Conflict, InvalidReference
from scim.errors import ScimError, ScimType
from scim.groups_input import (
    attribute_name,
    display_name_value,
    external_id_value,
    member_ids,
)
from scim.patch_request import PatchOperation

_MEMBER_PATH = re.compile(
    r"^(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members\[(.*)\]$",
    re.IGNORECASE | re.DOTALL,
)
_VALUE_EQ = re.compile(r'^\s*value\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE | re.DOTALL)
_OR_OUTSIDE_QUOTES = re.compile(r'\s+or\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', re.IGNORECASE)


def filtered_member_ids(path: str) -> list[str] | None:
    """The ids named by ``members[value eq "a" or value eq "b"]``; None for other paths.

    Ids are case-exact, so the path is matched as sent, not lower-cased.
    """
    match = _MEMBER_PATH.match(path.strip())
    if match is None:
        return None
    ids = []
    for term in _OR_OUTSIDE_QUOTES.split(match.group(1)):
        value = _VALUE_EQ.match(term)
        if value is None:
            raise ScimError(
                400,
                f'unsupported member filter {match.group(1)!r}: use value eq "<id>", '
                "optionally joined by or",
                ScimType.INVALID_PATH,
            )
        ids.append(re.sub(r"\\(.)", r"\1", value.group(1)))
    return ids


def apply_operations(
    connection: Connection, tenant_id: int, group_id: str, operations: list[PatchOperation]
) -> None:
    for operation in operations:
        try:
            _apply(connection, tenant_id, group_id, operation)
        except ScimError as error:
            raise ScimError(
                error.status, f"{operation.describe()}: {error.detail}", error.scim_type
            ) from error
        except InvalidReference as error:
            raise ScimError(
                400, f"{operation.describe()}: {error}", ScimType.INVALID_VALUE
            ) from error
        except Conflict as error:
            raise ScimError(409, f"{operation.describe()}: {error}", ScimType.UNIQUENESS) from error


def _apply(
    connection: Connection, tenant_id: int, group_id: str, operation: PatchOperation
) -> None:
    if operation.path is None:
        _apply_pathless(connection, tenant_id, group_id, operation)
        return
    filtered = filtered_member_ids(operation.path)
    if filtered is not None:
        if operation.op != "remove":
            raise ScimError(
                400, "add members with path 'members' and a value list", ScimType.INVALID_PATH
            )
        repo.remove_members(connection, tenant_id, group_id, filtered)
        return
    path = attribute_name(operation.path.strip())
    _apply_attribute(connection, tenant_id, group_id, operation.op, path, operation.value)


def _apply_pathless(
    connection: Connection, tenant_id: int, group_id: str, operation: PatchOperation
) -> None:
    if not isinstance(operation.value, dict):
        raise ScimError(400, "without a path, value must be an object", ScimType.INVALID_VALUE)
    for key, value in operation.value.items():
        name = attribute_name(str(key))
        if name == "schemas":
            continue
        _apply_attribute(connection, tenant_id, group_id, operation.op, name, value)


def _apply_attribute(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    op: str,
    name: str,
    value: Any,
) -> None:
    if name == "members":
        _apply_members(connection, tenant_id, group_id, op, value)
    elif name == "displayname":
        if op == "remove":
            raise ScimError(400, "displayName is required", ScimType.MUTABILITY)
        repo.update_group(connection, tenant_id, group_id, display_name=display_name_value(value))
    elif name == "externalid":
        new = None if op == "remove" else external_id_value(value)
        repo.update_group(connection, tenant_id, group_id, external_id=new)
    elif name == "id" or name == "meta" or name.startswith("meta."):
        if not (name == "id" and value == group_id and op != "remove"):
            raise ScimError(400, f"{name} is read-only", ScimType.MUTABILITY)
    else:
        raise ScimError(400, f"no attribute {name!r} on a Group", ScimType.INVALID_PATH)


def _apply_members(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    op: str,
    value: Any,
) -> None:
    if op == "add":
        repo.add_members(connection, tenant_id, group_id, member_ids(value))
    elif op == "replace":
        repo.set_members(connection, tenant_id, group_id, member_ids(value))
    elif value is not None:
        # Entra's legacy form: remove only the listed members (an empty list removes nobody),
        # never the whole group.
        repo.remove_members(connection, tenant_id, group_id, member_ids(value))
    else:  # remove without a value (RFC 7644 §3.5.2.2): every member
        repo.remove_all_members(connection, tenant_id, group_id)
