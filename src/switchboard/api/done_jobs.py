"""Jobs for async commands whose work is done in the request itself.

CloudStack runs some commands as async jobs (createTags, createProject, scaleVirtualMachine, ...) that
Switchboard can carry out at once, in the request's transaction. The client still gets a job, as it expects:
`api.done` answers the result the request computed; `api.refused` fails with the request's reason, as
CloudStack's job would (for what it refuses inside the job, e.g. scaling an External instance).
"""

from __future__ import annotations

from typing import Any

from switchboard.api.responses import AsyncJobRequest
from switchboard.errors import InvalidParameter
from switchboard.jobs import JobContext, JobHandlers

__all__ = ["DONE_JOB", "REFUSED_JOB", "done", "refused", "register_done_jobs"]

DONE_JOB = "api.done"
REFUSED_JOB = "api.refused"


def done(result: dict[str, Any], *, instance_type: str | None = None, object_id: str | None = None) -> AsyncJobRequest:
    """A job that answers `result` (e.g. `{"success": True}` or `{"project": {...}}`)."""
    return AsyncJobRequest(handler=DONE_JOB, args={"result": result}, instance_type=instance_type,
                           instance_id=object_id, object_id=object_id)


def refused(message: str, *, uuid: str, instance_type: str | None = None) -> AsyncJobRequest:
    """A job that fails with 431 and `message`; `uuid` is the object it is about (shown in job listings)."""
    return AsyncJobRequest(handler=REFUSED_JOB, args={"message": message, "uuid": uuid},
                           instance_type=instance_type, instance_id=uuid)


def register_done_jobs(handlers: JobHandlers) -> None:
    def answer(ctx: JobContext) -> dict[str, Any]:
        result: dict[str, Any] = ctx.args["result"]
        return result

    def refuse(ctx: JobContext) -> dict[str, Any]:
        raise InvalidParameter(ctx.args["message"])

    handlers.register(DONE_JOB, answer)
    handlers.register(REFUSED_JOB, refuse)
