"""Response shapes: the fields of each CloudStack response object, declared once.

A shape is what CloudStack's response classes are (`@SerializedName` + `@Param(description)`): each field's
name, type and description, and the shape of nested objects. `listApis` serves the shapes of the commands
(`response` entries, `related`), and the tests hold every response the server gives to its command's shape,
in both directions: a field a view returns that its shape does not declare fails, and so does a declared
field that no response of the representative run (tests/integration/api/test_openapi.py) carries.

How to declare a command's response
-----------------------------------
1. Declare the object's shape beside the view that renders it (`api/views/<area>.py`, or the command module
   when only its commands show it), in the view's field order::

       SSH_KEY_PAIR = Shape("sshkeypair", [
           Field("id", T.STRING, "ID of the ssh keypair"),
           Field("name", T.STRING, "Name of the keypair"),
           Field("fingerprint", T.STRING, "Fingerprint of the public key"),
           *OWNER_FIELDS,                              # account, accountid, domainid, domain (views/fields.py)
           Field("nic", T.SET, "the list of nics", shape=NIC),        # nested objects: a shape of their own
           Field("allowedroletypes", T.LIST, "role types", items=T.STRING),   # a list of plain values
       ])

2. Name it in the command: `@api_command("listSSHKeyPairs", response=SSH_KEY_PAIR, is_list=True, ...)`.
   The object name (`sshkeypair`) is the shape's; an async command names the shape of what its job returns.
   A command that answers `{"success": true}` (itself or through its job) says `response=SUCCESS`; one whose
   body is not wrapped in an object name (login, queryAsyncJobResult) uses a shape all the same.
3. Call the command in the representative run of tests/integration/api/test_openapi.py (every command runs
   there at least once, and each declared field must show in some answer of the run; the few that cannot
   are listed there with the reason). Unit tests can check a view directly: `SHAPE.problems(item) == []`.

A field that only some callers or states show is declared once: the shape lists every field the object
can have; the run must show each one somewhere.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SUCCESS", "Field", "FieldType", "Shape", "T"]


class FieldType(enum.StrEnum):
    """A response field's type as `listApis` names it (CloudStack: the Java type's simple name, lower-cased)."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    LONG = "long"
    SHORT = "short"
    DOUBLE = "double"
    DATE = "date"  # a string in CloudStack's format, yyyy-MM-dd'T'HH:mm:ssZ
    MAP = "map"  # an object of string values
    LIST = "list"
    SET = "set"  # as LIST (CloudStack's Set<...> fields)
    OBJECT = "object"  # one nested object (with a shape) or any JSON value (without)


T = FieldType  # short alias for declarations

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$")
_ARRAYS = (FieldType.LIST, FieldType.SET)


@dataclass(frozen=True)
class Field:
    """One field of a response object. `shape`: the nested object (OBJECT) or each element (LIST/SET);
    `items`: the element type of a list of plain values."""

    name: str
    type: FieldType
    description: str
    shape: Shape | None = None
    items: FieldType | None = None

    def __post_init__(self) -> None:
        if self.shape is not None and self.type not in (*_ARRAYS, FieldType.OBJECT):
            raise ValueError(f"field {self.name}: only object, list and set fields have a nested shape")
        if self.items is not None and self.type not in _ARRAYS:
            raise ValueError(f"field {self.name}: only list and set fields have an item type")

    def problems(self, value: Any, where: str) -> list[str]:
        """What is wrong with `value` as this field's value (nested objects checked too)."""
        if not _is(self.type, value):
            return [f"{where}: {type(value).__name__} {value!r:.60} is not a {self.type.value}"]
        if self.type in _ARRAYS:
            found: list[str] = []
            for index, element in enumerate(value):
                if self.shape is not None:
                    found += self.shape.problems(element, f"{where}[{index}]")
                elif self.items is not None and not _is(self.items, element):
                    found.append(f"{where}[{index}]: {element!r:.60} is not a {self.items.value}")
            return found
        if self.type is FieldType.OBJECT and self.shape is not None:
            return self.shape.problems(value, where)
        return []


def _is(kind: FieldType, value: Any) -> bool:
    match kind:
        case FieldType.STRING:
            return isinstance(value, str)
        case FieldType.DATE:
            return isinstance(value, str) and _DATE.match(value) is not None
        case FieldType.BOOLEAN:
            return isinstance(value, bool)
        case FieldType.INTEGER | FieldType.LONG | FieldType.SHORT:
            return isinstance(value, int) and not isinstance(value, bool)
        case FieldType.DOUBLE:
            return isinstance(value, int | float) and not isinstance(value, bool)
        case FieldType.MAP:
            return isinstance(value, dict)
        case FieldType.LIST | FieldType.SET:
            return isinstance(value, list)
        case FieldType.OBJECT:
            return True
    return False  # pragma: no cover - every type is matched above


class Shape:
    """A response object: its name (the key it sits under in a response, e.g. "zone") and its fields."""

    def __init__(self, name: str, fields: Iterable[Field]) -> None:
        self.name = name
        self.fields: tuple[Field, ...] = tuple(fields)
        self._by_name = {f.name: f for f in self.fields}
        if len(self._by_name) != len(self.fields):
            raise ValueError(f"shape {name} declares a field twice")

    def __repr__(self) -> str:
        return f"Shape({self.name!r}, {len(self.fields)} fields)"

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    def with_fields(self, *fields: Field) -> Shape:
        """The same object with more fields (a view that adds some to another's)."""
        return Shape(self.name, self.fields + fields)

    def problems(self, item: Any, where: str | None = None) -> list[str]:
        """Every way `item` differs from this shape: fields it has that are not declared, values of the
        wrong type, the same for nested objects. Absent fields are fine here (CloudStack leaves nulls out)."""
        where = where or self.name
        if not isinstance(item, Mapping):
            return [f"{where}: {type(item).__name__} is not an object"]
        found: list[str] = []
        for key, value in item.items():
            declared = self._by_name.get(key)
            if declared is None:
                found.append(f"{where}.{key}: not declared in shape {self.name}")
            else:
                found += declared.problems(value, f"{where}.{key}")
        return found

    def observe(self, item: Mapping[str, Any], seen: set[tuple[str, str]]) -> None:
        """Add (shape name, field name) to `seen` for each declared field `item` carries, nested ones too."""
        for key, value in item.items():
            declared = self._by_name.get(key)
            if declared is None:
                continue
            seen.add((self.name, key))
            if declared.shape is None:
                continue
            for element in value if declared.type in _ARRAYS else [value]:
                if isinstance(element, Mapping):
                    declared.shape.observe(element, seen)

    def reachable(self) -> list[Shape]:
        """This shape and every shape nested in it, each once."""
        found: dict[int, Shape] = {}
        pending = [self]
        while pending:
            shape = pending.pop()
            if id(shape) in found:
                continue
            found[id(shape)] = shape
            pending += [f.shape for f in shape.fields if f.shape is not None]
        return list(found.values())


# CloudStack's SuccessResponse: what delete-type commands (and the jobs of async ones) answer.
SUCCESS = Shape("success", [
    Field("success", T.BOOLEAN, "true if operation is executed successfully"),
    Field("displaytext", T.STRING, "any text associated with the success or failure"),
])
