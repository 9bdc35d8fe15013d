"""Parameter types of the CloudStack API and the parsing of raw request values into them.

Raw requests arrive as flat `name=value` pairs. Map parameters come as `name[i].key=value` and are grouped
here by index; list parameters are comma-separated. Parameter names are matched case-insensitively; map keys
keep the case they were sent with.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.errors import InvalidParameter


class ParamType(enum.StrEnum):
    STRING = "string"
    UUID = "uuid"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    SHORT = "short"
    LONG = "long"
    DATE = "date"
    LIST = "list"
    MAP = "map"


@dataclass(frozen=True)
class Param:
    """One declared parameter of a command (what `listApis` shows and what validation enforces)."""

    name: str
    type: ParamType = ParamType.STRING
    required: bool = False
    description: str = ""
    item_type: ParamType | None = None  # element type of a LIST
    length: int = 255
    since: str | None = None
    # The object a uuid parameter names (its shape's name, e.g. "zone"), when its name does not tell
    # (`listApis` relates the parameter to the commands answering that object).
    entity: str | None = None
    # The lower-cased name requests are matched by (computed once: parsing looks it up on every request).
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())


class MapValue(list[dict[str, str]]):
    """A map parameter: the entries in index order. `flat()` merges them as CloudStack does."""

    def flat(self) -> dict[str, str]:
        """All indices flattened into one map. An entry of the form {key: K, value: V} contributes K=V."""
        merged: dict[str, str] = {}
        for entry in self:
            if set(entry) == {"key", "value"}:
                merged[entry["key"]] = entry["value"]
            else:
                merged.update(entry)
        return merged


_MAP_KEY = re.compile(r"^(?P<name>[A-Za-z0-9_]+)\[(?P<index>\d+)\]\.(?P<key>.+)$")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class RawRequest:
    """The request's parameters: scalars by lower-cased name, maps grouped by name and index."""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        # The pairs exactly as sent: request signatures cover the names in their original case and order.
        self.pairs: dict[str, str] = dict(pairs)
        self.scalars: dict[str, str] = {}
        maps: dict[str, dict[int, dict[str, str]]] = {}
        for raw_name, value in pairs.items():
            match = _MAP_KEY.match(raw_name) if "[" in raw_name else None
            if match:
                group = maps.setdefault(match["name"].lower(), {})
                group.setdefault(int(match["index"]), {})[match["key"]] = value
            else:
                self.scalars[raw_name.lower()] = value
        self.maps = {name: MapValue(entries[i] for i in sorted(entries)) for name, entries in maps.items()}

    def has(self, name: str) -> bool:
        return name in self.scalars or name in self.maps


# What any request may carry besides a command's own parameters, which CloudStack does not report as unknown
# (ParamGenericValidationWorker's defaults, and `projectid`, which it accepts for every command).
ALWAYS_ACCEPTED = frozenset({
    "accountid", "ctxstarteventid", "command", "cmdeventtype", "username", "userid", "password", "domain",
    "domainid", "sessionkey", "response", "page", "userapikey", "apikey", "pagesize", "httpmethod", "signature",
    "ctxaccountid", "ctxuserid", "ctxdetails", "uuid", "id", "signatureversion", "expires", "scheduleid", "_",
    "projectid",
})


def unknown_params(accepted: frozenset[str], raw: RawRequest) -> list[str]:
    """The (lower-cased) names in `raw` that neither the command (`accepted`, lower-cased) nor every request
    accepts. CloudStack ignores them and logs their names; so does the dispatcher."""
    return [name for names in (raw.scalars, raw.maps) for name in names
            if name not in accepted and name not in ALWAYS_ACCEPTED]


def parse_params(command: str, declared: tuple[Param, ...], raw: RawRequest) -> dict[str, Any]:
    """Validate `raw` against the declarations; return parsed values by declared name (absent → missing).

    Raises InvalidParameter (CloudStack's 431) naming the parameter that is missing or malformed.
    Undeclared parameters are ignored, as CloudStack does.
    """
    values: dict[str, Any] = {}
    for param in declared:
        key = param.key
        if param.type is ParamType.MAP:
            if key in raw.maps:
                values[param.name] = raw.maps[key]
            elif param.required:
                raise _missing(command, param.name)
            continue
        text = raw.scalars.get(key)
        if text is None or (text == "" and param.type is not ParamType.STRING):
            if param.required:
                raise _missing(command, param.name)
            continue
        if text == "" and param.required:
            raise _missing(command, param.name)
        values[param.name] = parse_value(command, param, text)
    return values


def parse_value(command: str, param: Param, text: str) -> Any:
    try:
        if param.type is ParamType.LIST:
            item = Param(param.name, param.item_type or ParamType.STRING)
            return [_PARSERS[item.type](part.strip(), item) for part in text.split(",") if part.strip()]
        return _PARSERS[param.type](text, param)
    except ValueError as exc:
        raise InvalidParameter(
            f"Unable to execute API command {command.lower()} due to invalid value. Invalid parameter "
            f"{param.name} value={text} due to incorrect {param.type.value} value format: {exc}",
            parameter=param.name,
        ) from None


def _missing(command: str, name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Unable to execute API command {command.lower()} due to missing parameter {name}", parameter=name
    )


def _string(text: str, param: Param) -> str:
    if len(text) > param.length:
        raise ValueError(f"longer than {param.length} characters")
    return text


def _uuid(text: str, _param: Param) -> str:
    return str(uuid_module.UUID(text))


def _boolean(text: str, _param: Param) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError("expected true or false")
    return lowered == "true"


def _integer(bits: int) -> Any:
    def parse(text: str, _param: Param) -> int:
        number = int(text)
        if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
            raise ValueError(f"out of range for a {bits}-bit integer")
        return number

    return parse


def _date(text: str, _param: Param) -> dt.datetime:
    return parse_date(text)


def parse_date(text: str) -> dt.datetime:
    """Accept CloudStack's date forms: yyyy-MM-dd, yyyy-MM-dd'T'HH:mm:ssZ (+0000), ISO-8601 with offset/Z.
    ValueError for anything else, including a time that is out of range once converted to UTC
    (0001-01-01T00:00:00+14:00)."""
    candidate = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate):
        return dt.datetime.fromisoformat(candidate).replace(tzinfo=dt.UTC)
    candidate = candidate.replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(candidate)
    if parsed.tzinfo is None:
        raise ValueError("a time zone offset is required")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None


def format_date(value: dt.datetime | None) -> str | None:
    """CloudStack's response date format: yyyy-MM-dd'T'HH:mm:ssZ, e.g. 2025-08-22T11:42:37+0000."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime(DATE_FORMAT)


_PARSERS: dict[ParamType, Any] = {
    ParamType.STRING: _string,
    ParamType.UUID: _uuid,
    ParamType.BOOLEAN: _boolean,
    ParamType.INTEGER: _integer(32),
    ParamType.SHORT: _integer(16),
    ParamType.LONG: _integer(64),
    ParamType.DATE: _date,
}
