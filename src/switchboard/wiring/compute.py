"""Wiring of the compute area into the management server.

* `services.registry["compute.lifecycle"]` — the Lifecycle (instance operations);
* `services.registry["compute.power_sync"]` — the PowerSync loop;
* job handlers for the async instance commands, each with an interruption hook that puts an instance a dead
  server left in Starting / Stopping / Expunging into a stable state;
* a deletion guard: hosts that instances still run on;
* start-up: the power-sync loop (one server at a time holds its lease); shut-down: stop it.

Settings: see switchboard.compute.settings (SWITCHBOARD_EXTENSION_WAIT, SWITCHBOARD_POWER_SYNC_*).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.api.commands.instances import (
    DEPLOY_JOB,
    DESTROY_JOB,
    EXPUNGE_JOB,
    LIFECYCLE_SERVICE,
    REBOOT_JOB,
    START_JOB,
    STOP_JOB,
    render_one,
)
from switchboard.compute.actions import Actions
from switchboard.compute.lifecycle import Lifecycle
from switchboard.compute.power_sync import PowerSync
from switchboard.compute.settings import ComputeSettings
from switchboard.db.models.compute import Instance
from switchboard.db.outage import until_available
from switchboard.extensions.registry import registry_of
from switchboard.extensions.runner import ExtensionRunner
from switchboard.identity.serverkey import ServerKey
from switchboard.infra.usage import USAGE_SERVICE, UsageChecks
from switchboard.jobs import JobContext, job_service
from switchboard.services import Services
from switchboard.wiring.extensions import RUNNER_SERVICE

if TYPE_CHECKING:
    from switchboard.server import ServerParts

POWER_SYNC_SERVICE = "compute.power_sync"

def _in_use(column: Any, what: str) -> Callable[[Session, int], str | None]:
    def check(session: Session, resource_id: int) -> str | None:
        found = session.execute(
            select(Instance.name).where(column == resource_id, Instance.removed.is_(None)).limit(1)
        ).scalar_one_or_none()
        return f"The {what} is still used by instance {found}" if found is not None else None

    return check


def _handlers(services: Services, lifecycle: Lifecycle) -> dict[str, Callable[[JobContext], dict[str, Any]]]:
    def result(ctx: JobContext) -> dict[str, Any]:
        # A read only: on this worker's kept connection (no Session, no pool checkout). The operation is
        # done by now, so a database outage delays its result rather than failing the job.
        def read() -> dict[str, Any]:
            with services.db.kept_connection() as connection:
                return render_one(connection, ctx.args["id"], admin=ctx.owner.role_type == "Admin")

        return {"virtualmachine": until_available(read, what=f"the result of job {ctx.job_uuid}")}

    def deploy(ctx: JobContext) -> dict[str, Any]:
        if ctx.args.get("start", True):
            lifecycle.start(ctx.args["id"], ctx.owner, wanted_host_id=ctx.args.get("hostid"))
        return result(ctx)

    def start(ctx: JobContext) -> dict[str, Any]:
        lifecycle.start(ctx.args["id"], ctx.owner)
        return result(ctx)

    def stop(ctx: JobContext) -> dict[str, Any]:
        lifecycle.stop(ctx.args["id"], ctx.owner, forced=bool(ctx.args.get("forced")))
        return result(ctx)

    def reboot(ctx: JobContext) -> dict[str, Any]:
        lifecycle.reboot(ctx.args["id"], ctx.owner)
        return result(ctx)

    def destroy(ctx: JobContext) -> dict[str, Any]:
        lifecycle.destroy(ctx.args["id"], ctx.owner, expunge=bool(ctx.args.get("expunge")))
        return result(ctx)

    def expunge(ctx: JobContext) -> dict[str, Any]:
        lifecycle.expunge(ctx.args["id"], ctx.owner)
        return {"success": True}

    return {DEPLOY_JOB: deploy, START_JOB: start, STOP_JOB: stop, REBOOT_JOB: reboot, DESTROY_JOB: destroy,
            EXPUNGE_JOB: expunge}


def wire(parts: ServerParts) -> None:
    services = parts.services
    settings = ComputeSettings.from_env()
    runner = services.get(RUNNER_SERVICE)
    server_key = services.get("server_key")
    if not isinstance(runner, ExtensionRunner) or not isinstance(server_key, ServerKey):
        raise LookupError("compute needs the extension runner and the server key")
    roots = registry_of(services).roots
    lifecycle = Lifecycle(db=services.db, actions=Actions(runner=runner, roots=roots, wait=settings.wait),
                          server_key=server_key)
    services.registry[LIFECYCLE_SERVICE] = lifecycle

    def repair(ctx: JobContext) -> None:
        lifecycle.repair(ctx.args["id"])

    handlers = job_service(services).handlers
    for name, run in _handlers(services, lifecycle).items():
        handlers.register(name, run, on_interrupted=repair)

    checks = services.registry.get(USAGE_SERVICE)
    if isinstance(checks, UsageChecks):
        # Networks need no guard: infrastructure refuses to delete a network while NICs are on it.
        checks.register("host", _in_use(Instance.host_id, "host"))

    sync = PowerSync(db=services.db, runner=runner, roots=roots, settings=settings, lifecycle=lifecycle,
                     holder=f"{services.settings.server_name}:{services.settings.port}:{uuid.uuid4()}")
    services.registry[POWER_SYNC_SERVICE] = sync
    parts.startup.append(sync.start)
    parts.shutdown.append(sync.stop)
