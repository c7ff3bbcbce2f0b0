"""Rows for ``db.tables.users`` built from SCIM documents: the bulk path for big datasets.

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
    document: dict[str, Any], *, user_id: str, tenant_id: int, now: datetime
) -> dict[str, Any]:
    """The ``user`` row the SCIM layer stores for ``document`` (a create plus manager PATCH)."""
    columns = document_to_columns(normalise_resource(USER_RESOURCE_TYPE, document))
    return {
        **columns,
        "id": user_id,
        "tenant_id": tenant_id,
        "created": now,
        "last_modified": now,
        # Entra's create is version 1, its manager PATCH makes it 2.
        "version": 2 if columns["manager_id"] else 1,
    }
