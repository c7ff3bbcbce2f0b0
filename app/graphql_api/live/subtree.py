"""``under``: which events are about a user in someone's subtree at the time of the event.

A ``SubtreeFilter`` keeps the tenant's manager of every user, read once from the store when
the subscription starts, and follows the log: each event it is asked about moves the model
on (a manager change, a user created with a manager, a user deleted), in seq order, so the
question "was X in U's subtree" is answered as of that event, not as of now. An event is
delivered when its user was in the subtree before it or is after it: a move into or out of
the subtree is seen. Groups are in no subtree. Manager loops end the walk (Entra may send
them).
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
        seen: set[str] = set()
        current: str | None = user_id
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
        before = self.contains(event.resource_id)
        self._apply(event)
        return before or self.contains(event.resource_id)


def read_subtree(connection: Connection, tenant_id: int, root: str) -> SubtreeFilter | None:
    """The filter for ``root``'s subtree, or None when no user of the tenant has that id. It
    reads every user of the tenant: meant for a worker thread, off the event loop."""
    _, edges = read_org_version_and_edges(connection, tenant_id)
    if not any(user_id == root for user_id, _, _ in edges):
        return None
    return SubtreeFilter(root, edges)
