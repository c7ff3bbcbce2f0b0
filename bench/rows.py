"""Rows for ``db.tables.users`` and ``groups`` built from SCIM documents: the bulk path for big
datasets.

Loading 100,000 users through the SCIM API takes minutes; inserting rows in batches takes
seconds. The rows must be exactly what the SCIM layer writes for the same documents, or the
benchmark measures a different database, so they are cast by the SCIM layer's own code
(``scim.resource_input`` and ``scim.user_cast``). ``bench.checks.check_bulk_rows`` still
verifies that on every run by creating a few users through the API and comparing their stored
rows with the rows built here.
"""

from datetime import datetime
from typing import Any

from scim.resource_input import normalise_resource
from scim.user_cast import document_to_columns
from scim.user_schema import USER_RESOURCE_TYPE


def user_row(
    document: dict[str, Any],
    *,
    user_id: str,
    tenant_id: int,
    now: datetime,
    later_writes: int = 0,
) -> dict[str, Any]:
    """The ``user`` row the SCIM layer stores for ``document`` (a create plus manager PATCH,
    then ``later_writes`` PATCHes that each changed something)."""
    columns = document_to_columns(normalise_resource(USER_RESOURCE_TYPE, document))
    return {
        **columns,
        "id": user_id,
        "tenant_id": tenant_id,
        "created": now,
        "last_modified": now,
        # Entra's create is version 1, its manager PATCH makes it 2.
        "version": (2 if columns["manager_id"] else 1) + later_writes,
    }


def group_row(
    *,
    group_id: str,
    tenant_id: int,
    display_name: str,
    external_id: str | None,
    now: datetime,
    membership_patches: int,
) -> dict[str, Any]:
    """The ``group`` row the SCIM layer stores for a group Entra created and then filled in
    ``membership_patches`` PATCHes (each one a new version)."""
    return {
        "id": group_id,
        "tenant_id": tenant_id,
        "display_name": display_name,
        "external_id": external_id,
        "created": now,
        "last_modified": now,
        "version": 1 + membership_patches,
    }
