"""The org-change counter moves with every noted change, per tenant."""

from db.database import Database
from db.org_changes import note_org_change, org_version
from db.tenants import create_tenant


def test_counter_is_per_tenant(database: Database) -> None:
    acme = database.write_sync(lambda connection: create_tenant(connection, "acme"))
    globex = database.write_sync(lambda connection: create_tenant(connection, "globex"))
    assert database.read_sync(lambda connection: org_version(connection, acme.id)) == 0
    database.write_sync(lambda connection: note_org_change(connection, acme.id))
    database.write_sync(lambda connection: note_org_change(connection, acme.id))
    assert database.read_sync(lambda connection: org_version(connection, acme.id)) == 2
    assert database.read_sync(lambda connection: org_version(connection, globex.id)) == 0
