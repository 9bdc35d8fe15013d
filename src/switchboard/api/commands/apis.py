"""`listApis`: the command registry in CloudStack's API-discovery format, as CloudMonkey's `sync` reads it."""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import REGISTRY, Command, api_command
from switchboard.api.responses import ListResponse
from switchboard.errors import InvalidParameter
from switchboard.roles import ALL_ROLES, RoleType


def listers() -> dict[str, str]:
    """Object name → the list command answering it ("zone" → "listZones"), from the registry."""
    found: dict[str, str] = {}
    for command in REGISTRY:
        if command.name.startswith("list") and command.response_object:
            found.setdefault(command.response_object, command.name)
    return found


def _related(command: Command, param: Param, lists: dict[str, str]) -> str:
    """What CloudMonkey completes a uuid parameter's values from: `zoneid` → listZones; `id` → the list
    command of the command's own object."""
    if param.type is not ParamType.UUID and param.item_type is not ParamType.UUID:
        return ""
    name = param.name.lower()
    target = command.response_object if name in ("id", "ids") else name.removesuffix("ids").removesuffix("id")
    return lists.get(target, "") if target else ""


def param_view(param: Param, command: Command | None = None, lists: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": param.name.lower(),
        "description": param.description,
        "type": param.type.value,
        "length": param.length,
        "required": param.required,
        "related": _related(command, param, lists) if command is not None and lists is not None else "",
    }
    if param.since:
        body["since"] = param.since
    return body


def api_view(command: Command, lists: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": command.name,
        "description": command.description,
        "isasync": command.is_async,
        "related": ",".join(command.related),
        "params": [param_view(param, command, lists) for param in command.params],
        "response": _response_fields(command),
    }
    if command.since:
        body["since"] = command.since
    return body


def _response_fields(command: Command) -> list[dict[str, Any]]:
    # The registry does not declare response fields; what every async command answers is known.
    if command.is_async:
        return [{"name": "jobid", "description": "the ID of the async job", "type": "string"}]
    return []


def visible_commands(role: RoleType) -> list[Command]:
    """The commands `role` may call, sorted by name (unauthenticated ones included)."""
    return [command for command in REGISTRY if role in command.roles]


@api_command(
    "listApis",
    params=[Param("name", ParamType.STRING, description="API name")],
    roles=ALL_ROLES,
    description="lists all available apis on the server, provided by the Api Discovery plugin",
    response_object="api",
    since="4.1.0",
)
def list_apis(call: Call) -> ListResponse:
    commands = visible_commands(call.who.role_type)
    name = call.get("name")
    if name:
        commands = [command for command in commands if command.name.lower() == name.lower()]
        if not commands:
            raise InvalidParameter(f"The API name {name} does not exist or is not allowed", parameter="name")
    lists = listers()
    return ListResponse("api", [api_view(command, lists) for command in commands])
