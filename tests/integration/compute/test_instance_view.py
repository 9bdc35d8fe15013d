"""Instances as CloudStack clients read them (UserVmResponse): the template's OS type, who deployed it, the
host's control state, `details` as the caller may see them, and `listNics`; and a deploy that finds no
capacity failing with CloudStack's 533."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def owned(bed: Bed, compute_server: ServerProcess) -> dict[str, Any]:
    """A user's running instance on a network of the user's account, deployed by the user."""
    account, keys = create_account_with_keys(bed.admin, prefix="sbt-iv")
    user = cs_client(compute_server, keys)
    isolated = next(o for o in bed.admin.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = bed.admin.createNetwork(zoneid=bed.zone["id"], name=unique("sbt-iv"), networkofferingid=isolated["id"],
                                      gateway="10.3.0.1", netmask="255.255.255.0", startip="10.3.0.10",
                                      endip="10.3.0.20", account=account["name"],
                                      domainid=account["domainid"])["network"]
    vm = ok(user, bed.deploy(user, name=unique("sbt-iv"), networkids=network["id"],
                             externaldetails={"flavour": "small"}))
    return {"account": account, "user": user, "network": network, "vm": vm}


def test_an_instance_shows_its_os_type_owner_and_host_state(bed: Bed, owned: dict[str, Any]) -> None:
    user, account = owned["user"], owned["account"]
    shown = user.listVirtualMachines(id=owned["vm"]["id"])["virtualmachine"][0]
    # A template registered without ostypeid runs CloudStack's catch-all OS type.
    assert (bed.template["ostypename"], shown["osdisplayname"]) == ("Other (64-bit)", "Other (64-bit)")
    assert shown["ostypeid"] == shown["guestosid"] == bed.template["ostypeid"]
    assert shown["userid"] == account["user"][0]["id"] and shown["username"] == account["user"][0]["username"]
    assert shown["domainpath"] == "ROOT" and shown["displayname"] == shown["name"]
    assert (shown["templatetype"], shown["templateformat"]) == ("USER", "EXTERNAL")
    assert (shown["state"], shown["hostcontrolstate"], shown["displayvm"]) == ("Running", "Enabled", True)
    assert "hostid" not in shown and "instancename" not in shown  # admins only


def test_users_see_their_own_details_but_not_the_templates(bed: Bed, owned: dict[str, Any]) -> None:
    vm_id = owned["vm"]["id"]
    as_user = owned["user"].listVirtualMachines(id=vm_id)["virtualmachine"][0]
    as_admin = bed.admin.listVirtualMachines(id=vm_id, listall=True)["virtualmachine"][0]
    # What an admin configured (the template's external details) is the admin's to see; the user's own
    # deploy-time details stay the user's. Users are told which details they may not change.
    assert as_admin["details"]["External:template_id"] == "9000"
    assert as_admin["details"]["External:flavour"] == "small"
    assert [key for key in as_user["details"] if key.startswith("External:")] == ["External:flavour"]
    assert as_user["readonlydetails"] == "dataDiskController, rootDiskController"
    assert "readonlydetails" not in as_admin
    assert as_admin["hostid"] == bed.host["id"] and as_admin["instancename"].startswith("i-")


def test_list_nics_shows_an_instances_nics_to_whoever_may_see_it(
        bed: Bed, owned: dict[str, Any], compute_server: ServerProcess) -> None:
    user, vm, network = owned["user"], owned["vm"], owned["network"]
    nics = user.listNics(virtualmachineid=vm["id"])["nic"]
    assert len(nics) == 1
    nic = nics[0]
    assert nic["virtualmachineid"] == vm["id"] and nic["networkid"] == network["id"]
    assert nic["ipaddress"].startswith("10.3.0.") and nic["isdefault"] is True and nic["netmask"] == "255.255.255.0"
    assert nic["id"] == vm["nic"][0]["id"] and nic["macaddress"] == vm["nic"][0]["macaddress"]
    assert user.listNics(virtualmachineid=vm["id"], nicid=nic["id"])["nic"] == [nic]
    assert user.listNics(virtualmachineid=vm["id"], networkid=bed.network["id"]) == {}
    _other, keys = create_account_with_keys(bed.admin, prefix="sbt-iv2")
    with pytest.raises(CloudStackApiException) as refused:
        cs_client(compute_server, keys).listNics(virtualmachineid=vm["id"])
    assert refused.value.error["errorcode"] == 531
    with pytest.raises(CloudStackApiException) as unknown:
        user.listNics(virtualmachineid=str(uuid.uuid4()))
    assert unknown.value.error["errorcode"] == 431


def test_a_deploy_that_finds_no_host_fails_with_533(bed: Bed) -> None:
    nowhere = bed.admin.createServiceOffering(name=unique("sbt-nowhere"), displaytext="no host has its tag",
                                              cpunumber=1, cpuspeed=500, memory=256,
                                              hosttags="sbt-nowhere")["serviceoffering"]
    answer = bed.deploy(serviceofferingid=nowhere["id"], name=unique("sbt-533"))
    job = wait_job(bed.admin, answer["jobid"])
    assert (job["jobstatus"], job["jobresultcode"]) == (2, 533), job
    assert job["jobresult"]["errorcode"] == 533
    assert "Unable to create a deployment" in job["jobresult"]["errortext"]


def test_a_deploy_on_a_full_network_fails_with_533(bed: Bed) -> None:
    admin: CloudStack = bed.admin
    isolated = next(o for o in admin.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    tiny = admin.createNetwork(zoneid=bed.zone["id"], name=unique("sbt-tiny"), networkofferingid=isolated["id"],
                               gateway="10.4.0.1", netmask="255.255.255.0", startip="10.4.0.10",
                               endip="10.4.0.10")["network"]
    ok(admin, bed.deploy(networkids=tiny["id"], name=unique("sbt-one"), startvm=False))
    with pytest.raises(CloudStackApiException) as refused:
        bed.deploy(networkids=tiny["id"], name=unique("sbt-two"), startvm=False)
    assert refused.value.error["errorcode"] == 533
    assert "Insufficient address capacity" in refused.value.error["errortext"]
