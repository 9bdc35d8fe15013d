"""`listApis`: the command registry in CloudStack's API-discovery format, as CloudMonkey's `sync` reads it."""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import REGISTRY, Command, api_command
from switchboard.api.responses import ListResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.errors import InvalidParameter
from switchboard.roles import ALL_ROLES, RoleType


def answering() -> dict[str, list[str]]:
    """Object name → every command answering with that object, sorted ("zone" → createZone, listZones, ...).
    As CloudStack relates commands by their response class, `{"success": true}` relates nothing."""
    found: dict[str, list[str]] = {}
    for command in REGISTRY:  # sorted by name
        if command.response is not None and command.response is not SUCCESS:
            found.setdefault(command.response.name, []).append(command.name)
    return found


# Parameters whose name does not say which object they name.
_ENTITIES = {"parentdomainid": "domain", "customactionid": "extensioncustomaction", "jobid": "asyncjobs"}


def _entity(command: Command, param: Param) -> str | None:
    """The object a uuid parameter names: declared, else read from its name (`zoneid` → zone; `id` → the
    command's own object, or for a command answering `{"success": true}` the object its name acts on:
    deleteZone → zone)."""
    if param.entity is not None:
        return param.entity
    if param.type is not ParamType.UUID and param.item_type is not ParamType.UUID:
        return None
    name = param.name.lower()
    if name in ("id", "ids"):
        if command.response is not None and command.response is not SUCCESS:
            return command.response.name
        return command.name.lstrip("abcdefghijklmnopqrstuvwxyz").lower()
    return _ENTITIES.get(name, name.removesuffix("ids").removesuffix("id"))


def param_view(param: Param, command: Command | None = None,
               related: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A parameter as CloudStack's ApiParameterResponse; `related` lists the commands answering the object
    the parameter names (what CloudMonkey completes its values from: the `list` one among them)."""
    entity = _entity(command, param) if command is not None else None
    body: dict[str, Any] = {
        "name": param.name.lower(),
        "description": param.description,
        "type": param.type.value,
        "length": param.length,
        "required": param.required,
        "related": ",".join(related.get(entity, ())) if entity and related is not None else "",
    }
    if param.since:
        body["since"] = param.since
    return body


def api_view(command: Command, related: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A command as CloudStack's ApiDiscoveryResponse: `related` are the other commands answering the same
    object; `response` its fields, nested objects' fields under their own `response`."""
    related = answering() if related is None else related
    shape = command.response
    peers = related.get(shape.name, []) if shape is not None and shape is not SUCCESS else []
    body: dict[str, Any] = {
        "name": command.name,
        "description": command.description,
        "isasync": command.is_async,
        "related": ",".join(name for name in peers if name != command.name),
        "params": [param_view(param, command, related) for param in command.params],
        "response": _response_fields(command),
    }
    if command.since:
        body["since"] = command.since
    return body


def _response_fields(command: Command) -> list[dict[str, Any]]:
    fields = [_field_view(field) for field in command.response.fields] if command.response is not None else []
    if command.is_async and not any(field["name"] == "jobid" for field in fields):
        # The immediate answer of every async command; the fields above are its job's result.
        fields.append({"name": "jobid", "description": "the ID of the async job", "type": "string"})
    return fields


def _field_view(field: Field) -> dict[str, Any]:
    body: dict[str, Any] = {"name": field.name, "description": field.description, "type": field.type.value}
    if field.shape is not None:
        body["response"] = [_field_view(inner) for inner in field.shape.fields]
    return body


def visible_commands(role: RoleType) -> list[Command]:
    """The commands `role` may call, sorted by name (unauthenticated ones included)."""
    return [command for command in REGISTRY if role in command.roles]


# ApiResponseResponse, two levels deep (deeper levels are the same object again).
_RESPONSE_FIELD_BASE = [
    Field("name", T.STRING, "the name of the api response field"),
    Field("description", T.STRING, "description of the api response field"),
    Field("type", T.STRING, "response field type"),
]
_NESTED_FIELD = Shape("response", [*_RESPONSE_FIELD_BASE, Field("response", T.SET, "api response fields")])
_RESPONSE_FIELD = Shape("response", [*_RESPONSE_FIELD_BASE,
                                     Field("response", T.SET, "api response fields", shape=_NESTED_FIELD)])
_PARAMETER = Shape("params", [
    Field("name", T.STRING, "the name of the api parameter"),
    Field("description", T.STRING, "description of the api parameter"),
    Field("type", T.STRING, "parameter type"),
    Field("length", T.INTEGER, "length of the parameter"),
    Field("required", T.BOOLEAN, "true if this parameter is required for the api request"),
    Field("since", T.STRING, "version of CloudStack the api was introduced in"),
    Field("related", T.STRING, "comma separated related apis to get the parameter"),
])
API = Shape("api", [
    Field("name", T.STRING, "the name of the api command"),
    Field("description", T.STRING, "description of the api"),
    Field("isasync", T.BOOLEAN, "true if api is asynchronous"),
    Field("related", T.STRING, "comma separated related apis"),
    Field("params", T.SET, "the list params the api accepts", shape=_PARAMETER),
    Field("response", T.SET, "api response fields", shape=_RESPONSE_FIELD),
    Field("since", T.STRING, "version of CloudStack the api was introduced in"),
])


@api_command(
    "listApis",
    params=[Param("name", ParamType.STRING, description="API name")],
    roles=ALL_ROLES,
    description="lists all available apis on the server, provided by the Api Discovery plugin",
    response=API,
    since="4.1.0",
)
def list_apis(call: Call) -> ListResponse:
    commands = visible_commands(call.who.role_type)
    name = call.get("name")
    if name:
        commands = [command for command in commands if command.name.lower() == name.lower()]
        if not commands:
            raise InvalidParameter(f"The API name {name} does not exist or is not allowed", parameter="name")
    related = answering()
    return ListResponse("api", [api_view(command, related) for command in commands])
