"""Hosts of an External cluster over real HTTP: states, External capacity, details kept secret."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStack

from switchboard.db.engine import Database
from switchboard.infra import clusters
from switchboard.infra.extension_link import ExtensionRef
from tests.integration.infra.conftest import api_error, unique
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def tie_to_an_extension(server: ServerProcess, cluster_id: str) -> None:
    """Tie the cluster to an extension through the infrastructure service, in the server's database.

    This stands in for registerExtension / addCluster extensionid=..., which belong to the extensions
    area; only the cluster's link matters to hosts."""
    database = Database.from_url(server.database_url or "")
    try:
        with database.session() as session:
            cluster = clusters.get_cluster(session, cluster_id)
            clusters.link_extension(session, cluster, ExtensionRef(id=-1, uuid=str(uuid.uuid4()), name="stand-in"),
                                    {"zone_tag": "east"})
    finally:
        database.dispose()


@pytest.fixture
def cluster(api_server: ServerProcess, admin_cs: CloudStack, zone: dict[str, Any],
            pod: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = admin_cs.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("c"),
                                                  clustertype="CloudManaged", hypervisor="External")["cluster"][0]
    return created


def add_host(admin_cs: CloudStack, zone: dict[str, Any], pod: dict[str, Any], cluster: dict[str, Any],
             name: str, **extra: Any) -> dict[str, Any]:
    host: dict[str, Any] = admin_cs.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
                                            url=f"http://{name}", username="external", password="external",
                                            hypervisor="External", **extra)["host"][0]
    return host


def test_hosts_need_a_cluster_tied_to_an_extension(admin_cs: CloudStack, zone: dict[str, Any],
                                                   pod: dict[str, Any], cluster: dict[str, Any]) -> None:
    error = api_error(admin_cs.addHost, zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
                      url="http://pve1", username="external", password="external", hypervisor="External")
    assert error["errorcode"] == 431
    assert error["errortext"] == f"Cluster: {cluster['name']} is not registered with an extension"


def test_external_host_lifecycle(api_server: ServerProcess, admin_cs: CloudStack, zone: dict[str, Any],
                                 pod: dict[str, Any], cluster: dict[str, Any]) -> None:
    tie_to_an_extension(api_server, cluster["id"])
    name = unique("pve")
    host = add_host(admin_cs, zone, pod, cluster, name, hosttags="fast,ssd",
                    **{"externaldetails[0].node": "pve1", "externaldetails[0].secret": "s3cr3t-token"})
    assert (host["name"], host["state"], host["resourcestate"], host["type"], host["hypervisor"]) == \
        (name, "Up", "Enabled", "Routing", "External")
    assert (host["cpunumber"], host["cpuspeed"], host["memorytotal"], host["ipaddress"]) == (0, 0, 0, "External")
    assert (host["clusterid"], host["podid"], host["zoneid"], host["hosttags"]) == \
        (cluster["id"], pod["id"], zone["id"], "fast,ssd")
    listed = admin_cs.listHosts(clusterid=cluster["id"], type="Routing")
    assert listed["count"] == 1 and listed["host"][0]["id"] == host["id"]
    assert "s3cr3t-token" not in str(listed) and "password" not in str(listed)
    error = api_error(admin_cs.addHost, zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
                      url=f"http://{name}", username="u", password="p", hypervisor="External")
    assert error["errorcode"] == 431

    updated = admin_cs.updateHost(id=host["id"], allocationstate="Disable",
                                  **{"externaldetails[0].node": "pve2"})["host"]
    assert updated["resourcestate"] == "Disabled"
    admin_cs.updateHost(id=host["id"], allocationstate="Enable")
    assert api_error(admin_cs.deleteHost, id=host["id"])["errorcode"] == 431  # still enabled and Up
    maintained = admin_cs.prepareHostForMaintenance(id=host["id"], fetch_result=True)["host"]
    assert maintained["resourcestate"] == "Maintenance"
    assert admin_cs.cancelHostMaintenance(id=host["id"], fetch_result=True)["host"]["resourcestate"] == "Enabled"
    failed = api_error(admin_cs.cancelHostMaintenance, id=host["id"], fetch_result=True)
    assert "is not in maintenance" in str(failed)
    assert admin_cs.deleteHost(id=host["id"], forced=True) == {"success": True}
    assert admin_cs.listHosts(id=host["id"]) == {}
    events = admin_cs.listEvents(type="HOST.ADD", keyword=name)
    assert events["count"] == 1 and events["event"][0]["resourceid"] == host["id"]


def test_hosts_are_for_admins_only(user_client: tuple[CloudStack, dict[str, Any]]) -> None:
    user_cs, _account = user_client
    assert api_error(user_cs.listHosts)["errorcode"] == 432
