"""SQLite writers inside one process queue on a FIFO lock; readers never wait for it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from switchboard.db.engine import Database, make_engine
from switchboard.db.sqlite_writes import FairLock, lock_for

WAIT = 10.0  # generous bound for thread hand-offs on a loaded machine; no assertion is about time


def _until(condition: object, what: str) -> None:
    event = threading.Event()
    for _ in range(2000):
        if condition():  # type: ignore[operator]
            return
        event.wait(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def test_fair_lock_hands_over_in_arrival_order() -> None:
    lock = FairLock()
    assert lock.acquire(WAIT)
    order: list[int] = []

    def waiter(index: int) -> None:
        assert lock.acquire(WAIT)
        order.append(index)
        lock.release()

    threads = []
    for index in range(4):
        thread = threading.Thread(target=waiter, args=(index,))
        thread.start()
        threads.append(thread)
        _until(lambda n=index + 1: lock.waiting == n, f"{index + 1} waiters")
    lock.release()
    for thread in threads:
        thread.join(WAIT)
    assert order == [0, 1, 2, 3]
    assert not lock.held


def test_fair_lock_timeout_leaves_no_waiter_behind() -> None:
    lock = FairLock()
    assert lock.acquire(WAIT)
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(lock.acquire(0.05)))
    thread.start()
    thread.join(WAIT)
    assert got == [False]
    assert lock.waiting == 0
    lock.release()
    assert not lock.held
    assert lock.acquire(0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    with database.session() as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    database.dispose()


def test_reads_do_not_take_the_lock_and_the_first_write_does(db: Database, tmp_path: Path) -> None:
    lock = lock_for(str((tmp_path / "w.db").resolve()))
    with db.session() as session:
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert not lock.held
        session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert lock.owner == threading.get_ident()
    assert not lock.held  # released at commit
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO t (v) VALUES ('b')"))
        raise RuntimeError("roll back")
    assert not lock.held  # released at rollback
    with db.session() as session:
        assert session.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == ["a"]


def test_a_second_writer_queues_while_readers_carry_on(db: Database, tmp_path: Path) -> None:
    lock = lock_for(str((tmp_path / "w.db").resolve()))
    first_wrote = threading.Event()
    finish_first = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.session() as session:
                session.execute(text("INSERT INTO t (v) VALUES ('first')"))
                first_wrote.set()
                finish_first.wait(WAIT)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    def second() -> None:
        try:
            with db.session() as session:
                session.execute(text("INSERT INTO t (v) VALUES ('second')"))
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert first_wrote.wait(WAIT)
    two = threading.Thread(target=second)
    two.start()
    _until(lambda: lock.waiting == 1, "the second writer to queue")
    with db.session() as session:  # a reader is not held up by the open write transaction
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    finish_first.set()
    one.join(WAIT)
    two.join(WAIT)
    assert errors == []
    with db.session() as session:
        assert session.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == ["first", "second"]
    assert not lock.held


def test_a_connection_dropped_mid_write_hands_the_lock_on(tmp_path: Path) -> None:
    import gc
    import sqlite3

    from switchboard.db.sqlite_writes import connection_factory

    path = str((tmp_path / "d.db").resolve())
    factory = connection_factory(path, 5.0)
    lock = lock_for(path)
    conn = sqlite3.connect(path, factory=factory, check_same_thread=False)
    conn.cursor().execute("CREATE TABLE t (v TEXT)")
    conn.cursor().execute("INSERT INTO t VALUES ('x')")
    assert lock.held and conn.in_transaction
    del conn
    gc.collect()
    assert not lock.held
