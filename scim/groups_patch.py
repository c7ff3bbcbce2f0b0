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
from dataclasses import dataclass
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

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPS = ("add", "replace", "remove")
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


@dataclass(frozen=True, slots=True)
class Operation:
    number: int  # 1-based position in the request, for error messages
    op: str  # lower-cased
    path: str | None
    value: Any
    has_value: bool

    def label(self) -> str:
        target = f" {self.path!r}" if self.path else ""
        return f"operation {self.number} ({self.op}{target})"


def parse_patch(document: dict[str, Any]) -> list[Operation]:
    schemas = document.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise ScimError(
            400, f"a PATCH body must list the schema {PATCH_SCHEMA}", ScimType.INVALID_SYNTAX
        )
    raw = document.get("Operations", document.get("operations"))
    if not isinstance(raw, list) or not raw:
        raise ScimError(400, "Operations must be a non-empty list", ScimType.INVALID_SYNTAX)
    return [_operation(number, entry) for number, entry in enumerate(raw, start=1)]


def _operation(number: int, entry: Any) -> Operation:
    if not isinstance(entry, dict):
        raise ScimError(400, f"operation {number} is not an object", ScimType.INVALID_SYNTAX)
    fields = {str(key).lower(): value for key, value in entry.items()}
    op = fields.get("op")
    if not isinstance(op, str) or op.lower() not in OPS:
        raise ScimError(
            400, f"operation {number}: op must be add, replace or remove", ScimType.INVALID_SYNTAX
        )
    path = fields.get("path")
    if path is not None and not isinstance(path, str):
        raise ScimError(400, f"operation {number}: path must be a string", ScimType.INVALID_PATH)
    return Operation(number, op.lower(), path or None, fields.get("value"), "value" in fields)


def apply_operations(
    connection: Connection, tenant_id: int, group_id: str, operations: list[Operation]
) -> None:
    for operation in operations:
        try:
            _apply(connection, tenant_id, group_id, operation)
        except ScimError as error:
            raise ScimError(
                error.status, f"{operation.label()}: {error.detail}", error.scim_type
            ) from error
        except InvalidReference as error:
            raise ScimError(400, f"{operation.label()}: {error}", ScimType.INVALID_VALUE) from error
        except Conflict as error:
            raise ScimError(409, f"{operation.label()}: {error}", ScimType.UNIQUENESS) from error


def _apply(connection: Connection, tenant_id: int, group_id: str, operation: Operation) -> None:
    if operation.path is None:
        _apply_pathless(connection, tenant_id, group_id, operation)
        return
    if operation.op != "remove" and not operation.has_value:
        raise ScimError(400, "a value is required", ScimType.INVALID_VALUE)
    filtered = filtered_member_ids(operation.path)
    if filtered is not None:
        if operation.op != "remove":
            raise ScimError(
                400, "add members with path 'members' and a value list", ScimType.INVALID_PATH
            )
        repo.remove_members(connection, tenant_id, group_id, filtered)
        return
    path = attribute_name(operation.path.strip())
    _apply_attribute(
        connection, tenant_id, group_id, operation.op, path, operation.value, operation
    )


def _apply_pathless(
    connection: Connection, tenant_id: int, group_id: str, operation: Operation
) -> None:
    if operation.op == "remove":
        raise ScimError(400, "remove needs a path", ScimType.NO_TARGET)
    if not isinstance(operation.value, dict):
        raise ScimError(400, "without a path, value must be an object", ScimType.INVALID_VALUE)
    for key, value in operation.value.items():
        name = attribute_name(str(key))
        if name == "schemas":
            continue
        _apply_attribute(connection, tenant_id, group_id, operation.op, name, value, operation)


def _apply_attribute(
    connection: Connection,
    tenant_id: int,
    group_id: str,
    op: str,
    name: str,
    value: Any,
    operation: Operation,
) -> None:
    if name == "members":
        _apply_members(connection, tenant_id, group_id, op, value, operation.has_value)
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
    has_value: bool,
) -> None:
    if op == "add":
        repo.add_members(connection, tenant_id, group_id, member_ids(value))
    elif op == "replace":
        repo.set_members(connection, tenant_id, group_id, member_ids(value))
    elif has_value and value is not None:
        # Entra's legacy form: remove only the listed members (an empty list removes nobody),
        # never the whole group.
        repo.remove_members(connection, tenant_id, group_id, member_ids(value))
    else:
        repo.remove_all_members(connection, tenant_id, group_id)
