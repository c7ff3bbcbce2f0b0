"""``under``: which events are about a user in someone's subtree at the time of the event.

A ``SubtreeFilter`` keeps the tenant's manager of every user, read once from the store when
the subscription starts, and follows the log: each event it is asked about moves the model
on (a manager change, a user created with a manager, a user deleted), in seq order, so the
question "was X in U's subtree" is answered as of that event, not as of now. An event is
delivered when its user was in the subtree before it or is after it: a move into or out of
the subtree is seen. Groups are in no subtree. Manager loops end the walk (Entra may send
them).

Where a user was before a manager change is read from the event (the manager it replaced),
not from the model: the model may already hold the change. It is read once the subscription
knows the seq it starts after, so a change committed in between is both in the model and
delivered (applying it again changes nothing), and a replay from an older ``after`` meets
models newer than its events; the event's own old value still places its user right. The
other order would be worse: a change committed after the model was read but before that seq
would never be delivered nor reach the model, which would go on placing its user where it
was.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from db.activity import Operation, Outcome, ResourceType
from db.activity_reads import EventRecord
from db.org_metrics import read_org_version_and_edges

#: The path the activity log names the manager by (the enterprise extension's ``manager``,
#: as ``scim.user_changes.MANAGER_PATH`` derives it; a test checks the two agree).
MANAGER_PATH = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"


class SubtreeFilter:
    def __init__(self, root: str, edges: Iterable[tuple[str, str | None, Any]]) -> None:
        self.root = root
        self.manager: dict[str, str] = {
            user_id: manager_id for user_id, manager_id, _ in edges if manager_id is not None
        }

    def contains(self, user_id: str) -> bool:
        return self._reaches_root(user_id, set())

    def _reaches_root(self, start: str | None, seen: set[str]) -> bool:
        current = start
        while current is not None and current not in seen:
            if current == self.root:
                return True
            seen.add(current)
            current = self.manager.get(current)
        return False

    def _apply(self, event: EventRecord) -> None:
        user_id = event.resource_id
        if user_id is None or event.outcome != Outcome.SUCCESS.value:
            return
        if event.operation == Operation.DELETE.value:
            self.manager.pop(user_id, None)
            return
        for change in event.changes or ():
            if change.get("attribute") == MANAGER_PATH:
                new = change.get("newValue")
                if isinstance(new, str) and new:
                    self.manager[user_id] = new
                else:
                    self.manager.pop(user_id, None)

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


def read_subtree(connection: Connection, tenant_id: int, root: str) -> SubtreeFilter | None:
    """The filter for ``root``'s subtree, or None when no user of the tenant has that id. It
    reads every user of the tenant: meant for a worker thread, off the event loop."""
    _, edges = read_org_version_and_edges(connection, tenant_id)
    if not any(user_id == root for user_id, _, _ in edges):
        return None
    return SubtreeFilter(root, edges)
