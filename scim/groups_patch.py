"""PATCH on a Group (RFC 7644 §3.5.2) in every form Entra and the RFC use.

A Group PATCH goes the way a User's does: parsed (``scim.patch_request``), its targets
resolved and values normalised once (``scim.patch_changes``), applied to the group's document
(``scim.patch_apply``) and stored. The one exception is ``members``, which is rows, not part
of the document: its changes become k-row store calls, never a read-modify-write of the
member list:

* ``add`` members (any length; existing members are a no-op) → insert k rows;
* ``replace`` members → the list becomes the membership (RFC semantics);
* ``remove`` members with a ``value`` list (Entra's legacy form) → remove only those;
* ``remove`` ``members[value eq "a" or value eq "b"]`` → remove those members;
* ``remove`` members without a value → remove all.

All writes run in the caller's transaction: they apply together or not at all.
"""

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection

from db import groups as repo
from db.group_members import MemberDelta
from db.groups import GroupRecord
from scim.errors import ScimError, ScimType
from scim.groups_input import display_name_value, external_id_value, group_document, member_ids
from scim.groups_schema import GROUP_RESOURCE_TYPE, MEMBERS
from scim.patch_apply import apply_changes
from scim.patch_changes import Change, prepare_changes
from scim.patch_path import parse_path
from scim.patch_request import PatchOperation


def _filtered_add() -> ScimError:
    return ScimError(400, "add members with path 'members' and a value list", ScimType.INVALID_PATH)


@dataclass(frozen=True, slots=True)
class MemberWrite:
    kind: Literal["add", "set", "remove", "remove_all"]
    user_ids: list[str]


@dataclass(frozen=True, slots=True)
class GroupPatch:
    changes: list[Change]  # to the group's own fields (displayName, externalId)
    member_writes: list[MemberWrite]  # in request order

    @property
    def grows_with_group(self) -> bool:
        """Whether storing it takes time that grows with the group or the request, so it
        must run off the event loop: replacing or clearing the membership, or long lists."""
        return any(
            write.kind in ("set", "remove_all") or len(write.user_ids) > repo.SHORT_MEMBER_LIST
            for write in self.member_writes
        )


def plan_group_patch(group_id: str, operations: list[PatchOperation]) -> GroupPatch:
    """Split a PATCH into document changes and membership writes; nothing is read."""
    for operation in operations:  # the path decides before the value is looked at
        if operation.op != "remove" and operation.path is not None:
            path = parse_path(GROUP_RESOURCE_TYPE, operation.path)
            if path.attr is MEMBERS and path.value_filter is not None:
                raise operation.failed(_filtered_add())
    changes: list[Change] = []
    member_writes: list[MemberWrite] = []
    for change in prepare_changes(GROUP_RESOURCE_TYPE, group_id, operations):
        try:
            if change.path.attr is MEMBERS:
                member_writes.append(_member_write(change))
                continue
            if change.path.attr is not None and change.path.attr.name == "displayName":
                display_name_value(change.value)
        except ScimError as error:
            raise change.operation.failed(error) from None
        changes.append(change)
    return GroupPatch(changes, _batched(member_writes))


def _batched(writes: list[MemberWrite]) -> list[MemberWrite]:
    """Consecutive adds (or removes) as one write: 10,000 one-member operations cost the
    row writes of one 10,000-member operation. Only neighbours merge, so an add and a later
    remove of the same member still apply in request order."""
    batched: list[MemberWrite] = []
    for write in writes:
        last = batched[-1] if batched else None
        if last is not None and last.kind == write.kind and write.kind in ("add", "remove"):
            last.user_ids.extend(write.user_ids)
        else:
            batched.append(MemberWrite(write.kind, list(write.user_ids)))
    return batched


def _member_write(change: Change) -> MemberWrite:
    path = change.path
    if path.sub is not None:
        raise ScimError(
            400, "patch members as a whole or by members[value eq ...]", ScimType.INVALID_PATH
        )
    if path.value_filter is not None:
        if change.op != "remove":
            raise _filtered_add()
        named = path.value_filter.named_values
        if named is None:
            raise ScimError(
                400,
                f'unsupported member filter {path.text!r}: use value eq "<id>", '
                "optionally joined by or",
                ScimType.INVALID_PATH,
            )
        return MemberWrite("remove", list(named))
    if change.op == "add":
        return MemberWrite("add", member_ids(change.value))
    if change.op == "replace":
        return MemberWrite("set", member_ids(change.value))
    if change.operation.value is None:  # remove without a value (RFC 7644 §3.5.2.2): all
        return MemberWrite("remove_all", [])
    # Entra's legacy form: remove only the listed members (an empty list removes nobody),
    # never the whole group.
    return MemberWrite("remove", member_ids(change.operation.value))


def write_group_patch(
    connection: Connection, tenant_id: int, current: GroupRecord, plan: GroupPatch
) -> tuple[dict[str, Any], MemberDelta]:
    """Store ``plan`` for the (locked) group ``current`` in the caller's transaction.
    Returns the group's own fields as written (``displayName``, ``externalId``) and who
    joined and left, net."""
    fields: dict[str, Any] = group_document(current)
    if plan.changes:
        document = apply_changes(GROUP_RESOURCE_TYPE, fields, plan.changes)
        fields = {
            "displayName": display_name_value(document.get("displayName")),
            "externalId": external_id_value(document.get("externalId")),
        }
        repo.update_group(
            connection,
            tenant_id,
            current.id,
            display_name=fields["displayName"],
            external_id=fields["externalId"],
        )
    members = MemberDelta()
    for write in plan.member_writes:
        if write.kind == "add":
            delta = repo.add_members(connection, tenant_id, current.id, write.user_ids)
        elif write.kind == "set":
            delta = repo.set_members(connection, tenant_id, current.id, write.user_ids)
        elif write.kind == "remove":
            delta = repo.remove_members(connection, tenant_id, current.id, write.user_ids)
        else:
            delta = repo.remove_all_members(connection, tenant_id, current.id)
        members.merge(delta)
    return fields, members
