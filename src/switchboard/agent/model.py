"""Value objects shared by the agent's layers (service, VMM drivers, storage, network).

These are the agent's own words for a microVM and its parts. The CloudStack payload is translated into
them once, at the API edge; nothing below the service sees CloudStack field names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class PowerState(enum.StrEnum):
    """What a VMM reports for one VM. The wire form (`poweron`/`poweroff`/`unknown`) is `wire()`."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"  # no VMM process, or the guest powered itself off
    UNKNOWN = "unknown"

    def wire(self) -> str:
        """CloudStack's power-state word for this state (a paused guest still holds its resources)."""
        if self in (PowerState.RUNNING, PowerState.PAUSED):
            return "poweron"
        if self is PowerState.STOPPED:
            return "poweroff"
        return "unknown"


@dataclass(frozen=True)
class NicRequest:
    """One guest NIC as asked for: what the network backend must plumb."""

    index: int  # CloudStack deviceId; eth<index> in the guest
    mac: str
    vlan: str | None  # "1577", "untagged", or None when the network has no VLAN
    mtu: int = 1500
    ip: str | None = None
    netmask: str | None = None
    gateway: str | None = None
    network_uuid: str | None = None
    nic_uuid: str | None = None


@dataclass(frozen=True)
class NicAttachment:
    """A NIC after plumbing: the host device the VMM must open."""

    index: int
    iface_id: str  # eth<index>
    tap: str  # host device name, at most 15 characters
    mac: str  # the guest's MAC (never set on the TAP itself)
    mtu: int = 1500
    vlan: str | None = None


@dataclass(frozen=True)
class TemplateRef:
    """The kernel and root-disk image a VM boots from, as named by the template's details."""

    kernel: str  # file name in the host's kernel directory
    image: str  # file name in the host's image directory (raw or qcow2)
    boot_args: str | None = None
    url: str | None = None  # optional download source for the image
    checksum: str | None = None  # "sha256:<hex>", required with url
    initrd: str | None = None  # optional file name in the host's kernel directory


@dataclass(frozen=True)
class Volume:
    """A block device or file that backs one of a VM's disks."""

    vm: str
    role: str  # "root" or "data<N>"
    path: Path  # what the VMM opens
    size_bytes: int
    backend: str  # storage backend name
    read_only: bool = False


@dataclass(frozen=True)
class DiskAttachment:
    drive_id: str  # "rootfs", "data1", ...
    path: Path
    is_root: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class LaunchConfig:
    """Everything a VMM driver needs to boot one VM. Paths are absolute and already exist."""

    name: str
    vcpus: int
    memory_mib: int
    kernel: Path
    boot_args: str
    disks: tuple[DiskAttachment, ...]
    nics: tuple[NicAttachment, ...] = ()
    initrd: Path | None = None
    run_dir: Path = field(default_factory=Path)  # per-VM directory: sockets, pid, metrics (0700)
    console_log: Path = field(default_factory=Path)  # the guest serial console, appended across boots


@dataclass(frozen=True)
class GuestData:
    """What a guest reads from its config drive at boot: SSH keys, user data and metadata.

    May hold secrets (user data, a password): it is written only to the VM's config drive (0600), never to
    the VM's record or a log. `metadata` are CloudStack's metadata files as (name, content) pairs."""

    instance_id: str
    hostname: str
    ssh_keys: tuple[str, ...] = ()
    user_data: bytes | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    password: str | None = None
    label: str = "config-2"
