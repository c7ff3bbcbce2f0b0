"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; SQLite would otherwise hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name == "sqlite":
            # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" text, which fromisoformat reads
            # directly, without the regex of SQLAlchemy's SQLite DateTime (two per user row).
            return _sqlite_utc_datetime
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - defensive, SQLite returns datetime
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The lengths of what SQLAlchemy's SQLite DateTime writes: "YYYY-MM-DD HH:MM:SS[.ffffff]",
#: in UTC (``process_bind_param``) and without an offset.
_STORED_LENGTHS = frozenset((19, 26))


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) in _STORED_LENGTHS:
        # Read with the offset it was stored in: one parse, where a parse and then
        # ``replace(tzinfo=...)`` (a second datetime, built through keyword arguments) cost
        # several times as much, on two columns of every user row.
        return datetime.fromisoformat(value + "+00:00")
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
