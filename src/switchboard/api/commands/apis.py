"""`listApis`: the command registry in CloudStack's API-discovery format, as CloudMonkey's `sync` reads it."""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import REGISTRY, Command, api_command
from switchboard.api.responses import ListResponse
from switchboard.errors import InvalidParameter
from switchboard.roles import ALL_ROLES, RoleType


def param_view(param: Param) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": param.name.lower(),
        "description": param.description,
        "type": param.type.value,
        "length": param.length,
        "required": param.required,
        "related": "",
    }
    if param.since:
        body["since"] = param.since
    return body


def api_view(command: Command) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": command.name,
        "description": command.description,
        "isasync": command.is_async,
        "related": ",".join(command.related),
        "params": [param_view(param) for param in command.params],
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
    return ListResponse("api", [api_view(command) for command in commands])
