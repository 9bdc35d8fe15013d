"""An OpenAPI 3.1 document made from a `listApis` answer alone, as client generators make one.

Every command becomes `GET /<command>` (on the wire: `GET /client/api?command=<command>`), answering
`{"<command lower-cased>response": <body>}`. `listApis` does not say how a body wraps its object, so a body
is either the object itself (login, `{"success": true}`, queryAsyncJobResult) or an object whose `count` is
an integer and whose other members are the object or a list of them. An async command answers `{"jobid",
"id"?}` at once; its `response` fields describe what its job returns, which
`components.schemas["<command>JobResult"]` holds. Objects admit only the fields `listApis` declares.
"""

from __future__ import annotations

from typing import Any

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"
ERROR = {
    "type": "object",
    "required": ["errorcode", "errortext"],
    "properties": {"uuidList": {"type": "array"}, "errorcode": {"type": "integer"},
                   "cserrorcode": {"type": "integer"}, "errortext": {"type": "string"}},
    "additionalProperties": False,
}
ASYNC_ANSWER = {
    "type": "object",
    "required": ["jobid"],
    "properties": {"jobid": {"type": "string"}, "id": {"type": "string"}},
    "additionalProperties": False,
}


def field_schema(field: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of one `listApis` response field."""
    nested = field.get("response")
    kind = field["type"]
    if kind in ("list", "set"):
        return {"type": "array", "items": object_schema(nested) if nested else {}}
    if kind == "object":
        return object_schema(nested) if nested else {}
    simple: dict[str, dict[str, Any]] = {
        "string": {"type": "string"}, "date": {"type": "string", "pattern": DATE_PATTERN},
        "boolean": {"type": "boolean"}, "integer": {"type": "integer"}, "long": {"type": "integer"},
        "short": {"type": "integer"}, "double": {"type": "number"}, "map": {"type": "object"},
    }
    return simple.get(kind, {})


def object_schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {field["name"]: field_schema(field) for field in fields},
        "additionalProperties": False,
    }


def body_schema(item: dict[str, Any]) -> dict[str, Any]:
    """The object itself, or wrapped under its name (alone or in a list, with `count`)."""
    wrapped = {
        "type": "object",
        "properties": {"count": {"type": "integer"}},
        "additionalProperties": {"anyOf": [item, {"type": "array", "items": item}]},
    }
    return {"anyOf": [item, wrapped]}


def envelope(command: str, body: dict[str, Any]) -> dict[str, Any]:
    key = f"{command.lower()}response"
    return {"type": "object", "required": [key], "properties": {key: body}, "additionalProperties": False}


def openapi_document(apis: list[dict[str, Any]]) -> dict[str, Any]:
    """The document for the commands `apis` (listApis' `api` list) describes."""
    schemas: dict[str, Any] = {"Error": ERROR}
    paths: dict[str, Any] = {}
    for api in apis:
        name = api["name"]
        fields = [field for field in api["response"] if not (api["isasync"] and field["name"] == "jobid")]
        item = object_schema(fields)
        if api["isasync"]:
            schemas[f"{name}Response"] = envelope(name, ASYNC_ANSWER)
            schemas[f"{name}JobResult"] = body_schema(item)
        else:
            schemas[f"{name}Response"] = envelope(name, body_schema(item))
        paths[f"/{name}"] = {"get": {
            "operationId": name,
            "summary": api["description"][:200],
            "parameters": [
                {"name": param["name"], "in": "query", "required": param["required"],
                 "description": param["description"], "schema": {"type": "string"}}
                for param in api["params"]
            ],
            "responses": {
                "200": {"description": "the answer", "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{name}Response"}}}},
                "default": {"description": "an error", "content": {"application/json": {
                    "schema": envelope(name, {"$ref": "#/components/schemas/Error"})}}},
            },
        }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard (CloudStack API)", "version": "4.21.0"},
        "servers": [{"url": "/client/api"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
