"""Clusters and hosts: hypervisor rules, the extension link, external details, host states."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import Cluster, ClusterDetail, HostDetail, HostStatus, Pod, Zone
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import clusters, hosts
from switchboard.infra.common import Page
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.usage import UsageChecks

pytestmark = pytest.mark.database

# The extension table arrives with the extensions migration; the link column holds its id.
EXTENSION = ExtensionRef(id=42, uuid=str(uuid.uuid4()), name="Fake")


@pytest.fixture
def external_cluster(session: Session, zone: Zone, pod: Pod) -> Cluster:
    return clusters.add_cluster(session, zone, pod, name="ext", hypervisor="external", extension=EXTENSION,
                                external_details={"zone_tag": "east"})


def test_external_cluster_keeps_extension_and_resource_map_details(session: Session, external_cluster: Cluster) -> None:
    assert external_cluster.hypervisor_type == "External" and external_cluster.extension_id == 42
    assert clusters.resource_map_details(session, external_cluster.id) == {"zone_tag": "east"}
    stored = {d.name for d in session.query(ClusterDetail).filter_by(cluster_id=external_cluster.id)}
    assert stored == {"External:zone_tag"}


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"hypervisor": "KVM", "extension": EXTENSION}, "extensionid"),
    ({"hypervisor": "External", "external_details": {"a": "b"}}, "externaldetails"),
    ({"hypervisor": "Hyper-Z"}, "hypervisor"),
    ({"hypervisor": "External", "cluster_type": "Whatever"}, "clustertype"),
    ({"hypervisor": "External", "arch": "sparc"}, "arch"),
])
def test_cluster_rules_name_the_parameter(session: Session, zone: Zone, pod: Pod, kwargs: dict[str, object],
                                          parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        clusters.add_cluster(session, zone, pod, name="c", **kwargs)  # type: ignore[arg-type]
    assert raised.value.parameter == parameter


def test_pod_must_belong_to_the_zone(session: Session, zone: Zone, pod: Pod) -> None:
    from switchboard.infra import zones

    other = zones.create_zone(session, zones.ZoneSpec(name="other"))
    with pytest.raises(InvalidParameter) as raised:
        clusters.add_cluster(session, other, pod, name="c", hypervisor="External")
    assert raised.value.parameter == "podid"


def test_update_replaces_resource_map_details_only_when_linked(session: Session, zone: Zone, pod: Pod,
                                                               external_cluster: Cluster) -> None:
    clusters.update_cluster(session, external_cluster, external_details={"rack": "7"}, allocation_state="Disabled")
    assert clusters.resource_map_details(session, external_cluster.id) == {"rack": "7"}
    plain = clusters.add_cluster(session, zone, pod, name="plain", hypervisor="External")
    with pytest.raises(InvalidParameter, match="not registered with an extension"):
        clusters.update_cluster(session, plain, external_details={"rack": "7"})


def test_link_and_unlink_extension(session: Session, zone: Zone, pod: Pod) -> None:
    cluster = clusters.add_cluster(session, zone, pod, name="later", hypervisor="External")
    clusters.link_extension(session, cluster, EXTENSION, {"k": "v"})
    with pytest.raises(Conflict):
        clusters.link_extension(session, cluster, EXTENSION)
    found, _ = clusters.list_clusters(session, Page(), extension_id=42)
    assert [r.cluster.name for r in found] == ["later"]
    clusters.unlink_extension(session, cluster)
    assert cluster.extension_id is None and clusters.resource_map_details(session, cluster.id) == {}
    kvm = clusters.add_cluster(session, zone, pod, name="kvm", hypervisor="KVM")
    with pytest.raises(InvalidParameter):
        clusters.link_extension(session, kvm, EXTENSION)


def test_external_host_is_up_with_no_capacity_and_guid_from_url(session: Session, zone: Zone, pod: Pod,
                                                               external_cluster: Cluster) -> None:
    host = hosts.add_host(session, zone, pod, external_cluster, url="http://pve1", hypervisor="External",
                          username="external", external_details={"node": "pve1", "token": "s3cr3t"})
    assert (host.name, host.status, host.resource_state, host.cpus, host.total_memory) == \
        ("pve1", "Up", "Enabled", 0, 0)
    assert host.private_ip_address == "External"
    digest = bytearray(hashlib.md5(b"http://pve1").digest())  # Java's UUID.nameUUIDFromBytes
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    assert host.guid == f"External:{uuid.UUID(bytes=bytes(digest))}"
    assert hosts.host_details(session, host.id) == {"node": "pve1", "token": "s3cr3t"}
    names = {d.name: d.display for d in session.query(HostDetail).filter_by(host_id=host.id)}
    assert names == {"External:node": True, "External:token": True, "username": False}
    with pytest.raises(Conflict):
        hosts.add_host(session, zone, pod, external_cluster, url="http://pve1", hypervisor="External")


def test_external_host_needs_a_linked_cluster_of_its_hypervisor(session: Session, zone: Zone, pod: Pod) -> None:
    plain = clusters.add_cluster(session, zone, pod, name="plain", hypervisor="External")
    with pytest.raises(InvalidParameter, match="Cluster: plain is not registered with an extension"):
        hosts.add_host(session, zone, pod, plain, url="http://h", hypervisor="External")
    kvm = clusters.add_cluster(session, zone, pod, name="kvm", hypervisor="KVM")
    with pytest.raises(InvalidParameter) as raised:
        hosts.add_host(session, zone, pod, kvm, url="http://h", hypervisor="External")
    assert raised.value.parameter == "hypervisor"
    kvm_host = hosts.add_host(session, zone, pod, kvm, url="http://kvm1", hypervisor="KVM")
    assert kvm_host.status == "Disconnected"


def test_host_update_maintenance_and_delete(session: Session, zone: Zone, pod: Pod,
                                            external_cluster: Cluster) -> None:
    host = hosts.add_host(session, zone, pod, external_cluster, url="http://h1", hypervisor="External",
                          external_details={"a": "1", "b": "2"})
    hosts.update_host(session, host, external_details={"c": "3"}, allocation_state="Disable", host_tags=["t1"])
    assert hosts.host_details(session, host.id) == {"c": "3"}
    assert (host.resource_state, host.host_tags) == ("Disabled", "t1")
    hosts.update_host(session, host, allocation_state="Enable")
    with pytest.raises(Conflict, match="maintenance"):
        hosts.delete_host(session, host)
    hosts.set_maintenance(session, host, enter=True)
    with pytest.raises(Conflict):
        hosts.update_host(session, host, allocation_state="Disable")
    checks = UsageChecks()
    checks.register("host", lambda _session, host_id: f"host {host_id} runs instances")
    with pytest.raises(Conflict, match="runs instances"):
        hosts.delete_host(session, host, checks=checks)
    with pytest.raises(Conflict, match="hosts in it"):
        clusters.delete_cluster(session, external_cluster)
    hosts.delete_host(session, host)
    assert hosts.list_hosts(session, Page())[1] == 0
    clusters.delete_cluster(session, external_cluster)
    assert external_cluster.extension_id is None


def test_status_changes_are_stamped(session: Session, zone: Zone, pod: Pod, external_cluster: Cluster) -> None:
    host = hosts.add_host(session, zone, pod, external_cluster, url="http://h2", hypervisor="External")
    first = host.status_changed
    hosts.set_status(session, host, HostStatus.DOWN)
    assert host.status == "Down" and host.status_changed is not None and first is not None
    assert host.status_changed >= first
    found, total = hosts.list_hosts(session, Page(), status="Down", extension_id=42)
    assert total == 1 and found[0].cluster.id == external_cluster.id
