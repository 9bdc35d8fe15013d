"""Network offerings made as operators and CloudStack's own tests make them (L2 and Isolated), their state
and deletion rules; and the networking views of a cloud without virtual routers: empty, after checking
what they are asked about."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique

pytestmark = pytest.mark.database


def test_isolated_and_l2_offerings_are_created_disabled_enabled_and_deleted(admin_cs: CloudStack,
                                                                            zone: dict[str, Any]) -> None:
    # As Marvin's test data creates one: services with their providers.
    providers = {"Dhcp": "VirtualRouter", "Dns": "VirtualRouter", "SourceNat": "VirtualRouter",
                 "PortForwarding": "VirtualRouter"}
    params: dict[str, Any] = {f"serviceproviderlist[{i}].{k}": v for i, (service, provider) in
                              enumerate(providers.items()) for k, v in (("service", service), ("provider", provider))}
    isolated = admin_cs.createNetworkOffering(name=unique("no-iso"), displaytext="Test Network offering",
                                              guestiptype="Isolated", traffictype="GUEST",
                                              supportedservices="Dhcp,Dns,SourceNat,PortForwarding",
                                              availability="Optional", **params)["networkoffering"]
    assert (isolated["guestiptype"], isolated["state"], isolated["traffictype"]) == ("Isolated", "Disabled", "Guest")
    assert {s["name"] for s in isolated["service"]} == set(providers)
    error = api_error(admin_cs.createNetwork, zoneid=zone["id"], name=unique("n"), networkofferingid=isolated["id"])
    assert error["errorcode"] == 431  # a Disabled offering makes no network
    enabled = admin_cs.updateNetworkOffering(id=isolated["id"], state="Enabled")["networkoffering"]
    assert enabled["state"] == "Enabled"
    network = admin_cs.createNetwork(zoneid=zone["id"], name=unique("n"), networkofferingid=isolated["id"])["network"]
    error = api_error(admin_cs.deleteNetworkOffering, id=isolated["id"])
    assert error["errortext"] == (f"Can't delete network offering {isolated['name']} as its used by 1 networks. To "
                                  "make the network offering unavailable, disable it")
    admin_cs.deleteNetwork(id=network["id"], fetch_result=True)
    assert admin_cs.deleteNetworkOffering(id=isolated["id"]) == {"success": True}
    assert admin_cs.listNetworkOfferings(id=isolated["id"]).get("networkoffering") is None

    l2 = admin_cs.createNetworkOffering(name=unique("no-l2"), displaytext="l2", guestiptype="L2", traffictype="GUEST",
                                        specifyvlan=True, enable=True)["networkoffering"]
    assert (l2["guestiptype"], l2["state"], l2["specifyvlan"], l2.get("service", [])) == ("L2", "Enabled", True, [])
    admin_cs.deleteNetworkOffering(id=l2["id"])


def test_only_one_isolated_offering_with_source_nat_may_be_required(admin_cs: CloudStack) -> None:
    seeded = admin_cs.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")
    assert seeded["networkoffering"][0]["availability"] == "Required"  # as a fresh CloudStack has it
    error = api_error(admin_cs.createNetworkOffering, name=unique("req"), displaytext="x", guestiptype="Isolated",
                      traffictype="GUEST", supportedservices="Dhcp,Dns,SourceNat", availability="Required")
    assert (error["errorcode"], error["errortext"]) == (
        431, f"System already has network offering id={seeded['networkoffering'][0]['id']} with availability "
             "Required")
    no_nat = admin_cs.createNetworkOffering(name=unique("nonat"), displaytext="x", guestiptype="Isolated",
                                            traffictype="GUEST", supportedservices="Dhcp,Dns")["networkoffering"]
    error = api_error(admin_cs.updateNetworkOffering, id=no_nat["id"], availability="Required")
    assert error["errortext"] == ("Availability can be Required only for networkOfferings of type Isolated and with "
                                  "SourceNat enabled")
    assert admin_cs.listNetworkOfferings(id=no_nat["id"])["networkoffering"][0]["availability"] == "Optional"
    admin_cs.deleteNetworkOffering(id=no_nat["id"])


def test_offerings_this_cloud_cannot_serve_are_refused(admin_cs: CloudStack, user_client: Any) -> None:
    cases = [
        ({"guestiptype": "Shared"}, "Switchboard creates L2 and Isolated network offerings only"),
        ({"guestiptype": "Isolated", "forvpc": True}, "VPCs are not offered"),
        ({"guestiptype": "Isolated", "traffictype": "Public"}, "Only traffic type Guest is supported"),
        ({"guestiptype": "Isolated", "supportedservices": "Dhcp,Teleport"}, "Invalid service Teleport"),
        ({"guestiptype": "L2", "supportedservices": "Dhcp"}, "An L2 network offering has no services"),
    ]
    for extra, text in cases:
        params = {"name": unique("bad"), "displaytext": "x", "traffictype": "GUEST", **extra}
        error = api_error(admin_cs.createNetworkOffering, **params)
        assert error["errorcode"] == 431 and text in error["errortext"], (extra, error)
    default = next(o for o in admin_cs.listNetworkOfferings()["networkoffering"] if o["isdefault"])
    assert api_error(admin_cs.deleteNetworkOffering, id=default["id"])["errortext"] == \
        "Default network offering can't be deleted"
    user, _account = user_client
    error = api_error(user.createNetworkOffering, name=unique("u"), guestiptype="L2", traffictype="GUEST")
    assert error["errorcode"] == 432


VIEWS = ["listPublicIpAddresses", "listPortForwardingRules", "listIpForwardingRules", "listFirewallRules",
         "listEgressFirewallRules", "listLoadBalancerRules", "listSecurityGroups", "listAffinityGroups",
         "listAffinityGroupTypes", "listVPCs", "listVPCOfferings", "listRouters", "listSnapshots"]


def test_networking_views_answer_empty_after_checking_what_they_name(admin_cs: CloudStack, zone: dict[str, Any],
                                                                     user_client: Any) -> None:
    for command in VIEWS:
        assert getattr(admin_cs, command)(listall=True) == {}, command
        assert getattr(admin_cs, command)(zoneid=zone["id"]) == {}, command
    missing = str(uuid.uuid4())
    error = api_error(admin_cs.listPortForwardingRules, networkid=missing)
    assert error["errorcode"] == 431 and missing in error["errortext"]
    error = api_error(admin_cs.listPublicIpAddresses, zoneid=missing)
    assert error["errorcode"] == 431
    user, _account = user_client
    assert user.listPublicIpAddresses() == {} and user.listSecurityGroups() == {}
    assert api_error(user.listRouters)["errorcode"] == 432  # routers are for administrators
