"""Engine and session factory: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL via psycopg 3."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from switchboard.db.sqlite_writes import connection_factory

log = logging.getLogger(__name__)

# Seconds a SQLite writer waits for the write lock (in this process, then in SQLite's busy handler).
_SQLITE_LOCK_TIMEOUT = 30.0


# The pool: connections for short-lived sessions, on top of the ones threads keep (kept_connection).
_POOL_FOR_SESSIONS = 10
_POOL_OVERFLOW = 20


def make_engine(url: str, *, kept_connections: int = 0, **kwargs: Any) -> Engine:
    """Create the engine for `url`. SQLite files get WAL and enforced foreign keys on every connection, and
    their writers inside this process queue in arrival order (see `switchboard.db.sqlite_writes`).

    `kept_connections`: how many threads will hold a kept connection (job workers, the event loop). The
    pool grows by that many, so that kept connections never starve sessions of the pool (on SQLite too:
    with ten job workers, SQLAlchemy's default of 5 + 10 left API requests waiting for a connection).

    Statement parameters are kept out of error messages (`hide_parameters`): an error's text reaches the
    log, and the values it would quote may be secrets (extension details, sealed keys)."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": _SQLITE_LOCK_TIMEOUT}
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):  # a file: QueuePool
            make_private(database)
            connect_args["factory"] = connection_factory(os.path.realpath(database), _SQLITE_LOCK_TIMEOUT)
            kwargs.setdefault("pool_size", _POOL_FOR_SESSIONS + kept_connections)
            kwargs.setdefault("max_overflow", _POOL_OVERFLOW)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_LOCK_TIMEOUT * 1000)}")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", _POOL_FOR_SESSIONS + kept_connections)
    kwargs.setdefault("max_overflow", _POOL_OVERFLOW)
    return create_engine(url, pool_pre_ping=True, **kwargs)


# The files SQLite keeps beside a database (write-ahead log, shared memory index, rollback journal).
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private(database: str) -> None:
    """Make a SQLite database file and its companions readable by their owner only (0600), whatever the
    directory or umask: the database holds password hashes, sealed secrets and extension details.

    The file is created 0600 when missing; SQLite then creates its WAL and shared-memory files with the
    database file's mode. Existing files (a database made by an older version, or copied in) are narrowed."""
    try:
        os.close(os.open(database, os.O_RDONLY | os.O_CREAT, 0o600))
    except OSError:
        return  # no such directory, or not ours to create: SQLite reports it when it connects
    for path in (database, *(f"{database}{suffix}" for suffix in _SQLITE_COMPANIONS)):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            continue
        except PermissionError as exc:  # another user's file: say so, the database still opens
            log.warning("cannot make %s private (0600): %s", path, exc.strerror)


def end_transaction(connection: Connection) -> None:
    """Roll back whatever transaction `connection` holds open in the database.

    Python's sqlite3 opens a transaction only before the first write, so after reads SQLite holds none:
    then only SQLAlchemy's own bookkeeping transaction is open, and it is left as it is (ending it costs
    about a tenth of a short read; a later `commit()`/`rollback()` or a Session joining it behaves as on a
    fresh connection). Every other database gets its ROLLBACK."""
    if not connection.in_transaction() or connection.invalidated:
        return
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not getattr(dbapi, "in_transaction", True):
            return
    connection.rollback()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Database:
    """The engine plus a session factory. `session()` commits on success and rolls back on error;
    `kept_connection()` lends this thread's long-lived connection to short reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self._kept = threading.local()
        self._kept_all: set[Connection] = set()  # every kept connection, for dispose()
        self._kept_guard = threading.Lock()
        # A Database dropped without dispose() still gives its kept connections back to the pool.
        weakref.finalize(self, _close_all_kept, self._kept_all, self._kept_guard)

    @classmethod
    def from_url(cls, url: str, *, kept_connections: int = 0) -> Database:
        """A Database for `url`; `kept_connections` sizes the PostgreSQL pool (see make_engine)."""
        return cls(make_engine(url, kept_connections=kept_connections))

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def kept_connection(self) -> Iterator[Connection]:
        """This thread's kept connection, opened on first use and kept open between uses.

        Checking a connection out of the pool and back in costs more than a short indexed read, so quick
        reads borrow a connection that stays checked out for the thread's lifetime. It never stays inside
        a database transaction: whatever is still open when the block ends is rolled back (see
        `end_transaction`; the caller commits what it wants kept), so every use sees what other
        connections and processes committed.
        A connection that was closed or invalidated (e.g. the database server restarted) is replaced on
        the next use. A nested use on the same thread gets a connection of its own.
        """
        connection: Connection | None = self._kept.__dict__.pop("connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self._open_kept()
        try:
            yield connection
        finally:
            self._return_kept(connection)

    def _open_kept(self) -> Connection:
        connection = self.engine.connect()
        with self._kept_guard:
            self._kept_all.add(connection)
        # Closed when the thread ends, so that the pool gets it back instead of the garbage collector
        # finding a connection still checked out (held weakly here: the Database may go first).
        weakref.finalize(threading.current_thread(), _close_kept, self._kept_all, self._kept_guard,
                         weakref.ref(connection))
        return connection

    def _return_kept(self, connection: Connection) -> None:
        try:
            end_transaction(connection)
        except BaseException:
            connection.invalidate()  # unusable now: closed without the ROLLBACK that just failed
            _close_kept(self._kept_all, self._kept_guard, weakref.ref(connection))
            raise
        if connection.closed or connection.invalidated or "connection" in self._kept.__dict__:
            _close_kept(self._kept_all, self._kept_guard, weakref.ref(connection))
        else:
            self._kept.connection = connection

    def dispose(self) -> None:
        """Close every kept connection, then the pool's connections."""
        _close_all_kept(self._kept_all, self._kept_guard)
        self.engine.dispose()


def _close_kept(kept: set[Connection], guard: threading.Lock, reference: weakref.ref[Connection]) -> None:
    connection = reference()
    if connection is None:
        return
    with guard:
        kept.discard(connection)
    connection.close()


def _close_all_kept(kept: set[Connection], guard: threading.Lock) -> None:
    with guard:
        connections = list(kept)
    for connection in connections:
        _close_kept(kept, guard, weakref.ref(connection))
