"""The job of runCustomAction. It has no interruption hook: a run changes nothing Switchboard keeps, so an
interrupted one simply fails."""

from __future__ import annotations

from typing import Any

from switchboard.extensions.custom_actions.run import ActionRunner, RunRequest, unseal_parameters
from switchboard.identity.serverkey import ServerKey
from switchboard.jobs import JobContext, JobHandlers

__all__ = ["RUN_JOB", "register_custom_action_jobs"]

RUN_JOB = "extensions.custom_action.run"


def register_custom_action_jobs(handlers: JobHandlers, actions: ActionRunner, key: ServerKey) -> None:
    """Register runCustomAction's handler: it opens the sealed values with `key` and runs the action."""

    def run(ctx: JobContext) -> dict[str, Any]:
        action_uuid, resource_uuid = str(ctx.args["customactionid"]), str(ctx.args["resourceid"])
        values = unseal_parameters(key, action_uuid, resource_uuid, ctx.args.get("parameters"))
        request = RunRequest(action_uuid=action_uuid, resource_uuid=resource_uuid,
                             resource_type=ctx.args.get("resourcetype"), values=values)
        return actions.run(request, ctx.owner)

    handlers.register(RUN_JOB, run)
