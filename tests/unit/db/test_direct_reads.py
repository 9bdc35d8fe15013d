"""Reads straight on the DB-API connection give what SQLAlchemy's execution gives, fail as SQLAlchemy
fails, and leave the connection's transaction to be ended with the request's."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Iterator

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.exc import DBAPIError

from switchboard.db.base import UtcDateTime
from switchboard.db.direct import PrebuiltRead, read_first_row
from switchboard.db.engine import Database

pytestmark = pytest.mark.database

METADATA = MetaData()
THINGS = Table(
    "things", METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(40)),
    Column("flag", Boolean),
    Column("at", UtcDateTime()),
    Column("state", String(16)),
)
LIVE = select(THINGS).where(THINGS.c.state == "live").order_by(THINGS.c.id)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    METADATA.create_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(THINGS.insert(), [
            {"id": 1, "name": "one", "flag": True, "at": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
             "state": "live"},
            {"id": 2, "name": None, "flag": False, "at": None, "state": "live"},
            {"id": 3, "name": "gone", "flag": None, "at": None, "state": "removed"},
        ])
    yield db
    db.dispose()


def test_prebuilt_rows_equal_sqlalchemys_with_types_processed(database: Database) -> None:
    row_type = namedtuple("Thing", [column.key for column in LIVE.selected_columns])  # type: ignore[misc]
    read = PrebuiltRead(LIVE, row_type=lambda values: row_type(*values))
    with database.kept_connection() as connection:
        expected = [tuple(row) for row in connection.execute(LIVE)]
        rows = read.rows(connection)
        assert [tuple(row) for row in rows] == expected
        assert rows[0].flag is True and rows[1].flag is False  # booleans, also where SQLite stores 1/0
        assert rows[0].at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert PrebuiltRead(LIVE).rows(connection) == expected  # plain tuples by default


def test_prebuilt_reads_see_later_commits(database: Database) -> None:
    read = PrebuiltRead(LIVE)
    with database.kept_connection() as connection:
        assert len(read.rows(connection)) == 2
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE things SET state = 'live' WHERE id = 3"))
    with database.kept_connection() as connection:
        assert [row[0] for row in read.rows(connection)] == [1, 2, 3]


def test_statements_with_a_percent_sign_are_refused(database: Database) -> None:
    with database.kept_connection() as connection, pytest.raises(ValueError, match="%"):
        PrebuiltRead(select(THINGS.c.id).where(THINGS.c.name.like("o%"))).rows(connection)


def test_errors_are_sqlalchemys_and_the_connection_stays_usable(database: Database) -> None:
    with database.kept_connection() as connection:
        with pytest.raises(DBAPIError) as failure:
            read_first_row(connection, "SELECT nothing FROM no_such_table")
        assert not failure.value.connection_invalidated and not connection.invalidated
    with database.kept_connection() as connection:
        assert read_first_row(connection, "SELECT 1") == (1,)
        assert read_first_row(connection, "SELECT 1 WHERE 1 = 0") is None


def test_a_lost_connection_is_invalidated_and_replaced(database: Database) -> None:
    with database.kept_connection() as connection:
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        dbapi.close()  # as if the server had gone away underneath
        with pytest.raises(DBAPIError):
            read_first_row(connection, "SELECT 1")
        lost = connection
    with database.kept_connection() as connection:
        assert connection is not lost
        assert read_first_row(connection, "SELECT 1") == (1,)
