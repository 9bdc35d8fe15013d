"""A domain admin works within its domain's subtree: networks and events of its accounts, no
infrastructure."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def test_domain_admin_sees_and_acts_for_its_domain(api_server: ServerProcess, admin_cs: CloudStack,
                                                   zone: dict[str, Any]) -> None:
    domain = admin_cs.createDomain(name=unique("dom"))["domain"]
    _boss, boss_keys = create_account_with_keys(admin_cs, prefix="sbt-da", account_type=2, domain_id=domain["id"])
    worker, worker_keys = create_account_with_keys(admin_cs, prefix="sbt-du", domain_id=domain["id"])
    boss_cs, worker_cs = cs_client(api_server, boss_keys), cs_client(api_server, worker_keys)
    isolated = admin_cs.listNetworkOfferings(name="DefaultIsolatedNetworkOffering")["networkoffering"][0]

    workers = worker_cs.createNetwork(zoneid=zone["id"], name=unique("w"), networkofferingid=isolated["id"])
    network = workers["network"]
    assert boss_cs.listNetworks(id=network["id"])["count"] == 1
    assert boss_cs.listNetworks(zoneid=zone["id"]) == {}  # not its own account's
    assert [n["id"] for n in boss_cs.listNetworks(zoneid=zone["id"], listall=True)["network"]] == [network["id"]]

    for_worker = boss_cs.createNetwork(zoneid=zone["id"], name=unique("b"), networkofferingid=isolated["id"],
                                       account=worker["name"], domainid=domain["id"])["network"]
    assert for_worker["account"] == worker["name"]
    admin_account = admin_cs.listAccounts(name="admin")["account"][0]
    error = api_error(boss_cs.createNetwork, zoneid=zone["id"], name=unique("x"), networkofferingid=isolated["id"],
                      account="admin", domainid=admin_account["domainid"])
    assert error["errorcode"] == 531

    events = boss_cs.listEvents(resourceid=network["id"])["event"]
    assert [e["account"] for e in events] == [worker["name"]]
    assert admin_cs.listEvents(resourceid=zone["id"])["count"] == 1
    assert boss_cs.listEvents(resourceid=zone["id"]) == {}  # the root admin's event is outside the domain
    assert api_error(boss_cs.createZone, name=unique("z"), networktype="Advanced", dns1="8.8.8.8",
                     internaldns1="10.0.0.2")["errorcode"] == 432
