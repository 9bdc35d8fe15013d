"""A database that cannot take a write (full, gone, locked) is told apart from a bug, and `until_available`
waits one out without losing the write."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from switchboard.db.outage import OUT_OF_SPACE, UNAVAILABLE, explain, report_failure, unavailable, until_available
from switchboard.db.sqlite_writes import connection_factory, lock_for


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite database on one connection whose file may not grow past its current size
    (`PRAGMA max_page_count`), so the next page it needs fails with SQLITE_FULL, as on a full disk."""
    engine = create_engine(f"sqlite:///{tmp_path / 'small.db'}", poolclass=StaticPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
    yield engine
    engine.dispose()


def _write(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO blobs (data) VALUES (:data)"), {"data": b"x" * 20000})


def _grow(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA max_page_count = 100000")


def test_a_full_sqlite_database_is_out_of_space(small: Engine) -> None:
    with pytest.raises(OperationalError) as caught:
        _write(small)
    assert unavailable(caught.value) == OUT_OF_SPACE
    assert "free disk space" in explain(OUT_OF_SPACE) and "nothing was recorded" in explain(OUT_OF_SPACE)


def test_bugs_and_refusals_are_not_outages(small: Engine) -> None:
    with pytest.raises(OperationalError) as malformed, small.connect() as connection:
        connection.exec_driver_sql("SELEC 1")  # SQLITE_ERROR: also an OperationalError, but a bug
    assert unavailable(malformed.value) is None
    _grow(small)
    _write(small)
    with pytest.raises(IntegrityError) as duplicate, small.begin() as connection:
        connection.exec_driver_sql("INSERT INTO blobs (id, data) VALUES (1, NULL)")
    assert unavailable(duplicate.value) is None
    assert unavailable(ValueError("no")) is None


def test_a_writer_that_waited_too_long_for_the_lock_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    sqlite3.connect(path).close()
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        assert lock_for(str(path)).acquire(5)
        holder_ready.set()
        release.wait(5)
        lock_for(str(path)).release()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holder_ready.wait(5)
        connection = sqlite3.connect(path, factory=connection_factory(str(path), 0.05))
        with pytest.raises(sqlite3.OperationalError) as caught:
            connection.cursor().execute("CREATE TABLE t (id INTEGER)")
        connection.close()
    finally:
        release.set()
        holder.join()
    assert caught.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert unavailable(OperationalError("CREATE TABLE t", {}, caught.value)) == UNAVAILABLE


@pytest.mark.parametrize(("cause", "expected"), [
    (psycopg.errors.DiskFull("could not extend file"), OUT_OF_SPACE),
    (psycopg.errors.AdminShutdown("terminating connection"), UNAVAILABLE),
    (psycopg.errors.LockNotAvailable("could not obtain lock"), UNAVAILABLE),
    (psycopg.OperationalError("connection refused"), UNAVAILABLE),  # no SQLSTATE: never reached the server
    (psycopg.errors.ProgramLimitExceeded("too many columns"), None),  # an OperationalError, but no outage
])
def test_postgresql_errors_are_judged_by_their_sqlstate(cause: Exception, expected: str | None) -> None:
    assert unavailable(OperationalError("SELECT 1", {}, cause)) == expected


def test_until_available_waits_out_a_full_database_and_then_writes(small: Engine) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            _grow(small)  # space is freed while the writer waits

    until_available(lambda: _write(small), what="a blob", sleep=sleep, first_delay=0.5, max_delay=1.5)
    assert waits == [0.5, 1.0, 1.5]
    with small.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM blobs").scalar_one() == 1


def test_until_available_does_not_retry_a_bug(small: Engine) -> None:
    waits: list[float] = []

    def broken() -> None:
        with small.begin() as connection:
            connection.exec_driver_sql("INSERT INTO nowhere VALUES (1)")

    with pytest.raises(OperationalError):
        until_available(broken, what="nothing", sleep=waits.append)
    assert waits == []


def test_background_failures_are_one_line_for_an_outage_and_a_traceback_for_a_bug(
        small: Engine, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("sbt.outage")
    with pytest.raises(OperationalError) as full:
        _write(small)
    with pytest.raises(OperationalError) as bug, small.connect() as connection:
        connection.exec_driver_sql("SELEC 1")
    with caplog.at_level(logging.WARNING, logger="sbt.outage"):
        report_failure(logger, full.value, "heartbeat of %s failed", "ms1")
        report_failure(logger, full.value, "heartbeat of %s failed", "ms1")  # the same within a minute: held
        report_failure(logger, bug.value, "heartbeat of %s failed", "ms1")  # bugs are never held back
    outage, failure = caplog.records
    assert (outage.levelno, outage.exc_info) == (logging.WARNING, None)
    assert outage.getMessage() == ("heartbeat of ms1 failed: the database is out of disk space "
                                   "(database or disk is full)")
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
