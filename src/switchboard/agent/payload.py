"""Translation of the CloudStack payload (as the extension script forwards it) into a `VmSpec`.

This is the only module that knows CloudStack's field names (`cloudstack.vm.details`, `minRam`,
`broadcastUri`, `externaldetails.virtualmachine`). It reads, never stores: secrets in the payload (host
password, VNC password, tokens) are simply not copied into the spec.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from switchboard.agent.errors import InvalidRequest
from switchboard.agent.model import NicRequest, TemplateRef
from switchboard.agent.names import validate_vm_name
from switchboard.agent.spec import VmSpec

__all__ = ["parse_size", "payload_vm_name", "spec_from_payload"]

_MIB = 1024 * 1024
_DEFAULT_MEMORY_MIB = 512
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,254}")
_BACKEND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
_SIZE = re.compile(r"(\d+)\s*([KMGT]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{where} must be an object")
    return value


def _vm_to(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(payload.get("cloudstack.vm.details"), "cloudstack.vm.details")


def _vm_details(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    external = _mapping(payload.get("externaldetails"), "externaldetails")
    return _mapping(external.get("virtualmachine"), "externaldetails.virtualmachine")


def payload_vm_name(payload: Mapping[str, Any]) -> str | None:
    """The VM's internal name as the payload gives it, or None when it names none."""
    for candidate in (payload.get("virtualmachinename"), _vm_to(payload).get("name"), payload.get("vm_name")):
        if candidate:
            return str(candidate)
    return None


def _int(value: object, where: str, *, minimum: int = 0) -> int:
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise InvalidRequest(f"{where} must be an integer, got {str(value)[:40]!r}") from exc
    if number < minimum:
        raise InvalidRequest(f"{where} must be at least {minimum}")
    return number


def parse_size(value: object, where: str) -> int:
    """Bytes from `4294967296`, `"4G"`, `"4096MiB"`, `"512M"`. Raises InvalidRequest."""
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise InvalidRequest(f"{where}: cannot read size {str(value)[:40]!r}")
    unit = (match.group(2) or "").upper().rstrip("B").rstrip("I")
    return int(match.group(1)) * _UNITS[unit]


def _memory_mib(vm: Mapping[str, Any]) -> int:
    for key in ("maxRam", "minRam"):
        if vm.get(key):
            return max(1, math.ceil(_int(vm[key], f"cloudstack.vm.details.{key}", minimum=1) / _MIB))
    if vm.get("memory"):
        return _int(vm["memory"], "memory (MiB)", minimum=1)
    return _DEFAULT_MEMORY_MIB


def _vlan(uri: object, where: str) -> str | None:
    """`vlan://120` → "120", `vlan://untagged` → "untagged", none → None. Other schemes are refused."""
    if uri in (None, ""):
        return None
    text = str(uri)
    if not text.lower().startswith("vlan://"):
        raise InvalidRequest(f"{where}: unsupported broadcastUri {text[:60]!r} (only vlan://N or vlan://untagged)")
    tag = text[len("vlan://"):]
    if tag.lower() == "untagged":
        return "untagged"
    vid = _int(tag, where, minimum=1)
    if vid > 4094:
        raise InvalidRequest(f"{where}: VLAN {vid} out of range 1-4094")
    return str(vid)


def _nics(vm: Mapping[str, Any]) -> tuple[NicRequest, ...]:
    raw = vm.get("nics") or []
    if not isinstance(raw, list):
        raise InvalidRequest("cloudstack.vm.details.nics must be a list")
    nics: list[NicRequest] = []
    for position, item in enumerate(raw):
        where = f"nics[{position}]"
        nic = _mapping(item, where)
        mac = str(nic.get("mac") or "")
        if not _MAC.fullmatch(mac):
            raise InvalidRequest(f"{where}.mac: invalid MAC address {mac[:40]!r}")
        nics.append(
            NicRequest(
                index=_int(nic.get("deviceId", position), f"{where}.deviceId"),
                mac=mac.lower(),
                vlan=_vlan(nic.get("broadcastUri"), f"{where}.broadcastUri"),
                mtu=_int(nic.get("mtu") or 1500, f"{where}.mtu", minimum=68),
                ip=nic.get("ip") or None,
                netmask=nic.get("netmask") or None,
                gateway=nic.get("gateway") or None,
                network_uuid=nic.get("uuid") or None,  # in a NicTO, "uuid" is the network's
                nic_uuid=nic.get("nicUuid") or None,
            )
        )
    indexes = [nic.index for nic in nics]
    if len(set(indexes)) != len(indexes):
        raise InvalidRequest("two NICs share one deviceId")
    return tuple(sorted(nics, key=lambda nic: nic.index))


def _file_name(details: Mapping[str, Any], key: str) -> str:
    value = details.get(key)
    if not value:
        raise InvalidRequest(f"externaldetails.virtualmachine.{key} is required (a file name on the host)")
    if not isinstance(value, str) or not _FILE_NAME.fullmatch(value):
        raise InvalidRequest(f"externaldetails.virtualmachine.{key}: {str(value)[:60]!r} is not a plain file name")
    return value


def _template(details: Mapping[str, Any]) -> TemplateRef:
    url = details.get("image_url") or None
    checksum = details.get("image_checksum") or None
    if url and not checksum:
        raise InvalidRequest("externaldetails.virtualmachine.image_url needs image_checksum (sha256:<hex>)")
    return TemplateRef(
        kernel=_file_name(details, "kernel"),
        image=_file_name(details, "image"),
        boot_args=details.get("boot_args") or None,
        url=url,
        checksum=checksum,
        initrd=_file_name(details, "initrd") if details.get("initrd") else None,
    )


def _root_size(vm: Mapping[str, Any], details: Mapping[str, Any]) -> int | None:
    for key in ("root_disk_size", "rootdisksize"):
        if details.get(key):
            return parse_size(details[key], f"externaldetails.virtualmachine.{key}")
    vm_details = _mapping(vm.get("details"), "cloudstack.vm.details.details")
    if vm_details.get("rootdisksize"):
        # CloudStack's own detail is a number of GiB.
        return _int(vm_details["rootdisksize"], "details.rootdisksize (GiB)", minimum=1) * 1024**3
    return None


def _backend_name(value: object, where: str) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("driver")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _BACKEND.fullmatch(value):
        raise InvalidRequest(f"{where}: {str(value)[:40]!r} is not a backend name")
    return value


def _overrides(payload: Mapping[str, Any], details: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Storage and network backends named by the template/offering/VM details or the request."""
    external = _mapping(payload.get("externaldetails"), "externaldetails")
    storage = _backend_name(details.get("storage") or details.get("storage_driver"), "storage")
    network = _backend_name(
        payload.get("net") or external.get("net") or details.get("net") or details.get("net_driver"), "net"
    )
    return storage, network


def _first(*values: object) -> object:
    return next(v for v in values if v is not None and v != "")


def _data_disks(details: Mapping[str, Any]) -> tuple[int, ...]:
    """`data_disks` from the details: sizes as a list or a comma-separated string ("10G,20G")."""
    raw = details.get("data_disks")
    if raw in (None, ""):
        return ()
    items = raw if isinstance(raw, list) else str(raw).split(",")
    sizes = tuple(parse_size(item, "externaldetails.virtualmachine.data_disks") for item in items)
    if len(sizes) > 8 or any(size <= 0 for size in sizes):
        raise InvalidRequest("externaldetails.virtualmachine.data_disks: 1 to 8 positive sizes")
    return sizes


def spec_from_payload(payload: Mapping[str, Any], *, name: str | None = None) -> VmSpec:
    """Build the spec for one VM from a CloudStack payload.

    `name` is the name from the URL, when there is one; it must agree with the payload's. Raises
    InvalidRequest naming the offending field."""
    found = payload_vm_name(payload)
    if name is not None and found is not None and found != name:
        raise InvalidRequest(f"VM name in the path ({name}) and in the spec ({found[:64]}) differ")
    vm_name = validate_vm_name(name or found)
    vm = _vm_to(payload)
    details = _vm_details(payload)
    storage, network = _overrides(payload, details)
    return VmSpec(
        name=vm_name,
        vcpus=_int(_first(vm.get("cpus"), payload.get("cpus"), 1), "cpus", minimum=1),
        memory_mib=_memory_mib(vm or payload),
        template=_template(details),
        nics=_nics(vm),
        root_size_bytes=_root_size(vm, details),
        data_disk_bytes=_data_disks(details),
        cloudstack_vm_id=payload.get("virtualmachineid") or vm.get("uuid") or None,
        storage_backend=storage,
        network_backend=network,
    )
