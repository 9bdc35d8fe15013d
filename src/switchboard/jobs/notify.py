"""Waking idle workers: in-process when this server queues a job, and across servers on PostgreSQL.

Workers also poll, so a lost wake-up only costs one poll interval; these signals just cut the latency.
On PostgreSQL a statement trigger on `async_job` (migration 0002) issues `pg_notify` in the transaction
that queues jobs (delivered at commit, dropped on rollback), and every server LISTENs on a dedicated
connection.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "switchboard_jobs"  # also named in migration 0002's trigger


class Waker:
    """A generation counter under a condition: `wait(since, t)` returns at once if `notify()` was called
    after the caller read `since` from `generation()`, or after `t` seconds - no wake-up is lost in between.

    `notify()` wakes ONE sleeping waiter, not all: every idle worker racing for the same new job cost a
    claim attempt each, and on SQLite each attempt is a write that queues behind the others. A worker that
    claims a job wakes the next one (see JobRuntime), so a batch of jobs still fans out to all workers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._closed = False

    def generation(self) -> int:
        with self._cond:
            return self._generation

    def notify(self) -> None:
        """Wake one waiter (the others see the new generation on their next check)."""
        with self._cond:
            self._generation += 1
            self._cond.notify()

    def close(self) -> None:
        """Wake every waiter for good (shutdown)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, since: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._generation != since, timeout)


class PgListener:
    """A thread that LISTENs for job notifications on its own connection and pokes the waker.

    Connection failures are logged and retried every `retry` seconds; polling covers the gap."""

    def __init__(self, engine: Engine, waker: Waker, *, retry: float = 2.0) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._waker = waker
        self._retry = retry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _note in conn.notifies(timeout=0.5, stop_after=1):
                            self._waker.notify()
            except psycopg.Error as exc:
                log.warning("job notifications unavailable, relying on polling: %s", exc.__class__.__name__)
                self._stop.wait(self._retry)
