"""A tenant's events by time: the provisioning summary's window and its latest failures

Revision ID: 0013_activity_tenant_time
Revises: 0012_user_search_text
Create Date: 2026-12-01

The provisioning health (``provisioningSummary(since:)`` and ``activity(filter: {outcome:
FAILURE, since: ...})``) asks about the events since a time. The log had no index that starts
with the tenant and the time: each statement walked the tenant's whole log by position
(ux_activity_tenant_seq), testing every event's time, and a page of failures that finds
fewer than it asks for walked it to the first event. A tenant Entra provisioned holds two
events per person from the first sync alone (a create and a manager), so at 100,000 people
the health of the last day read 216,000 events for a few hundred (docs/performance.md).

``ix_activity_tenant_occurred_at`` holds (tenant_id, occurred_at): a window reads its own
events and no others. It also holds each event's outcome, operation and seq, so that the
summary's counts by operation and outcome (of numbered events) are read from the index alone,
and a page of failures reads the rows of the failures only. ``ix_activity_occurred_at`` stays
for retention, which prunes the old events of every tenant at once.

Building it reads the table once, under a lock that holds writes back (seconds for a log of a
few hundred thousand events).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_activity_tenant_time"
down_revision: str | None = "0012_user_search_text"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_activity_tenant_occurred_at",
        "activity_event",
        ["tenant_id", "occurred_at", "outcome", "operation", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_activity_tenant_occurred_at", table_name="activity_event")
