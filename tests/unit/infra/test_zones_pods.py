"""Zones and pods: validation, uniqueness, visibility and deletion rules."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.infrastructure import Pod, Zone
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import clusters, networks, offerings, pods, zones
from switchboard.infra.common import Page

pytestmark = pytest.mark.database


def test_zone_is_created_with_normalised_addresses_and_a_token(session: Session) -> None:
    zone = zones.create_zone(session, zones.ZoneSpec(name=" z ", network_type="advanced", dns1="8.8.8.8",
                                                     internal_dns1="10.0.0.2", ip6_dns1="2001:db8::0001"))
    assert (zone.name, zone.network_type, zone.ip6_dns1) == ("z", "Advanced", "2001:db8::1")
    assert zone.allocation_state == "Enabled" and len(zone.zone_token) == 36


def test_basic_zones_use_security_groups(session: Session) -> None:
    zone = zones.create_zone(session, zones.ZoneSpec(name="b", network_type="Basic", dns1="8.8.8.8"))
    assert zone.security_groups_enabled is True


@pytest.mark.parametrize(("spec", "parameter"), [
    (zones.ZoneSpec(name="x", dns1="not-an-ip"), "dns1"),
    (zones.ZoneSpec(name="x", internal_dns1="300.1.1.1"), "internaldns1"),
    (zones.ZoneSpec(name="x", network_type="Fancy"), "networktype"),
    (zones.ZoneSpec(name="x", guest_cidr="10.0.0.0/99"), "guestcidraddress"),
    (zones.ZoneSpec(name="x", allocation_state="Sleeping"), "allocationstate"),
    (zones.ZoneSpec(name=" "), "name"),
])
def test_bad_zone_values_name_the_parameter(session: Session, spec: zones.ZoneSpec, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        zones.create_zone(session, spec)
    assert raised.value.parameter == parameter


def test_zone_names_are_unique_among_live_zones(session: Session, zone: Zone) -> None:
    with pytest.raises(Conflict):
        zones.create_zone(session, zones.ZoneSpec(name="zone1"))
    zones.delete_zone(session, zone)
    assert zones.create_zone(session, zones.ZoneSpec(name="zone1")).id != zone.id


def test_update_changes_given_fields_only_and_never_the_network_type(session: Session, zone: Zone) -> None:
    zones.update_zone(session, zone, zones.ZoneSpec(dns2="1.1.1.1", network_type="Basic",
                                                    allocation_state="Disabled"))
    assert (zone.dns1, zone.dns2, zone.network_type, zone.allocation_state) == \
        ("8.8.8.8", "1.1.1.1", "Advanced", "Disabled")


def test_users_see_only_enabled_zones(session: Session, zone: Zone) -> None:
    other = zones.create_zone(session, zones.ZoneSpec(name="zone2", allocation_state="Disabled"))
    everything, _ = zones.list_zones(session, Page())
    enabled, _ = zones.list_zones(session, Page(), enabled_only=True)
    assert [z.id for z in everything] == [zone.id, other.id]
    assert [z.id for z in enabled] == [zone.id]


def test_zone_listing_pages_and_counts_the_total(session: Session) -> None:
    for index in range(5):
        zones.create_zone(session, zones.ZoneSpec(name=f"zz{index}"))
    page, total = zones.list_zones(session, Page(page=2, pagesize=2, keyword="zz"))
    assert total == 5 and [z.name for z in page] == ["zz2", "zz3"]


def test_zone_in_use_cannot_be_deleted(session: Session, zone: Zone, pod: Pod, admin: Caller) -> None:
    with pytest.raises(Conflict, match="pods"):
        zones.delete_zone(session, zone)
    pods.delete_pod(session, pod)
    offering, _ = offerings.list_network_offerings(session, Page(), name="DefaultL2NetworkOffering")
    networks.create_network(session, admin, zone, offering[0], networks.NetworkSpec(name="n"))
    with pytest.raises(Conflict, match="networks"):
        zones.delete_zone(session, zone)


def test_pod_range_must_sit_in_its_subnet(session: Session, zone: Zone) -> None:
    with pytest.raises(InvalidParameter) as raised:
        pods.create_pod(session, zone, name="p", gateway="10.0.0.1", netmask="255.255.255.0",
                        start_ip="10.0.1.5", end_ip="10.0.0.9")
    assert raised.value.parameter == "startip"
    with pytest.raises(InvalidParameter) as raised:
        pods.create_pod(session, zone, name="p", gateway="10.0.0.1", netmask="255.255.255.0",
                        start_ip="10.0.0.9", end_ip="10.0.0.5")
    assert raised.value.parameter == "startip"


def test_pod_with_clusters_cannot_be_deleted(session: Session, zone: Zone, pod: Pod) -> None:
    with pytest.raises(Conflict):
        pods.create_pod(session, zone, name="pod1")
    cluster = clusters.add_cluster(session, zone, pod, name="c", hypervisor="kvm")
    with pytest.raises(Conflict, match="clusters"):
        pods.delete_pod(session, pod)
    clusters.delete_cluster(session, cluster)
    pods.delete_pod(session, pod)
    assert pods.list_pods(session, Page())[1] == 0


def test_keyword_is_a_literal_case_insensitive_substring(session: Session) -> None:
    for name in ("Rack_A", "rackxa", "100%-east"):
        zones.create_zone(session, zones.ZoneSpec(name=name))
    assert [z.name for z in zones.list_zones(session, Page(keyword="k_a"))[0]] == ["Rack_A"]
    assert [z.name for z in zones.list_zones(session, Page(keyword="0%"))[0]] == ["100%-east"]


def test_every_page_reports_the_same_total_as_counting(session: Session) -> None:
    # The last page's total is taken from its rows instead of a COUNT: it must agree with counting.
    for index in range(5):
        zones.create_zone(session, zones.ZoneSpec(name=f"pg{index}"))
    names = [f"pg{index}" for index in range(5)]
    for size in range(1, 7):
        for number in range(0, 8):
            rows, total = zones.list_zones(session, Page(page=number, pagesize=size, keyword="pg"))
            start = (max(number, 1) - 1) * size
            assert total == 5, (number, size)
            assert [row.name for row in rows] == names[start:start + size], (number, size)
    assert zones.list_zones(session, Page(page=1, pagesize=3, keyword="nothing")) == ([], 0)
    assert zones.list_zones(session, Page(page=4, pagesize=3, keyword="nothing")) == ([], 0)
