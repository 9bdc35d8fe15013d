"""The parameter model of custom actions (protocol notes §4.1, §4.5). Pure: no database, no I/O.

A definition has a `name`, a `type` (STRING, NUMBER, BOOLEAN, DATE), a validation `format` (NONE; UUID,
EMAIL, PASSWORD, URL for strings; DECIMAL for numbers), `required`, and optional value `options` (STRING and
NUMBER only). Definitions are checked when an action is added or updated (`parse_definitions`, CloudStack's
messages); supplied values are checked and converted when it runs (`validate_values`), to the JSON types the
executable receives in the payload's `parameters`:

| type | format | JSON value |
|---|---|---|
| STRING | NONE, UUID, EMAIL, PASSWORD, URL | the string as given |
| NUMBER | NONE | integer (signed 64-bit) |
| NUMBER | DECIMAL | finite floating-point number |
| BOOLEAN | — | `true` / `false` (from `true`/`false`, any case) |
| DATE | — | string `YYYY-MM-DDTHH:MM:SSZ`, in UTC (fractions of a second dropped) |

Where CloudStack answers a bad value with its vague "Internal error running action", the errors here name the
parameter and the rule it broke. A PASSWORD value is never part of any message.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.errors import InvalidParameter

__all__ = [
    "DATE_OUTPUT_FORMAT",
    "Definition",
    "DefinitionError",
    "OptionValue",
    "ParameterType",
    "ParameterValueError",
    "ValidationFormat",
    "dump_definitions",
    "load_definitions",
    "parse_definitions",
    "secret_names",
    "validate_values",
]

DATE_OUTPUT_FORMAT = "YYYY-MM-DDTHH:MM:SSZ"
OptionValue = str | int | float
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_SHOWN_MAX = 64  # characters of a bad value quoted back in a message
_EMAIL = re.compile(r"[A-Za-z0-9+_.-]+@[A-Za-z0-9.-]+")  # CloudStack's pattern, matched in full
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)"
)
# The schemes java.net.URL knows out of the box; the ones with an authority need a host.
_URL_SCHEMES = frozenset({"http", "https", "ftp", "file", "jar", "mailto"})
_URL_NEEDS_HOST = frozenset({"http", "https", "ftp"})


class ParameterType(enum.StrEnum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"

    @property
    def supports_options(self) -> bool:
        return self in (ParameterType.STRING, ParameterType.NUMBER)


class ValidationFormat(enum.StrEnum):
    NONE = "NONE"
    UUID = "UUID"
    EMAIL = "EMAIL"
    PASSWORD = "PASSWORD"
    URL = "URL"
    DECIMAL = "DECIMAL"

    @property
    def base_type(self) -> ParameterType | None:
        """The type this format belongs to; None for NONE, which suits every type."""
        if self is ValidationFormat.NONE:
            return None
        return ParameterType.NUMBER if self is ValidationFormat.DECIMAL else ParameterType.STRING


class DefinitionError(InvalidParameter):
    """A parameter definition given to addCustomAction/updateCustomAction breaks a rule of §4.1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, parameter="parameters")


class ParameterValueError(InvalidParameter):
    """A value supplied to runCustomAction breaks its definition. `name` is the custom parameter's name,
    always part of the message; a PASSWORD value never is."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message, parameter="parameters")
        self.name = name


class _Rejected(Exception):
    """Internal: a value does not convert; the text says why, without quoting a secret."""


def _enum(kind: type[ParameterType] | type[ValidationFormat], text: str) -> Any:
    for member in kind:
        if member.value == text.strip().upper():
            return member
    return None


@dataclass(frozen=True)
class Definition:
    """One parameter of a custom action. `options` is None when any value of the type is allowed."""

    name: str
    type: ParameterType
    format: ValidationFormat = ValidationFormat.NONE
    required: bool = False
    options: tuple[OptionValue, ...] | None = None

    @property
    def secret(self) -> bool:
        return self.format is ValidationFormat.PASSWORD

    # -- the stored/listed shape ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """`{name, type, validationformat, valueoptions?, required}` — listCustomActions' shape."""
        shape: dict[str, Any] = {"name": self.name, "type": self.type.value, "validationformat": self.format.value}
        if self.options is not None:
            shape["valueoptions"] = list(self.options)
        shape["required"] = self.required
        return shape

    @classmethod
    def from_json(cls, shape: Mapping[str, Any]) -> Definition:
        """From `to_json`'s shape (as stored). Raises DefinitionError when it is not one."""
        type_ = _enum(ParameterType, str(shape.get("type", "")))
        format_ = _enum(ValidationFormat, str(shape.get("validationformat") or "NONE"))
        if not shape.get("name") or type_ is None or format_ is None:
            raise DefinitionError(f"Stored parameter definition is malformed: {json.dumps(shape)[:200]}")
        options = shape.get("valueoptions")
        return cls(name=str(shape["name"]), type=type_, format=format_, required=bool(shape.get("required")),
                   options=tuple(options) if options else None)

    @classmethod
    def from_request(cls, entry: Mapping[str, str]) -> Definition:
        """From one `parameters[i].*` group of addCustomAction/updateCustomAction (keys any case).

        Raises DefinitionError with CloudStack's messages: blank name, "No type specified for parameter: X",
        an unknown type, "Invalid validation format: F specified for type: T", options for a type without
        them, or options that are not valid values of the type and format."""
        fields = {key.lower(): value for key, value in entry.items()}
        name = (fields.get("name") or "").strip()
        if not name:
            raise DefinitionError("Invalid parameter specified with empty name")
        type_text = (fields.get("type") or "").strip()
        if not type_text:
            raise DefinitionError(f"No type specified for parameter: {name}")
        type_ = _enum(ParameterType, type_text)
        if type_ is None:
            raise DefinitionError(f"Invalid type: {type_text} specified for parameter: {name}; expected one of "
                                  f"{', '.join(t.value for t in ParameterType)}")
        format_text = (fields.get("validationformat") or "").strip() or ValidationFormat.NONE.value
        format_ = _enum(ValidationFormat, format_text)
        if format_ is None or format_.base_type not in (None, type_):
            raise DefinitionError(f"Invalid validation format: {format_.value if format_ else format_text} "
                                  f"specified for type: {type_.value}")
        required = (fields.get("required") or "").strip().lower() == "true"
        options = _parse_options(name, type_, format_, fields.get("valueoptions") or "")
        return cls(name=name, type=type_, format=format_, required=required, options=options)

    # -- values -----------------------------------------------------------------------------------------

    def convert(self, value: str) -> Any:
        """The JSON value of `value` (see the module's table). Raises ParameterValueError naming this parameter:
        "Empty value for parameter 'X'" for a blank value, "Invalid value for parameter 'X': …" otherwise."""
        if not value.strip():
            raise ParameterValueError(self.name, f"Empty value for parameter '{self.name}'")
        try:
            converted = _CONVERTERS[self.type](self, value)
        except _Rejected as exc:
            message = f"Invalid value for parameter '{self.name}' ({self.describe()}): {exc}"
            raise ParameterValueError(self.name, message) from None
        if self.options is not None and converted not in self.options:
            subject = "the value" if self.secret else _shown(value)
            raise ParameterValueError(self.name, f"Invalid value for parameter '{self.name}' ({self.describe()}): "
                                         f"{subject} is not one of the valid options: {_listed(self.options)}")
        return converted

    def describe(self) -> str:
        """`NUMBER` or `STRING, EMAIL`: the type, and the format unless NONE."""
        return self.type.value if self.format is ValidationFormat.NONE else f"{self.type.value}, {self.format.value}"


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "…"
    return repr(text)


def _listed(options: Iterable[OptionValue]) -> str:
    return ", ".join(str(option) for option in options)


# -- converters (raise _Rejected; never quote a PASSWORD value) -------------------------------------------


def _string(definition: Definition, value: str) -> str:
    check = _STRING_CHECKS.get(definition.format)
    if check is not None and not check(value):
        raise _Rejected(f"{_shown(value)} is not {_FORMAT_NOUNS[definition.format]}")
    return value


def _number(definition: Definition, value: str) -> int | float:
    text = value.strip()
    if definition.format is ValidationFormat.DECIMAL:
        if not _DECIMAL.fullmatch(text):
            raise _Rejected(f"{_shown(value)} is not a decimal number")
        number = float(text)
        if not math.isfinite(number):
            raise _Rejected(f"{_shown(value)} is out of range for a decimal number")
        return number
    if not _INTEGER.fullmatch(text):
        raise _Rejected(f"{_shown(value)} is not a whole number (use validation format DECIMAL for fractions)")
    whole = int(text)
    if not _LONG_MIN <= whole <= _LONG_MAX:
        raise _Rejected(f"{_shown(value)} is out of range for a whole number (signed 64-bit)")
    return whole


def _boolean(_definition: Definition, value: str) -> bool:
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise _Rejected(f"{_shown(value)} is not a boolean (expected true or false)")
    return text == "true"


def _date(_definition: Definition, value: str) -> str:
    match = _DATE.fullmatch(value.strip())
    problem = f"{_shown(value)} is not a date and time with a time zone, e.g. 2025-08-22T11:42:37Z or " \
              "2025-08-22T13:42:37+02:00"
    if match is None:
        raise _Rejected(problem)
    zone = match["zone"]
    offset = dt.timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 18 or minutes > 59:
            raise _Rejected(f"{_shown(value)} has an invalid time zone offset")
        offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        local = dt.datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
        moment = local.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise _Rejected(f"{_shown(value)} is not a valid calendar date and time") from None
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment:%H:%M:%S}Z"


def _is_url(value: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        return False
    return bool(host) if scheme in _URL_NEEDS_HOST else bool(value[len(scheme) + 1 :])


_STRING_CHECKS = {
    ValidationFormat.UUID: lambda v: _UUID.fullmatch(v) is not None,
    ValidationFormat.EMAIL: lambda v: _EMAIL.fullmatch(v) is not None,
    ValidationFormat.URL: _is_url,
}
_FORMAT_NOUNS = {
    ValidationFormat.UUID: "a UUID (8-4-4-4-12 hexadecimal digits)",
    ValidationFormat.EMAIL: "an email address",
    ValidationFormat.URL: "a URL with a scheme of " + ", ".join(sorted(_URL_SCHEMES)),
}
_CONVERTERS = {
    ParameterType.STRING: _string,
    ParameterType.NUMBER: _number,
    ParameterType.BOOLEAN: _boolean,
    ParameterType.DATE: _date,
}


def _parse_options(
    name: str, type_: ParameterType, format_: ValidationFormat, text: str
) -> tuple[OptionValue, ...] | None:
    """Comma-separated options, trimmed, empties dropped; None when there are none."""
    options = [part.strip() for part in text.split(",") if part.strip()]
    if not options:
        return None
    if not type_.supports_options:
        raise DefinitionError(f"Options not supported for type: {type_.value} for parameter: {name}")
    probe = Definition(name=name, type=type_, format=format_)
    parsed: list[OptionValue] = []
    for option in options:
        try:
            parsed.append(_CONVERTERS[type_](probe, option))
        except _Rejected as exc:
            shown = "an option" if format_ is ValidationFormat.PASSWORD else f"option {_shown(option)}"
            raise DefinitionError(f"Invalid value options with validation format: {format_.value} for parameter: "
                                  f"{name}: {shown} — {exc}") from None
    return tuple(parsed)


# -- lists of definitions -----------------------------------------------------------------------------------


def parse_definitions(entries: Iterable[Mapping[str, str]]) -> list[Definition]:
    """The definitions of `parameters[i].*` groups, in index order. Raises DefinitionError (see
    Definition.from_request), also for two parameters of the same name."""
    definitions: list[Definition] = []
    seen: set[str] = set()
    for entry in entries:
        definition = Definition.from_request(entry)
        if definition.name in seen:
            raise DefinitionError(f"Duplicate parameter name: {definition.name}")
        seen.add(definition.name)
        definitions.append(definition)
    return definitions


def dump_definitions(definitions: Iterable[Definition]) -> str:
    """The stored form: a JSON list of `Definition.to_json()` objects."""
    return json.dumps([definition.to_json() for definition in definitions], separators=(",", ":"))


def load_definitions(text: str | None) -> list[Definition]:
    """Definitions from their stored form; an absent or empty value means none."""
    if not text:
        return []
    shapes = json.loads(text)
    if not isinstance(shapes, list):
        raise DefinitionError("Stored parameter definitions are not a list")
    return [Definition.from_json(shape) for shape in shapes]


def validate_values(definitions: list[Definition], supplied: Mapping[str, str]) -> dict[str, Any] | None:
    """The payload's `parameters` for the values a caller supplied (§4.5).

    None when the action defines no parameters: then every supplied value is dropped (CloudStack quirk
    §8.7). Otherwise every required parameter must be supplied and non-blank ("Missing or empty required
    parameter: X"), each supplied defined parameter is converted (Definition.convert), and supplied values
    without a definition are passed through as strings. Raises ParameterValueError for the first broken rule."""
    if not definitions:
        return None
    by_name = {definition.name: definition for definition in definitions}
    for definition in definitions:
        if definition.required and not supplied.get(definition.name, "").strip():
            raise ParameterValueError(definition.name, f"Missing or empty required parameter: {definition.name}")
    return {
        name: by_name[name].convert(value) if name in by_name else str(value)
        for name, value in supplied.items()
    }


def secret_names(definitions: Iterable[Definition]) -> frozenset[str]:
    """Names of the PASSWORD parameters (their values must never be logged or shown)."""
    return frozenset(definition.name for definition in definitions if definition.secret)
