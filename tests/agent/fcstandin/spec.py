"""Firecracker's API as its OpenAPI (Swagger 2.0) file describes it: routes and request-body validation.

Request bodies are checked with jsonschema against the file's `definitions`, tightened the way Firecracker's
serde types behave: unknown fields are refused (`deny_unknown_fields`) except in free-form objects (MMDS
contents, CPU-template modifiers), and optional fields may be `null` (serde's `Option`). Error texts follow
serde's wording, behind Firecracker's prefix for body errors.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SPEC_NAME = "firecracker-v1.13.1.yaml"
BODY_ERROR = "An error occurred when deserializing the json body of a request: "
# Objects whose contents Firecracker takes as free-form JSON.
_OPEN_OBJECTS = {"MmdsContentsObject", "CpuConfig"}


class BadRequest(Exception):
    """A request Firecracker answers with 400 and `{"fault_message": str(exc)}`."""


def spec_path() -> Path:
    """The vendored Firecracker spec file (`vendor/`, with its licence)."""
    return Path(__file__).resolve().parent / "vendor" / SPEC_NAME


@dataclass(frozen=True)
class Route:
    """One operation: method, path template, body schema name and path parameter names."""

    method: str
    template: str
    pattern: re.Pattern[str]
    body: str | None  # definition name of the body, None when the operation takes none
    body_required: bool
    params: tuple[str, ...]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


class Spec:
    """Routes and validators built from the spec file."""

    def __init__(self, path: Path | None = None) -> None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.document: dict[str, Any] = yaml.load((path or spec_path()).read_text(), Loader=loader)
        self.version: str = str(self.document["info"]["version"])
        self.definitions = _tighten(self.document["definitions"])
        self.routes = tuple(self._routes())
        self._validators: dict[str, jsonschema.Draft4Validator] = {}

    def _routes(self) -> list[Route]:
        routes = []
        for template, operations in self.document["paths"].items():
            params = tuple(re.findall(r"{(\w+)}", template))
            pattern = re.compile(re.sub(r"{(\w+)}", r"(?P<\1>[^/]*)", template.rstrip("/") or "/"))
            for method, operation in operations.items():
                body, required = None, False
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "body":
                        body = parameter["schema"]["$ref"].rsplit("/", 1)[-1]
                        required = bool(parameter.get("required", False))
                routes.append(Route(method.upper(), template, pattern, body, required, params))
        return routes

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The operation for `method path`, with its path parameters; BadRequest if there is none."""
        clean = path.split("?", 1)[0].rstrip("/") or "/"
        for route in self.routes:
            params = route.match(clean)
            if params is not None and route.method == method:
                return route, params
        raise BadRequest(f"Invalid request method and/or path: {method} {clean}.")

    def validate(self, definition: str, body: Any) -> None:
        """Check `body` against definition `definition`; BadRequest in serde's words if it does not fit."""
        validator = self._validators.get(definition)
        if validator is None:
            schema = {"definitions": self.definitions, "$ref": f"#/definitions/{definition}"}
            validator = self._validators[definition] = jsonschema.Draft4Validator(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is not None:
            raise BadRequest(BODY_ERROR + _serde_message(error) + ".")

    def default(self, definition: str, field: str) -> Any:
        """The spec's default for `field` of `definition`, or None."""
        return self.document["definitions"][definition].get("properties", {}).get(field, {}).get("default")


def _tighten(definitions: dict[str, Any]) -> dict[str, Any]:
    tightened = copy.deepcopy(definitions)
    for name, schema in tightened.items():
        if name not in _OPEN_OBJECTS:
            _close(schema, tightened)
    return tightened


def _close(schema: dict[str, Any], definitions: dict[str, Any]) -> None:
    """Refuse unknown fields and let optional fields be null, in place (recursing into nested schemas)."""
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
        required = set(schema.get("required", ()))
        for field, sub in list(schema["properties"].items()):
            if "$ref" in sub:
                # Inlined rather than wrapped in anyOf, so that errors inside keep their own wording.
                target = sub["$ref"].rsplit("/", 1)[-1]
                sub = copy.deepcopy(definitions[target])
                if target not in _OPEN_OBJECTS:
                    _close(sub, definitions)
                schema["properties"][field] = sub
            else:
                _close(sub, definitions)
            if field not in required:
                _nullable(sub)
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        if "$ref" in items:
            target = items["$ref"].rsplit("/", 1)[-1]
            items = schema["items"] = copy.deepcopy(definitions[target])
        _close(items, definitions)


def _nullable(schema: dict[str, Any]) -> None:
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*kinds, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]


_SERDE_TYPES = {"integer": "an integer", "string": "a string", "boolean": "a boolean", "object": "a map",
                "array": "a sequence", "number": "a number"}  # fmt: skip


def _serde_message(error: jsonschema.ValidationError) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    suffix = f" (at {where.lstrip('.')})" if where else ""
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        extra = sorted(set(error.instance) - set(allowed))
        expected = ", ".join(f"`{k}`" for k in allowed)
        return f"unknown field `{extra[0]}`, expected one of {expected}{suffix}"
    if error.validator == "required":
        missing = re.search(r"'(\w+)'", error.message)
        return f"missing field `{missing.group(1) if missing else error.message}`{suffix}"
    if error.validator == "enum":
        options = ", ".join(f"`{v}`" for v in error.validator_value if v is not None)
        return f"unknown variant `{error.instance}`, expected one of {options}{suffix}"
    if error.validator == "type":
        expected = _SERDE_TYPES.get(str(error.validator_value), str(error.validator_value))
        return f"invalid type: {_describe(error.instance)}, expected {expected}{suffix}"
    if error.validator in ("minimum", "maximum"):
        return f"invalid value: {_describe(error.instance)}, {error.message}{suffix}"
    return f"{error.message}{suffix}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if value is None:
        return "null"
    return "a sequence" if isinstance(value, list) else "a map"
