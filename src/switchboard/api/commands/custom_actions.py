"""Custom action commands (protocol notes §3.3): addCustomAction, listCustomActions, updateCustomAction,
deleteCustomAction (admin, synchronous) and runCustomAction (every role type, async).

The handlers parse and shape responses; the rules live in switchboard.extensions.custom_actions. The run's
checks happen in its job (as CloudStack's), so a bad run is a failed job whose `errortext` says what is wrong.
"""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import page_of
from switchboard.api.params import MapValue, Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.caller import Caller
from switchboard.db.models.extensions import ExtensionCustomAction
from switchboard.extensions.custom_actions import service, store
from switchboard.extensions.custom_actions.jobs import RUN_JOB
from switchboard.extensions.custom_actions.resources import Viewer
from switchboard.extensions.custom_actions.run import seal_parameters
from switchboard.extensions.custom_actions.store import ActionRecord
from switchboard.roles import ALL_ROLES, RoleType

__all__ = ["action_view"]

OBJECT = "extensioncustomaction"


_PARAMETER = Shape("parameters", [
    Field("name", T.STRING, "Name of the parameter"),
    Field("type", T.STRING, "Type of the parameter"),
    Field("validationformat", T.STRING, "Validation format for value of the parameter. Available for specific "
          "types"),
    Field("valueoptions", T.LIST, "List of options for value of the parameter"),
    Field("required", T.BOOLEAN, "Whether the parameter is required or not"),
])
CUSTOM_ACTION = Shape(OBJECT, [
    Field("id", T.STRING, "ID of the custom action"),
    Field("name", T.STRING, "Name of the custom action"),
    Field("description", T.STRING, "Description of the custom action"),
    Field("extensionid", T.STRING, "ID of the extension that this custom action belongs to"),
    Field("extensionname", T.STRING, "Name of the extension that this custom action belongs to"),
    Field("resourcetype", T.STRING, "Resource type for which the action is available"),
    Field("allowedroletypes", T.LIST, "List of role types allowed for the custom action", items=T.STRING),
    Field("successmessage", T.STRING, "Message that will be used on successful execution of the action"),
    Field("errormessage", T.STRING, "Message that will be used on failure during execution of the action"),
    Field("timeout", T.INTEGER, "Specifies the timeout in seconds to wait for the action to complete before "
          "failing"),
    Field("enabled", T.BOOLEAN, "Whether the custom action is enabled or not"),
    Field("details", T.MAP, "Details of the custom action"),
    Field("parameters", T.LIST, "List of the parameters for the action", shape=_PARAMETER),
    Field("created", T.DATE, "Creation timestamp of the custom action"),
])
# What a runCustomAction job returns (CloudStack's CustomActionResultResponse).
_RESULT = Shape("result", [
    Field("message", T.STRING, "the action's success or error message"),
    Field("details", T.STRING, "what the extension printed, or why the action failed"),
])
CUSTOM_ACTION_RESULT = Shape("customactionresult", [
    Field("id", T.STRING, "ID of the action"),
    Field("name", T.STRING, "Name of the action"),
    Field("success", T.BOOLEAN, "Whether custom action succeed or not"),
    Field("result", T.OBJECT, "Result of the action execution", shape=_RESULT),
])


def action_view(record: ActionRecord, *, with_details: bool = True) -> dict[str, Any]:
    """CloudStack's ExtensionCustomActionResponse, fields in its order, nulls left out. `details` are the
    extension executable's configuration: shown to admins, `{}` to everyone else."""
    action = record.action
    view: dict[str, Any] = {"id": action.uuid, "name": action.name}
    if action.description is not None:
        view["description"] = action.description
    view |= {"extensionid": record.extension.uuid, "extensionname": record.extension.name}
    if action.resource_type is not None:
        view["resourcetype"] = action.resource_type
    view["allowedroletypes"] = [role.wire_name for role in RoleType.from_mask(action.allowed_role_types)]
    if action.success_message is not None:
        view["successmessage"] = action.success_message
    if action.error_message is not None:
        view["errormessage"] = action.error_message
    view |= {
        "timeout": action.timeout,
        "enabled": action.enabled,
        "details": dict(record.details) if with_details else {},
        "parameters": [definition.to_json() for definition in record.definitions],
        "created": format_date(action.created),
    }
    return view


def viewer_of(caller: Caller) -> Viewer:
    return Viewer(role=caller.role_type, account_id=caller.account_id, domain_path=caller.domain_path)


def _groups(call: Call, name: str) -> list[dict[str, str]] | None:
    """A map parameter's groups in index order (`parameters[i].name/type/...`), or None when not given."""
    value = call.get(name)
    return list(value) if isinstance(value, MapValue) else None


def _one(call: Call, action: ExtensionCustomAction) -> ObjectResponse:
    call.session.flush()
    return ObjectResponse(OBJECT, action_view(store.record_of(call.session, action)))


def _audit(call: Call, event_type: str, description: str, action: ExtensionCustomAction) -> None:
    audit(call, event_type, description, resource_type="ExtensionCustomAction", resource_uuid=action.uuid)


_DEFINITION_HELP = ("Parameters in the form parameters[i].name, parameters[i].type (STRING, NUMBER, BOOLEAN, "
                    "DATE), parameters[i].validationformat (NONE; UUID, EMAIL, PASSWORD, URL for STRING; DECIMAL "
                    "for NUMBER), parameters[i].required, parameters[i].valueoptions (comma-separated)")


@api_command(
    "addCustomAction",
    params=[
        Param("extensionid", ParamType.UUID, required=True, description="UUID of the extension"),
        Param("name", required=True, description="Name of the action: letters, digits, spaces, '_' and '-'"),
        Param("description", length=4096, description="Description of the action"),
        Param("resourcetype", description="Resource type the action runs on: VirtualMachine (default for "
              "Orchestrator extensions)"),
        Param("allowedroletypes", ParamType.LIST, item_type=ParamType.STRING,
              description="Role types allowed to run it: Admin, ResourceAdmin, DomainAdmin, User (Admin always)"),
        Param("parameters", ParamType.MAP, description=_DEFINITION_HELP),
        Param("successmessage", length=4096, description="Message on success; may use {{actionName}}, "
              "{{extensionName}}, {{resourceName}}"),
        Param("errormessage", length=4096, description="Message on failure; same placeholders"),
        Param("timeout", ParamType.INTEGER, description="Seconds the executable may run; default 3"),
        Param("enabled", ParamType.BOOLEAN, description="Whether the action may run; default false"),
        Param("details", ParamType.MAP, description="Details passed to the executable as externaldetails.action"),
    ],
    description="Add a custom action for an extension",
    response=CUSTOM_ACTION,
    since="4.21.0",
)
def add_custom_action(call: Call) -> ObjectResponse:
    action = service.add_action(call.session, service.NewAction(
        extension_uuid=call.get("extensionid"), name=call.get("name"), description=call.get("description"),
        resource_type=call.get("resourcetype"), allowed_roles=call.get("allowedroletypes"),
        parameters=_groups(call, "parameters"), success_message=call.get("successmessage"),
        error_message=call.get("errormessage"), timeout=call.get("timeout"), enabled=call.get("enabled"),
        details=call.map_param("details"),
    ))
    _audit(call, "EXTENSION.CUSTOM.ACTION.ADD", f"Added custom action {action.name}", action)
    return _one(call, action)


@api_command(
    "listCustomActions",
    params=[
        Param("id", ParamType.UUID, description="UUID of the custom action"),
        Param("name", description="Name of the custom action"),
        Param("extensionid", ParamType.UUID, description="UUID of the extension"),
        Param("resourcetype", description="Resource type (case-sensitive): VirtualMachine; actions without a "
              "resource type match too"),
        Param("resourceid", description="UUID of a resource: lists the actions of the extension serving it"),
        # A string on purpose: CloudStack lists only enabled actions for any value, even false (§8.5).
        Param("enabled", description="List only enabled actions (any value does, as in CloudStack)"),
    ],
    roles=ALL_ROLES,
    description="Lists custom actions",
    response=CUSTOM_ACTION,
    is_list=True,
    since="4.21.0",
)
def list_custom_actions(call: Call) -> ListResponse:
    caller = call.who
    records, _total = service.list_actions(
        call.session, viewer_of(caller),
        service.ActionFilter(
            uuid=call.get("id"), name=call.get("name"), extension_uuid=call.get("extensionid"),
            resource_type=call.get("resourcetype"), resource_uuid=call.get("resourceid"),
            enabled_only="enabled" in call.params,
        ),
        page_of(call),
    )
    # `count` is the number of items on the page, as CloudStack answers listCustomActions (§3.1).
    return ListResponse(OBJECT, [action_view(record, with_details=caller.is_admin) for record in records])


@api_command(
    "updateCustomAction",
    params=[
        Param("id", ParamType.UUID, required=True, description="UUID of the custom action"),
        Param("description", length=4096, description="Description of the action"),
        Param("resourcetype", description="Resource type the action runs on: VirtualMachine"),
        Param("allowedroletypes", ParamType.LIST, item_type=ParamType.STRING,
              description="Role types allowed to run it; replaces the current ones exactly"),
        Param("enabled", ParamType.BOOLEAN, description="Whether the action may run"),
        Param("parameters", ParamType.MAP, description=_DEFINITION_HELP + "; replaces the current ones"),
        Param("cleanupparameters", ParamType.BOOLEAN, description="Remove all parameters (parameters is ignored)"),
        Param("successmessage", length=4096, description="Message on success"),
        Param("errormessage", length=4096, description="Message on failure"),
        Param("timeout", ParamType.INTEGER, description="Seconds the executable may run"),
        Param("details", ParamType.MAP, description="Details; replace all visible details"),
        Param("cleanupdetails", ParamType.BOOLEAN, description="Remove all details (details is ignored)"),
    ],
    description="Update the custom action",
    response=CUSTOM_ACTION,
    since="4.21.0",
)
def update_custom_action(call: Call) -> ObjectResponse:
    action = store.get_action(call.session, call.get("id"))
    service.update_action(call.session, action, service.ActionChanges(
        description=call.get("description"), resource_type=call.get("resourcetype"),
        allowed_roles=call.get("allowedroletypes"), enabled=call.get("enabled"),
        parameters=_groups(call, "parameters"), cleanup_parameters=bool(call.get("cleanupparameters")),
        success_message=call.get("successmessage"), error_message=call.get("errormessage"),
        timeout=call.get("timeout"), details=call.map_param("details"),
        cleanup_details=bool(call.get("cleanupdetails")),
    ))
    _audit(call, "EXTENSION.CUSTOM.ACTION.UPDATE", f"Updated custom action {action.name}", action)
    return _one(call, action)


@api_command(
    "deleteCustomAction",
    params=[Param("id", ParamType.UUID, required=True, description="UUID of the custom action", entity=OBJECT)],
    description="Delete the custom action",
    response=SUCCESS,
    since="4.21.0",
)
def delete_custom_action(call: Call) -> SuccessResponse:
    action = store.get_action(call.session, call.get("id"))
    service.delete_action(call.session, action)
    _audit(call, "EXTENSION.CUSTOM.ACTION.DELETE", f"Deleted custom action {action.name}", action)
    return SuccessResponse()


@api_command(
    "runCustomAction",
    params=[
        Param("customactionid", ParamType.UUID, required=True, description="UUID of the custom action"),
        Param("resourceid", required=True, description="UUID of the resource (an instance)"),
        Param("resourcetype", description="Resource type: VirtualMachine; must match the action's"),
        Param("parameters", ParamType.MAP, description="Values by parameter name: parameters[0].<name>=<value>"),
    ],
    roles=ALL_ROLES,
    description="Run the custom action",
    response=CUSTOM_ACTION_RESULT,
    is_async=True,
    since="4.21.0",
)
def run_custom_action(call: Call) -> AsyncJobRequest:
    key = call.services.server_key
    action_uuid, resource_uuid = call.get("customactionid"), call.get("resourceid")
    values = call.map_param("parameters") or {}
    return AsyncJobRequest(
        handler=RUN_JOB,
        args={"customactionid": action_uuid, "resourceid": resource_uuid, "resourcetype": call.get("resourcetype"),
              # Sealed: PASSWORD values must not rest in the clear in the job table.
              "parameters": seal_parameters(key, action_uuid, resource_uuid, values) if values else None},
    )
