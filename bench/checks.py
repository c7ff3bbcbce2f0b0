"""Checks that the benchmark measures what production would hold.

``check_bulk_rows`` creates a few users through the SCIM API exactly as Entra does (POST, then
a manager PATCH), reads back the rows the SCIM layer stored and compares them, column by
column, with the rows ``bench.rows`` builds for the bulk path. Identity and meta columns
(id, tenant, timestamps) are left out: they differ by construction.
"""

from pathlib import Path

from sqlalchemy import select

from bench import store
from bench.dataset import ENTERPRISE, generate, scim_document
from bench.rows import user_row
from bench.scim_load import sync
from bench.servers import HOST, serve
from db.database import Database
from db.tables import users
from db.types import utcnow

IGNORED = {"id", "tenant_id", "created", "last_modified"}


def check_bulk_rows(data: Path, logs: Path, factory: str) -> str:
    """How the bulk rows compare with SCIM-written rows, in one line."""
    url = store.sqlite_url(data, "rowcheck.sqlite")
    token, _ = store.prepare_empty(url)
    org = generate(30, 7)
    with serve("ours-rowcheck", factory, {"BLINK_DATABASE_URL": url}, logs) as server:
        result = sync(HOST, server.port, token, "/scim", org, connections=1)
    if result.errors:
        return f"not checked (SCIM load failed: {result.first_error})"
    database = Database(url)
    try:
        stored = database.read_sync(
            lambda connection: {
                row["id"]: dict(row) for row in connection.execute(select(users)).mappings()
            }
        )
    finally:
        database.dispose()
    problems: list[str] = []
    scim_ids = result.ids
    for person in org.people:
        document = scim_document(org, person)
        manager = document[ENTERPRISE].get("manager")
        if manager:  # the SCIM layer gave the manager another id than the dataset's
            manager["value"] = scim_ids[person.manager_index]  # type: ignore[index]
        built = user_row(document, user_id="", tenant_id=0, now=utcnow())
        row = stored[scim_ids[person.index]]
        for column, value in built.items():
            if column not in IGNORED and row.get(column) != value:
                problems.append(f"{column}: SCIM {row.get(column)!r} != bulk {value!r}")
        for column in row.keys() - built.keys() - IGNORED:
            problems.append(f"{column}: set by SCIM ({row[column]!r}), not by the bulk path")
    if problems:
        return "DIFFER: " + "; ".join(sorted(set(problems))[:5])
    return f"identical ({len(org.people)} users created over SCIM, every column compared)"
