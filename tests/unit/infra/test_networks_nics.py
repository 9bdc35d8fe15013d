"""Networks (VLANs, addressing, visibility) and NIC allocation (MAC, IP, URIs, release, payload view)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.engine import Database
from switchboard.db.models.infrastructure import Network, NetworkOffering, Zone
from switchboard.errors import Conflict, InsufficientCapacity, InvalidParameter, NotFound, PermissionDenied
from switchboard.infra import networks, nics, offerings, zones
from switchboard.infra.common import Page
from switchboard.infra.networks import NetworkSpec
from switchboard.roles import RoleType
from tests.unit.infra.conftest import make_caller

pytestmark = pytest.mark.database


def offering(session: Session, name: str) -> NetworkOffering:
    found, _ = offerings.list_network_offerings(session, Page(), name=name)
    return found[0]


def test_l2_network_with_given_vlan(session: Session, admin: Caller, zone: Zone) -> None:
    network = networks.create_network(session, admin, zone, offering(session, "DefaultL2NetworkOfferingVlan"),
                                      NetworkSpec(name="l2", vlan="vlan://1577"))
    assert (network.guest_type, network.vlan, network.gateway, network.start_ip) == ("L2", 1577, None, None)
    assert networks.broadcast_uri(network.vlan) == "vlan://1577"
    with pytest.raises(Conflict, match="1577"):
        networks.create_network(session, admin, zone, offering(session, "DefaultL2NetworkOfferingVlan"),
                                NetworkSpec(name="again", vlan="1577"))
    untagged = networks.create_network(session, admin, zone, offering(session, "DefaultL2NetworkOfferingVlan"),
                                       NetworkSpec(name="flat", vlan="untagged"))
    assert untagged.vlan is None and networks.broadcast_uri(None) == "vlan://untagged"


def test_dynamic_vlans_are_distinct_and_reused_after_delete(session: Session, user: Caller, zone: Zone) -> None:
    isolated = offering(session, "DefaultIsolatedNetworkOffering")
    first = networks.create_network(session, user, zone, isolated, NetworkSpec(name="a"))
    second = networks.create_network(session, user, zone, isolated, NetworkSpec(name="b"))
    assert (first.vlan, second.vlan) == (100, 101)
    networks.delete_network(session, first)
    third = networks.create_network(session, user, zone, isolated, NetworkSpec(name="c"))
    assert third.vlan == 100


@pytest.mark.parametrize(("name", "spec", "parameter"), [
    ("DefaultL2NetworkOfferingVlan", NetworkSpec(name="n"), "vlan"),
    ("DefaultL2NetworkOffering", NetworkSpec(name="n", gateway="10.0.0.1", netmask="255.255.255.0"), "gateway"),
    ("DefaultSharedNetworkOffering", NetworkSpec(name="n", vlan="5"), "gateway"),
    ("DefaultIsolatedNetworkOffering", NetworkSpec(name="n", gateway="10.0.0.1"), "netmask"),
    ("DefaultIsolatedNetworkOffering", NetworkSpec(name="n", vlan="5000"), "vlan"),
    ("DefaultIsolatedNetworkOffering", NetworkSpec(name="n", gateway="10.0.0.1", netmask="255.255.255.0",
                                                   start_ip="10.0.1.2"), "startip"),
])
def test_network_rules_name_the_parameter(session: Session, admin: Caller, zone: Zone, name: str,
                                          spec: NetworkSpec, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        networks.create_network(session, admin, zone, offering(session, name), spec)
    assert raised.value.parameter == parameter


def test_users_may_not_choose_vlans(session: Session, user: Caller, zone: Zone) -> None:
    with pytest.raises(InvalidParameter) as raised:
        networks.create_network(session, user, zone, offering(session, "DefaultIsolatedNetworkOffering"),
                                NetworkSpec(name="n", vlan="10"))
    assert raised.value.parameter == "vlan"


def test_isolated_defaults_take_the_zone_guest_cidr(session: Session, user: Caller, zone: Zone) -> None:
    network = networks.create_network(session, user, zone, offering(session, "DefaultIsolatedNetworkOffering"),
                                      NetworkSpec(name="iso"))
    assert (network.gateway, network.netmask, network.cidr, network.start_ip, network.end_ip) == \
        ("10.1.1.1", "255.255.255.0", "10.1.1.0/24", "10.1.1.2", "10.1.1.254")
    assert (network.dns1, network.account_id) == ("8.8.8.8", user.account_id)


def test_users_see_their_own_networks_and_shared_ones(session: Session, admin: Caller, user: Caller,
                                                      zone: Zone) -> None:
    isolated = offering(session, "DefaultIsolatedNetworkOffering")
    mine = networks.create_network(session, user, zone, isolated, NetworkSpec(name="mine"))
    theirs = networks.create_network(session, admin, zone, isolated, NetworkSpec(name="theirs"))
    shared = networks.create_network(
        session, admin, zone, offering(session, "DefaultSharedNetworkOffering"),
        NetworkSpec(name="shared", vlan="30", gateway="192.168.0.1", netmask="255.255.255.0",
                    start_ip="192.168.0.10", end_ip="192.168.0.20"))

    def visible(caller: Caller, **kwargs: object) -> list[str]:
        found, _ = networks.list_networks(session, caller, Page(), **kwargs)  # type: ignore[arg-type]
        return [r.network.name for r in found]

    assert visible(user, list_all=True) == ["mine", "shared"]
    assert visible(user, uuid=theirs.uuid) == []
    assert visible(admin) == ["theirs", "shared"]
    assert visible(admin, list_all=True) == ["mine", "theirs", "shared"]
    with pytest.raises(PermissionDenied):
        networks.check_access(session, user, theirs)
    networks.check_access(session, user, mine)
    networks.check_access(session, user, shared)  # anyone may deploy on a Shared network...
    with pytest.raises(PermissionDenied):
        networks.check_owner(session, user, shared)  # ...but only its owner's scope may change it


def test_network_refs_read_what_deploying_needs_and_check_access_alike(
        session: Session, admin: Caller, user: Caller, zone: Zone) -> None:
    isolated = offering(session, "DefaultIsolatedNetworkOffering")
    mine = networks.create_network(session, user, zone, isolated, NetworkSpec(name="ref-mine"))
    theirs = networks.create_network(session, admin, zone, isolated, NetworkSpec(name="ref-theirs", vlan="44"))
    shared = networks.create_network(
        session, admin, zone, offering(session, "DefaultSharedNetworkOffering"),
        NetworkSpec(name="ref-shared", vlan="31", gateway="192.168.1.1", netmask="255.255.255.0",
                    start_ip="192.168.1.10", end_ip="192.168.1.20"))
    session.flush()
    connection = session.connection()
    for network in (mine, theirs, shared):
        ref = networks.network_ref(connection, network.uuid, parameter="networkids")
        assert ref._replace(domain_path="") == networks.NetworkRef(
            id=network.id, uuid=network.uuid, name=network.name, zone_id=network.zone_id,
            guest_type=network.guest_type, state=network.state, vlan=network.vlan, gateway=network.gateway,
            start_ip=network.start_ip, end_ip=network.end_ip, account_id=network.account_id,
            domain_id=network.domain_id, domain_path="")
        for caller in (admin, user):
            try:
                networks.check_access(session, caller, network)
            except PermissionDenied:
                with pytest.raises(PermissionDenied):
                    networks.check_ref_access(caller, ref)
            else:
                networks.check_ref_access(caller, ref)
    with pytest.raises(PermissionDenied):
        networks.check_ref_access(user, networks.network_ref(connection, theirs.uuid))
    with pytest.raises(NotFound, match=r"network by id nope \(parameter networkids\)"):
        networks.network_ref(connection, "nope", parameter="networkids")
    # A NIC on a network read as a ref moves the network to Implemented (and the session's Network sees it).
    nic = nics.allocate_nic(session, networks.network_ref(connection, theirs.uuid), instance_id=7, device_id=0,
                            is_default=True)
    assert (nic.ip4_address, nic.broadcast_uri) == ("10.1.1.2", "vlan://44")
    assert theirs.state == "Implemented"
    assert networks.network_ref(connection, theirs.uuid).state == "Implemented"


@pytest.fixture
def small_network(session: Session, admin: Caller, zone: Zone) -> Network:
    return networks.create_network(session, admin, zone, offering(session, "DefaultIsolatedNetworkOffering"),
                                   NetworkSpec(name="small", vlan="1577", gateway="10.9.0.1",
                                               netmask="255.255.255.0", start_ip="10.9.0.1", end_ip="10.9.0.4"))


def test_nics_get_unique_addresses_and_vlan_uris(session: Session, small_network: Network) -> None:
    allocated = [nics.allocate_nic(session, small_network, instance_id=1, device_id=i, is_default=i == 0)
                 for i in range(3)]
    assert [n.ip4_address for n in allocated] == ["10.9.0.2", "10.9.0.3", "10.9.0.4"]  # the gateway is skipped
    assert len({n.mac_address for n in allocated}) == 3
    assert all(re.fullmatch(r"02(:[0-9a-f]{2}){5}", n.mac_address) for n in allocated)
    assert {(n.broadcast_uri, n.isolation_uri) for n in allocated} == {("vlan://1577", "vlan://1577")}
    assert small_network.state == "Implemented"
    with pytest.raises(InsufficientCapacity, match="Insufficient address capacity"):
        nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True)
    nics.release_nic(session, allocated[1])
    again = nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True)
    assert again.ip4_address == "10.9.0.3"
    with pytest.raises(Conflict, match="cannot be deleted"):
        networks.delete_network(session, small_network)
    assert nics.release_instance_nics(session, 1) == 2


def test_requested_addresses_are_checked(session: Session, small_network: Network) -> None:
    nic = nics.allocate_nic(session, small_network, instance_id=1, device_id=0, is_default=True, ip="10.9.0.4",
                            mac="02:AA:bb:cc:dd:ee")
    assert (nic.ip4_address, nic.mac_address) == ("10.9.0.4", "02:aa:bb:cc:dd:ee")
    with pytest.raises(Conflict):
        nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True, ip="10.9.0.4")
    for bad_ip in ("10.9.0.1", "10.9.0.9", "nonsense"):
        with pytest.raises(InvalidParameter):
            nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True, ip=bad_ip)
    with pytest.raises(InvalidParameter):
        nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True,
                          mac="01:00:5e:00:00:01")  # multicast


def test_update_addresses_persists_prepare_output(session: Session, small_network: Network) -> None:
    first = nics.allocate_nic(session, small_network, instance_id=1, device_id=0, is_default=True)
    second = nics.allocate_nic(session, small_network, instance_id=2, device_id=0, is_default=True)
    nics.update_addresses(session, first, mac="52:54:00:12:34:56", ip6="2001:db8::5")
    assert (first.mac_address, first.ip6_address) == ("52:54:00:12:34:56", "2001:db8::5")
    with pytest.raises(Conflict):
        nics.update_addresses(session, second, mac="52:54:00:12:34:56")
    assert nics.get_nic(session, second.uuid).mac_address != "52:54:00:12:34:56"


def test_nic_view_has_what_the_payload_needs(session: Session, small_network: Network) -> None:
    nic = nics.allocate_nic(session, small_network, instance_id=12, device_id=0, is_default=True)
    view = nics.nic_views(session, [12, 13])
    assert view[13] == []
    (only,) = view[12]
    assert (only.uuid, only.network_uuid, only.mac, only.ip) == (nic.uuid, small_network.uuid, nic.mac_address,
                                                                 "10.9.0.2")
    assert (only.netmask, only.gateway, only.dns1, only.broadcast_type, only.traffic_type) == \
        ("255.255.255.0", "10.9.0.1", "8.8.8.8", "Vlan", "Guest")
    assert (only.broadcast_uri, only.isolation_uri, only.vlan, only.mtu, only.network_rate_mbps) == \
        ("vlan://1577", "vlan://1577", 1577, 1500, 200)
    assert only.is_default and only.device_id == 0
    assert only.segment_name == (f"D{small_network.domain_id}-A{small_network.account_id}-Z{small_network.zone_id}"
                                 f"-S{small_network.id}")


def test_concurrent_allocations_never_share_an_address(db: Database) -> None:
    with db.session() as setup:  # committed, so that the other sessions see it
        admin = make_caller(setup, name="root", role_type=RoleType.ADMIN)
        zone = zones.create_zone(setup, zones.ZoneSpec(name="z"))
        network = networks.create_network(setup, admin, zone, offering(setup, "DefaultIsolatedNetworkOffering"),
                                          NetworkSpec(name="small", vlan="7", gateway="10.9.0.1",
                                                      netmask="255.255.255.0", start_ip="10.9.0.2",
                                                      end_ip="10.9.0.4"))
    results: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def allocate(instance_id: int) -> None:
        try:
            with db.session() as other:
                found = networks.get_network(other, network.uuid)
                barrier.wait()
                results.append(nics.allocate_nic(other, found, instance_id=instance_id, device_id=0,
                                                 is_default=True).ip4_address)
        except InsufficientCapacity as error:  # the range has room for three
            errors.append(error)

    threads = [threading.Thread(target=allocate, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r or "" for r in results) == ["10.9.0.2", "10.9.0.3", "10.9.0.4"]
    assert len(errors) == 2


def test_concurrent_networks_get_distinct_vlans(db: Database) -> None:
    with db.session() as setup:
        user = make_caller(setup, name="bob", role_type=RoleType.USER)
        zone = zones.create_zone(setup, zones.ZoneSpec(name="z"))
    vlans: list[int | None] = []
    barrier = threading.Barrier(4)

    def create(index: int) -> None:
        with db.session() as other:
            found = zones.get_zone(other, zone.uuid)
            isolated = offering(other, "DefaultIsolatedNetworkOffering")
            barrier.wait()
            vlans.append(networks.create_network(other, user, found, isolated, NetworkSpec(name=f"n{index}")).vlan)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(v or 0 for v in vlans) == [100, 101, 102, 103]


def test_dynamic_vlans_come_from_the_configured_range(session: Session, user: Caller, zone: Zone) -> None:
    isolated = offering(session, "DefaultIsolatedNetworkOffering")
    tags = [networks.create_network(session, user, zone, isolated, NetworkSpec(name=f"n{i}"),
                                    dynamic_vlans=range(3000, 3002)).vlan for i in range(2)]
    assert tags == [3000, 3001]
    with pytest.raises(Conflict, match="every VLAN"):
        networks.create_network(session, user, zone, isolated, NetworkSpec(name="full"),
                                dynamic_vlans=range(3000, 3002))
