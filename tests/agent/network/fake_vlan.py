"""`VlanNetlink`: real netlink, except for bridge VLAN filtering, which this kernel lacks.

The kernel here is built without CONFIG_BRIDGE_VLAN_FILTERING: `vlan_filtering` cannot be switched on
(EOPNOTSUPP) and per-port VLAN requests fail the same way. This subclass of the real `Netlink` keeps
every other call real (TAPs, bridge membership, MTU, MAC, alias, deletion all happen in a real
namespace) and replaces only the two VLAN primitives and the bridge's `vlan_filtering` flag with an
in-memory model of the kernel's behaviour: a port joining a VLAN-filtering bridge gets the bridge's
default PVID (1) as PVID/untagged, and a deleted port loses its VLAN table. Every VLAN request the
backend makes is recorded in `calls` as (command, device, vid, flags), i.e. what would be sent as
RTM_SETLINK/RTM_DELLINK with IFLA_BRIDGE_VLAN_INFO.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from switchboard.agent.network.netlink import (
    VLAN_INFO_PVID,
    VLAN_INFO_UNTAGGED,
    Link,
    Netlink,
    VlanEntry,
)


class VlanNetlink(Netlink):
    def __init__(self, netns: str, *, vlan_filtering: bool = True) -> None:
        super().__init__(netns)
        self.vlan_filtering = vlan_filtering
        self.tables: dict[str, dict[int, int]] = {}  # device -> vid -> flags
        self.calls: list[tuple[str, str, int, int]] = []

    def link(self, name: str) -> Link | None:
        link = super().link(name)
        if link is not None and link.kind == "bridge":
            link = dataclasses.replace(link, vlan_filtering=self.vlan_filtering)
        if link is None:
            self.tables.pop(name, None)  # the kernel drops a deleted port's VLANs
        return link

    def configure(self, name: str, **kwargs: Any) -> None:
        super().configure(name, **kwargs)
        if kwargs.get("master") is not None and name not in self.tables:
            self.tables[name] = {1: VLAN_INFO_PVID | VLAN_INFO_UNTAGGED}

    def delete(self, name: str) -> bool:
        self.tables.pop(name, None)
        return super().delete(name)

    def _vlan_filter(self, command: str, name: str, vid: int, flags: int) -> None:
        self.calls.append((command, name, vid, flags))
        table = self.tables.setdefault(name, {})
        if command == "add":
            if flags & VLAN_INFO_PVID:  # only one PVID per port
                for other, f in table.items():
                    table[other] = f & ~VLAN_INFO_PVID
            table[vid] = flags
        else:
            table.pop(vid, None)

    def _vlan_dump(self, name: str) -> list[VlanEntry]:
        return [
            VlanEntry(vid, bool(f & VLAN_INFO_PVID), bool(f & VLAN_INFO_UNTAGGED))
            for vid, f in sorted(self.tables.get(name, {}).items())
        ]
