"""The job machinery of one server process: registration, heartbeats, workers and takeover of orphans.

    start()  register this server (new run id, Up), then start
             - `workers` threads that claim pending jobs and run them,
             - a heartbeat thread that stamps this run's row every `heartbeat_interval`,
             - a reaper thread that, at once and then every `heartbeat_interval`, fails the jobs of runs that
               are gone (this server's own previous run included) after running their recovery hooks, and
               now and then deletes jobs finished more than `expire_after` ago,
             - on PostgreSQL, a LISTEN thread for wake-ups from other servers.
    stop()   stop claiming, wait up to `shutdown_grace` for running jobs, mark this server Down.

Heartbeats and recovery run on separate threads so that a slow recovery hook never delays a heartbeat
(which would make other servers take this one for dead).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from switchboard.db.base import utcnow
from switchboard.db.engine import Database, is_postgres
from switchboard.db.outage import report_failure
from switchboard.jobs import repository
from switchboard.jobs.executor import Executor
from switchboard.jobs.handlers import JobHandlers
from switchboard.jobs.notify import PgListener, Waker
from switchboard.jobs.repository import ServerRun
from switchboard.jobs.settings import JobSettings

log = logging.getLogger(__name__)

# Seconds between deletions of expired jobs (each server does it; the work is idempotent).
_PURGE_EVERY = 60.0


class JobRuntime:
    """Runs jobs inside this process. Not restartable: build a new one after `stop()`."""

    def __init__(
        self,
        *,
        db: Database,
        handlers: JobHandlers,
        executor: Executor,
        waker: Waker,
        settings: JobSettings,
        server_uuid: str,
        server_name: str,
        expire_after: Callable[[], float] | None = None,
    ) -> None:
        self._db = db
        # `job.expire.minutes` is dynamic: read at every purge (in seconds); else the settings' value.
        self._expire_after = expire_after or (lambda: settings.expire_after)
        self._handlers = handlers
        self._executor = executor
        self._waker = waker
        self._settings = settings
        self._server_uuid = server_uuid
        self._server_name = server_name
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []
        self._listener: PgListener | None = None
        self._run: ServerRun | None = None

    @property
    def run(self) -> ServerRun:
        """This process's registration; RuntimeError before `start()`."""
        if self._run is None:
            raise RuntimeError("the job runtime has not been started")
        return self._run

    def start(self) -> ServerRun:
        """Register this server and start the threads. Raises SQLAlchemyError if the database is unreachable."""
        with self._db.session() as session:
            self._run = repository.register_server(
                session, uuid=self._server_uuid, name=self._server_name, runid=str(uuid.uuid4()),
                now=repository.database_now(session),
            )
        log.info("management server %s (%s) up, run %s", self._run.name, self._run.uuid, self._run.runid)
        for index in range(self._settings.workers):
            worker = threading.Thread(target=self._work, name=f"jobs-worker-{index}", daemon=True)
            self._workers.append(worker)
        self._threads = [
            *self._workers,
            threading.Thread(target=self._beat, name="jobs-heartbeat", daemon=True),
            threading.Thread(target=self._reap, name="jobs-reaper", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if is_postgres(self._db.engine):
            self._listener = PgListener(self._db.engine, self._waker)
            self._listener.start()
        return self._run

    def stop(self) -> None:
        """Stop claiming, give running jobs `shutdown_grace` seconds, then mark this server Down. Jobs
        still running after that are left to the takeover (by another server, or this one's next start)."""
        if self._run is None:
            return
        self._stopping.set()
        self._waker.close()
        if self._listener is not None:
            self._listener.stop()
        deadline = time.monotonic() + self._settings.shutdown_grace
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        busy = [thread.name for thread in self._workers if thread.is_alive()]
        if busy:
            log.warning("shutting down with jobs still running on %s", ", ".join(busy))
        try:
            with self._db.session() as session:
                repository.mark_down(session, run=self._run)
        except SQLAlchemyError as exc:
            report_failure(log, exc, "could not mark management server %s Down", self._run.name)
        log.info("management server %s down", self._run.name)

    def poke(self) -> None:
        """Wake idle workers now (a job was queued in this process)."""
        self._waker.notify()

    # --- threads -----------------------------------------------------------------------------------------

    def _work(self) -> None:
        run = self.run
        while not self._stopping.is_set():
            since = self._waker.generation()
            try:
                # On this thread's kept connection: workers look for work after every job and whenever woken,
                # and a Session plus a pool checkout for each look would cost more than the look itself.
                with self._db.kept_connection() as connection:
                    job = repository.claim_next(connection, run=run, handlers=self._handlers.names(),
                                                now=utcnow())
                    connection.commit()
            except SQLAlchemyError as exc:
                report_failure(log, exc, "claiming a job failed; retrying")
                self._stopping.wait(self._settings.poll_interval)
                continue
            if job is None:
                self._waker.wait(since, self._settings.poll_interval)
                continue
            if job.others_waiting:  # let the next idle worker look (one wake-up each); jobs queued later wake
                self._waker.notify()  # workers themselves when they are committed
            try:
                self._executor.run(job, run)
            except Exception:  # keep the worker alive whatever happens; the error is in the log
                log.exception("worker failed while finishing job %s", job.uuid)

    def _beat(self) -> None:
        run = self.run
        while not self._stopping.wait(self._settings.heartbeat_interval):
            try:
                with self._db.session() as session:
                    if not repository.heartbeat(session, run=run, now=repository.database_now(session)):
                        log.error("management server %s: another process registered with this server's "
                                  "identity; its jobs may be taken over", run.name)
            except SQLAlchemyError as exc:
                report_failure(log, exc, "heartbeat failed")

    def _reap(self) -> None:
        next_purge = 0.0
        while not self._stopping.is_set():
            try:
                self.reap_once()
                if time.monotonic() >= next_purge:
                    self.purge_once()
                    next_purge = time.monotonic() + _PURGE_EVERY
            except SQLAlchemyError as exc:
                report_failure(log, exc, "looking for orphaned or expired jobs failed")
            except Exception:  # keep the reaper alive; the next round tries again
                log.exception("recovering orphaned jobs failed")
            self._stopping.wait(self._settings.heartbeat_interval)

    def purge_once(self) -> int:
        """Delete jobs finished more than `expire_after` seconds ago; returns how many."""
        with self._db.session() as session:
            before = repository.database_now(session) - dt.timedelta(seconds=self._expire_after())
            purged = repository.purge_finished(session, before=before)
        if purged:
            log.info("deleted %d expired jobs", purged)
        return purged

    def reap_once(self) -> int:
        """Fail every orphaned job (after its recovery hook); returns how many this run finished."""
        run = self.run
        with self._db.session() as session:
            cutoff = repository.database_now(session) - dt.timedelta(seconds=self._settings.heartbeat_timeout)
            orphans = repository.find_orphans(session, cutoff=cutoff, own_runid=run.runid)
        recovered = 0
        for orphan in orphans:
            if self._stopping.is_set():
                break
            if self._executor.recover(orphan, run) is not None:
                recovered += 1
        return recovered
