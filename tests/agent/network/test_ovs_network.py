"""The `ovs` backend against a real Open vSwitch (userspace `netdev` datapath) started by the tests.

Everything here is real: ovsdb-server and ovs-vswitchd run in a namespace the session creates, the
backend creates real TAPs there and configures OVS through `ovs-vsctl --db=...`. The dataplane test
opens the TAPs as a VMM would and writes Ethernet frames into them (tapio.py), so OVS forwards real
frames between the backend's ports and onto the uplink (a veth whose far end is watched with a packet
socket).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.agent.model import NicRequest
from switchboard.agent.network import create_network
from switchboard.agent.network.base import NetworkBackend, NetworkError
from switchboard.agent.network.naming import tap_name
from switchboard.agent.network.netlink import Netlink
from switchboard.agent.network.ovs import ADMIN_TRUNKS_KEY, NIC_KEY, VM_KEY, OvsNetwork
from switchboard.agent.network.ovsdb import OvsPort

from .conftest import Ovs, sh

pytestmark = pytest.mark.root

_n = itertools.count()
TAPIO = Path(__file__).with_name("tapio.py")


@dataclass
class Setup:
    net: OvsNetwork
    ovs: Ovs
    bridge: str
    uplink: str
    peer: str
    nl: Netlink

    def ports(self) -> dict[str, OvsPort]:
        return {p.name: p for p in self.net.vsctl.ports()}

    def bridge_ports(self) -> set[str]:
        return set(self.ovs.vsctl("list-ports", self.bridge).split())

    def taps(self) -> set[str]:
        # The netdev datapath has TAPs of its own (ovs-netdev and one per bridge): not counted.
        ovs_own = {"ovs-netdev"} | {b for b in self.ovs.vsctl("list-br").split()}
        return {link.name for link in self.nl.links() if link.kind == "tun" and link.name not in ovs_own}

    def trunks(self) -> list[int]:
        return sorted(self.ports()[self.uplink].trunks)


@pytest.fixture
def setup(ovs: Ovs) -> Iterator[Setup]:
    """A fresh bridge name (created by the backend) and an uplink veth in the OVS namespace."""
    i = next(_n)
    bridge, uplink, peer = f"sbtob{i}", f"sbtou{i}", f"sbtop{i}"
    sh("ip", "-n", ovs.netns, "link", "add", uplink, "type", "veth", "peer", "name", peer)
    sh("ip", "-n", ovs.netns, "link", "set", uplink, "up")
    sh("ip", "-n", ovs.netns, "link", "set", peer, "up")
    net = create_network(
        "ovs-vlan",
        {"host_bridge": bridge, "uplink": uplink, "db": ovs.db, "netns": ovs.netns, "datapath_type": "netdev"},
    )
    assert isinstance(net, OvsNetwork) and isinstance(net, NetworkBackend)
    nl = Netlink(ovs.netns)
    try:
        yield Setup(net, ovs, bridge, uplink, peer, nl)
    finally:
        ovs.vsctl("--if-exists", "del-br", bridge)
        subprocess.run(["ip", "-n", ovs.netns, "link", "del", uplink], check=False)
        for link in nl.links():
            if link.alias and link.alias.startswith("switchboard:"):
                nl.delete(link.name)
        nl.close()
        net.nl.close()


def _nic(index: int, vlan: str | None, mac: str = "02:00:00:00:00:01", mtu: int = 1500) -> NicRequest:
    return NicRequest(index=index, mac=mac, vlan=vlan, mtu=mtu)


def test_nics_become_access_ports_named_and_marked(setup: Setup) -> None:
    att = setup.net.plug("i-2-10-VM", [_nic(0, "100", mtu=1400), _nic(1, "untagged", mac="02:00:00:00:00:02")])
    t0, t1 = tap_name("i-2-10-VM", 0), tap_name("i-2-10-VM", 1)
    assert [(a.tap, a.vlan, a.mac, a.mtu) for a in att] == [
        (t0, "100", "02:00:00:00:00:01", 1400),
        (t1, "untagged", "02:00:00:00:00:02", 1500),
    ]
    assert setup.ovs.vsctl("get", "bridge", setup.bridge, "datapath_type").strip() == "netdev"
    assert setup.bridge_ports() == {t0, t1, setup.uplink}
    ports = setup.ports()
    assert (ports[t0].vlan_mode, ports[t0].tag, ports[t0].trunks) == ("access", 100, frozenset())
    assert (ports[t1].vlan_mode, ports[t1].tag) == ("access", 0)
    assert ports[t0].external_ids == {VM_KEY: "i-2-10-VM", NIC_KEY: "0"}
    assert setup.ovs.vsctl("get", "interface", t1, f"external_ids:{VM_KEY}").strip() == "i-2-10-VM"
    assert setup.ovs.vsctl("get", "interface", t1, f"external_ids:{NIC_KEY}").strip() == '"1"'
    assert setup.ovs.vsctl("get", "interface", t0, "mtu_request").strip() == "1400"
    link = setup.nl.link(t0)
    assert link is not None and (link.address, link.mtu, link.up) == ("fe:00:00:00:00:01", 1400, True)
    assert setup.trunks() == [0, 100]
    assert ports[setup.uplink].vlan_mode == "trunk"


def test_uplink_trunks_exactly_the_vlans_in_use_plus_the_admins(setup: Setup) -> None:
    setup.ovs.vsctl("--may-exist", "add-br", setup.bridge, "--", "set", "bridge", setup.bridge, "datapath_type=netdev")
    setup.ovs.vsctl("add-port", setup.bridge, setup.uplink, "trunks=300")  # the admin's trunk
    a = setup.net.plug("a", [_nic(0, "100"), _nic(1, "200")])
    b = setup.net.plug("b", [_nic(0, "100")])
    assert setup.trunks() == [0, 100, 200, 300]
    assert setup.ports()[setup.uplink].external_ids[ADMIN_TRUNKS_KEY] == "300"
    assert setup.net.owners() == {"a", "b"}
    setup.net.unplug("a", a)
    assert setup.trunks() == [0, 100, 300], "b still uses 100"
    setup.net.unplug("b", b)
    assert setup.trunks() == [0, 300], "the admin's VLAN stays"
    assert setup.bridge_ports() == {setup.uplink}
    assert setup.taps() == set() and setup.net.owners() == set()
    setup.net.unplug("b", b)  # again: no error


def test_plug_is_idempotent_and_recreates_taps_after_a_reboot(setup: Setup) -> None:
    first = setup.net.plug("vm", [_nic(0, "100")])
    assert setup.net.plug("vm", [_nic(0, "100")]) == first
    setup.nl.delete(first[0].tap)  # host reboot: the TAP is gone, OVSDB (on disk) keeps the port
    assert setup.net.plug("vm", [_nic(0, "100")]) == first
    assert first[0].tap in setup.taps() and setup.trunks() == [0, 100]


def test_failed_plug_removes_what_it_added_and_never_foreign_ports(setup: Setup) -> None:
    squatter = tap_name("vm", 1)
    sh("ip", "-n", setup.ovs.netns, "link", "add", squatter, "type", "veth", "peer", "name", "sbtsq0")
    with pytest.raises(NetworkError, match="is not the TAP of vm NIC 1"):
        setup.net.plug("vm", [_nic(0, "100"), _nic(1, "200")])
    assert setup.taps() == set()
    assert setup.bridge_ports() == {setup.uplink}
    assert setup.trunks() == [0]
    # A foreign, unmarked port with a VM's TAP name is not removed by that VM's unplug.
    setup.ovs.vsctl("add-port", setup.bridge, squatter)
    setup.net.unplug("vm", [])
    assert squatter in setup.bridge_ports() and setup.nl.link(squatter) is not None
    setup.ovs.vsctl("del-port", setup.bridge, squatter)
    sh("ip", "-n", setup.ovs.netns, "link", "del", squatter)


def test_create_delete_cycles_leave_no_tap_port_or_vlan(setup: Setup) -> None:
    squatter = tap_name("bad", 1)
    sh("ip", "-n", setup.ovs.netns, "link", "add", squatter, "type", "veth", "peer", "name", "sbtsq1")
    for i in range(4):
        att = setup.net.plug(f"vm{i}", [_nic(0, str(100 + i)), _nic(1, "untagged")])
        with pytest.raises(NetworkError):
            setup.net.plug("bad", [_nic(0, str(700 + i)), _nic(1, "800")])
        setup.net.unplug(f"vm{i}", att)
    assert setup.taps() == set()
    assert setup.bridge_ports() == {setup.uplink}
    assert setup.trunks() == [0]
    assert setup.net.owners() == set()
    sh("ip", "-n", setup.ovs.netns, "link", "del", squatter)


def _send(setup: Setup, sender: str, receivers: list[str]) -> dict[str, object]:
    out = sh(
        "ip", "netns", "exec", setup.ovs.netns, sys.executable, str(TAPIO), sender, *receivers,
        "--uplink-peer", setup.peer,
    )  # fmt: skip
    result: dict[str, object] = json.loads(out)
    return result


def test_dataplane_same_tag_reaches_different_tags_do_not(setup: Setup) -> None:
    net = setup.net
    a = net.plug("a", [_nic(0, "100", mac="02:00:00:00:0a:01")])[0].tap
    b = net.plug("b", [_nic(0, "100", mac="02:00:00:00:0b:01")])[0].tap
    c = net.plug("c", [_nic(0, "200", mac="02:00:00:00:0c:01")])[0].tap
    d = net.plug("d", [_nic(0, "untagged", mac="02:00:00:00:0d:01")])[0].tap
    e = net.plug("e", [_nic(0, None, mac="02:00:00:00:0e:01")])[0].tap
    seen = _send(setup, a, [b, c, d, e])
    assert seen == {"received": [b], "uplink_vlan": 100}
    seen = _send(setup, d, [a, b, c, e])
    assert seen == {"received": [e], "uplink_vlan": 0}
    # Moving c to VLAN 100 (a new plug after unplug) joins it to a and b.
    net.unplug("c", [])
    c2 = net.plug("c", [_nic(0, "100", mac="02:00:00:00:0c:01")])[0].tap
    assert sorted(_send(setup, a, [b, c2, d])["received"]) == sorted([b, c2])  # type: ignore[type-var]
