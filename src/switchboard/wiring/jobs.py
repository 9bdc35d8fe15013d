"""Wiring of the jobs area into the management server.

* `parts.services.registry["jobs"]` - the JobService; services register their job handlers on
  `job_service(services).handlers` in their own `wire()` (areas wired after this one).
* `parts.submit_job` - queues an async API command's job in the request's own transaction.
* start-up: register this server, start heartbeats, workers and the takeover of orphaned jobs;
  shut-down: stop them and mark this server Down.

Testing and plug-in hook: `SWITCHBOARD_EXTRA_MODULES=pkg.mod[,pkg.other]` names modules imported here. A
module may define `register_job_handlers(jobs: JobService)`, which is called; importing it may also
register API commands. The test suite uses this to load test-only handlers into a real server process.

The server's name (shown in job listings and interruption errors) is `<host name>:<API port>` unless
SWITCHBOARD_SERVER_NAME says otherwise; its identity in the database derives from that name.

Tunables (seconds unless noted): SWITCHBOARD_JOB_WORKERS (count), SWITCHBOARD_JOB_POLL_INTERVAL,
SWITCHBOARD_HEARTBEAT_INTERVAL, SWITCHBOARD_HEARTBEAT_TIMEOUT, SWITCHBOARD_JOB_SHUTDOWN_GRACE,
SWITCHBOARD_JOB_EXPIRE (finished jobs are deleted after it; default one day).
"""

from __future__ import annotations

import importlib
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from switchboard.api.call import Call
from switchboard.api.caller import Caller
from switchboard.api.errors import internal_error, to_wire
from switchboard.api.responses import AsyncJobRequest
from switchboard.errors import SwitchboardError
from switchboard.jobs import (
    Executor,
    JobHandlers,
    JobOwner,
    JobRuntime,
    JobService,
    JobSettings,
    JobSpec,
    Waker,
)
from switchboard.jobs.context import SYSTEM
from switchboard.settings import Settings

if TYPE_CHECKING:
    from switchboard.server import ServerParts

log = logging.getLogger(__name__)

EXTRA_MODULES_VARIABLE = "SWITCHBOARD_EXTRA_MODULES"
SERVER_NAME_VARIABLE = "SWITCHBOARD_SERVER_NAME"
_SERVER_NAMESPACE = uuid.UUID("6f1f6c1e-3a57-4d0e-9a39-7d1b8c2f5e40")


def wire(parts: ServerParts) -> None:
    services = parts.services
    settings = JobSettings.from_env()
    name = server_name(services.settings)
    handlers = JobHandlers()
    waker = Waker()
    jobs = JobService(handlers=handlers, waker=waker, heartbeat_timeout=settings.heartbeat_timeout)
    runtime = JobRuntime(
        db=services.db,
        handlers=handlers,
        executor=Executor(db=services.db, handlers=handlers, error_to_result=error_to_result),
        waker=waker,
        settings=settings,
        server_uuid=server_uuid(name),
        server_name=name,
    )
    services.registry["jobs"] = jobs
    services.registry["jobs.runtime"] = runtime

    def submit_job(call: Call, request: AsyncJobRequest) -> str:
        spec = JobSpec(
            command=call.command.name,
            handler=request.handler,
            args=request.args,
            owner=owner_of(call.caller),
            instance_type=request.instance_type,
            instance_id=request.instance_id,
        )
        return jobs.submit(call.session, spec)

    def start_jobs() -> None:
        runtime.start()

    parts.submit_job = submit_job
    parts.startup.append(start_jobs)
    parts.shutdown.append(runtime.stop)
    load_extra_modules(jobs)


def error_to_result(exc: Exception) -> tuple[int, dict[str, Any]]:
    """A failed job's result code and `jobresult`, as CloudStack's ExceptionResponse (no cserrorcode)."""
    wire = to_wire(exc) if isinstance(exc, SwitchboardError) else internal_error()
    return wire.errorcode, {"uuidList": list(wire.uuids), "errorcode": wire.errorcode, "errortext": wire.errortext}


def owner_of(caller: Caller | None) -> JobOwner:
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


def server_name(settings: Settings) -> str:
    """This server's name: SWITCHBOARD_SERVER_NAME, or `<host name>:<API port>`."""
    return os.environ.get(SERVER_NAME_VARIABLE) or f"{settings.server_name}:{settings.port}"


def server_uuid(name: str) -> str:
    """This server's stable identity, derived from its name.

    A restart keeps it, so the new run recognises - and at once fails - the jobs its previous run left in
    progress. It deliberately does not live in the data directory: servers may share that directory (and
    its key file), while no two live servers can have the same name, since one host cannot bind one port
    twice. Servers on different hosts with the same host name must set SWITCHBOARD_SERVER_NAME."""
    return str(uuid.uuid5(_SERVER_NAMESPACE, name))


def load_extra_modules(jobs: JobService) -> None:
    """Import the modules named in SWITCHBOARD_EXTRA_MODULES and let them register job handlers."""
    names = [name.strip() for name in os.environ.get(EXTRA_MODULES_VARIABLE, "").split(",") if name.strip()]
    for name in names:
        module = importlib.import_module(name)
        register = getattr(module, "register_job_handlers", None)
        if register is not None:
            register(jobs)
        log.info("loaded extra module %s", name)
