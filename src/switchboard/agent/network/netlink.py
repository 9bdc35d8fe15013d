"""Netlink operations the network backends need, through pyroute2 (no `ip`/`bridge` output is parsed).

One `Netlink` object talks to one network namespace (the agent's own by default). Bridge VLAN
programming goes through two primitives, `_vlan_filter` and `_vlan_dump`, so that it can be replayed on
kernels without VLAN filtering (these machines): tests override just those two and keep everything else
real.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pyroute2 import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from switchboard.agent.network.base import NetworkError

# linux/if_bridge.h
VLAN_INFO_PVID = 1 << 1
VLAN_INFO_UNTAGGED = 1 << 2


class NetlinkFailed(NetworkError):
    """A netlink request failed; carries the errno."""

    def __init__(self, what: str, code: int, message: str) -> None:
        self.code = code
        super().__init__(f"{what}: {message} (errno {code})")


@dataclass(frozen=True)
class Link:
    """One network device as the kernel reports it."""

    index: int
    name: str
    kind: str | None  # "bridge", "tun", "veth", ... (None for devices without linkinfo)
    master: int | None
    mtu: int
    address: str | None
    alias: str | None
    up: bool
    vlan_filtering: bool | None = None  # bridges only
    default_pvid: int | None = None  # bridges only


@dataclass(frozen=True)
class VlanEntry:
    vid: int
    pvid: bool
    untagged: bool


class Netlink:
    """pyroute2 `IPRoute` for `netns` (None: the current namespace). Thread-safe (one lock per object).
    Every failure becomes NetlinkFailed (a NetworkError) naming the operation."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns
        self._ipr: IPRoute | None = None
        self._lock = threading.RLock()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._ipr is not None:
                self._ipr.close()
                self._ipr = None

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._ipr is None:
                try:
                    self._ipr = IPRoute(netns=self.netns) if self.netns else IPRoute()
                except (OSError, NetlinkError) as exc:
                    raise NetlinkFailed(f"netlink socket for netns {self.netns}", _code(exc), str(exc)) from exc
            try:
                return getattr(self._ipr, method)(*args, **kwargs)
            except NetlinkError as exc:
                raise NetlinkFailed(what, exc.code, _message(exc)) from exc
            except OSError as exc:
                raise NetlinkFailed(what, exc.errno or 0, exc.strerror or str(exc)) from exc

    # -- links ------------------------------------------------------------------------------------

    def links(self) -> list[Link]:
        """Every device in the namespace."""
        return [_link(msg) for msg in self._call("list links", "get_links")]

    def link(self, name: str) -> Link | None:
        """The device called `name`, or None."""
        try:
            (msg,) = self._call(f"get link {name}", "link", "get", ifname=name)
        except NetlinkFailed as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
        return _link(msg)

    def create_tap(self, name: str, *, address: str, mtu: int, alias: str) -> Link:
        """A persistent TAP device `name` with its own MAC, MTU and alias, left down."""
        self._call(f"create TAP {name}", "link", "add", ifname=name, kind="tuntap", mode="tap")
        self.configure(name, address=address, mtu=mtu, alias=alias)
        link = self.link(name)
        if link is None:
            raise NetlinkFailed(f"create TAP {name}", errno.ENODEV, "vanished after creation")
        return link

    def configure(
        self,
        name: str,
        *,
        address: str | None = None,
        mtu: int | None = None,
        alias: str | None = None,
        master: int | None = None,
        up: bool | None = None,
    ) -> None:
        """Set the given attributes of `name` in one request."""
        attrs: dict[str, Any] = {}
        if address is not None:
            attrs["address"] = address
        if mtu is not None:
            attrs["mtu"] = mtu
        if alias is not None:
            attrs["ifalias"] = alias
        if master is not None:
            attrs["master"] = master
        if up is not None:
            attrs["state"] = "up" if up else "down"
        if attrs:
            self._call(f"configure {name}", "link", "set", ifname=name, **attrs)

    def delete(self, name: str) -> bool:
        """Delete device `name`. False if it did not exist."""
        try:
            self._call(f"delete {name}", "link", "del", ifname=name)
        except NetlinkFailed as exc:
            if exc.code == errno.ENODEV:
                return False
            raise
        return True

    # -- bridge VLANs -----------------------------------------------------------------------------

    def vlans(self, name: str) -> dict[int, VlanEntry]:
        """The bridge VLAN table of port `name` (vid -> entry)."""
        return {e.vid: e for e in self._vlan_dump(name)}

    def vlan_add(self, name: str, vid: int, *, pvid: bool = False, untagged: bool = False) -> None:
        """Add `vid` to port `name` (as its PVID and/or egress-untagged if asked)."""
        flags = (VLAN_INFO_PVID if pvid else 0) | (VLAN_INFO_UNTAGGED if untagged else 0)
        self._vlan_filter("add", name, vid, flags)

    def vlan_del(self, name: str, vid: int) -> None:
        self._vlan_filter("del", name, vid, 0)

    def _vlan_filter(self, command: str, name: str, vid: int, flags: int) -> None:
        link = self.link(name)
        if link is None:
            raise NetlinkFailed(f"vlan {command} {vid} on {name}", errno.ENODEV, "no such device")
        self._call(
            f"vlan {command} {vid} on {name}",
            "vlan_filter",
            command,
            index=link.index,
            vlan_info={"vid": vid, "flags": flags},
        )

    def _vlan_dump(self, name: str) -> list[VlanEntry]:
        link = self.link(name)
        if link is None:
            return []
        entries: list[VlanEntry] = []
        for msg in self._call(f"vlans of {name}", "get_vlans", index=link.index):
            spec = msg.get_attr("IFLA_AF_SPEC")
            for info in spec.get_attrs("IFLA_BRIDGE_VLAN_INFO") if spec is not None else []:
                flags = int(info["flags"])
                entries.append(
                    VlanEntry(int(info["vid"]), bool(flags & VLAN_INFO_PVID), bool(flags & VLAN_INFO_UNTAGGED))
                )
        return entries


def _link(msg: Any) -> Link:
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
    data = info.get_attr("IFLA_INFO_DATA") if info is not None else None
    vlan_filtering = default_pvid = None
    if kind == "bridge" and data is not None:
        vlan_filtering = bool(data.get_attr("IFLA_BR_VLAN_FILTERING"))
        default_pvid = data.get_attr("IFLA_BR_VLAN_DEFAULT_PVID") or 1
    return Link(
        index=int(msg["index"]),
        name=msg.get_attr("IFLA_IFNAME"),
        kind=kind,
        master=msg.get_attr("IFLA_MASTER"),
        mtu=int(msg.get_attr("IFLA_MTU") or 0),
        address=msg.get_attr("IFLA_ADDRESS"),
        alias=msg.get_attr("IFLA_IFALIAS"),
        up=bool(int(msg["flags"]) & 1),  # IFF_UP
        vlan_filtering=vlan_filtering,
        default_pvid=default_pvid,
    )


def _code(exc: BaseException) -> int:
    return int(getattr(exc, "code", None) or getattr(exc, "errno", None) or 0)


def _message(exc: NetlinkError) -> str:
    args = exc.args
    return str(args[1]) if len(args) > 1 else str(exc)
