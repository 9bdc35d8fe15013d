"""The `ovs` network backend: one TAP per NIC as an access port of an Open vSwitch bridge.

Per NIC: the TAP (name, own MAC and ownership mark as in `naming`) is created by netlink, added to
`host_bridge` as an access port (`vlan_mode=access`, `tag=<VLAN>`; an untagged network is `tag=0`, OVS's
VLAN of frames without an 802.1Q header) with `external_ids:switchboard-vm` / `switchboard-nic` naming
the VM and NIC on both the Port and the Interface, and `mtu_request` set to the network's MTU.

The uplink (optional) becomes a trunk carrying exactly: VLAN 0 (untagged traffic), the VLANs the admin
had configured on it before the agent first touched it (kept in its `external_ids:switchboard-admin-trunks`,
never removed), and the VLANs of the agent's ports. It is recomputed from the database after every plug
and unplug, so it never drifts from what is in use. Because OVS reads "no trunks" as "all VLANs", the
set is never empty (VLAN 0 is always in it).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from switchboard.agent.model import NicAttachment, NicRequest
from switchboard.agent.network.base import NetworkError
from switchboard.agent.network.bridge import DEFAULT_BRIDGE, check_vm
from switchboard.agent.network.naming import parse_vlan, tap_mac, tap_name
from switchboard.agent.network.netlink import Netlink
from switchboard.agent.network.ovsdb import DEFAULT_DB, OvsVsctl
from switchboard.agent.network.taps import ensure_tap, owned_taps, remove_taps

log = logging.getLogger(__name__)

VM_KEY = "switchboard-vm"
NIC_KEY = "switchboard-nic"
ADMIN_TRUNKS_KEY = "switchboard-admin-trunks"

_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}


class OvsNetwork:
    """TAPs as access ports on OVS bridge `bridge`; TAPs live in namespace `netns` (that of
    ovs-vswitchd, which opens them by name)."""

    name = "ovs"

    def __init__(
        self,
        bridge: str,
        *,
        uplink: str | None = None,
        vsctl: OvsVsctl | None = None,
        netlink: Netlink | None = None,
        netns: str | None = None,
        datapath_type: str | None = None,
    ) -> None:
        self.bridge = bridge
        self.uplink = uplink
        self.vsctl = vsctl or OvsVsctl()
        self.nl = netlink or Netlink(netns)
        self.datapath_type = datapath_type
        # Serialises port changes with the trunk recomputation, across every instance for this bridge
        # (the service may build one backend per request).
        with _locks_guard:
            self._lock = _locks.setdefault((self.vsctl.db, bridge), threading.Lock())

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OvsNetwork:
        """Build from config keys `host_bridge`/`bridge`, `uplink`, `db`, `timeout`, `netns`,
        `datapath_type`."""
        bridge = options.get("host_bridge") or options.get("bridge") or DEFAULT_BRIDGE
        return cls(
            str(bridge),
            uplink=str(options["uplink"]) if options.get("uplink") else None,
            vsctl=OvsVsctl(str(options.get("db") or DEFAULT_DB), timeout=int(options.get("timeout") or 10)),
            netns=str(options["netns"]) if options.get("netns") else None,
            datapath_type=str(options["datapath_type"]) if options.get("datapath_type") else None,
        )

    # -- NetworkBackend ---------------------------------------------------------------------------

    def plug(self, vm: str, nics: Sequence[NicRequest]) -> list[NicAttachment]:
        """Create/re-attach one access port per NIC and re-trunk the uplink. Raises InvalidNic,
        CommandFailed (ovs-vsctl) or NetworkError; on failure the ports and TAPs this call created are removed."""
        check_vm(vm)
        wanted = [(nic, parse_vlan(nic.vlan)) for nic in nics]
        for nic, _ in wanted:
            tap_mac(nic.mac)
        if not wanted:
            return []
        with self._lock:
            self._ensure_bridge()
            existing = self.vsctl.bridge_ports(self.bridge)
            created_taps: list[str] = []
            added_ports: list[str] = []
            attachments = []
            try:
                for nic, vid in wanted:
                    tap, new = ensure_tap(self.nl, vm, nic)
                    if new:
                        created_taps.append(tap)
                    self.nl.configure(tap, up=True)
                    if tap not in existing:
                        added_ports.append(tap)
                    self.vsctl.transact(self._port_commands(vm, nic, tap, vid))
                    attachments.append(
                        NicAttachment(
                            index=nic.index,
                            iface_id=f"eth{nic.index}",
                            tap=tap,
                            mac=nic.mac,
                            mtu=nic.mtu,
                            vlan=str(vid) if vid is not None else "untagged",
                        )
                    )
                self._retrunk()
            except BaseException:
                with contextlib.suppress(NetworkError):
                    self.vsctl.transact([["--if-exists", "del-port", self.bridge, p] for p in added_ports])
                for tap in created_taps:
                    with contextlib.suppress(NetworkError):
                        self.nl.delete(tap)
                with contextlib.suppress(NetworkError):
                    self._retrunk()
                raise
        return attachments

    def unplug(self, vm: str, attachments: Sequence[NicAttachment]) -> None:
        """Delete the VM's ports (named, or found by `external_ids`) and TAPs; re-trunk the uplink."""
        check_vm(vm)
        named = {a.tap for a in attachments} | {tap_name(vm, a.index) for a in attachments}
        with self._lock:
            # Only ports marked as this VM's: a port is added and marked in one transaction, so an
            # unmarked port of the same name is someone else's.
            doomed = sorted(p.name for p in self.vsctl.ports() if p.external_ids.get(VM_KEY) == vm)
            self.vsctl.transact([["--if-exists", "del-port", p] for p in doomed])
            remove_taps(self.nl, vm, named)
            if self.vsctl.br_exists(self.bridge):
                self._retrunk()

    def owners(self) -> set[str]:
        """VMs with a port marked in OVSDB or a marked TAP in the namespace."""
        vms = {p.external_ids[VM_KEY] for p in self.vsctl.ports() if VM_KEY in p.external_ids}
        return vms | {vm for vm, _ in owned_taps(self.nl).values()}

    # -- helpers ----------------------------------------------------------------------------------

    def _ensure_bridge(self) -> None:
        if not self.vsctl.br_exists(self.bridge):
            cmds = [["--may-exist", "add-br", self.bridge]]
            if self.datapath_type:
                cmds.append(["set", "bridge", self.bridge, f"datapath_type={self.datapath_type}"])
            self.vsctl.transact(cmds)
        if self.uplink and self.uplink not in self.vsctl.bridge_ports(self.bridge):
            self.vsctl.transact([["--may-exist", "add-port", self.bridge, self.uplink]])

    def _port_commands(self, vm: str, nic: NicRequest, tap: str, vid: int | None) -> list[list[str]]:
        ids = [f"external_ids:{VM_KEY}={vm}", f"external_ids:{NIC_KEY}={nic.index}"]
        return [
            ["--may-exist", "add-port", self.bridge, tap],
            ["clear", "port", tap, "trunks"],
            ["set", "port", tap, "vlan_mode=access", f"tag={vid or 0}", *ids],
            ["set", "interface", tap, f"mtu_request={nic.mtu}", *ids],
        ]

    def _retrunk(self) -> None:
        """Set the uplink's trunks to VLAN 0 + the admin's + the VLANs of the agent's ports."""
        if not self.uplink:
            return
        ports = self.vsctl.ports()
        uplink = next((p for p in ports if p.name == self.uplink), None)
        if uplink is None:
            raise NetworkError(f"uplink {self.uplink!r} is not a port of OVS bridge {self.bridge!r}")
        commands: list[list[str]] = []
        if ADMIN_TRUNKS_KEY in uplink.external_ids:
            text = uplink.external_ids[ADMIN_TRUNKS_KEY]
            admin = {int(v) for v in text.split(",") if v}
        else:
            admin = set(uplink.trunks)
            keep = ",".join(str(v) for v in sorted(admin))
            commands.append(["set", "port", self.uplink, f'external_ids:{ADMIN_TRUNKS_KEY}="{keep}"'])
        in_use = {p.tag for p in ports if VM_KEY in p.external_ids and p.tag}
        trunks = sorted({0} | admin | in_use)
        commands += [
            ["clear", "port", self.uplink, "tag"],
            ["set", "port", self.uplink, "vlan_mode=trunk", f"trunks=[{','.join(str(t) for t in trunks)}]"],
        ]
        self.vsctl.transact(commands)
