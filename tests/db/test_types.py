"""Timestamps come back aware and in UTC, whatever the database holds for them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, insert, select
from sqlalchemy.dialects import sqlite

from db.database import Database
from db.types import UTCDateTime

stamps = Table(
    "test_stamps",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=True),
)


@pytest.mark.parametrize(
    "stored",
    [
        datetime(2026, 11, 30, 8, 5, 2, 123456, tzinfo=UTC),
        datetime(2026, 11, 30, 8, 5, 2, tzinfo=UTC),  # no microseconds: a shorter text
        datetime(2026, 11, 30, 9, 5, 2, 1, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_a_timestamp_reads_back_as_the_same_instant_in_utc(
    database: Database, stored: datetime
) -> None:
    def round_trip(connection: Connection) -> datetime:
        stamps.create(connection, checkfirst=True)
        connection.execute(insert(stamps).values(id=1, at=stored))
        value: datetime = connection.execute(select(stamps.c.at)).scalar_one()
        stamps.drop(connection)
        return value

    read = database.write_sync(round_trip)
    assert read == stored
    assert read.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        ("2026-11-30 08:05:02.123456", datetime(2026, 11, 30, 8, 5, 2, 123456, tzinfo=UTC)),
        ("2026-11-30 08:05:02", datetime(2026, 11, 30, 8, 5, 2, tzinfo=UTC)),
        ("2026-11-30 10:05:02.5+02:00", datetime(2026, 11, 30, 8, 5, 2, 500000, tzinfo=UTC)),
        ("2026-11-30T08:05:02.123", datetime(2026, 11, 30, 8, 5, 2, 123000, tzinfo=UTC)),
        (None, None),
    ],
)
def test_sqlite_texts_are_read_in_utc(held: str | None, expected: datetime | None) -> None:
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert process is not None
    value = process(held)
    assert value == expected
    assert value is None or value.utcoffset() == timedelta(0)
