"""The jobs service the rest of the server uses: register handlers, queue jobs, read them back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.errors import OperationFailed
from switchboard.jobs import queries, repository
from switchboard.jobs.context import JobSpec
from switchboard.jobs.handlers import JobHandlers
from switchboard.jobs.notify import Waker
from switchboard.jobs.queries import JobFilter, JobScope, JobView, ServerView
from switchboard.jobs.states import ServerStatus


class JobService:
    """Queues jobs inside the caller's transaction and answers queries about them.

    `handlers` is where services register what their jobs run (see switchboard.jobs.handlers)."""

    def __init__(self, *, handlers: JobHandlers, waker: Waker, heartbeat_timeout: float = 20.0) -> None:
        self.handlers = handlers
        self._waker = waker
        self._heartbeat_timeout = heartbeat_timeout

    def submit(self, session: Session, spec: JobSpec) -> str:
        """Queue `spec` in `session`'s transaction and return the job's uuid. The job exists only if that
        transaction commits; idle workers (here and, on PostgreSQL, on every server) are woken at commit.

        Raises OperationFailed if no handler called `spec.handler` is registered in this server."""
        if spec.handler not in self.handlers:
            raise OperationFailed(f"Unable to queue {spec.command}: no job handler {spec.handler!r} in this server")
        uuid = repository.insert_job(session, spec, now=utcnow())
        event.listen(session, "after_commit", self._after_commit, once=True)
        return uuid

    def get(self, db: Session | Connection, job_uuid: str) -> JobView | None:
        """The job with public id `job_uuid`, read in `db`'s transaction; None when unknown."""
        return queries.get_view(db if isinstance(db, Connection) else db.connection(), job_uuid)

    def list_jobs(
        self, session: Session, *, scope: JobScope, filters: JobFilter, offset: int = 0, limit: int | None = None
    ) -> tuple[list[JobView], int]:
        """A page of jobs visible in `scope`, newest first, and the total before paging."""
        return queries.list_views(session, scope=scope, filters=filters, offset=offset, limit=limit)

    def cancel(self, session: Session, job_uuid: str) -> bool:
        """Cancel a job no worker has started; False if it is already running or finished."""
        return repository.cancel_pending(session, job_uuid=job_uuid, now=utcnow())

    def servers(self, session: Session) -> list[ServerView]:
        """Every management server that ever registered, with whether it is alive now (Up, and its last
        heartbeat within the heartbeat timeout, judged by the same clock the heartbeats use)."""
        cutoff = repository.database_now(session) - dt.timedelta(seconds=self._heartbeat_timeout)
        return [
            ServerView(
                uuid=server.uuid,
                name=server.name,
                status=ServerStatus(server.status),
                alive=server.status == ServerStatus.UP.value and server.last_heartbeat >= cutoff,
                started=server.started,
                last_heartbeat=server.last_heartbeat,
            )
            for server in repository.list_servers(session)
        ]

    def _after_commit(self, _session: Any) -> None:
        self._waker.notify()
