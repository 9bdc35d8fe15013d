"""Reads straight on the DB-API connection give what SQLAlchemy's execution gives, fail as SQLAlchemy
fails, and leave the connection's transaction to be ended with the request's."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Iterator

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, bindparam, or_, select, text
from sqlalchemy.exc import DBAPIError

from switchboard.db.base import UtcDateTime
from switchboard.db.direct import PrebuiltQuery, read_first_row
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
    read = PrebuiltQuery(LIVE, row_type=lambda values: row_type(*values))
    with database.kept_connection() as connection:
        expected = [tuple(row) for row in connection.execute(LIVE)]
        rows = read.rows(connection)
        assert [tuple(row) for row in rows] == expected
        assert rows[0].flag is True and rows[1].flag is False  # booleans, also where SQLite stores 1/0
        assert rows[0].at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        assert PrebuiltQuery(LIVE).rows(connection) == expected  # plain tuples by default


def test_prebuilt_reads_see_later_commits(database: Database) -> None:
    read = PrebuiltQuery(LIVE)
    with database.kept_connection() as connection:
        assert len(read.rows(connection)) == 2
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE things SET state = 'live' WHERE id = 3"))
    with database.kept_connection() as connection:
        assert [row[0] for row in read.rows(connection)] == [1, 2, 3]


def test_literals_in_a_statement_reach_the_driver_as_parameters(database: Database) -> None:
    # A literal % would change meaning inside pyformat SQL (psycopg); passed as a parameter it cannot.
    statement = select(THINGS.c.id).where(THINGS.c.name.like("o%"))
    with database.kept_connection() as connection:
        assert PrebuiltQuery(statement).rows(connection) == [tuple(row) for row in connection.execute(statement)]
        assert PrebuiltQuery(statement).rows(connection) == [(1,)]


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


BY_NAME_SINCE = (
    select(THINGS).where(THINGS.c.state == "live", THINGS.c.name == bindparam("name"),
                         THINGS.c.at >= bindparam("since")).order_by(THINGS.c.id)
)


def test_prebuilt_queries_bind_parameters_as_sqlalchemy_does(database: Database) -> None:
    query = PrebuiltQuery(BY_NAME_SINCE)
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # goes through UtcDateTime's bind processing
    with database.kept_connection() as connection:
        for name, when in (("one", since), ("one", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), ("gone", since)):
            expected = [tuple(row) for row in connection.execute(BY_NAME_SINCE, {"name": name, "since": when})]
            assert query.rows(connection, {"name": name, "since": when}) == expected
            assert query.first(connection, {"name": name, "since": when}) == (expected[0] if expected else None)
        row = query.first(connection, {"name": "one", "since": since})
        assert row is not None and row[2] is True and row[3] == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_prebuilt_queries_keep_parameter_order_and_repeated_names(database: Database) -> None:
    # The same name twice and the fixed value between them: positional styles need SQLAlchemy's order.
    statement = select(THINGS.c.id).where(
        or_(THINGS.c.id == bindparam("a"), THINGS.c.state == "removed", THINGS.c.id == bindparam("b")),
        THINGS.c.id != bindparam("a") + 10,
    ).order_by(THINGS.c.id)
    with database.kept_connection() as connection:
        assert PrebuiltQuery(statement).rows(connection, {"a": 2, "b": 1}) == [(1,), (2,), (3,)]
        assert PrebuiltQuery(statement, row_type=lambda values: values[0]).rows(connection, {"a": 1, "b": 1}) \
            == [1, 3]
        with pytest.raises(KeyError):
            PrebuiltQuery(statement).rows(connection, {"a": 1})


def test_prebuilt_queries_refuse_expanding_parameters(database: Database) -> None:
    statement = select(THINGS.c.id).where(THINGS.c.id.in_(bindparam("ids", expanding=True)))
    with database.kept_connection() as connection, pytest.raises(ValueError, match="rewritten"):
        PrebuiltQuery(statement).rows(connection, {"ids": [1, 2]})


def test_prebuilt_query_errors_are_sqlalchemys(database: Database) -> None:
    missing = Table("no_such_table", MetaData(), Column("id", Integer))
    with database.kept_connection() as connection, pytest.raises(DBAPIError):
        PrebuiltQuery(select(missing.c.id).where(missing.c.id == bindparam("id"))).first(connection, {"id": 1})
    with database.kept_connection() as connection:
        assert PrebuiltQuery(select(THINGS.c.id).where(THINGS.c.id == bindparam("id"))).first(
            connection, {"id": 3}) == (3,)
