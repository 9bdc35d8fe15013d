"""Names and addresses of the host side of a NIC, derived deterministically from the VM and NIC index.

* TAP name: `sb` + 12 base32 characters of a BLAKE2b hash of (VM name, NIC index): 14 characters, inside
  Linux's 15-character limit, the same on every call (so teardown and the post-reboot reconcile find
  the device without stored state), and with 60 bits of hash a collision between two VMs is not a
  practical concern (unlike truncating the VM name, where `i-2-1234-VM` and `i-21-234-VM` collide).
* TAP MAC: the guest's MAC with the first octet replaced by `fe` (locally administered, unicast). The
  guest's own MAC stays on the guest side only; the TAP's high first octet also keeps a Linux bridge from
  adopting it as the bridge's address (a bridge takes its lowest port MAC).
* Ownership mark: the link alias `switchboard:<vm>:<index>` (IFLA_IFALIAS, kept by the kernel), so the
  agent can list its devices and never adopts a foreign device that happens to share a name.
"""

from __future__ import annotations

import base64
import hashlib
import re

from switchboard.agent.network.base import NetworkError

TAP_PREFIX = "sb"
ALIAS_PREFIX = "switchboard:"
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class InvalidNic(NetworkError):
    """A NIC request that cannot be plumbed as asked (bad MAC, VLAN or MTU)."""


def tap_name(vm: str, index: int) -> str:
    """The TAP device name for NIC `index` of `vm` (14 characters, `[a-z2-7]`)."""
    digest = hashlib.blake2b(f"{vm}\0{index}".encode(), digest_size=8, person=b"sb-tap").digest()
    return TAP_PREFIX + base64.b32encode(digest).decode().lower()[:12]


def tap_mac(guest_mac: str) -> str:
    """The TAP's own MAC for a guest MAC: same low five octets, first octet `fe`."""
    mac = guest_mac.strip().lower().replace("-", ":")
    if not _MAC.fullmatch(mac):
        raise InvalidNic(f"invalid MAC address {guest_mac!r}")
    if int(mac[:2], 16) & 1:
        raise InvalidNic(f"MAC address {guest_mac!r} is a multicast address")
    return "fe" + mac[2:]


def alias(vm: str, index: int) -> str:
    """The ownership mark written into the TAP's alias."""
    return f"{ALIAS_PREFIX}{vm}:{index}"


def parse_alias(text: str | None) -> tuple[str, int] | None:
    """(vm, index) from an alias written by `alias`, or None for anything else."""
    if not text or not text.startswith(ALIAS_PREFIX):
        return None
    vm, _, index = text[len(ALIAS_PREFIX) :].rpartition(":")
    return (vm, int(index)) if vm and index.isdigit() else None


def parse_vlan(vlan: str | None) -> int | None:
    """A VLAN id (1..4094) from "1577" / "vlan://1577", or None for untagged ("untagged", "", None)."""
    if vlan is None:
        return None
    text = vlan.strip().lower().removeprefix("vlan://")
    if text in ("", "untagged"):
        return None
    if not text.isdigit() or not 1 <= int(text) <= 4094:
        raise InvalidNic(f"invalid VLAN {vlan!r} (1-4094, or 'untagged')")
    return int(text)


def check_mtu(mtu: int) -> int:
    """`mtu` if it is a usable Ethernet MTU (68..65535 bytes)."""
    if not 68 <= mtu <= 65535:
        raise InvalidNic(f"invalid MTU {mtu} (68-65535)")
    return mtu
