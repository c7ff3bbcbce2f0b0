"""``under``: which events are about a user in someone's subtree at the time of the event.

A ``SubtreeFilter`` keeps the tenant's manager of every user as it was at the seq the
subscription starts after, and follows the log: each event it is asked about moves the model
on (a manager change, a user created with a manager, a user deleted), in seq order, so the
question "was X in U's subtree" is answered as of that event, not as of now. An event is
delivered when its user was in the subtree before it or is after it: a move into or out of
the subtree is seen. Groups are in no subtree. Manager loops end the walk (Entra may send
them).

The model is read from the users as they are now, then taken back to that seq: every manager
change logged after it is undone, newest first, by the manager it replaced (a replay from an
older ``after`` thus judges each event by the managers of its time). It is read once the
subscription knows that seq, never before: a change committed in between is then both
undone and delivered. A change committed but not numbered yet when the model is read stays
in it and is delivered later; where its own user was before it is read from the event (the
manager it replaced), not from the model, so that user is still placed right. What the log
cannot give back stays as it is now: a user deleted since is not in the model at all.

The managers as they are now hold every user of the tenant, so the subscriptions of a tenant
share them (``ManagerSnapshots``): a subscription that starts while the tenant's org version
is the one they were read at takes them as they are, and keeps only its own changes over
them (the roll-back, then each event). Any change of the tree moves that version, so a kept
snapshot is the tree as it is now; after a change the next subscription reads a new one.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from app.graphql_api.manager_snapshots import ManagerSnapshot, ManagerSnapshots
from db.activity import Operation, Outcome, ResourceType
from db.activity_reads import EventRecord, user_changes_after
from db.directory_reads import users_by_ids

#: The path the activity log names the manager by (the enterprise extension's ``manager``,
#: as ``scim.user_changes.MANAGER_PATH`` derives it; a test checks the two agree).
MANAGER_PATH = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"


class SubtreeFilter:
    def __init__(self, root: str, managers: ManagerSnapshot) -> None:
        self.root = root
        # Shared with other subscriptions: this one's changes over it go to ``_changed``
        # (a user's manager, or None for none). Holding the snapshot itself keeps it in
        # ``ManagerSnapshots`` for the subscriptions that start later.
        self._snapshot = managers
        self._changed: dict[str, str | None] = {}

    def contains(self, user_id: str) -> bool:
        return self._reaches_root(user_id, set())

    def _reaches_root(self, start: str | None, seen: set[str]) -> bool:
        current = start
        while current is not None and current not in seen:
            if current == self.root:
                return True
            seen.add(current)
            current = self.manager_of(current)
        return False

    def manager_of(self, user_id: str) -> str | None:
        changed = self._changed
        if user_id in changed:
            return changed[user_id]
        return self._snapshot.manager.get(user_id)

    def roll_back(self, changes_newest_first: Iterable[tuple[str, list[dict[str, Any]]]]) -> None:
        """Undo the manager changes of these (user id, changes), newest first."""
        for user_id, changes in changes_newest_first:
            for change in changes:
                if change.get("attribute") == MANAGER_PATH:
                    self._set_manager(user_id, change.get("oldValue"))

    def _set_manager(self, user_id: str, manager: object) -> None:
        self._changed[user_id] = manager if isinstance(manager, str) and manager else None

    def _apply(self, event: EventRecord) -> None:
        user_id = event.resource_id
        if user_id is None or event.outcome != Outcome.SUCCESS.value:
            return
        if event.operation == Operation.DELETE.value:
            self._changed[user_id] = None
            return
        for change in event.changes or ():
            if change.get("attribute") == MANAGER_PATH:
                self._set_manager(user_id, change.get("newValue"))

    def __call__(self, event: EventRecord) -> bool:
        """Whether the event is about the subtree; moves the model on by the event."""
        if event.resource_type != ResourceType.USER.value or event.resource_id is None:
            return False
        before = self._was_in(event.resource_id, event)
        self._apply(event)
        return before or self.contains(event.resource_id)

    def _was_in(self, user_id: str, event: EventRecord) -> bool:
        """Whether the user was in the subtree just before the event: below the manager a
        manager change replaced (the event says which), else where the model places them."""
        for change in event.changes or ():
            if change.get("attribute") == MANAGER_PATH:
                old = change.get("oldValue")
                old_manager = old if isinstance(old, str) and old else None
                return user_id == self.root or self._reaches_root(old_manager, {user_id})
        return self.contains(user_id)


def read_subtree(
    connection: Connection, snapshots: ManagerSnapshots, tenant_id: int, root: str, after: int
) -> SubtreeFilter | None:
    """The filter for ``root``'s subtree as of seq ``after``, or None when no user of the
    tenant has that id now. It reads every user of the tenant (unless ``snapshots`` keeps
    them), and the manager changes logged after ``after``: meant for a worker thread, off
    the event loop."""
    managers = snapshots.read(connection, tenant_id)
    # A user without a manager is not in the snapshot: one read by key tells whether the
    # root exists.
    if root not in managers.manager and not users_by_ids(connection, tenant_id, [root]):
        return None
    subtree = SubtreeFilter(root, managers)
    subtree.roll_back(user_changes_after(connection, tenant_id, after, MANAGER_PATH))
    return subtree
