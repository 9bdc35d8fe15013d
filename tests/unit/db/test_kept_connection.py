"""Database.kept_connection(): one long-lived connection per thread for quick reads, never left inside a
transaction, so every use sees what other connections, threads and processes committed."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from switchboard.db.engine import Database

pytestmark = pytest.mark.database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body VARCHAR(40))"))
    yield db
    db.dispose()


def _bodies(db: Database) -> list[str]:
    with db.kept_connection() as connection:
        return [row[0] for row in connection.execute(text("SELECT body FROM notes ORDER BY body"))]


def _open_in_database(connection: Connection) -> bool:
    """Whether the database holds a transaction open for `connection` (not just SQLAlchemy's bookkeeping:
    Python's sqlite3 opens none for reads)."""
    if connection.dialect.name == "sqlite":
        return bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]
    return connection.in_transaction()


def test_the_same_connection_is_lent_again_and_left_outside_any_transaction(database: Database) -> None:
    with database.kept_connection() as first:
        first.execute(text("SELECT body FROM notes")).all()
        first.execute(text("INSERT INTO notes (body) VALUES ('x')"))
        assert _open_in_database(first)
    assert not _open_in_database(first)  # the transaction ended with the block
    with database.kept_connection() as first:
        first.execute(text("SELECT body FROM notes")).all()
    assert not _open_in_database(first)
    with database.kept_connection() as again:
        assert again is first
        with database.kept_connection() as nested:  # a nested use on the same thread gets its own
            assert nested is not first
    assert database.engine.pool.checkedout() == 1  # the nested one went back to the pool


def test_reads_see_what_other_threads_and_processes_committed_since(database: Database) -> None:
    assert _bodies(database) == []

    def insert(body: str) -> None:
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})

    writer = threading.Thread(target=insert, args=("from-thread",))
    writer.start()
    writer.join()
    assert _bodies(database) == ["from-thread"]

    script = ("import sys; from sqlalchemy import create_engine, text\n"
              "with create_engine(sys.argv[1]).begin() as c:\n"
              "    c.execute(text(\"INSERT INTO notes (body) VALUES ('from-process')\"))\n")
    url = database.engine.url.render_as_string(hide_password=False)
    subprocess.run([sys.executable, "-c", script, url], check=True, timeout=60)
    assert _bodies(database) == ["from-process", "from-thread"]


def test_an_uncommitted_write_is_rolled_back_when_the_block_ends(database: Database) -> None:
    with database.kept_connection() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('not committed')"))
    assert _bodies(database) == []
    with database.kept_connection() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('committed')"))
        connection.commit()
    assert _bodies(database) == ["committed"]


def test_an_invalidated_connection_is_replaced(database: Database) -> None:
    with database.kept_connection() as first:
        first.invalidate()
    with database.kept_connection() as second:
        assert second is not first
        assert second.execute(text("SELECT 1")).scalar_one() == 1


def test_connections_of_ended_threads_and_dispose_give_them_back(database: Database) -> None:
    def borrow() -> None:
        _bodies(database)

    thread = threading.Thread(target=borrow)
    thread.start()
    thread.join()
    del thread
    gc.collect()  # the thread object goes, and with it the thread's connection
    assert database.engine.pool.checkedout() == 0

    _bodies(database)
    assert database.engine.pool.checkedout() == 1
    database.dispose()
    with database.kept_connection() as connection:  # usable again after dispose: a new connection
        assert connection.execute(text("SELECT 1")).scalar_one() == 1


def test_a_database_dropped_without_dispose_gives_its_connection_back(database_url: str) -> None:
    db = Database.from_url(database_url)
    engine = db.engine
    with db.kept_connection() as connection:
        connection.execute(text("SELECT 1")).all()
    assert engine.pool.checkedout() == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del db, connection
        gc.collect()
    assert engine.pool.checkedout() == 0
    # closed properly, not found by the garbage collector while still checked out (SQLAlchemy warns then)
    assert not [warning for warning in caught if "garbage collector" in str(warning.message)]
    engine.dispose()
