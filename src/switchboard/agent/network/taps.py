"""TAP devices shared by the bridge and OVS backends: create or re-adopt, list, remove."""

from __future__ import annotations

from switchboard.agent.model import NicRequest
from switchboard.agent.network.base import NetworkError
from switchboard.agent.network.naming import alias, check_mtu, parse_alias, tap_mac, tap_name
from switchboard.agent.network.netlink import Netlink


def ensure_tap(nl: Netlink, vm: str, nic: NicRequest) -> tuple[str, bool]:
    """The TAP for `nic` of `vm`, created if missing (down, own MAC, MTU, ownership alias).

    Returns (name, created). An existing device of that name is re-used only if its alias marks it as
    this VM's NIC; otherwise NetworkError (a foreign device is never taken over)."""
    name = tap_name(vm, nic.index)
    mac, mtu = tap_mac(nic.mac), check_mtu(nic.mtu)
    link = nl.link(name)
    if link is None:
        nl.create_tap(name, address=mac, mtu=mtu, alias=alias(vm, nic.index))
        return name, True
    if parse_alias(link.alias) != (vm, nic.index) or link.kind != "tun":
        raise NetworkError(f"device {name} exists but is not the TAP of {vm} NIC {nic.index}; left untouched")
    nl.configure(name, address=mac, mtu=mtu)
    return name, False


def owned_taps(nl: Netlink) -> dict[str, tuple[str, int]]:
    """TAP name -> (vm, index) for every device carrying the agent's alias."""
    found = {}
    for link in nl.links():
        owner = parse_alias(link.alias)
        if owner is not None:
            found[link.name] = owner
    return found


def remove_taps(nl: Netlink, vm: str, names: set[str]) -> list[str]:
    """Delete the named TAPs plus any other device marked as `vm`'s; returns what was deleted. Devices
    not marked as `vm`'s are skipped even if named."""
    doomed = {name for name, (owner, _) in owned_taps(nl).items() if owner == vm}
    deleted = []
    for name in sorted(doomed | names):
        link = nl.link(name)
        if link is None or (parse_alias(link.alias) or ("", 0))[0] != vm:
            continue
        if nl.delete(name):
            deleted.append(name)
    return deleted
