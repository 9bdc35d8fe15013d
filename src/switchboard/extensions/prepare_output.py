"""What a `prepare` answer changes (protocol notes §1.3, §2.6). Pure functions, no I/O.

The executable's output is a merge patch on the `cloudstack.vm.details` object it was given:

* objects merge recursively; scalars replace; a JSON `null` sets the key to null;
* arrays whose elements are all objects with a `"uuid"` key — on both sides, both non-empty — merge element
  by element by `uuid` (for NICs that is the network's UUID); unmatched patch elements are appended;
  any other array in the patch replaces the target array.

Switchboard differs from CloudStack in one deliberate detail: when several target elements share a `uuid`
(two NICs on one network), each patch element is used for one target element, in order, instead of the
same patch being applied to all of them — so two NICs get two MACs.

Only three things are then kept: `vncPassword`, the whole merged `details` map, and per NIC (matched by the
merged element's `nicUuid`) `mac`, `ip`, `ip6address`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from switchboard.errors import ExtensionFailed

__all__ = ["NicUpdate", "PrepareOutcome", "PrepareOutputError", "apply_prepare_output", "merge_patch"]

_NIC_FIELDS = (("mac", "mac"), ("ip", "ip"), ("ip6address", "ip6_address"))


class PrepareOutputError(ExtensionFailed):
    """The `prepare` output is not a JSON object, or the merged result is not a usable VM description.
    The message is CloudStack's ("Failed to parse VM"); the deployment then fails ("Failed to prepare VM")."""

    def __init__(self, reason: str) -> None:
        super().__init__("Failed to parse VM")
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class NicUpdate:
    """New address values of one NIC (by NIC UUID); only NICs where one of them changed are listed."""

    nic_uuid: str
    mac: str | None
    ip: str | None
    ip6_address: str | None


@dataclass(frozen=True, kw_only=True)
class PrepareOutcome:
    """What to persist after `prepare`.

    `changed`: the patch changed the VM description at all. `vnc_password`: the merged value (may be None).
    `details`: the whole merged details map, to replace the instance's details (values as strings; keys whose
    merged value is null are dropped). `nics`: address changes by NIC UUID. `merged`: the merged object.
    """

    changed: bool
    vnc_password: str | None
    details: dict[str, str]
    nics: tuple[NicUpdate, ...]
    merged: dict[str, Any]


def _uuid_array(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "uuid" in item for item in value)
    )


def _merge_arrays(target: list[dict[str, Any]], patch: list[dict[str, Any]]) -> list[Any]:
    unused = list(patch)
    merged: list[Any] = []
    for item in target:
        match = next((p for p in unused if p["uuid"] == item["uuid"]), None)
        if match is None:
            merged.append(copy.deepcopy(item))
        else:
            unused.remove(match)
            merged.append(merge_patch(item, match))
    merged.extend(copy.deepcopy(p) for p in unused)
    return merged


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply `patch` to `target` by the rules above; returns a new value, never changes its arguments."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target)
    for key, value in patch.items():
        current = result.get(key)
        if value is None:
            result[key] = None
        elif isinstance(value, dict) and isinstance(current, dict):
            result[key] = merge_patch(current, value)
        elif _uuid_array(value) and _uuid_array(current):
            result[key] = _merge_arrays(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _as_detail_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _optional_str(value: Any) -> str | None:
    return None if value is None else _as_detail_value(value)


def apply_prepare_output(vm_details: dict[str, Any], output: str) -> PrepareOutcome:
    """Merge a `prepare` answer into `vm_details` (the `cloudstack.vm.details` object that was sent).

    Empty output changes nothing. Raises PrepareOutputError when the output is not a JSON object or the
    merged `details` is not an object.
    """
    text = output.strip()
    patch: Any = {}
    if text:
        try:
            patch = json.loads(text)
        except ValueError as exc:
            raise PrepareOutputError(f"prepare output is not JSON: {exc}") from exc
        if not isinstance(patch, dict):
            raise PrepareOutputError("prepare output is not a JSON object")
    merged = merge_patch(vm_details, patch)
    details = merged.get("details")
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise PrepareOutputError("merged 'details' is not an object")
    originals = {
        nic.get("nicUuid"): nic for nic in vm_details.get("nics") or [] if isinstance(nic, dict)
    }
    updates: list[NicUpdate] = []
    merged_nics = merged.get("nics")
    for nic in merged_nics if isinstance(merged_nics, list) else []:
        if not isinstance(nic, dict) or nic.get("nicUuid") not in originals:
            continue  # appended or unknown elements have no NIC record to update
        before = originals[nic["nicUuid"]]
        values = {attr: _optional_str(nic.get(key)) for key, attr in _NIC_FIELDS}
        if any(values[attr] != _optional_str(before.get(key)) for key, attr in _NIC_FIELDS):
            updates.append(NicUpdate(nic_uuid=str(nic["nicUuid"]), **values))
    return PrepareOutcome(
        changed=merged != vm_details,
        vnc_password=_optional_str(merged.get("vncPassword")),
        details={str(k): _as_detail_value(v) for k, v in details.items() if v is not None},
        nics=tuple(updates),
        merged=merged,
    )
