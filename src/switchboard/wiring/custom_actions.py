"""Wiring of custom actions (issue 4) into the management server; runs after the compute area.

* `services.registry["extensions.custom_actions"]` — the ActionRunner;
* the job handler of runCustomAction (`switchboard.extensions.custom_actions.run.RUN_JOB`). It has no
  interruption hook: a run changes nothing Switchboard keeps, so an interrupted one simply fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.api.commands.instances import lifecycle_of
from switchboard.extensions.custom_actions.run import RUN_JOB, ActionRunner, RunRequest, unseal_parameters
from switchboard.extensions.registry import registry_of
from switchboard.extensions.runner import ExtensionRunner
from switchboard.identity.serverkey import ServerKey
from switchboard.jobs import JobContext, job_service
from switchboard.wiring.extensions import RUNNER_SERVICE

if TYPE_CHECKING:
    from switchboard.server import ServerParts

CUSTOM_ACTIONS_SERVICE = "extensions.custom_actions"


def wire(parts: ServerParts) -> None:
    services = parts.services
    runner = services.get(RUNNER_SERVICE)
    key = services.get("server_key")
    if not isinstance(runner, ExtensionRunner) or not isinstance(key, ServerKey):
        raise LookupError("custom actions need the extension runner and the server key")
    lifecycle = lifecycle_of(services)
    actions = ActionRunner(db=services.db, runner=runner, roots=registry_of(services).roots,
                           unseal=lifecycle.unseal_vnc)
    services.registry[CUSTOM_ACTIONS_SERVICE] = actions

    def run(ctx: JobContext) -> dict[str, Any]:
        action_uuid, resource_uuid = str(ctx.args["customactionid"]), str(ctx.args["resourceid"])
        values = unseal_parameters(key, action_uuid, resource_uuid, ctx.args.get("parameters"))
        request = RunRequest(action_uuid=action_uuid, resource_uuid=resource_uuid,
                             resource_type=ctx.args.get("resourcetype"), values=values)
        return actions.run(request, ctx.owner)

    job_service(services).handlers.register(RUN_JOB, run)
