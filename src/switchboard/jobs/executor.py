"""Running one claimed job, and repairing one orphaned job, up to the recorded outcome.

Both end with a conditional write of the outcome (`repository.finish`): a run that lost the job to a
takeover drops its outcome instead of overwriting the one the rescuer recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.outage import explain, report_failure, unavailable, until_available
from switchboard.errors import ExtensionFailed, OperationFailed, SwitchboardError
from switchboard.jobs import repository
from switchboard.jobs.context import JobContext
from switchboard.jobs.handlers import JobHandlers, UnknownHandler
from switchboard.jobs.repository import ClaimedJob, Orphan, ServerRun
from switchboard.jobs.states import JobStatus

log = logging.getLogger(__name__)

# Turns a handler's exception into (result code, failure result); supplied by the composition root so that
# the wire codes stay with the API.
ErrorToResult = Callable[[Exception], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Outcome:
    status: JobStatus
    code: int
    result: dict[str, Any]


class Executor:
    """Runs handlers for one server run and records what came of them."""

    def __init__(
        self,
        *,
        db: Database,
        handlers: JobHandlers,
        error_to_result: ErrorToResult,
        retry_delay: float = 0.5,
    ) -> None:
        self._db = db
        self._handlers = handlers
        self._error_to_result = error_to_result
        self._retry_delay = retry_delay

    def run(self, job: ClaimedJob, run: ServerRun) -> Outcome:
        """Run a job this run has claimed and record its outcome. Handler failures become a FAILED job;
        nothing a handler raises escapes."""
        ctx = self.context(job, run)
        try:
            result = self._handlers.get(job.handler).run(ctx)
            outcome = Outcome(JobStatus.SUCCEEDED, 0, _json_object(result, job.handler))
        except ExtensionFailed as exc:  # its text carries the extension's output, which never goes to the log
            log.info("job %s (%s) failed: an extension failed (the job result says how)", job.uuid, job.command)
            outcome = self._failure(exc)
        except SwitchboardError as exc:
            log.info("job %s (%s) failed: %s", job.uuid, job.command, exc.message)
            outcome = self._failure(exc)
        except Exception as exc:  # the worker's boundary: an unexpected error still finishes the job
            reason = unavailable(exc)
            if reason is None:
                log.exception("job %s (%s) failed unexpectedly", job.uuid, job.command)
                outcome = self._failure(exc)
            else:  # an operational condition, not a bug: one line, and a result that says what to do
                log.warning("job %s (%s) not carried out: %s", job.uuid, job.command, reason)
                outcome = self._failure(OperationFailed(explain(reason)))
        self.record(job, run, outcome)
        return outcome

    def recover(self, orphan: Orphan, run: ServerRun) -> Outcome | None:
        """Take an orphaned job over, run its handler's interruption hook, and fail it with the
        interruption text. None if another server took it first."""
        interruption = (
            f"Job interrupted: management server {orphan.server_name or 'unknown'} stopped while running it"
        )
        with self._db.session() as session:
            if not repository.adopt_orphan(session, orphan=orphan, run=run, interruption=interruption,
                                           now=utcnow()):
                return None
            job = repository.load_job(session, orphan.job_id)
        message = job.interruption or interruption
        log.warning("job %s (%s): %s", job.uuid, job.command, message)
        try:
            hook = self._handlers.get(job.handler).on_interrupted
        except UnknownHandler:
            log.error("job %s: handler %s is not registered here, so no recovery hook ran", job.uuid, job.handler)
            hook = None
        if hook is not None:
            try:
                hook(self.context(job, run, interruption=message))
            except Exception as exc:  # a failed repair must not keep the job in progress forever
                log.exception("job %s: the recovery hook of %s failed", job.uuid, job.handler)
                message = f"{message}; recovery failed: {exc}"
        outcome = self._failure(OperationFailed(message))
        self.record(job, run, outcome)
        return outcome

    def context(self, job: ClaimedJob, run: ServerRun, *, interruption: str | None = None) -> JobContext:
        def report(value: int) -> None:
            try:
                with self._db.session() as session:
                    repository.set_progress(session, job_id=job.id, runid=run.runid, value=value)
            except SQLAlchemyError as exc:
                report_failure(log, exc, "job %s: could not record progress", job.uuid)

        return JobContext(
            job_id=job.id,
            job_uuid=job.uuid,
            command=job.command,
            handler=job.handler,
            args=dict(job.args),
            owner=job.owner,
            instance_type=job.instance_type,
            instance_id=job.instance_id,
            db=self._db,
            interruption=interruption,
            _report_progress=report,
        )

    def record(self, job: ClaimedJob, run: ServerRun, outcome: Outcome) -> bool:
        """Write the outcome, waiting while the database cannot take it (full disk, lost connection) for as
        long as the server runs: if it stops first, the next run fails the job as interrupted. False if the
        job is no longer this run's (it was taken over), or the write failed for another reason (logged;
        the job is then left to the takeover)."""

        def finish() -> bool:
            with self._db.kept_connection() as connection:
                mine = repository.finish(connection, job_id=job.id, runid=run.runid, status=outcome.status,
                                         code=outcome.code, result=outcome.result, now=utcnow())
                connection.commit()
            return mine

        try:
            mine = until_available(finish, what=f"the outcome of job {job.uuid}", first_delay=self._retry_delay)
        except SQLAlchemyError:
            log.exception("job %s: recording the outcome failed; the takeover will fail it", job.uuid)
            return False
        if not mine:
            log.warning("job %s was taken over by another server; its outcome is dropped", job.uuid)
        return mine

    def _failure(self, exc: Exception) -> Outcome:
        code, result = self._error_to_result(exc)
        return Outcome(JobStatus.FAILED, code, result)


def _json_object(result: object, handler: str) -> dict[str, Any]:
    """The handler's result as a plain JSON object; raises OperationFailed if it is not one."""
    if not isinstance(result, dict):
        raise OperationFailed(f"job handler {handler} returned {type(result).__name__}, not a JSON object")
    try:
        decoded: dict[str, Any] = json.loads(json.dumps(result))
    except (TypeError, ValueError) as exc:
        raise OperationFailed(f"job handler {handler} returned a result that is not JSON: {exc}") from exc
    return decoded
