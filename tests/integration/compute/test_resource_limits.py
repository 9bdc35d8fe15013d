"""CloudStack's resource limits on a real server: per account and per domain (instances, CPU cores, memory),
listResourceLimits/updateResourceLimit, usage and limits in listAccounts and listDomains, and the global
maxima of an instance's size, enforced at deploy, recover and start."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

USER, DOMAIN_ADMIN = 0, 2


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as failure:
        call(**params)
    error: dict[str, Any] = failure.value.error
    return error


def _tenant(bed: Bed, server: ServerProcess, *, domain_id: str | None = None,
            account_type: int = USER) -> tuple[dict[str, Any], CloudStack, str]:
    account, keys = create_account_with_keys(bed.admin, prefix="sbt-rl", domain_id=domain_id,
                                             account_type=account_type)
    client = cs_client(server, keys)
    network = client.createNetwork(zoneid=bed.zone["id"], name=unique("rn"),
                                   networkofferingid=bed.network["networkofferingid"])["network"]
    return account, client, network["id"]


@pytest.fixture
def custom(bed: Bed) -> dict[str, Any]:
    offering: dict[str, Any] = bed.admin.createServiceOffering(name=unique("sbt-rlc"),
                                                               displaytext="custom")["serviceoffering"]
    return offering


@pytest.fixture
def maxima(bed: Bed) -> Iterator[None]:
    """Puts vm.serviceoffering.*.max back to 0 (the shared server's other tests expect no maxima)."""
    yield
    for name in ("vm.serviceoffering.cpu.cores.max", "vm.serviceoffering.ram.size.max"):
        bed.admin.updateConfiguration(name=name, value="0")


def test_an_account_limit_refuses_the_next_instance_and_lists_show_it(bed: Bed,
                                                                       compute_server: ServerProcess) -> None:
    account, user, network = _tenant(bed, compute_server)
    listed = user.listResourceLimits()["resourcelimit"]
    assert {(r["resourcetype"], r["resourcetypename"], r["max"]) for r in listed} == {
        ("0", "user_vm", 20), ("8", "cpu", 40), ("9", "memory", 40960)}  # max.account.* defaults
    updated = bed.admin.updateResourceLimit(resourcetype=0, max=2, account=account["name"],
                                            domainid=account["domainid"])["resourcelimit"]
    assert updated == {"account": account["name"], "domainid": account["domainid"], "domain": "ROOT",
                       "domainpath": "ROOT", "resourcetype": "0", "resourcetypename": "user_vm", "max": 2}
    first = ok(user, bed.deploy(user, name=unique("rl"), networkids=network, startvm=False))
    ok(user, bed.deploy(user, name=unique("rl"), networkids=network, startvm=False))
    refused = _error(bed.deploy, client=user, name=unique("rl"), networkids=network, startvm=False)
    assert refused["errorcode"] == 535 and refused["cserrorcode"] == 4370
    assert refused["errortext"] == (
        f"Maximum amount of resources of Type = 'user_vm', tag = 'null' for Account Name = {account['name']} in "
        f"Domain Id = {account['domainid']} is exceeded: Account Resource Limit = 2, Current Account Resource "
        "Amount = 2, Current Account Resource Reservation = 0, Requested Resource Amount = 1.")
    shown = bed.admin.listAccounts(id=account["id"])["account"][0]
    assert (shown["vmlimit"], shown["vmtotal"], shown["vmavailable"]) == ("2", 2, "0")
    assert (shown["cpulimit"], shown["cputotal"], shown["cpuavailable"]) == ("40", 4, "36")
    assert (shown["memorytotal"], shown["vmstopped"], shown["vmrunning"]) == (1024, 2, 0)
    assert "vmlimit" not in bed.admin.listAccounts(id=account["id"], details="min")["account"][0]
    # a destroyed instance no longer counts; recovering it counts again, so it is refused while full
    wait_job(user, user.destroyVirtualMachine(id=first["id"])["jobid"])
    replacement = ok(user, bed.deploy(user, name=unique("rl"), networkids=network, startvm=False))
    recovery = _error(bed.admin.recoverVirtualMachine, id=first["id"])
    assert recovery["errorcode"] == 535 and "Type = 'user_vm'" in recovery["errortext"]
    wait_job(user, user.destroyVirtualMachine(id=replacement["id"])["jobid"])
    assert bed.admin.recoverVirtualMachine(id=first["id"])["virtualmachine"]["state"] == "Stopped"


def test_cpu_and_memory_limits_count_what_instances_are_given(bed: Bed, compute_server: ServerProcess,
                                                               custom: dict[str, Any]) -> None:
    account, user, network = _tenant(bed, compute_server)
    owner = {"account": account["name"], "domainid": account["domainid"]}
    bed.admin.updateResourceLimit(resourcetype=8, max=4, **owner)
    bed.admin.updateResourceLimit(resourcetype=9, max=1000, **owner)
    params = {"serviceofferingid": custom["id"], "networkids": network, "startvm": False}
    cpus = _error(bed.deploy, client=user, name=unique("c"), **params,
                  **{"details[0].cpuNumber": "5", "details[0].memory": "256"})
    assert cpus["errorcode"] == 535 and "Type = 'cpu'" in cpus["errortext"]
    ok(user, bed.deploy(user, name=unique("c"), **params, **{"details[0].cpuNumber": "3",
                                                                "details[0].memory": "900"}))
    memory = _error(bed.deploy, client=user, name=unique("c"), **params,
                    **{"details[0].cpuNumber": "1", "details[0].memory": "101"})
    assert "Type = 'memory'" in memory["errortext"] and "Requested Resource Amount = 101." in memory["errortext"]
    # a size no column could hold is a parameter error, not a server error
    huge = _error(bed.deploy, client=user, name=unique("c"), **params,
                  **{"details[0].cpuNumber": str(10**30), "details[0].memory": "1"})
    assert huge["errorcode"] == 431


def test_a_domain_limit_covers_every_account_below_it(bed: Bed, compute_server: ServerProcess) -> None:
    top = bed.admin.createDomain(name=unique("sbt-rld"))["domain"]
    below = bed.admin.createDomain(name=unique("sbt-rld"), parentdomainid=top["id"])["domain"]
    bed.admin.updateResourceLimit(resourcetype=0, max=1, domainid=top["id"])
    _a, first, first_net = _tenant(bed, compute_server, domain_id=top["id"])
    _b, second, second_net = _tenant(bed, compute_server, domain_id=below["id"])
    ok(first, bed.deploy(first, name=unique("d"), networkids=first_net, startvm=False))
    refused = _error(bed.deploy, client=second, name=unique("d"), networkids=second_net, startvm=False)
    assert refused["errorcode"] == 535
    assert refused["errortext"].startswith(f"Maximum domain resource limits of Type 'user_vm' for Domain Id = "
                                           f"{top['id']} is exceeded: Domain Resource Limit = 1, Current Domain "
                                           "Resource Amount = 1")
    shown = {d["id"]: d for d in bed.admin.listDomains(listall=True)["domain"]}
    assert (shown[top["id"]]["vmlimit"], shown[top["id"]]["vmtotal"]) == ("1", 1)
    assert shown[below["id"]]["vmlimit"] == "1"  # inherited from its parent
    root = next(d for d in shown.values() if d["path"] == "ROOT")
    assert root["vmlimit"] == "Unlimited" and root["vmavailable"] == "Unlimited"
    listed = bed.admin.listResourceLimits(domainid=below["id"], resourcetype=0)["resourcelimit"]
    assert [(r["max"], r["domainid"], "account" in r) for r in listed] == [(1, below["id"], False)]
    # a child may not be given more than its parent allows
    more = _error(bed.admin.updateResourceLimit, resourcetype=0, max=5, domainid=below["id"])
    assert more["errorcode"] == 431 and "please specify a value less than or equal to 1" in more["errortext"]


def test_who_may_set_limits(bed: Bed, compute_server: ServerProcess) -> None:
    domain = bed.admin.createDomain(name=unique("sbt-rlw"))["domain"]
    sub = bed.admin.createDomain(name=unique("sbt-rlw"), parentdomainid=domain["id"])["domain"]
    dadmin_account, dadmin_keys = create_account_with_keys(bed.admin, prefix="sbt-rlda", account_type=DOMAIN_ADMIN,
                                                           domain_id=domain["id"])
    dadmin = cs_client(compute_server, dadmin_keys)
    tenant, user, _network = _tenant(bed, compute_server, domain_id=sub["id"])
    assert _error(user.updateResourceLimit, resourcetype=0, max=100)["errorcode"] == 432
    own = _error(dadmin.updateResourceLimit, resourcetype=0, max=100, account=dadmin_account["name"],
                 domainid=domain["id"])
    assert own["errorcode"] == 531 and "for their own account" in own["errortext"]
    assert _error(dadmin.updateResourceLimit, resourcetype=0, max=100, domainid=domain["id"])["errorcode"] == 531
    assert dadmin.updateResourceLimit(resourcetype=0, max=3, domainid=sub["id"])["resourcelimit"]["max"] == 3
    assert dadmin.updateResourceLimit(resourcetype=0, max=2, account=tenant["name"],
                                      domainid=sub["id"])["resourcelimit"]["max"] == 2
    root = _error(bed.admin.updateResourceLimit, resourcetype=0, max=5,
                  domainid=bed.admin.listDomains(name="ROOT")["domain"][0]["id"])
    assert root["errorcode"] == 531 and "ROOT domain" in root["errortext"]
    admin_account = bed.admin.listAccounts(name="admin")["account"][0]
    only_unlimited = _error(bed.admin.updateResourceLimit, resourcetype=0, max=5, account="admin",
                            domainid=admin_account["domainid"])
    assert only_unlimited["errortext"] == "Only -1 limit is supported for Root Admin accounts"
    assert admin_account["vmlimit"] == "Unlimited"
    uncounted = _error(bed.admin.updateResourceLimit, resourcetype=2, max=5, domainid=sub["id"])
    assert uncounted["errorcode"] == 431 and "volume" in uncounted["errortext"]
    assert _error(bed.admin.updateResourceLimit, resourcetype=42, domainid=sub["id"])["errorcode"] == 431


@pytest.mark.usefixtures("maxima")
def test_global_maxima_bound_instances_at_deploy_and_at_start(bed: Bed, custom: dict[str, Any]) -> None:
    sized = ok(bed.admin, bed.deploy(serviceofferingid=custom["id"], name=unique("m"), startvm=False,
                                     **{"details[0].cpuNumber": "4", "details[0].memory": "2048"}))
    bed.admin.updateConfiguration(name="vm.serviceoffering.cpu.cores.max", value="2")
    listed = bed.admin.listConfigurations(name="vm.serviceoffering.cpu.cores.max")["configuration"][0]
    assert listed["value"] == "2" and listed["scope"] == "global"
    deploy = _error(bed.deploy, serviceofferingid=custom["id"], name=unique("m"), startvm=False,
                    **{"details[0].cpuNumber": "2147483647", "details[0].memory": "512"})
    assert deploy == {**deploy, "errorcode": 431, "errortext": "Invalid cpu cores value, specify a value between 1 "
                                                              "and 2"}
    start = _error(bed.admin.startVirtualMachine, id=sized["id"])
    assert start["errortext"] == "Invalid cpu cores value, specify a value between 1 and 2"
    bed.admin.updateConfiguration(name="vm.serviceoffering.cpu.cores.max", value="0")
    bed.admin.updateConfiguration(name="vm.serviceoffering.ram.size.max", value="1024")
    fixed = _error(bed.deploy, name=unique("m"), startvm=False, serviceofferingid=bed.admin.createServiceOffering(
        name=unique("sbt-big"), displaytext="big", cpunumber=1, cpuspeed=1000, memory=4096)["serviceoffering"]["id"])
    assert fixed["errortext"] == ("Invalid memory value, please choose another service offering with memory "
                                  "between 32 and 1024 MB")


def test_concurrent_deploys_cannot_both_take_the_last_place(bed: Bed, compute_server: ServerProcess) -> None:
    account, user, network = _tenant(bed, compute_server)
    bed.admin.updateResourceLimit(resourcetype=0, max=1, account=account["name"], domainid=account["domainid"])

    def deploy(_: int) -> int:
        try:
            bed.deploy(user, name=unique("race"), networkids=network, startvm=False)
        except CloudStackApiException as refused:
            return int(refused.error["errorcode"])
        return 200

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = sorted(pool.map(deploy, range(6)))
    assert answers == [200] + [535] * 5
    assert len(user.listVirtualMachines()["virtualmachine"]) == 1
