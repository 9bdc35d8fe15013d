"""Templates, offerings, networks and events over real HTTP, as an admin and as a User."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique

pytestmark = pytest.mark.database


def test_external_templates_need_an_extension(admin_cs: CloudStack, zone: dict[str, Any]) -> None:
    error = api_error(admin_cs.registerTemplate, name=unique("t"), displaytext="t", format="EXTERNAL",
                      hypervisor="External", url="http://dummy", zoneid=zone["id"])
    assert error["errorcode"] == 431 and "extensionid" in error["errortext"]
    error = api_error(admin_cs.registerTemplate, name=unique("t"), format="EXTERNAL", hypervisor="External",
                      url="http://dummy", zoneid=zone["id"], extensionid="6ae77659-2f5f-492c-b616-6d78ef134dcb")
    assert error["errorcode"] == 431


def test_external_template_is_ready_and_tied_to_its_extension(
        admin_cs: CloudStack, zone: dict[str, Any], extension: dict[str, Any],
        user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    name = unique("ext-tpl")
    template = admin_cs.registerTemplate(
        name=name, displaytext=name, format="external", hypervisor="external", url="http://dummy",
        zoneid=zone["id"], extensionid=extension["id"], ispublic=True,
        **{"externaldetails[0].template_id": "9000", "details[0].firmware": "bios"},
    )["template"][0]
    assert (template["isready"], template["status"], template["format"], template["hypervisor"]) == \
        (True, "Download Complete", "EXTERNAL", "External")
    assert (template["extensionid"], template["extensionname"]) == (extension["id"], extension["name"])
    assert template["details"] == {"External:template_id": "9000", "firmware": "bios"}
    by_extension = admin_cs.listTemplates(templatefilter="all", extensionid=extension["id"])
    assert [t["id"] for t in by_extension["template"]] == [template["id"]]
    seen = user_cs.listTemplates(templatefilter="executable", id=template["id"])["template"][0]
    assert seen["details"] == {"firmware": "bios"}  # the extension's settings stay with admins and owners
    error = api_error(admin_cs.deleteExtension, id=extension["id"])
    assert error["errorcode"] in (431, 530) and "template" in error["errortext"].lower()
    assert admin_cs.deleteTemplate(id=template["id"], fetch_result=True) == {"success": True}


def test_register_list_update_and_delete_a_template(admin_cs: CloudStack, zone: dict[str, Any],
                                                    user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, account = user_client
    os_type = admin_cs.listOsTypes(keyword="Debian GNU/Linux 12")["ostype"][0]
    name = unique("tpl")
    registered = user_cs.registerTemplate(name=name, displaytext="A disk", format="QCOW2", hypervisor="KVM",
                                          url="http://example.com/disk.qcow2", zoneids=zone["id"],
                                          ostypeid=os_type["id"], **{"details[0].firmware": "uefi"})
    template = registered["template"][0]
    assert (template["name"], template["format"], template["hypervisor"], template["account"]) == \
        (name, "QCOW2", "KVM", account["name"])
    assert (template["isready"], template["ispublic"], template["zoneid"], template["ostypeid"]) == \
        (False, False, zone["id"], os_type["id"])
    assert template["details"] == {"firmware": "uefi"}
    assert user_cs.listTemplates(templatefilter="self", id=template["id"])["count"] == 1
    assert user_cs.listTemplates(templatefilter="selfexecutable", id=template["id"]) == {}  # not ready
    assert admin_cs.listTemplates(templatefilter="self", id=template["id"]) == {}  # not the admin's own
    assert admin_cs.listTemplates(templatefilter="all", id=template["id"])["count"] == 1
    error = api_error(user_cs.listTemplates, templatefilter="mine")
    assert error["errorcode"] == 431 and "templatefilter" in error["errortext"]
    updated = user_cs.updateTemplate(id=template["id"], displaytext="Renamed disk")["template"]
    assert updated["displaytext"] == "Renamed disk"
    assert user_cs.updateTemplatePermissions(id=template["id"], ispublic=True) == {"success": True}
    assert admin_cs.listTemplates(templatefilter="community", id=template["id"])["count"] == 1
    assert api_error(user_cs.updateTemplatePermissions, id=template["id"], isfeatured=True)["errorcode"] == 431
    result = user_cs.deleteTemplate(id=template["id"], fetch_result=True)
    assert result == {"success": True}
    assert user_cs.listTemplates(templatefilter="self", id=template["id"]) == {}


def test_service_offerings(admin_cs: CloudStack, user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    name = unique("so")
    offering = admin_cs.createServiceOffering(name=name, displaytext="tiny", cpunumber=2, cpuspeed=1000, memory=256,
                                              **{"externaldetails[0].cpu_type": "host"})["serviceoffering"]
    assert (offering["cpunumber"], offering["cpuspeed"], offering["memory"], offering["iscustomized"]) == \
        (2, 1000, 256, False)
    assert offering["serviceofferingdetails"] == {"External:cpu_type": "host"}
    seen = user_cs.listServiceOfferings(name=name)["serviceoffering"][0]
    assert seen["id"] == offering["id"] and "serviceofferingdetails" not in seen
    defaults = {o["name"] for o in user_cs.listServiceOfferings()["serviceoffering"]}
    assert {"Small Instance", "Medium Instance"} <= defaults
    error = api_error(admin_cs.createServiceOffering, name=unique("so"), cpunumber=1, cpuspeed=500)
    assert error["errorcode"] == 431 and "memory" in error["errortext"]
    assert api_error(user_cs.createServiceOffering, name="x", cpunumber=1, cpuspeed=1, memory=1)["errorcode"] == 432
    updated = admin_cs.updateServiceOffering(id=offering["id"], displaytext="tinier",
                                             **{"externaldetails[0].cpu_type": "max"})["serviceoffering"]
    assert updated["displaytext"] == "tinier" and updated["serviceofferingdetails"] == {"External:cpu_type": "max"}
    assert admin_cs.deleteServiceOffering(id=offering["id"]) == {"success": True}
    assert admin_cs.listServiceOfferings(id=offering["id"]) == {}


def test_networks_for_users_and_admins(admin_cs: CloudStack, zone: dict[str, Any],
                                       user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, account = user_client
    offerings = {o["name"]: o for o in user_cs.listNetworkOfferings()["networkoffering"]}
    assert {"DefaultL2NetworkOffering", "DefaultIsolatedNetworkOffering"} <= set(offerings)
    isolated = offerings["DefaultIsolatedNetworkOffering"]
    assert (isolated["guestiptype"], isolated["traffictype"]) == ("Isolated", "Guest")
    assert user_cs.listNetworkOfferings(guestiptype="l2")["count"] >= 2

    mine = user_cs.createNetwork(zoneid=zone["id"], name=unique("net"), networkofferingid=isolated["id"])["network"]
    assert (mine["type"], mine["gateway"], mine["cidr"], mine["account"], mine["state"]) == \
        ("Isolated", "10.1.1.1", "10.1.1.0/24", account["name"], "Allocated")
    assert "vlan" not in mine and "broadcasturi" not in mine  # the VLAN is the admin's business
    error = api_error(user_cs.createNetwork, zoneid=zone["id"], name=unique("net"),
                      networkofferingid=isolated["id"], vlan="55")
    assert error["errorcode"] == 431 and "vlan" in error["errortext"]

    l2_vlan = offerings["DefaultL2NetworkOfferingVlan"]
    theirs = admin_cs.createNetwork(zoneid=zone["id"], name=unique("l2"), networkofferingid=l2_vlan["id"],
                                    vlan="1577")["network"]
    assert (theirs["type"], theirs["vlan"], theirs["broadcasturi"]) == ("L2", "1577", "vlan://1577")
    error = api_error(admin_cs.createNetwork, zoneid=zone["id"], name=unique("l2"),
                      networkofferingid=l2_vlan["id"], vlan="1577")
    assert error["errorcode"] == 431 and "1577" in error["errortext"]

    assert [n["id"] for n in user_cs.listNetworks(zoneid=zone["id"])["network"]] == [mine["id"]]
    assert [n["id"] for n in admin_cs.listNetworks(zoneid=zone["id"])["network"]] == [theirs["id"]]
    everything = admin_cs.listNetworks(zoneid=zone["id"], listall=True)["network"]
    assert [n["id"] for n in everything] == [mine["id"], theirs["id"]]
    assert next(n for n in everything if n["id"] == mine["id"])["vlan"].isdigit()

    error = api_error(user_cs.deleteNetwork, id=theirs["id"])
    assert error["errorcode"] == 531
    assert user_cs.deleteNetwork(id=mine["id"], fetch_result=True) == {"success": True}
    assert user_cs.listNetworks(id=mine["id"]) == {}

    given = admin_cs.createNetwork(zoneid=zone["id"], name=unique("given"), networkofferingid=isolated["id"],
                                   account=account["name"], domainid=account["domainid"])["network"]
    assert given["account"] == account["name"]
    assert user_cs.listNetworks(id=given["id"])["count"] == 1
    admin_account = admin_cs.listAccounts(name="admin")["account"][0]
    error = api_error(user_cs.createNetwork, zoneid=zone["id"], name=unique("n"), networkofferingid=isolated["id"],
                      account="admin", domainid=admin_account["domainid"])
    assert error["errorcode"] == 531
    error = api_error(admin_cs.createNetwork, zoneid=zone["id"], name=unique("n"), networkofferingid=isolated["id"],
                      account=account["name"])
    assert error["errorcode"] == 431 and "domainid" in error["errortext"]

    user_events = user_cs.listEvents()["event"]
    assert {e["type"] for e in user_events} >= {"NETWORK.CREATE", "NETWORK.DELETE"}
    assert {e["account"] for e in user_events} == {account["name"]}
    created = next(e for e in user_events if e["type"] == "NETWORK.CREATE" and e["resourceid"] == mine["id"])
    assert (created["level"], created["state"], created["username"], created["resourcetype"]) == \
        ("INFO", "Completed", account["user"][0]["username"], "Network")
    assert admin_cs.listEvents(type="NETWORK.CREATE", resourceid=theirs["id"])["count"] == 1
    assert api_error(user_cs.listEvents, level="LOUD")["errorcode"] == 431
    assert api_error(user_cs.listAlerts)["errorcode"] == 432


def test_update_network_is_an_async_job_for_the_owner(admin_cs: CloudStack, zone: dict[str, Any],
                                                      user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    isolated = user_cs.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")["networkoffering"][0]
    mine = user_cs.createNetwork(zoneid=zone["id"], name=unique("net"), networkofferingid=isolated["id"])["network"]
    renamed = user_cs.updateNetwork(id=mine["id"], name="renamed", displaytext="Renamed network",
                                    fetch_result=True)["network"]
    assert (renamed["id"], renamed["name"], renamed["displaytext"]) == (mine["id"], "renamed", "Renamed network")
    assert "vlan" not in renamed
    assert user_cs.listNetworks(id=mine["id"])["network"][0]["name"] == "renamed"
    theirs = admin_cs.createNetwork(zoneid=zone["id"], name=unique("net"), networkofferingid=isolated["id"])["network"]
    assert api_error(user_cs.updateNetwork, id=theirs["id"], name="mine now")["errorcode"] == 531
    assert api_error(user_cs.updateNetwork, id=mine["id"], name=" ")["errorcode"] == 431
