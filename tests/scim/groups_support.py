"""Helpers for the /Groups tests: users put straight into the store, PATCH bodies."""

from typing import Any

from db.database import Database
from db.tenants import get_tenant
from tests.directory_rows import insert_users

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def tenant_id_of(database: Database, slug: str) -> int:
    return database.read_sync(lambda connection: get_tenant(connection, slug).id)


def make_users(
    database: Database, slug: str, count: int, prefix: str = "user", *, display_names: bool = True
) -> list[str]:
    tenant = tenant_id_of(database, slug)
    return database.write_sync(
        lambda connection: insert_users(
            connection, tenant, count, prefix, display_names=display_names
        )
    )


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def members(*user_ids: str) -> list[dict[str, Any]]:
    """A member list the way Entra sends it."""
    return [{"$ref": None, "value": user_id} for user_id in user_ids]


def member_ids(resource: dict[str, Any]) -> list[str]:
    return sorted(member["value"] for member in resource.get("members", []))
