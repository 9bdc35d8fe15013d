"""The jobs of the async instance commands: their names, what each runs, and the repair of an instance a
dead server left in a transitional state.

deployVirtualMachine, start/stop/reboot/destroy/expungeVirtualMachine queue these jobs (switchboard.api
.commands.instances); the composition root registers them with `register_instance_jobs`. What a finished
job answers is the API's business: the caller passes `result`, which renders the instance once the
operation is done. An interrupted job's hook puts an instance its server left half-done into a stable state,
unless an extension run is still to be settled (the run watcher does that, by the run's real outcome).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.compute.lifecycle import Lifecycle
from switchboard.jobs import JobContext, JobHandlers

__all__ = ["DEPLOY_JOB", "DESTROY_JOB", "EXPUNGE_JOB", "REBOOT_JOB", "START_JOB", "STOP_JOB", "InstanceResult",
           "register_instance_jobs"]

DEPLOY_JOB = "compute.deploy"
START_JOB = "compute.start"
STOP_JOB = "compute.stop"
REBOOT_JOB = "compute.reboot"
DESTROY_JOB = "compute.destroy"
EXPUNGE_JOB = "compute.expunge"

# The result of a finished instance job (the instance `ctx.args["id"]` as its owner sees it).
InstanceResult = Callable[[JobContext], dict[str, Any]]


def register_instance_jobs(handlers: JobHandlers, lifecycle: Lifecycle, *, result: InstanceResult) -> None:
    """Register the handlers of every instance job, each with the repair hook for interrupted runs."""

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

    def repair(ctx: JobContext) -> None:
        lifecycle.repair(ctx.args["id"], deploying=ctx.handler == DEPLOY_JOB and bool(ctx.args.get("start", True)))

    runs: dict[str, Callable[[JobContext], dict[str, Any]]] = {
        DEPLOY_JOB: deploy, START_JOB: start, STOP_JOB: stop, REBOOT_JOB: reboot, DESTROY_JOB: destroy,
        EXPUNGE_JOB: expunge,
    }
    for name, run in runs.items():
        handlers.register(name, run, on_interrupted=repair)
