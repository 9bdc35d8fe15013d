"""Translation of the CloudStack payload (as the extension script forwards it) into a `VmSpec`.

This is the only module that knows CloudStack's field names (`cloudstack.vm.details`, `minRam`,
`broadcastUri`, `externaldetails.virtualmachine`, `vmData`, `SSH.PublicKey`). It reads, never stores:
secrets in the payload (host password, VNC password, tokens) are simply not copied into the spec, and what
the guest gets (SSH keys, user data; `guest_data_from_payload`) goes to its config drive only.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from typing import Any

from switchboard.agent.errors import InvalidRequest
from switchboard.agent.model import GuestData, NicRequest, TemplateRef
from switchboard.agent.names import validate_vm_name
from switchboard.agent.spec import VmSpec

__all__ = ["guest_data_from_payload", "parse_size", "payload_vm_name", "spec_from_payload"]

_MIB = 1024 * 1024
_DEFAULT_MEMORY_MIB = 512
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,254}")
_BACKEND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
_SIZE = re.compile(r"(\d+)\s*([KMGT]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SSH_KEY = re.compile(
    r"(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}(?: [\x20-\x7e]{0,512})?"
)
_DATA_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MAX_KEYS = 64
_MAX_USER_DATA = 1 << 20  # CloudStack's limit for user data sent with POST
_MAX_METADATA = 64 << 10


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


def _is_ssh_key(line: str) -> bool:
    """`<type> <base64 blob> [comment]` whose blob is a key of that type (the blob names its own type)."""
    if not _SSH_KEY.fullmatch(line):
        return False
    kind, blob = line.split(" ", 2)[:2]
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) > 4 + len(kind) and raw[4 : 4 + len(kind)] == kind.encode() and raw[:4] == len(kind).to_bytes(4)


def _ssh_keys(*sources: object) -> tuple[str, ...]:
    """OpenSSH public keys, one per line in each source (CloudStack joins several with newlines)."""
    keys: list[str] = []
    for source in sources:
        if source in (None, ""):
            continue
        if not isinstance(source, str):
            raise InvalidRequest("SSH public keys must be text, one key per line")
        for line in source.replace("\r", "").split("\n"):
            key = line.strip()
            if not key:
                continue
            if not _is_ssh_key(key):
                raise InvalidRequest(f"not an OpenSSH public key: {key[:40]!r}...")
            if key not in keys:
                keys.append(key)
    if len(keys) > _MAX_KEYS:
        raise InvalidRequest(f"at most {_MAX_KEYS} SSH public keys")
    return tuple(keys)


def _vm_data(vm: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """CloudStack's `vmData`: [folder, file, content] triples (what it writes to a config drive)."""
    raw = vm.get("vmData") or []
    if not isinstance(raw, list):
        raise InvalidRequest("cloudstack.vm.details.vmData must be a list of [folder, file, content]")
    entries = []
    for position, item in enumerate(raw):
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) or x is None for x in item)):
            raise InvalidRequest(f"vmData[{position}] must be [folder, file, content] (strings)")
        folder, name, content = item[0] or "", item[1] or "", item[2] or ""
        if not _DATA_FILE.fullmatch(folder) or not _DATA_FILE.fullmatch(name):
            raise InvalidRequest(f"vmData[{position}]: invalid folder or file name {folder[:40]!r}/{name[:40]!r}")
        entries.append((folder, name, content))
    return entries


def _user_data(encoded: str) -> bytes:
    """User data as CloudStack sends it: base64 (it keeps it base64-encoded all the way)."""
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("user data must be base64-encoded") from exc
    if len(data) > _MAX_USER_DATA:
        raise InvalidRequest(f"user data is larger than {_MAX_USER_DATA} bytes")
    return data


def guest_data_from_payload(
    payload: Mapping[str, Any], *, name: str | None = None, ssh_public_key: str | None = None
) -> GuestData | None:
    """What the guest should find on its config drive, or None when the payload gives it nothing.

    Reads `cloudstack.vm.details.vmData` (CloudStack's config drive content: `userdata/user_data` in base64,
    `metadata/<file>`, `password/vm_password`), the VM detail `SSH.PublicKey`, the request's
    `ssh_public_key` (the original agent's field) and `configDriveLabel`. `name` is the VM's name when the
    payload does not give it. Raises InvalidRequest."""
    vm = _vm_to(payload)
    vm_details = _mapping(vm.get("details"), "cloudstack.vm.details.details")
    entries = _vm_data(vm)
    metadata = {name: content for folder, name, content in entries if folder == "metadata"}
    keys = _ssh_keys(metadata.pop("public-keys", None), vm_details.get("SSH.PublicKey"), ssh_public_key)
    user_data = next((_user_data(c) for f, n, c in entries if f == "userdata" and n == "user_data" and c), None)
    password = next((c for f, n, c in entries if f == "password" and c), None)
    if sum(len(c) for c in metadata.values()) > _MAX_METADATA:
        raise InvalidRequest(f"vmData metadata is larger than {_MAX_METADATA} bytes")
    if not (keys or user_data or metadata or password):
        return None
    label = str(vm.get("configDriveLabel") or "config-2")
    if not _LABEL.fullmatch(label):
        raise InvalidRequest(f"configDriveLabel {label[:40]!r}: letters, digits, dash, underscore (at most 32)")
    name = payload_vm_name(payload) or name or ""
    return GuestData(
        instance_id=str(metadata.get("vm-id") or payload.get("virtualmachineid") or vm.get("uuid") or name),
        hostname=str(metadata.get("local-hostname") or vm.get("hostName") or name),
        ssh_keys=keys,
        user_data=user_data,
        metadata=tuple(sorted(metadata.items())),
        password=password,
        label=label,
    )
