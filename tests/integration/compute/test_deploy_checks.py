"""What deployVirtualMachine checks before it queues a job, and the sizes and flags it copies: unknown
template, zone and offering (in that order, each naming its parameter), a private template of another
account, custom offerings sized by details, and an instance's fields taken from template and offering."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _refused(client: CloudStack, **params: str) -> dict[str, str]:
    with pytest.raises(CloudStackApiException) as raised:
        client.deployVirtualMachine(**params)
    error: dict[str, str] = raised.value.error
    return error


def test_unknown_template_zone_and_offering_are_refused_in_order_naming_the_parameter(bed: Bed) -> None:
    missing = str(uuid.uuid4())
    good = {"zoneid": bed.zone["id"], "templateid": bed.template["id"], "serviceofferingid": bed.offering["id"]}
    # The template is looked up first, then the zone, then the offering: unknown later ones do not matter.
    cases = (
        ("templateid", "template", {"templateid": missing, "zoneid": missing, "serviceofferingid": missing}),
        ("zoneid", "zone", {"zoneid": missing, "serviceofferingid": missing}),
        ("serviceofferingid", "service offering", {"serviceofferingid": missing}),
    )
    for parameter, label, unknown in cases:
        error = _refused(bed.admin, **{**good, **unknown})
        assert error["errorcode"] == 431, error
        assert error["errortext"] == f"Unable to find {label} by id {missing} (parameter {parameter})"


def test_private_templates_of_other_accounts_are_refused(bed: Bed, compute_server: ServerProcess) -> None:
    private = bed.admin.registerTemplate(
        name=unique("sbt-pt"), displaytext="p", format="EXTERNAL", hypervisor="External", url="http://dummy",
        zoneid=bed.zone["id"], extensionid=bed.extension["id"], ispublic=False)["template"][0]
    _account, keys = create_account_with_keys(bed.admin, prefix="sbt-dc")
    user = cs_client(compute_server, keys)
    error = _refused(user, zoneid=bed.zone["id"], templateid=private["id"], serviceofferingid=bed.offering["id"])
    assert error["errorcode"] == 531, error
    # The owner itself may use it.
    vm = ok(bed.admin, bed.deploy(templateid=private["id"], name=unique("priv"), startvm=False))
    assert vm["templateid"] == private["id"] and vm["zoneid"] == bed.zone["id"]


def test_custom_offerings_take_their_sizes_from_details(bed: Bed) -> None:
    custom = bed.admin.createServiceOffering(name=unique("sbt-cso"), displaytext="custom", offerha=True,
                                             limitcpuuse=True)["serviceoffering"]
    error = _refused(bed.admin, zoneid=bed.zone["id"], templateid=bed.template["id"],
                     serviceofferingid=custom["id"], networkids=bed.network["id"])
    assert error["errorcode"] == 431
    assert error["errortext"] == (f"The service offering {custom['name']} is a custom offering: give "
                                  "details[0].cpuNumber")
    vm = ok(bed.admin, bed.deploy(serviceofferingid=custom["id"], name=unique("cust"), startvm=False,
                                  **{"details[0].cpuNumber": "3", "details[0].memory": "768"}))
    assert (vm["cpunumber"], vm["cpuspeed"], vm["memory"]) == (3, 0, 768)
    assert vm["serviceofferingid"] == custom["id"] and vm["haenable"] is True
    fixed = ok(bed.admin, bed.deploy(name=unique("fixed"), startvm=False))
    assert (fixed["cpunumber"], fixed["cpuspeed"], fixed["memory"]) == (2, 1000, 512)
    assert fixed["haenable"] is False and fixed["templateid"] == bed.template["id"]


_REQUIRED_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"  # Required on a fresh cloud


def _account_without_networks(bed: Bed, prefix: str) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """A new account (bed.network is the admin's, not its own), its API keys, and deploy parameters without
    networkids."""
    account, keys = create_account_with_keys(bed.admin, prefix=prefix)
    params = {"zoneid": bed.zone["id"], "templateid": bed.template["id"], "serviceofferingid": bed.offering["id"]}
    return account, keys, params


def test_without_networkids_an_account_gets_a_network_from_the_required_offering_then_keeps_using_it(
        bed: Bed, compute_server: ServerProcess) -> None:
    account, keys, params = _account_without_networks(bed, "sbt-nonet")
    user = cs_client(compute_server, keys)
    # CloudStack makes "<account>-network" from the Required offering.
    required = bed.admin.listNetworkOfferings(name=_REQUIRED_OFFERING)
    assert required["networkoffering"][0]["availability"] == "Required"
    first = ok(user, user.deployVirtualMachine(name=unique("nonet"), startvm=False, **params))
    made = user.listNetworks()["network"]
    assert [(n["name"], n["networkofferingavailability"]) for n in made] == [(f"{account['name']}-network",
                                                                             "Required")]
    assert [nic["networkid"] for nic in first["nic"]] == [made[0]["id"]]
    created = user.listEvents(type="NETWORK.CREATE")["event"]
    assert [e["description"] for e in created] == [f"Created network {account['name']}-network for a deploy "
                                                   "without networks"]
    second = ok(user, user.deployVirtualMachine(name=unique("nonet"), startvm=False, **params))
    assert [nic["networkid"] for nic in second["nic"]] == [made[0]["id"]]
    assert len(user.listNetworks()["network"]) == 1

    user.createNetwork(zoneid=bed.zone["id"], name=unique("own2"), networkofferingid=bed.network["networkofferingid"])
    error = _refused(user, **params)
    assert (error["errorcode"], error["errortext"]) == (431, f"More than 1 default Isolated networks are found for "
                                                             f"Account {account['name']}; please specify networkIds")


def test_concurrent_deploys_of_an_account_without_a_network_make_one_network(
        bed: Bed, compute_server: ServerProcess) -> None:
    _account, keys, params = _account_without_networks(bed, "sbt-race")
    params["startvm"] = False

    def deploy(_: int) -> dict[str, Any]:
        client = cs_client(compute_server, keys)  # a client (and connection) per thread
        return ok(client, client.deployVirtualMachine(name=unique("race"), **params))

    with ThreadPoolExecutor(max_workers=6) as pool:
        deployed = list(pool.map(deploy, range(6)))
    made = cs_client(compute_server, keys).listNetworks()["network"]
    assert len(made) == 1
    assert {nic["networkid"] for vm in deployed for nic in vm["nic"]} == {made[0]["id"]}


def test_without_networkids_and_no_required_offering_a_deploy_is_refused_until_the_account_has_a_network(
        bed: Bed, compute_server: ServerProcess) -> None:
    account, keys, params = _account_without_networks(bed, "sbt-noreq")
    user = cs_client(compute_server, keys)
    required = bed.admin.listNetworkOfferings(name=_REQUIRED_OFFERING)
    offering_id = required["networkoffering"][0]["id"]
    bed.admin.updateNetworkOffering(id=offering_id, availability="Optional")
    try:
        error = _refused(user, **params)
        assert (error["errorcode"], error["errortext"]) == (
            431, f"No network is specified and account {account['name']} has no Isolated network in zone "
                 f"{bed.zone['name']}, nor is any network offering's availability Required to create one; create a "
                 "network or specify networkids")
        assert user.listNetworks().get("network") is None  # the refusal left nothing behind
        own = user.createNetwork(zoneid=bed.zone["id"], name=unique("own"),
                                 networkofferingid=bed.network["networkofferingid"])["network"]
        vm = ok(user, user.deployVirtualMachine(name=unique("nonet"), startvm=False, **params))
        assert [nic["networkid"] for nic in vm["nic"]] == [own["id"]]
    finally:
        bed.admin.updateNetworkOffering(id=offering_id, availability="Required")
