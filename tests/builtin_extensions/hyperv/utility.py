"""The generic cmdlets of the stand-in (Where-Object, Select-Object, ConvertTo-Csv, ConvertTo-Json) and how
objects print, following Windows PowerShell 5.1: CSV fields all double-quoted with the header first, values
as their string form (an enum by name); JSON with enums as numbers, dates as "/Date(milliseconds)/", one
object printed as an object and several as an array.

Objects are the model's (anything with `properties()`), `Custom` objects made by Select-Object, strings,
numbers, GUIDs and datetimes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from tests.builtin_extensions.hyperv.powershell import Cmdlet, CmdletError, Param

# Microsoft.HyperV.PowerShell.VMState: how Windows PowerShell's ConvertTo-Json writes the State enum.
VM_STATE_NUMBERS = {"Other": 1, "Running": 2, "Off": 3, "Stopping": 4, "Saved": 6, "Paused": 9, "Starting": 10,
                    "Reset": 11, "Saving": 32773, "Pausing": 32776, "Resuming": 32777}


class Custom(dict[str, Any]):
    """A PSCustomObject: ordered properties."""

    ps_type = "PSCustomObject"

    def properties(self) -> dict[str, Any]:
        return dict(self)


def properties(value: Any) -> dict[str, Any]:
    if hasattr(value, "properties"):
        result: dict[str, Any] = value.properties()
        return result
    return {}


def text(value: Any) -> str:
    """The string form of a value, as PowerShell's ToString() gives it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, dt.datetime):
        return value.strftime("%m/%d/%Y %I:%M:%S %p").lstrip("0")
    if isinstance(value, uuid.UUID | int | str):
        return str(value)
    return getattr(value, "ps_type", type(value).__name__)


def render(value: Any) -> str:
    """How a value prints on stdout (Out-Default), for the kinds of values the stand-in prints."""
    if isinstance(value, Custom) or hasattr(value, "properties"):
        rows = properties(value)
        width = max((len(k) for k in rows), default=0)
        return "\r\n".join(f"{k.ljust(width)} : {text(v)}" for k, v in rows.items())
    return text(value)


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return f"/Date({int(value.timestamp() * 1000)})/"
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "properties"):
        return {k: _json_field(k, v) for k, v in properties(value).items()}
    return value


def _json_field(key: str, value: Any) -> Any:
    if key == "State" and isinstance(value, str) and value in VM_STATE_NUMBERS:
        return VM_STATE_NUMBERS[value]
    return _json(value)


def where_object(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
    if not bound.get("EQ") or "Property" not in bound or "Value" not in bound:
        raise CmdletError("The stand-in implements Where-Object -Property P -EQ -Value V only.", "NotImplemented")
    wanted = bound["Value"]
    kept = []
    for item in flowing or []:
        value = properties(item).get(bound["Property"])
        # -EQ: the right side converted to the left side's type; strings compare ignoring case
        if isinstance(value, str) and isinstance(wanted, str):
            match = value.lower() == wanted.lower()
        else:
            match = text(value).lower() == text(wanted).lower()
        if match:
            kept.append(item)
    return kept


def select_object(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
    if "ExpandProperty" in bound:
        name = bound["ExpandProperty"]
        out = []
        for item in flowing or []:
            shown = properties(item)
            if name not in shown:
                raise CmdletError(f"Property \"{name}\" cannot be found.", "InvalidArgument",
                                  "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand")
            out.append(shown[name])
        return out
    names = bound.get("Property") or []
    return [Custom((name, properties(item).get(name)) for name in names) for item in flowing or []]


def convert_to_csv(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
    items = flowing or []
    if not items:
        return []
    header = list(properties(items[0]))
    lines = [] if bound.get("NoTypeInformation") else [f"#TYPE {getattr(items[0], 'ps_type', 'Object')}"]

    def quoted(value: Any) -> str:
        return '"' + text(value).replace('"', '""') + '"'

    lines.append(",".join(quoted(name) for name in header))
    lines.extend(",".join(quoted(properties(item).get(name)) for name in header) for item in items)
    return lines


def convert_to_json(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
    items = [_json(item) for item in flowing or []]
    if not items:
        return []
    value = items[0] if len(items) == 1 else items
    if bound.get("Compress"):
        return [json.dumps(value, separators=(",", ":"), ensure_ascii=False)]
    return [json.dumps(value, indent=4, ensure_ascii=False)]


CMDLETS = {
    "Where-Object": Cmdlet("Where-Object", (Param("Property"), Param("EQ", "switch"), Param("Value", "any"),
                                            Param("InputObject", "any", pipeline=True)), where_object),
    "Select-Object": Cmdlet("Select-Object", (Param("Property", many=True), Param("ExpandProperty"),
                                              Param("InputObject", "any", pipeline=True)), select_object),
    "ConvertTo-Csv": Cmdlet("ConvertTo-Csv", (Param("NoTypeInformation", "switch"),
                                              Param("InputObject", "any", pipeline=True)), convert_to_csv),
    "ConvertTo-Json": Cmdlet("ConvertTo-Json", (Param("Compress", "switch"), Param("Depth", "int"),
                                                Param("InputObject", "any", pipeline=True)), convert_to_json),
}
