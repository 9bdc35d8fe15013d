"""Hosts of an External cluster over real HTTP: states, External capacity, details kept secret."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack

from tests.integration.infra.conftest import api_error, unique

pytestmark = pytest.mark.database


@pytest.fixture
def cluster(admin_cs: CloudStack, zone: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any]:
    """An External cluster not (yet) tied to an extension."""
    created: dict[str, Any] = admin_cs.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("c"),
                                                  clustertype="CloudManaged", hypervisor="External")["cluster"][0]
    return created


@pytest.fixture
def linked_cluster(admin_cs: CloudStack, zone: dict[str, Any], pod: dict[str, Any],
                   extension: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = admin_cs.addCluster(
        zoneid=zone["id"], podid=pod["id"], clustername=unique("c"), clustertype="CloudManaged",
        hypervisor="External", extensionid=extension["id"], **{"externaldetails[0].zone_tag": "east"},
    )["cluster"][0]
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


def test_cluster_tied_to_an_extension(admin_cs: CloudStack, extension: dict[str, Any],
                                      linked_cluster: dict[str, Any]) -> None:
    assert (linked_cluster["extensionid"], linked_cluster["extensionname"]) == (extension["id"], extension["name"])
    listed = admin_cs.listClusters(id=linked_cluster["id"])["cluster"][0]
    assert listed["extensionid"] == extension["id"]
    resources = admin_cs.listExtensions(id=extension["id"])["extension"][0]["resources"]
    assert [(r["id"], r["details"]) for r in resources] == [(linked_cluster["id"], {"zone_tag": "east"})]
    admin_cs.updateCluster(id=linked_cluster["id"], **{"externaldetails[0].rack": "7"})
    resources = admin_cs.listExtensions(id=extension["id"])["extension"][0]["resources"]
    assert resources[0]["details"] == {"rack": "7"}
    error = api_error(admin_cs.addCluster, zoneid=listed["zoneid"], podid=listed["podid"], clustername=unique("c"),
                      clustertype="CloudManaged", hypervisor="KVM", extensionid=extension["id"])
    assert error["errorcode"] == 431 and "extensionid" in error["errortext"]


def test_external_host_lifecycle(admin_cs: CloudStack, zone: dict[str, Any], pod: dict[str, Any],
                                 extension: dict[str, Any], linked_cluster: dict[str, Any]) -> None:
    cluster = linked_cluster
    name = unique("pve")
    host = add_host(admin_cs, zone, pod, cluster, name, hosttags="fast,ssd",
                    **{"externaldetails[0].node": "pve1", "externaldetails[0].secret": "s3cr3t-token"})
    assert (host["name"], host["state"], host["resourcestate"], host["type"], host["hypervisor"]) == \
        (name, "Up", "Enabled", "Routing", "External")
    assert (host["cpunumber"], host["cpuspeed"], host["memorytotal"], host["ipaddress"]) == (0, 0, 0, "External")
    assert (host["clusterid"], host["podid"], host["zoneid"], host["hosttags"]) == \
        (cluster["id"], pod["id"], zone["id"], "fast,ssd")
    assert (host["extensionid"], host["extensionname"]) == (extension["id"], extension["name"])
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
