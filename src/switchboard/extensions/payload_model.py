"""The small, framework-neutral values the payload builder works from (filled by the services from the DB).

Names here are Switchboard's (snake_case); CloudStack's wire names appear only in `payload.py`.
Detail maps hold strings, as CloudStack stores them. Where a map is documented as "stored", external details
carry the `External:` prefix exactly as CloudStack keeps them (`host_details`, `vm_instance_details`,
template and offering details); the payload builder strips it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "EXTERNAL_PREFIX",
    "HIDDEN_EXTENSION_DETAILS",
    "REQUIRES_PREPARE_DETAIL",
    "CallerInfo",
    "CustomActionInfo",
    "ExtensionInfo",
    "GuestData",
    "HostInfo",
    "InstanceInfo",
    "NicInfo",
    "OfferingInfo",
    "PowerState",
    "ResourceMapInfo",
    "TemplateInfo",
    "external_details",
]

EXTERNAL_PREFIX = "External:"
REQUIRES_PREPARE_DETAIL = "orchestratorrequirespreparevm"
# Extension details CloudStack stores with display=false: never sent to the executable.
HIDDEN_EXTENSION_DETAILS = frozenset({REQUIRES_PREPARE_DETAIL})

def external_details(stored: Mapping[str, str]) -> dict[str, str]:
    """The `External:`-prefixed entries of a stored detail map, prefix stripped (other keys dropped)."""
    n = len(EXTERNAL_PREFIX)
    return {key[n:]: value for key, value in stored.items() if key.startswith(EXTERNAL_PREFIX)}


class PowerState(enum.Enum):
    """What an extension says about an instance's power (§1.3). Wire names are CloudStack's."""

    POWER_ON = "PowerOn"
    POWER_OFF = "PowerOff"
    POWER_UNKNOWN = "PowerUnknown"


@dataclass(frozen=True, kw_only=True)
class ExtensionInfo:
    """An extension as the payload sees it.

    `details`: all extension details; `hidden_details`: names stored with display=false (in addition to
    `HIDDEN_EXTENSION_DETAILS`), which never reach the executable.
    """

    name: str
    details: Mapping[str, str] = field(default_factory=dict)
    hidden_details: frozenset[str] = frozenset()

    @property
    def visible_details(self) -> dict[str, str]:
        hidden = HIDDEN_EXTENSION_DETAILS | self.hidden_details
        return {k: v for k, v in self.details.items() if k not in hidden}

    @property
    def requires_prepare(self) -> bool:
        """True when the hidden detail `orchestratorrequirespreparevm` is "true" (case-insensitive)."""
        return str(self.details.get(REQUIRES_PREPARE_DETAIL, "")).strip().lower() == "true"


@dataclass(frozen=True, kw_only=True)
class ResourceMapInfo:
    """The details given when the cluster was registered with the extension, keys as the extension sees
    them (no prefix). Use `from_cluster_details` when they are stored as the cluster's `External:` details."""

    details: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_cluster_details(cls, stored: Mapping[str, str]) -> ResourceMapInfo:
        """From a cluster's stored details: only `External:` keys, prefix stripped."""
        return cls(details=external_details(stored))


@dataclass(frozen=True, kw_only=True)
class HostInfo:
    """A host of an External cluster. `details`: stored host details; only `External:` ones are sent."""

    name: str = ""
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TemplateInfo:
    """A template. `details`: stored template details (`External:k` from registerTemplate externaldetails)."""

    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OfferingInfo:
    """A service offering. `details`: stored offering details (`External:k`)."""

    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NicInfo:
    """One NIC of an instance: every field of CloudStack's NicTO (§2.5); None means "not set" (omitted).

    `nic_uuid` is the NIC's UUID and `network_uuid` its network's (on the wire: `nicUuid` and `uuid`).
    """

    device_id: int
    nic_uuid: str
    network_uuid: str
    network_id: int | None = None
    default_nic: bool = False
    network_rate_mbps: int | None = None
    network_rate_multicast_mbps: int | None = None
    pxe_disable: bool = False
    nic_sec_ips: tuple[str, ...] | None = None
    details: Mapping[str, str] | None = None
    dpdk_enabled: bool = False
    mtu: int | None = None
    network_segment_name: str | None = None
    ip: str | None = None
    netmask: str | None = None
    gateway: str | None = None
    mac: str | None = None
    dns1: str | None = None
    dns2: str | None = None
    broadcast_type: str | None = None
    type: str | None = "Guest"
    broadcast_uri: str | None = None
    isolation_uri: str | None = None
    security_group_enabled: bool = False
    name: str | None = None
    ip6_address: str | None = None
    ip6_gateway: str | None = None
    ip6_cidr: str | None = None
    ip6_dns1: str | None = None
    ip6_dns2: str | None = None


@dataclass(frozen=True, kw_only=True)
class GuestData:
    """What the guest is given at boot (CloudStack's `vmData`, see `payload.vm_data`): its user data
    (base64) and the values of its variables, the metadata CloudStack serves, its SSH public keys (one per
    line) and the config drive's label. None fields are left out."""

    user_data: str | None = None
    user_data_details: tuple[tuple[str, str], ...] = ()
    service_offering: str | None = None
    availability_zone: str | None = None
    local_hostname: str | None = None
    local_ipv4: str | None = None
    public_hostname: str | None = None
    instance_id: str | None = None
    public_keys: str | None = None
    password: str | None = None
    config_drive_label: str = "config-2"


@dataclass(frozen=True, kw_only=True)
class InstanceInfo:
    """An instance as the extension sees it.

    `account_id` and `id` make the internal name `i-<account_id>-<id>-VM`. `speed` in MHz, `ram_mb` in MiB
    (sent as bytes). `details`: the stored instance details, including `External:` keys and `deployvm`.
    `state`: CloudStack's state name at the time of the call (e.g. "Starting").
    """

    id: int
    uuid: str
    account_id: int
    cpus: int
    speed: int
    ram_mb: int
    state: str = "Stopped"
    vnc_password: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    arch: str | None = "x86_64"
    nics: tuple[NicInfo, ...] = ()
    template: TemplateInfo = field(default_factory=TemplateInfo)
    offering: OfferingInfo = field(default_factory=OfferingInfo)
    enable_ha: bool = False
    limit_cpu_use: bool = False
    dynamically_scalable: bool = False
    guest: GuestData | None = None  # given for `create` and `start` (CloudStack's StartCommand)

    @property
    def internal_name(self) -> str:
        return f"i-{self.account_id}-{self.id}-VM"


@dataclass(frozen=True, kw_only=True)
class CustomActionInfo:
    """A custom action: its name (argv[1]) and its visible details (`externaldetails.action`)."""

    name: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CallerInfo:
    """The API caller (CloudStack 4.22+ `caller`): strings as the API shows them."""

    id: str
    name: str
    type: str
    role_id: str
    role_name: str
    role_type: str
