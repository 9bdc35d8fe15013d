"""Zones, pods and clusters over real HTTP with the unmodified `cs` client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique
from tests.support.fixtures import signed_get
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def test_create_list_update_and_delete_a_zone(admin_cs: CloudStack) -> None:
    name = unique("zone")
    zone = admin_cs.createZone(name=name, networktype="Advanced", dns1="8.8.8.8", dns2="1.1.1.1",
                               internaldns1="10.0.0.2", guestcidraddress="10.5.0.0/16")["zone"]
    assert (zone["name"], zone["networktype"], zone["allocationstate"]) == (name, "Advanced", "Enabled")
    assert (zone["dns1"], zone["dns2"], zone["internaldns1"], zone["guestcidraddress"]) == \
        ("8.8.8.8", "1.1.1.1", "10.0.0.2", "10.5.0.0/16")
    assert zone["securitygroupsenabled"] is False and zone["zonetoken"]
    listed = admin_cs.listZones(id=zone["id"])
    assert listed["count"] == 1 and listed["zone"][0] == zone
    updated = admin_cs.updateZone(id=zone["id"], name=f"{name}-b", allocationstate="Disabled")["zone"]
    assert (updated["name"], updated["allocationstate"]) == (f"{name}-b", "Disabled")
    assert admin_cs.deleteZone(id=zone["id"]) == {"success": True}
    assert admin_cs.listZones(id=zone["id"]) == {}


def test_zone_errors_name_the_parameter(admin_cs: CloudStack, zone: dict[str, Any],
                                        api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    error = api_error(admin_cs.createZone, name=unique("z"), networktype="Advanced", internaldns1="10.0.0.2")
    assert error["errorcode"] == 431 and "dns1" in error["errortext"]
    error = api_error(admin_cs.createZone, name=unique("z"), networktype="Advanced", dns1="8.8.8.300",
                      internaldns1="10.0.0.2")
    assert error["errorcode"] == 431 and "dns1" in error["errortext"]
    error = api_error(admin_cs.createZone, name=zone["name"], networktype="Advanced", dns1="8.8.8.8",
                      internaldns1="10.0.0.2")
    assert error["errorcode"] == 431 and "already exists" in error["errortext"]
    response = signed_get(api_server, {"command": "listZones", "id": "not-a-uuid"}, admin_keys)
    assert response.status_code == 431
    assert "id" in response.json()["listzonesresponse"]["errortext"]


def test_zone_listing_pages_with_the_total_count(admin_cs: CloudStack) -> None:
    prefix = unique("paged")
    for index in range(3):
        admin_cs.createZone(name=f"{prefix}-{index}", networktype="Advanced", dns1="8.8.8.8",
                            internaldns1="10.0.0.2")
    page = admin_cs.listZones(keyword=prefix, page=2, pagesize=2)
    assert page["count"] == 3 and [z["name"] for z in page["zone"]] == [f"{prefix}-2"]


def test_users_see_enabled_zones_without_addresses(admin_cs: CloudStack, zone: dict[str, Any],
                                                   user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    seen = user_cs.listZones(id=zone["id"])["zone"][0]
    assert seen["name"] == zone["name"] and "dns1" not in seen and "internaldns1" not in seen
    admin_cs.updateZone(id=zone["id"], allocationstate="Disabled")
    assert user_cs.listZones(id=zone["id"]) == {}
    error = api_error(user_cs.createZone, name=unique("z"), networktype="Advanced", dns1="8.8.8.8",
                      internaldns1="10.0.0.2")
    assert error["errorcode"] == 432


def test_pods_and_clusters(admin_cs: CloudStack, zone: dict[str, Any], pod: dict[str, Any]) -> None:
    assert (pod["zoneid"], pod["gateway"], pod["startip"], pod["endip"]) == \
        (zone["id"], "10.0.0.1", ["10.0.0.10"], ["10.0.0.20"])
    assert admin_cs.listPods(zoneid=zone["id"])["pod"] == [pod]
    cluster = admin_cs.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("c"),
                                  clustertype="CloudManaged", hypervisor="External")["cluster"][0]
    assert (cluster["hypervisortype"], cluster["clustertype"], cluster["allocationstate"], cluster["podid"]) == \
        ("External", "CloudManaged", "Enabled", pod["id"])
    assert "extensionid" not in cluster
    assert admin_cs.listHypervisors(zoneid=zone["id"])["hypervisor"] == [{"name": "External"}]
    error = api_error(admin_cs.addCluster, zoneid=zone["id"], podid=pod["id"], clustername=unique("c"),
                      clustertype="CloudManaged", hypervisor="External",
                      **{"externaldetails[0].zone_tag": "east"})
    assert error["errorcode"] == 431 and "externaldetails" in error["errortext"]
    error = api_error(admin_cs.addCluster, zoneid=zone["id"], podid=pod["id"], clustername=unique("c"),
                      clustertype="CloudManaged", hypervisor="Xen-ish")
    assert error["errorcode"] == 431 and "hypervisor" in error["errortext"]
    updated = admin_cs.updateCluster(id=cluster["id"], allocationstate="Disabled")["cluster"]
    assert updated["allocationstate"] == "Disabled"
    listed = admin_cs.listClusters(zoneid=zone["id"], hypervisor="external")
    assert listed["count"] == 1 and listed["cluster"][0]["id"] == cluster["id"]
    assert api_error(admin_cs.deletePod, id=pod["id"])["errorcode"] == 431
    assert api_error(admin_cs.deleteZone, id=zone["id"])["errorcode"] == 431
    assert admin_cs.deleteCluster(id=cluster["id"]) == {"success": True}
    assert admin_cs.deletePod(id=pod["id"]) == {"success": True}
    assert admin_cs.deleteZone(id=zone["id"]) == {"success": True}


def test_capabilities_for_every_role(api_server: ServerProcess, admin_cs: CloudStack,
                                     user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    for client in (admin_cs, user_cs):
        capability = client.listCapabilities()["capability"]
        assert capability["cloudstackversion"] == "4.21.0.0"
        assert capability["apilimitinterval"] == 1
        # What every caller may do, as the commands' own checks have it: users create projects, only
        # administrators expunge or recover an instance.
        assert capability["allowusercreateprojects"] is True and capability["allowuserexpungerecovervm"] is False
        assert "switchboardversion" in capability and "kvmsnapshotenabled" in capability
        assert {"name": "External"} in client.listHypervisors()["hypervisor"]
    assert httpx.get(api_server.url, params={"command": "listCapabilities"}).status_code == 401
