"""One writer at a time per SQLite file inside this process, queued in arrival order.

SQLite allows one write transaction at a time; a connection that finds the write lock taken waits in
sqlite3's busy handler, which sleeps in coarse steps (1, 2, 5, 10 ... 100 ms) and re-polls. With API threads,
job workers and background loops all writing short transactions, those sleeps - not the work - dominated:
a writer often slept tens of milliseconds after the lock had long been free, and late arrivals with short
sleeps overtook early ones.

So writers inside this process queue on a FIFO lock instead: a connection takes it just before the
statement that opens its write transaction (the implicit BEGIN of Python's sqlite3 module before
INSERT/UPDATE/DELETE/REPLACE, an explicit BEGIN or SAVEPOINT, or DDL) and hands it on as soon as the
transaction ends (commit, rollback, close). Reads never take it: in WAL mode they run beside the writer.
The busy handler still arbitrates between processes (a second server, the CLI), exactly as before.

Read-then-write sessions keep their behaviour: Python's sqlite3 runs reads outside a transaction until the
first write, so the transaction (and the lock) starts at that write, never as a snapshot upgrade.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import deque
from typing import Any

# Statements that open a write transaction (or write on their own) when no transaction is open.
_WRITE_START = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|BEGIN|SAVEPOINT|CREATE|DROP|ALTER)\b", re.IGNORECASE)

_LOCKS: dict[str, FairLock] = {}
_LOCKS_GUARD = threading.Lock()


class FairLock:
    """A non-reentrant lock handed to waiters in arrival order."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._owner: int | None = None
        self._waiters: deque[threading.Lock] = deque()

    @property
    def owner(self) -> int | None:
        """The thread ident of the holder, or None (free, or being handed over)."""
        return self._owner

    @property
    def held(self) -> bool:
        return self._held

    @property
    def waiting(self) -> int:
        """How many threads are queued for the lock."""
        with self._mutex:
            return len(self._waiters)

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the lock; False if it did not come."""
        with self._mutex:
            if not self._held:
                self._held = True
                self._owner = threading.get_ident()
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiters.append(gate)
        if not gate.acquire(timeout=timeout):
            with self._mutex:
                if gate in self._waiters:
                    self._waiters.remove(gate)
                    return False
            # Handed over between the timeout and the removal: the lock is ours after all.
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        """Hand the lock to the longest waiter, or free it."""
        with self._mutex:
            self._owner = None
            if self._waiters:
                self._waiters.popleft().release()  # stays held: ownership passes to that waiter
            else:
                self._held = False


def lock_for(path: str) -> FairLock:
    """The process-wide writer lock of the SQLite file `path` (shared by every engine on that file)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, FairLock())


def connection_factory(path: str, timeout: float) -> type[sqlite3.Connection]:
    """A sqlite3.Connection class (for `sqlite3.connect(factory=...)`) whose writers queue on the file's
    FairLock. Waiting longer than `timeout` seconds raises sqlite3.OperationalError("database is locked"),
    as the busy handler would."""
    lock = lock_for(path)

    class SerialisedWriterConnection(sqlite3.Connection):
        _holds_write_lock = False

        def cursor(self, factory: Any = None) -> Any:
            return super().cursor(factory or SerialisedWriterCursor)

        def read_cursor(self) -> sqlite3.Cursor:
            """A plain cursor, for statements known to only read (they never take the writer lock, and
            this skips the per-statement check of the queueing cursor)."""
            return super().cursor()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._release_unless_in_transaction()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._release_unless_in_transaction()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._release()

        def __del__(self) -> None:
            # A connection dropped without close() (it should not happen: the pool closes or resets every
            # connection) must not keep every other writer of this process waiting.
            self._release()

        def _before(self, sql: str) -> None:
            if self._holds_write_lock or self.in_transaction or not _WRITE_START.match(sql):
                return
            if lock.owner == threading.get_ident():
                return  # a nested write on another connection of this thread: SQLite's busy handler decides
            if not lock.acquire(timeout):
                busy = sqlite3.OperationalError("database is locked")
                busy.sqlite_errorcode, busy.sqlite_errorname = sqlite3.SQLITE_BUSY, "SQLITE_BUSY"  # as SQLite's own
                raise busy
            self._holds_write_lock = True

        def _release_unless_in_transaction(self) -> None:
            try:
                in_transaction = self.in_transaction
            except sqlite3.ProgrammingError:  # closed
                in_transaction = False
            if not in_transaction:
                self._release()

        def _release(self) -> None:
            if self._holds_write_lock:
                self._holds_write_lock = False
                lock.release()

    class SerialisedWriterCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> Any:
            connection: SerialisedWriterConnection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().execute(sql, parameters)
            finally:
                connection._release_unless_in_transaction()

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Any:
            connection: SerialisedWriterConnection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().executemany(sql, seq_of_parameters)
            finally:
                connection._release_unless_in_transaction()

    return SerialisedWriterConnection
