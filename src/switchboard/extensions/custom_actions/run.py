"""runCustomAction: the checks before a run, the run itself, and its result (protocol notes §4.5, §4.6).

The job (switchboard.extensions.custom_actions.jobs) calls `ActionRunner.run`. Where CloudStack fails every
bad request with "Internal error running action", the checks here say what is wrong — an unknown action, a
disabled action or extension, a wrong resource type, an unknown instance, an instance on another extension, a
bad parameter value — except that an action the caller's role may not run reads exactly like an unknown one,
and another account's instance exactly like an unknown one, so nobody learns what exists outside their reach.

Once the checks pass the job always succeeds: `success` says whether the executable did (exit code 0), the
message is the action's rendered success or error template, and `details` is the executable's output
(`Exit code: N, Output: …` on failure, "Timeout" when the action's own timeout killed it).

The supplied values travel inside the job's arguments sealed with the server key (`seal_parameters`), so
PASSWORD values are never stored in the clear; they are never logged, and events never carry any value.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance
from switchboard.db.models.events import EventLevel
from switchboard.db.models.extensions import ExtensionState
from switchboard.db.outage import until_available
from switchboard.errors import Conflict, InvalidParameter, NotFound, OperationFailed, SwitchboardError
from switchboard.extensions.custom_actions import store
from switchboard.extensions.custom_actions.caller import caller_of
from switchboard.extensions.custom_actions.messages import MessageContext, render_error, render_success
from switchboard.extensions.custom_actions.parameters import validate_values
from switchboard.extensions.custom_actions.resources import VIRTUAL_MACHINE, Viewer, find_instance
from switchboard.extensions.kept_output import ACTION_RESULT_CHARACTERS, kept_copy
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.payload import custom_action_payload
from switchboard.extensions.payload_inputs import HostTarget, host_target, instance_infos
from switchboard.extensions.payload_model import CallerInfo, CustomActionInfo, InstanceInfo
from switchboard.extensions.runner import ExtensionRunner, RunResult
from switchboard.identity.serverkey import ServerKey
from switchboard.infra.events import ActorIds, record_event
from switchboard.jobs import JobOwner
from switchboard.roles import RoleType

__all__ = [
    "EVENT_TYPE",
    "RESULT_OBJECT",
    "ActionRunner",
    "RunRequest",
    "seal_parameters",
    "unseal_parameters",
]

log = logging.getLogger(__name__)

EVENT_TYPE = "CUSTOM.ACTION"
RESULT_OBJECT = "customactionresult"

Unseal = Callable[[Instance], str | None]


def _binding(action_uuid: str, resource_uuid: str) -> str:
    return f"custom-action-parameters:{action_uuid}:{resource_uuid}"


def seal_parameters(key: ServerKey, action_uuid: str, resource_uuid: str, values: Mapping[str, str]) -> str:
    """The supplied values as a sealed, base64 string for the job's arguments (bound to action and resource)."""
    sealed = key.seal(json.dumps(dict(values)), bound_to=_binding(action_uuid, resource_uuid))
    return base64.b64encode(sealed).decode()


def unseal_parameters(key: ServerKey, action_uuid: str, resource_uuid: str, sealed: str | None) -> dict[str, str]:
    """The values `seal_parameters` sealed ({} for None). Raises UnsealError (OperationFailed) when this
    server's key does not open them."""
    if not sealed:
        return {}
    values = json.loads(key.unseal(base64.b64decode(sealed), bound_to=_binding(action_uuid, resource_uuid)))
    return {str(name): str(value) for name, value in values.items()}


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """runCustomAction's parameters: the action, the resource and its type (None: not given), the values."""

    action_uuid: str
    resource_uuid: str
    resource_type: str | None
    values: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Everything a run needs, read inside one transaction; the run itself happens outside it."""

    action_uuid: str
    action_name: str
    action_details: dict[str, str]
    timeout: int
    success_template: str | None
    error_template: str | None
    extension_name: str
    target: HostTarget
    instance: InstanceInfo
    instance_uuid: str
    instance_name: str
    parameters: dict[str, Any] | None


def viewer_of(owner: JobOwner) -> Viewer:
    """The job's submitter as a Viewer; a system job (no role) sees as an Admin."""
    role = RoleType.from_wire(owner.role_type) if owner.role_type else RoleType.ADMIN
    return Viewer(role=role, account_id=owner.account_id, domain_path=owner.domain_path)


class ActionRunner:
    """Runs custom actions for the job handler. `unseal` opens an instance's VNC password (compute's)."""

    def __init__(self, *, db: Database, runner: ExtensionRunner, roots: ExtensionRoots, unseal: Unseal) -> None:
        self.db = db
        self.runner = runner
        self.roots = roots
        self.unseal = unseal

    def run(self, request: RunRequest, owner: JobOwner) -> dict[str, Any]:
        """Check, run and report (see the module docstring); returns `{"customactionresult": {...}}`.

        Raises NotFound, Conflict, InvalidParameter (incl. ParameterValueError) or OperationFailed when a
        check fails; never for what the executable does."""
        try:
            with self.db.session() as session:
                plan = self._plan(session, request, viewer_of(owner))
                caller = caller_of(session, owner)
        except SwitchboardError as exc:
            self._refused(request, owner, exc.message)
            raise
        result = self._execute(plan, caller)
        context = MessageContext(action_name=plan.action_name, extension_name=plan.extension_name,
                                 resource_name=plan.instance_name)
        message = render_success(plan.success_template, context) if result.success else \
            render_error(plan.error_template, context)
        def record() -> None:
            with self.db.session() as session:
                record_event(
                    session, type=EVENT_TYPE, resource_type=VIRTUAL_MACHINE, resource_uuid=plan.instance_uuid,
                    description=f"Custom action {plan.action_name} of extension {plan.extension_name} on "
                                f"instance {plan.instance_name}: {'succeeded' if result.success else 'failed'}",
                    actor=_actor(owner),
                    level=EventLevel.INFO if result.success else EventLevel.ERROR,
                )

        # The action has run: a database outage delays its event, it does not turn the run into a failure.
        until_available(record, what=f"the event of custom action {plan.action_name} on {plan.instance_name}")
        # A successful action's output is its answer (kept larger); a failure's is a diagnosis (a few KiB).
        details = kept_copy(result.details, ACTION_RESULT_CHARACTERS) if result.success else kept_copy(result.details)
        return {RESULT_OBJECT: {"id": plan.action_uuid, "name": plan.action_name, "success": result.success,
                                "result": {"message": message, "details": details}}}

    def _refused(self, request: RunRequest, owner: JobOwner, message: str) -> None:
        """An ERROR event for a run its checks refused (the message never holds a PASSWORD value)."""
        with self.db.session() as session:
            record_event(session, type=EVENT_TYPE, level=EventLevel.ERROR, actor=_actor(owner),
                         description=f"Custom action {request.action_uuid} on {request.resource_uuid} refused: "
                                     f"{message}")

    def _execute(self, plan: _Plan, caller: CallerInfo | None) -> RunResult:
        payload = custom_action_payload(
            action=CustomActionInfo(name=plan.action_name, details=plan.action_details),
            parameters=plan.parameters, extension=plan.target.extension, resource_map=plan.target.resource_map,
            host=plan.target.host, instance=plan.instance, caller=caller,
        )
        # A payload that cannot be written comes back as a failed run saying why (the runner's own).
        result = self.runner.run_blocking(
            extension_name=plan.target.extension_name, entry=self.roots.entry_point(plan.target.relative_path),
            action=plan.action_name, payload=payload, timeout=plan.timeout,
        )
        log.info("custom action %s on %s via %s: %s", plan.action_name, plan.instance_name, plan.extension_name,
                 "ok" if result.success else ("timeout" if result.timed_out else "failed"))
        return result

    def _plan(self, session: Session, request: RunRequest, viewer: Viewer) -> _Plan:
        record = self._allowed_action(session, request.action_uuid, viewer)
        action, extension = record.action, record.extension
        if not action.enabled:
            raise Conflict(f"Custom action {action.name} is disabled", uuids=[action.uuid])
        if extension.removed is not None or extension.state != ExtensionState.ENABLED.value:
            raise Conflict(f"Extension {extension.name} of custom action {action.name} is disabled",
                           uuids=[extension.uuid])
        _check_resource_type(action.name, action.resource_type, request.resource_type)
        found = find_instance(session, request.resource_uuid, viewer)
        if found is None:
            raise NotFound(f"Unable to find instance with id {request.resource_uuid}",
                           uuids=[request.resource_uuid])
        instance = found.instance
        if found.extension_id != extension.id:
            raise InvalidParameter(f"Custom action {action.name} belongs to extension {extension.name}, which does "
                                   f"not serve instance {instance.name}", parameter="resourceid")
        if not extension.path_ready:
            raise OperationFailed(f"Extension {extension.name} of custom action {action.name} is not ready: its "
                                  "entry point is not valid on every management server")
        if found.host_id is None:
            raise OperationFailed(f"Instance {instance.name} has no host yet: custom actions run on the host of "
                                  "an instance that has been started")
        parameters = validate_values(record.definitions, request.values)
        target = host_target(session, found.host_id, check_usable=False)
        info = instance_infos(session, [instance], unseal=self.unseal)[instance.id]
        return _Plan(
            action_uuid=action.uuid, action_name=action.name, action_details=dict(record.details),
            timeout=action.timeout, success_template=action.success_message, error_template=action.error_message,
            extension_name=extension.name, target=target, instance=info, instance_uuid=instance.uuid,
            instance_name=instance.instance_name or instance.name, parameters=parameters,
        )

    @staticmethod
    def _allowed_action(session: Session, uuid: str, viewer: Viewer) -> store.ActionRecord:
        """The action, if it exists and the viewer's role may run it; one NotFound text for both failures."""
        try:
            action = store.get_action(session, uuid, parameter="customactionid")
        except NotFound:
            action = None
        if action is None or not (viewer.is_admin or action.allowed_role_types & viewer.role.bit):
            raise NotFound(f"Unable to find custom action with id {uuid} that role type {viewer.role.wire_name} "
                           "may run", uuids=[uuid])
        return store.record_of(session, action)


def _actor(owner: JobOwner) -> ActorIds | None:
    if owner.account_id is None:
        return None  # a system job: the event is the system's
    return ActorIds(user_id=owner.user_id, account_id=owner.account_id, domain_id=owner.domain_id)


def _check_resource_type(action_name: str, defined: str | None, requested: str | None) -> None:
    """CloudStack's rules: the requested type must be a known one and match the action's, when both are set."""
    if requested:
        if requested.strip().lower() != VIRTUAL_MACHINE.lower():
            raise InvalidParameter(f"Invalid resource type: {requested}; custom actions run on {VIRTUAL_MACHINE} "
                                   "only", parameter="resourcetype")
        if defined and defined.lower() != requested.strip().lower():
            raise InvalidParameter(f"Resource type {requested} does not match the resource type {defined} of "
                                   f"custom action {action_name}", parameter="resourcetype")
    elif not defined:
        raise InvalidParameter("Resource type not specified for the action", parameter="resourcetype")
