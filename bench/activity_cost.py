"""The activity log's size: bytes per event of the table and its indexes, once a sync is done.

SQLite: the pages of the table and its indexes (``dbstat``); PostgreSQL:
``pg_total_relation_size`` (heap, indexes, TOAST, and the dead row versions the numbering
UPDATE leaves until vacuum reuses them).
"""

from sqlalchemy import text

from db.database import Database


def bytes_per_event(url: str) -> tuple[float, int]:
    """(bytes per event, events) of the activity log in the database at ``url``."""
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            count = int(
                connection.execute(text("SELECT count(*) FROM activity_event")).scalar_one()
            )
            if database.is_sqlite:
                size = connection.execute(
                    text(
                        "SELECT sum(pgsize) FROM dbstat WHERE name = 'activity_event' OR name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = 'activity_event')"
                    )
                ).scalar_one()
            else:
                size = connection.execute(
                    text("SELECT pg_total_relation_size('activity_event')")
                ).scalar_one()
    finally:
        database.dispose()
    return (int(size or 0) / count if count else 0.0), count
