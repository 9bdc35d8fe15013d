"""How an async API command becomes a job: queued in the request's own transaction, owned by the caller,
and, when it fails, answered with CloudStack's error shape."""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.dispatcher import JobSubmitter
from switchboard.api.errors import internal_error, to_wire
from switchboard.api.responses import AsyncJobRequest
from switchboard.caller import Caller
from switchboard.errors import SwitchboardError
from switchboard.jobs import SYSTEM, JobOwner, JobService, JobSpec

__all__ = ["error_to_result", "job_submitter", "owner_of"]


def job_submitter(jobs: JobService) -> JobSubmitter:
    """The dispatcher's way of queueing an async command's job (the job exists only if the request commits)."""

    def submit(call: Call, request: AsyncJobRequest) -> str:
        spec = JobSpec(
            command=call.command.name,
            handler=request.handler,
            args=request.args,
            owner=owner_of(call.caller),
            instance_type=request.instance_type,
            instance_id=request.instance_id,
        )
        return jobs.submit(call.session, spec)

    return submit


def error_to_result(exc: Exception) -> tuple[int, dict[str, Any]]:
    """A failed job's result code and `jobresult`, as CloudStack's ExceptionResponse (no cserrorcode)."""
    wire = to_wire(exc) if isinstance(exc, SwitchboardError) else internal_error()
    return wire.errorcode, {"uuidList": list(wire.uuids), "errorcode": wire.errorcode, "errortext": wire.errortext}


def owner_of(caller: Caller | None) -> JobOwner:
    """Who owns a job the caller queued (the system when nobody is calling)."""
    if caller is None:
        return SYSTEM
    return JobOwner(
        user_id=caller.user_id,
        user_uuid=caller.user_uuid,
        user_name=caller.username,
        account_id=caller.account_id,
        account_uuid=caller.account_uuid,
        account_name=caller.account_name,
        domain_id=caller.domain_id,
        domain_uuid=caller.domain_uuid,
        domain_path=caller.domain_path,
        role_type=caller.role_type.wire_name,
    )
