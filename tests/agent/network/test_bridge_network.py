"""The `linux-bridge` backend in real network namespaces.

Real here: the namespace, the bridge, the uplink (a veth end), TAP creation with its own MAC, MTU,
alias and bridge membership, deletion, and the refusal when `vlan_filtering` is off (this kernel cannot
switch it on, so that refusal is the real behaviour on this machine).

Not real here: bridge VLAN filtering itself (CONFIG_BRIDGE_VLAN_FILTERING is not set). The VLAN
programming is checked against `VlanNetlink` (fake_vlan.py), which records every VLAN request and models
the kernel's VLAN tables; that the kernel then forwards frames by VLAN is not covered by these tests
(the OVS dataplane test covers VLAN isolation end to end on the other backend).
"""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from switchboard.agent.model import NicRequest
from switchboard.agent.network import create_network
from switchboard.agent.network.base import NetworkBackend, NetworkError
from switchboard.agent.network.bridge import LinuxBridgeNetwork, VlanFilteringOff
from switchboard.agent.network.naming import InvalidNic, tap_name
from switchboard.agent.network.netlink import VLAN_INFO_PVID, VLAN_INFO_UNTAGGED, Netlink, NetlinkFailed

from .conftest import sh
from .fake_vlan import VlanNetlink

pytestmark = pytest.mark.root

BR, UPLINK = "sbtbr0", "sbtup0"
PU = VLAN_INFO_PVID | VLAN_INFO_UNTAGGED


@pytest.fixture
def bridge_ns(netns: str) -> str:
    """The namespace with bridge sbtbr0 (up) and uplink sbtup0 (a veth end) enslaved to it."""
    sh("ip", "-n", netns, "link", "add", BR, "type", "bridge")
    sh("ip", "-n", netns, "link", "add", UPLINK, "type", "veth", "peer", "name", "sbtupx")
    sh("ip", "-n", netns, "link", "set", UPLINK, "master", BR, "up")
    sh("ip", "-n", netns, "link", "set", BR, "up")
    return netns


@pytest.fixture
def fake_nl(bridge_ns: str) -> VlanNetlink:
    nl = VlanNetlink(bridge_ns)
    nl.tables[UPLINK] = {1: PU, 300: 0}  # VLAN 300: the admin's, already trunked
    return nl


def _net(fake_nl: Netlink, tmp_path: Path, uplink: str | None = UPLINK) -> LinuxBridgeNetwork:
    return LinuxBridgeNetwork(BR, uplink=uplink, state_dir=tmp_path, netlink=fake_nl)


def _device(ns: str, name: str) -> None:
    """A device that is not ours (one end of a veth pair: this kernel has no dummy devices)."""
    sh("ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", f"sbtp{abs(hash(name)) % 10**8}")


def _nic(index: int, vlan: str | None, mac: str = "02:00:00:00:00:01", mtu: int = 1500) -> NicRequest:
    return NicRequest(index=index, mac=mac, vlan=vlan, mtu=mtu)


def _our_taps(nl: Netlink) -> set[str]:
    return {link.name for link in nl.links() if link.name.startswith("sb") and link.kind == "tun"}


def test_refuses_when_vlan_filtering_is_off_and_creates_nothing(bridge_ns: str, tmp_path: Path) -> None:
    net = create_network(
        "linux-bridge-vlan", {"host_bridge": BR, "uplink": UPLINK, "netns": bridge_ns, "state_dir": str(tmp_path)}
    )
    assert isinstance(net, LinuxBridgeNetwork) and isinstance(net, NetworkBackend)
    with pytest.raises(VlanFilteringOff, match="vlan_filtering off"):
        net.plug("vm1", [_nic(0, "100")])
    with pytest.raises(VlanFilteringOff):
        net.plug("vm1", [_nic(0, "untagged")])
    nl = Netlink(bridge_ns)
    assert _our_taps(nl) == set()
    assert list(tmp_path.iterdir()) == []
    assert net.owners() == set()
    net.unplug("vm1", [])  # teardown works whatever the bridge state
    # What this kernel answers to the VLAN requests themselves: an empty table and EOPNOTSUPP.
    assert nl.vlans(UPLINK) == {}
    with pytest.raises(NetlinkFailed) as failed:
        nl.vlan_add(UPLINK, 100)
    assert failed.value.code == errno.EOPNOTSUPP
    nl.close()


def test_missing_bridge_or_foreign_uplink_is_refused(fake_nl: VlanNetlink, tmp_path: Path, bridge_ns: str) -> None:
    with pytest.raises(NetworkError, match="bridge 'nobr' not found"):
        LinuxBridgeNetwork("nobr", state_dir=tmp_path, netlink=fake_nl).plug("vm", [_nic(0, "100")])
    _device(bridge_ns, "sbtlone")
    with pytest.raises(NetworkError, match="not a port of bridge"):
        _net(fake_nl, tmp_path, uplink="sbtlone").plug("vm", [_nic(0, "100")])
    assert _our_taps(fake_nl) == set() and fake_nl.calls == []


def test_tagged_and_untagged_nics_are_plumbed_with_their_own_tap_mac(fake_nl: VlanNetlink, tmp_path: Path) -> None:
    net = _net(fake_nl, tmp_path)
    att = net.plug("i-2-10-VM", [_nic(0, "100", mtu=1450), _nic(1, "vlan://untagged", mac="02:00:00:00:00:02")])
    t0, t1 = tap_name("i-2-10-VM", 0), tap_name("i-2-10-VM", 1)
    assert [(a.index, a.iface_id, a.tap, a.mac, a.mtu, a.vlan) for a in att] == [
        (0, "eth0", t0, "02:00:00:00:00:01", 1450, "100"),
        (1, "eth1", t1, "02:00:00:00:00:02", 1500, "untagged"),
    ]
    br = fake_nl.link(BR)
    assert br is not None
    for tap, mac, mtu in ((t0, "fe:00:00:00:00:01", 1450), (t1, "fe:00:00:00:00:02", 1500)):
        link = fake_nl.link(tap)
        assert link is not None
        assert (link.kind, link.address, link.mtu, link.master, link.up) == ("tun", mac, mtu, br.index, True)
    # VLAN requests, in order: the tagged TAP leaves the default PVID for VLAN 100 (PVID, untagged),
    # the uplink gains 100 tagged; the untagged TAP keeps the default PVID and nothing else changes.
    assert fake_nl.calls == [("del", t0, 1, 0), ("add", t0, 100, PU), ("add", UPLINK, 100, 0)]
    assert fake_nl.tables[t0] == {100: PU} and fake_nl.tables[t1] == {1: PU}
    assert fake_nl.tables[UPLINK] == {1: PU, 300: 0, 100: 0}


def test_uplink_vlans_are_reference_counted_and_admin_vlans_kept(fake_nl: VlanNetlink, tmp_path: Path) -> None:
    net = _net(fake_nl, tmp_path)
    a = net.plug("a", [_nic(0, "100"), _nic(1, "300")])
    b = net.plug("b", [_nic(0, "100"), _nic(1, "200")])
    assert set(fake_nl.tables[UPLINK]) == {1, 100, 200, 300}
    assert net.owners() == {"a", "b"}
    net.unplug("a", a)
    assert set(fake_nl.tables[UPLINK]) == {1, 100, 200, 300}, "b still uses 100; 300 is the admin's"
    net.unplug("b", b)
    assert set(fake_nl.tables[UPLINK]) == {1, 300}, "only the admin's VLANs remain"
    assert ("del", UPLINK, 300, 0) not in fake_nl.calls
    assert _our_taps(fake_nl) == set() and net.owners() == set()
    net.unplug("b", b)  # already gone: no error


def test_plug_is_idempotent_and_restores_after_a_host_reboot(
    fake_nl: VlanNetlink, tmp_path: Path, bridge_ns: str
) -> None:
    net = _net(fake_nl, tmp_path)
    first = net.plug("vm", [_nic(0, "100")])
    assert net.plug("vm", [_nic(0, "100")]) == first
    assert sorted(_our_taps(fake_nl)) == [first[0].tap]
    # A reboot: TAPs and the uplink's VLAN 100 are gone, the reference file is not.
    fake_nl.delete(first[0].tap)
    del fake_nl.tables[UPLINK][100]
    assert net.plug("vm", [_nic(0, "100")]) == first
    assert fake_nl.tables[first[0].tap] == {100: PU} and 100 in fake_nl.tables[UPLINK]
    net.unplug("vm", first)
    assert set(fake_nl.tables[UPLINK]) == {1, 300}


def test_failed_plug_removes_what_it_added_and_never_a_foreign_device(
    fake_nl: VlanNetlink, tmp_path: Path, bridge_ns: str
) -> None:
    net = _net(fake_nl, tmp_path)
    squatter = tap_name("vm", 1)  # a device nobody marked, occupying NIC 1's name
    _device(bridge_ns, squatter)
    with pytest.raises(NetworkError, match="is not the TAP of vm NIC 1"):
        net.plug("vm", [_nic(0, "100"), _nic(1, "200")])
    assert _our_taps(fake_nl) == set()
    assert set(fake_nl.tables[UPLINK]) == {1, 300}, "VLAN 100 taken back"
    assert net.owners() == set()
    net.unplug("vm", [])
    assert fake_nl.link(squatter) is not None, "a foreign device is never deleted"
    with pytest.raises(InvalidNic):
        net.plug("vm", [_nic(0, "4095")])
    with pytest.raises(InvalidNic):
        net.plug("vm", [_nic(0, "100", mac="01:00:5e:00:00:01")])
    with pytest.raises(InvalidNic):
        net.plug("vm:1", [_nic(0, "100")])
    assert _our_taps(fake_nl) == set()


def test_create_delete_cycles_leave_no_tap_or_vlan(fake_nl: VlanNetlink, tmp_path: Path, bridge_ns: str) -> None:
    net = _net(fake_nl, tmp_path)
    squatter = tap_name("bad", 1)
    _device(bridge_ns, squatter)
    for i in range(5):
        att = net.plug(f"vm{i}", [_nic(0, str(100 + i % 2)), _nic(1, "untagged")])
        with pytest.raises(NetworkError):
            net.plug("bad", [_nic(0, str(500 + i)), _nic(1, "untagged")])
        net.unplug(f"vm{i}", att)
    assert _our_taps(fake_nl) == set()
    assert set(fake_nl.tables[UPLINK]) == {1, 300}
    assert net.owners() == set()
    assert net.refs.load() == {}


def test_tap_names_are_short_deterministic_and_do_not_collide() -> None:
    # The original's truncation made these two collide.
    names = {tap_name("i-2-1234-VM", 0), tap_name("i-21-234-VM", 0)}
    assert len(names) == 2
    many = {tap_name(f"i-{i}-{j}-VM", n) for i in range(40) for j in range(40) for n in range(3)}
    assert len(many) == 40 * 40 * 3
    assert all(len(n) <= 15 for n in many)
    assert tap_name("vm", 0) == tap_name("vm", 0) != tap_name("vm", 1)


def test_concurrent_plugs_through_separate_instances_keep_exact_counts(fake_nl: VlanNetlink, tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def cycle(i: int) -> None:
        try:
            net = _net(fake_nl, tmp_path)  # one backend per request, as the service may build them
            att = net.plug(f"vm{i}", [_nic(0, str(100 + i % 2))])
            assert 100 + i % 2 in fake_nl.tables[UPLINK]
            _net(fake_nl, tmp_path).unplug(f"vm{i}", att)
        except BaseException as exc:
            errors.append(exc)

    keeper = _net(fake_nl, tmp_path).plug("keeper", [_nic(0, "100")])
    threads = [threading.Thread(target=cycle, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(fake_nl.tables[UPLINK]) == {1, 100, 300}, "keeper still holds 100; 101 is gone"
    net = _net(fake_nl, tmp_path)
    assert {vid: e["users"] for vid, e in net.refs.load().items()} == {100: {"keeper/0"}}
    net.unplug("keeper", keeper)
    assert set(fake_nl.tables[UPLINK]) == {1, 300}
