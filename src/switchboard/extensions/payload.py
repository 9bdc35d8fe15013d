"""The only code that shapes extension payloads (protocol notes §2). Pure functions, no I/O.

Every builder returns the exact JSON object (a dict) that the runner writes to the payload file:

| key | when |
|---|---|
| `externaldetails` | a group is non-empty: `extension`, `resourcemap`, `host`, `virtualmachine`, `action` |
| `virtualmachineid`, `virtualmachinename`, `cloudstack.vm.details` | an instance is involved |
| `action`, `parameters` | custom actions (`parameters` only when the caller passes a dict) |
| `caller` | an API caller is known (CloudStack 4.22+) |

`externaldetails.virtualmachine` follows deploy-time > template > offering precedence and, for `create` and
`start`, carries `cloudstack.vlan` (the default NIC's VLAN/segment). The VM TO of `create` and `start` carries
the guest's `vmData` and `configDriveLabel` when the instance's `guest` data is given. The `status` payload always has a
`virtualmachine` group, even `{}`. The host-level `statuses` payload has no instance at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.extensions.payload_model import (
    CallerInfo,
    CustomActionInfo,
    ExtensionInfo,
    GuestData,
    HostInfo,
    InstanceInfo,
    NicInfo,
    ResourceMapInfo,
    external_details,
)

__all__ = [
    "LIFECYCLE_ACTIONS",
    "VLAN_KEY",
    "custom_action_payload",
    "lifecycle_payload",
    "nic_object",
    "statuses_payload",
    "vlan_of",
    "vm_data",
    "vm_external_details",
    "vm_transfer_object",
]

LIFECYCLE_ACTIONS = frozenset({"prepare", "create", "start", "stop", "reboot", "delete", "status", "getconsole"})
VLAN_KEY = "cloudstack.vlan"
_VLAN_ACTIONS = frozenset({"create", "start"})
# CloudStack sets the SMBIOS strings on the StartCommand path only (prepare runs on it too).
_START_PATH_ACTIONS = frozenset({"prepare", "create", "start"})
_MANUFACTURER = "Apache Software Foundation"
_PRODUCT = "CloudStack External Hypervisor"

JsonObject = dict[str, Any]


def _host_groups(
    extension: ExtensionInfo, resource_map: ResourceMapInfo, host: HostInfo
) -> dict[str, dict[str, str]]:
    return {
        "extension": extension.visible_details,
        "resourcemap": dict(resource_map.details),
        "host": external_details(host.details),
    }


def _finish(groups: Mapping[str, dict[str, str]], payload: JsonObject, *, keep: frozenset[str] = frozenset()) -> None:
    """Put `externaldetails` first, dropping empty groups (except those in `keep`) and the map if empty."""
    kept = {name: group for name, group in groups.items() if group or name in keep}
    if kept:
        payload["externaldetails"] = kept


def _caller_object(caller: CallerInfo) -> JsonObject:
    return {
        "id": caller.id,
        "name": caller.name,
        "type": caller.type,
        "roleid": caller.role_id,
        "rolename": caller.role_name,
        "roletype": caller.role_type,
    }


def vlan_of(broadcast_uri: str | None) -> str | None:
    """`vlan://1577` → `1577`; any other `scheme://x` → `x` (e.g. an NSX segment); a bare value as is."""
    if not broadcast_uri:
        return None
    _, sep, rest = broadcast_uri.partition("://")
    return (rest if sep else broadcast_uri) or None


def _merged_stored_details(instance: InstanceInfo) -> dict[str, str]:
    """Offering `External:` details as the base, then the template's, then the instance's own."""
    merged = {k: v for k, v in instance.offering.details.items() if k.startswith("External:")}
    merged.update({k: v for k, v in instance.template.details.items() if k.startswith("External:")})
    merged.update(instance.details)
    return merged


def vm_external_details(instance: InstanceInfo, *, with_vlan: bool) -> dict[str, str]:
    """`externaldetails.virtualmachine`: deploy-time > template > offering, prefix stripped; plus
    `cloudstack.vlan` of the default NIC when `with_vlan` and the NIC has one."""
    group = external_details(_merged_stored_details(instance))
    if with_vlan:
        default = next((nic for nic in instance.nics if nic.default_nic), None)
        vlan = vlan_of(default.broadcast_uri) if default else None
        if vlan is not None:
            group[VLAN_KEY] = vlan
    return group


def _drop_none(pairs: list[tuple[str, Any]]) -> JsonObject:
    return {key: value for key, value in pairs if value is not None}


def nic_object(nic: NicInfo) -> JsonObject:
    """A NicTO in CloudStack's declared field order, nulls omitted. `uuid` is the NETWORK's UUID."""
    return _drop_none(
        [
            ("deviceId", nic.device_id),
            ("networkRateMbps", nic.network_rate_mbps),
            ("networkRateMulticastMbps", nic.network_rate_multicast_mbps),
            ("defaultNic", nic.default_nic),
            ("pxeDisable", nic.pxe_disable),
            ("nicUuid", nic.nic_uuid),
            ("nicSecIps", list(nic.nic_sec_ips) if nic.nic_sec_ips is not None else None),
            ("details", dict(nic.details) if nic.details is not None else None),
            ("dpdkEnabled", nic.dpdk_enabled),
            ("mtu", nic.mtu),
            ("networkId", nic.network_id),
            ("networkSegmentName", nic.network_segment_name),
            ("uuid", nic.network_uuid),
            ("ip", nic.ip),
            ("netmask", nic.netmask),
            ("gateway", nic.gateway),
            ("mac", nic.mac),
            ("dns1", nic.dns1),
            ("dns2", nic.dns2),
            ("broadcastType", nic.broadcast_type),
            ("type", nic.type),
            ("broadcastUri", nic.broadcast_uri),
            ("isolationUri", nic.isolation_uri),
            ("securityGroupEnabled", nic.security_group_enabled),
            ("name", nic.name),
            ("ip6address", nic.ip6_address),
            ("ip6gateway", nic.ip6_gateway),
            ("ip6cidr", nic.ip6_cidr),
            ("ip6Dns1", nic.ip6_dns1),
            ("ip6Dns2", nic.ip6_dns2),
        ]
    )


def vm_data(guest: GuestData) -> list[list[str]]:
    """CloudStack's `vmData` (NetworkModel.generateVmData): [folder, file, content] triples in its order —
    `userdata/user_data` (base64), `metadata/<file>` (service-offering, availability-zone, local-hostname,
    local-ipv4, the user data's variables, public-ipv4, public-hostname, instance-id, vm-id, public-keys)
    and `password/vm_password`. Entries CloudStack would send with a null content are left out."""
    entries: list[tuple[str, str, str | None]] = [("userdata", "user_data", guest.user_data)]
    entries += [
        ("metadata", "service-offering", guest.service_offering),
        ("metadata", "availability-zone", guest.availability_zone),
        ("metadata", "local-hostname", guest.local_hostname),
        ("metadata", "local-ipv4", guest.local_ipv4),
    ]
    entries += [("metadata", key, value) for key, value in guest.user_data_details]
    entries += [
        # No public address of its own (no source NAT): the guest's is its public one, as CloudStack says.
        ("metadata", "public-ipv4", guest.local_ipv4),
        ("metadata", "public-hostname", guest.public_hostname),
        ("metadata", "instance-id", guest.instance_id),
        ("metadata", "vm-id", guest.instance_id),
        ("metadata", "public-keys", guest.public_keys),
        ("password", "vm_password", guest.password),
    ]
    return [[folder, name, content] for folder, name, content in entries if content]


def vm_transfer_object(instance: InstanceInfo, *, start_path: bool) -> JsonObject:
    """`cloudstack.vm.details`: CloudStack's VirtualMachineTO for an External instance, in declared field
    order with nulls omitted. RAM in bytes; CPU speed as minSpeed/maxSpeed (MHz). `start_path` adds the SMBIOS
    metadata strings that CloudStack sets on the start path."""
    ram = instance.ram_mb * 1024 * 1024
    networks = {
        str(nic.network_id): nic.network_segment_name
        for nic in instance.nics
        if nic.network_id is not None and nic.network_segment_name is not None
    }
    return _drop_none(
        [
            ("id", instance.id),
            ("name", instance.internal_name),
            ("state", instance.state),
            ("type", "User"),
            ("cpus", instance.cpus),
            ("minSpeed", instance.speed),
            ("maxSpeed", instance.speed),
            ("minRam", ram),
            ("maxRam", ram),
            ("arch", instance.arch),
            ("enableHA", instance.enable_ha),
            ("limitCpuUse", instance.limit_cpu_use),
            ("enableDynamicallyScaleVm", instance.dynamically_scalable),
            ("vncPassword", instance.vnc_password),
            ("details", _merged_stored_details(instance)),
            ("uuid", instance.uuid),
            ("enterHardwareSetup", False),
            ("disks", []),
            ("nics", [nic_object(nic) for nic in sorted(instance.nics, key=lambda n: n.device_id)]),
            ("vmData", vm_data(instance.guest) if instance.guest else None),
            ("configDriveLabel", instance.guest.config_drive_label if instance.guest else None),
            ("configDriveLocation", "SECONDARY"),
            ("guestOsDetails", {}),
            ("extraConfig", {}),
            ("networkIdToNetworkNameMap", networks),
            ("metadataManufacturer", _MANUFACTURER if start_path else None),
            ("metadataProductName", _PRODUCT if start_path else None),
        ]
    )


def _instance_keys(payload: JsonObject, instance: InstanceInfo, *, start_path: bool) -> None:
    payload["virtualmachineid"] = instance.uuid
    payload["virtualmachinename"] = instance.internal_name
    payload["cloudstack.vm.details"] = vm_transfer_object(instance, start_path=start_path)


def lifecycle_payload(
    action: str,
    *,
    extension: ExtensionInfo,
    resource_map: ResourceMapInfo,
    host: HostInfo,
    instance: InstanceInfo,
    caller: CallerInfo | None = None,
) -> JsonObject:
    """The payload of prepare, create, start, stop, reboot, delete, status or getconsole (§2.3).

    Raises ValueError for any other action (custom actions use `custom_action_payload`).
    """
    if action not in LIFECYCLE_ACTIONS:
        raise ValueError(f"not a lifecycle action: {action}")
    groups = _host_groups(extension, resource_map, host)
    groups["virtualmachine"] = vm_external_details(instance, with_vlan=action in _VLAN_ACTIONS)
    payload: JsonObject = {}
    _finish(groups, payload, keep=frozenset({"virtualmachine"}) if action == "status" else frozenset())
    _instance_keys(payload, instance, start_path=action in _START_PATH_ACTIONS)
    if caller is not None:
        payload["caller"] = _caller_object(caller)
    return payload


def statuses_payload(
    *,
    extension: ExtensionInfo,
    resource_map: ResourceMapInfo,
    host: HostInfo,
    caller: CallerInfo | None = None,
) -> JsonObject:
    """The host-level bulk `statuses` payload: extension, resourcemap and host groups; no instance."""
    payload: JsonObject = {}
    _finish(_host_groups(extension, resource_map, host), payload)
    if caller is not None:
        payload["caller"] = _caller_object(caller)
    return payload


def custom_action_payload(
    *,
    action: CustomActionInfo,
    parameters: Mapping[str, Any] | None,
    extension: ExtensionInfo,
    resource_map: ResourceMapInfo,
    host: HostInfo,
    instance: InstanceInfo | None,
    caller: CallerInfo | None = None,
) -> JsonObject:
    """A custom action's payload (CloudStack 4.22+ shape): groups incl. `action` and `virtualmachine`, the
    instance keys when the resource is an instance, `action` = its name, and `parameters` — the already
    validated, typed values — when given (None: the action defines no parameters, so none are sent)."""
    groups = _host_groups(extension, resource_map, host)
    if instance is not None:
        groups["virtualmachine"] = vm_external_details(instance, with_vlan=False)
    groups["action"] = dict(action.details)
    payload: JsonObject = {}
    _finish(groups, payload)
    if instance is not None:
        _instance_keys(payload, instance, start_path=False)
    payload["action"] = action.name
    if parameters is not None:
        payload["parameters"] = dict(parameters)
    if caller is not None:
        payload["caller"] = _caller_object(caller)
    return payload
