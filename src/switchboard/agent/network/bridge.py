"""The `linux-bridge` network backend: one TAP per NIC on a VLAN-aware Linux bridge.

Per NIC: the TAP (see `naming` for its name, MAC and ownership mark) joins `host_bridge` with exactly
one VLAN, as PVID and egress-untagged: the network's VLAN for a tagged network, the bridge's default
PVID for an untagged one (`vlan://untagged` or no VLAN). For a tagged network the uplink (if configured)
carries the VLAN tagged. Uplink VLANs are reference-counted per NIC in `state_dir` (`VlanRefs`): a
VLAN is removed from the uplink only when no NIC uses it any more and only if the agent added it; a VLAN
that was already on the uplink (the admin's) is never removed.

The bridge must have `vlan_filtering` on; otherwise every TAP would share one L2 segment whatever its
VLAN, so `plug` refuses before creating anything. Teardown (`unplug`) works whatever the bridge state.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from switchboard.agent.model import NicAttachment, NicRequest
from switchboard.agent.network.base import NetworkError
from switchboard.agent.network.naming import InvalidNic, parse_vlan, tap_mac, tap_name
from switchboard.agent.network.netlink import Link, Netlink, NetlinkFailed
from switchboard.agent.network.taps import ensure_tap, owned_taps, remove_taps
from switchboard.agent.network.vlanrefs import VlanRefs

log = logging.getLogger(__name__)

DEFAULT_BRIDGE = "cloudbr1"
DEFAULT_STATE_DIR = "/var/lib/switchboard-agent/network"
_VM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


class VlanFilteringOff(NetworkError):
    """The bridge is not VLAN-aware; plugging would put every VM on one L2 segment."""


def check_vm(vm: str) -> str:
    """`vm` if it is safe in an alias and a reference key; InvalidNic otherwise."""
    if not _VM.fullmatch(vm):
        raise InvalidNic(f"invalid VM name {vm!r}")
    return vm


class LinuxBridgeNetwork:
    """TAPs on bridge `bridge` (in namespace `netns`), uplink VLAN counts under `state_dir`."""

    name = "linux-bridge"

    def __init__(
        self,
        bridge: str,
        *,
        uplink: str | None = None,
        state_dir: Path = Path(DEFAULT_STATE_DIR),
        netlink: Netlink | None = None,
        netns: str | None = None,
    ) -> None:
        self.bridge = bridge
        self.uplink = uplink
        self.nl = netlink or Netlink(netns)
        self.refs = VlanRefs(Path(state_dir) / f"bridge-{bridge}.json")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LinuxBridgeNetwork:
        """Build from config keys `host_bridge`/`bridge`, `uplink`, `netns`, `state_dir`."""
        bridge = options.get("host_bridge") or options.get("bridge") or DEFAULT_BRIDGE
        return cls(
            str(bridge),
            uplink=str(options["uplink"]) if options.get("uplink") else None,
            state_dir=Path(options.get("state_dir") or DEFAULT_STATE_DIR),
            netns=str(options["netns"]) if options.get("netns") else None,
        )

    # -- NetworkBackend ---------------------------------------------------------------------------

    def plug(self, vm: str, nics: Sequence[NicRequest]) -> list[NicAttachment]:
        """Create/re-attach a TAP per NIC (see module docstring). Raises VlanFilteringOff, InvalidNic,
        NetworkError; on failure the TAPs and uplink references this call added are removed."""
        check_vm(vm)
        wanted = [(nic, parse_vlan(nic.vlan)) for nic in nics]
        for nic, _ in wanted:
            tap_mac(nic.mac)  # validate every NIC before touching anything
        if not wanted:
            return []
        bridge = self._bridge()
        self._check_uplink(bridge)
        created: list[str] = []
        acquired: list[tuple[int, str]] = []
        attachments = []
        try:
            for nic, vid in wanted:
                tap, new = ensure_tap(self.nl, vm, nic)
                if new:
                    created.append(tap)
                self.nl.configure(tap, master=bridge.index)
                self._program_port(tap, vid if vid is not None else (bridge.default_pvid or 1))
                if vid is not None and self.uplink and self._acquire(vid, f"{vm}/{nic.index}"):
                    acquired.append((vid, f"{vm}/{nic.index}"))
                self.nl.configure(tap, up=True)
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
        except BaseException:
            for tap in created:
                with contextlib.suppress(NetworkError):
                    self.nl.delete(tap)
            for vid, user in acquired:
                with contextlib.suppress(NetworkError):
                    self._release(vid, user)
            raise
        return attachments

    def unplug(self, vm: str, attachments: Sequence[NicAttachment]) -> None:
        """Delete the VM's TAPs (named or found by their mark) and drop its uplink VLAN references."""
        check_vm(vm)
        names = {a.tap for a in attachments} | {tap_name(vm, a.index) for a in attachments}
        remove_taps(self.nl, vm, names)
        with self.refs.lock():
            for vid, entry in self.refs.load().items():
                for user in sorted(entry["users"]):
                    if user.rpartition("/")[0] == vm:
                        self._release(vid, user)

    def owners(self) -> set[str]:
        """VMs with a marked TAP in the namespace or an uplink VLAN reference."""
        vms = {vm for vm, _ in owned_taps(self.nl).values()}
        return vms | {user.rpartition("/")[0] for user in self.refs.users()}

    # -- helpers ----------------------------------------------------------------------------------

    def _bridge(self) -> Link:
        link = self.nl.link(self.bridge)
        if link is None or link.kind != "bridge":
            raise NetworkError(f"bridge {self.bridge!r} not found on this host")
        if not link.vlan_filtering:
            raise VlanFilteringOff(
                f"bridge {self.bridge!r} has vlan_filtering off: VMs would share one L2 segment whatever "
                f"their VLAN; enable it (ip link set {self.bridge} type bridge vlan_filtering 1)"
            )
        return link

    def _check_uplink(self, bridge: Link) -> None:
        if not self.uplink:
            return
        link = self.nl.link(self.uplink)
        if link is None or link.master != bridge.index:
            raise NetworkError(f"uplink {self.uplink!r} is not a port of bridge {self.bridge!r}")

    def _program_port(self, tap: str, vid: int) -> None:
        """Leave exactly `vid` on the TAP, as PVID and egress-untagged."""
        current = self.nl.vlans(tap)
        for other in current:
            if other != vid:
                self.nl.vlan_del(tap, other)
        entry = current.get(vid)
        if entry is None or not (entry.pvid and entry.untagged):
            self.nl.vlan_add(tap, vid, pvid=True, untagged=True)

    def _acquire(self, vid: int, user: str) -> bool:
        """Count `user` as needing `vid` on the uplink, adding it there if absent. True if newly held."""
        if self.uplink is None:
            return False
        with self.refs.lock():
            table = self.refs.load()
            entry = table.get(vid)
            present = vid in self.nl.vlans(self.uplink)
            if entry is None:
                entry = {"users": set(), "ours": not present}
            if not present:
                self.nl.vlan_add(self.uplink, vid)  # tagged, not PVID
                entry["ours"] = True  # (re)added by us, e.g. after a host reboot
            newly = user not in entry["users"]
            entry["users"].add(user)
            table[vid] = entry
            self.refs.save(table)
            return newly

    def _release(self, vid: int, user: str) -> None:
        with self.refs.lock():
            table = self.refs.load()
            entry = table.get(vid)
            if entry is None:
                return
            entry["users"].discard(user)
            if not entry["users"]:
                if entry["ours"] and self.uplink:
                    try:
                        self.nl.vlan_del(self.uplink, vid)
                    except NetlinkFailed as exc:
                        log.warning("could not remove VLAN %d from %s: %s", vid, self.uplink, exc)
                del table[vid]
            self.refs.save(table)
