"""Clusters: groups of hosts of one hypervisor type; External clusters may be tied to an extension.

An External cluster's extension link is its `extension_id`; the resource map's details (`externaldetails`
of addCluster/updateCluster, or registerExtension's `details`) are cluster details with the `External:`
prefix, read back through `resource_map_details`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from switchboard.db.base import utcnow
from switchboard.db.models.infrastructure import AllocationState, Cluster, ClusterDetail, Host, Pod, Zone
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import details as detail_store
from switchboard.infra.common import Page, fetch_page, live_by_uuid, matches, one_of, require_name
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.usage import NO_CHECKS, UsageChecks

__all__ = [
    "ARCHES",
    "CLUSTER_TYPES",
    "EXTERNAL",
    "HYPERVISORS",
    "ClusterRecord",
    "add_cluster",
    "delete_cluster",
    "get_cluster",
    "hypervisor_name",
    "hypervisors_in_zone",
    "link_extension",
    "list_clusters",
    "resource_map_details",
    "unlink_extension",
    "update_cluster",
]

EXTERNAL = "External"
HYPERVISORS = ("External", "KVM", "XenServer", "VMware", "Hyperv", "LXC", "Ovm3", "BareMetal", "Simulator")
CLUSTER_TYPES = ("CloudManaged", "ExternalManaged")
ARCHES = ("x86_64", "aarch64")


@dataclass(frozen=True)
class ClusterRecord:
    cluster: Cluster
    zone: Zone
    pod: Pod


def hypervisor_name(value: str, *, parameter: str = "hypervisor") -> str:
    """CloudStack's spelling of a hypervisor type, matched case-insensitively."""
    return one_of(value, HYPERVISORS, parameter=parameter)


def get_cluster(session: Session, uuid: str, *, parameter: str = "clusterid") -> Cluster:
    return live_by_uuid(session, Cluster, uuid, parameter=parameter, label="cluster")


def add_cluster(
    session: Session,
    zone: Zone,
    pod: Pod,
    *,
    name: str,
    hypervisor: str,
    cluster_type: str = "CloudManaged",
    allocation_state: str | None = None,
    arch: str | None = None,
    extension: ExtensionRef | None = None,
    external_details: Mapping[str, str] | None = None,
) -> Cluster:
    """Create a cluster in `pod`. `extension` only for External clusters; `external_details` only with it."""
    name = require_name(name, parameter="clustername")
    if pod.zone_id != zone.id:
        raise InvalidParameter(f"Pod {pod.name} does not belong to zone {zone.name}", parameter="podid")
    hypervisor = hypervisor_name(hypervisor)
    if extension is not None and hypervisor != EXTERNAL:
        raise InvalidParameter("extensionid is supported only for hypervisor External", parameter="extensionid")
    if external_details and extension is None:
        raise InvalidParameter("externaldetails can be given only with extensionid", parameter="externaldetails")
    clash = session.execute(
        select(Cluster.id).where(Cluster.pod_id == pod.id, Cluster.name == name, Cluster.removed.is_(None))
    ).first()
    if clash is not None:
        raise Conflict(f"Cluster {name} already exists in pod {pod.name}")
    cluster = Cluster(
        name=name, zone_id=zone.id, pod_id=pod.id, hypervisor_type=hypervisor,
        cluster_type=one_of(cluster_type, CLUSTER_TYPES, parameter="clustertype"),
        allocation_state=one_of(allocation_state or AllocationState.ENABLED.value,
                                [s.value for s in AllocationState], parameter="allocationstate"),
        arch=one_of(arch or "x86_64", ARCHES, parameter="arch"),
        extension_id=extension.id if extension else None,
    )
    session.add(cluster)
    session.flush()
    if external_details:
        detail_store.replace_details(session, ClusterDetail, cluster.id, external_details, external=True)
    return cluster


def link_extension(
    session: Session, cluster: Cluster, extension: ExtensionRef, details: Mapping[str, str] | None = None
) -> None:
    """Tie an External cluster to `extension` (registerExtension); Conflict when already tied to one."""
    if cluster.hypervisor_type != EXTERNAL:
        raise InvalidParameter(f"Cluster {cluster.name} is not of hypervisor type External", parameter="resourceid")
    if cluster.extension_id is not None:
        raise Conflict(f"An extension is already registered with this cluster: {cluster.name}")
    cluster.extension_id = extension.id
    detail_store.replace_details(session, ClusterDetail, cluster.id, details or {}, external=True)


def unlink_extension(session: Session, cluster: Cluster) -> None:
    """Untie `cluster` from its extension and drop the resource map's details (no-op when not tied)."""
    cluster.extension_id = None
    detail_store.replace_details(session, ClusterDetail, cluster.id, {}, external=True)


def resource_map_details(session: Session, cluster_id: int) -> dict[str, str]:
    """The `resourcemap` payload group: the cluster's external details, prefix stripped."""
    return detail_store.external_details(session, ClusterDetail, cluster_id)


def update_cluster(
    session: Session,
    cluster: Cluster,
    *,
    name: str | None = None,
    allocation_state: str | None = None,
    managed_state: str | None = None,
    arch: str | None = None,
    external_details: Mapping[str, str] | None = None,
) -> Cluster:
    """Change the given fields; `external_details` replaces the resource map's details (tied clusters only)."""
    if name is not None:
        cluster.name = require_name(name, parameter="clustername")
    if allocation_state is not None:
        cluster.allocation_state = one_of(
            allocation_state, [s.value for s in AllocationState], parameter="allocationstate"
        )
    if managed_state is not None:
        cluster.managed_state = one_of(managed_state, ("Managed", "Unmanaged"), parameter="managedstate")
    if arch is not None:
        cluster.arch = one_of(arch, ARCHES, parameter="arch")
    if external_details is not None:
        if cluster.extension_id is None:
            raise InvalidParameter(
                f"Cluster: {cluster.name} is not registered with an extension", parameter="externaldetails"
            )
        detail_store.replace_details(session, ClusterDetail, cluster.id, external_details, external=True)
    session.flush()
    return cluster


def delete_cluster(session: Session, cluster: Cluster, *, checks: UsageChecks = NO_CHECKS) -> None:
    """Soft-delete `cluster` (which unregisters its extension); Conflict while live hosts are in it."""
    if session.execute(select(exists().where(Host.cluster_id == cluster.id, Host.removed.is_(None)))).scalar():
        raise Conflict(
            f"The cluster {cluster.name} is not deletable because there are hosts in it", uuids=[cluster.uuid]
        )
    checks.ensure_unused(session, "cluster", cluster.id, uuid=cluster.uuid)
    unlink_extension(session, cluster)
    cluster.removed = utcnow()
    session.flush()


def list_clusters(
    session: Session,
    page: Page,
    *,
    uuid: str | None = None,
    name: str | None = None,
    zone_id: int | None = None,
    pod_id: int | None = None,
    hypervisor: str | None = None,
    cluster_type: str | None = None,
    allocation_state: str | None = None,
    extension_id: int | None = None,
    arch: str | None = None,
) -> tuple[list[ClusterRecord], int]:
    """Live clusters with zone and pod, ordered by id (one query, plus a count when paged)."""
    zone, pod = aliased(Zone), aliased(Pod)
    stmt = (
        select(Cluster, zone, pod)
        .join(zone, zone.id == Cluster.zone_id)
        .join(pod, pod.id == Cluster.pod_id)
        .where(Cluster.removed.is_(None))
        .order_by(Cluster.id)
    )
    filters = [
        (Cluster.uuid, uuid), (Cluster.name, name), (Cluster.zone_id, zone_id), (Cluster.pod_id, pod_id),
        (Cluster.cluster_type, cluster_type), (Cluster.allocation_state, allocation_state),
        (Cluster.extension_id, extension_id), (Cluster.arch, arch),
        (Cluster.hypervisor_type, hypervisor_name(hypervisor) if hypervisor else None),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if page.keyword:
        stmt = stmt.where(matches(Cluster.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [ClusterRecord(*row) for row in rows], total



def hypervisors_in_zone(session: Session, zone_id: int) -> list[str]:
    """The hypervisor types of the zone's live clusters, in CloudStack's order of HYPERVISORS."""
    found = set(session.execute(
        select(Cluster.hypervisor_type).where(Cluster.zone_id == zone_id, Cluster.removed.is_(None)).distinct()
    ).scalars())
    return [name for name in HYPERVISORS if name in found]
