"""Cluster commands: addCluster, listClusters, updateCluster, deleteCluster.

External clusters may be tied to an extension with `extensionid` (and the resource map's details with
`externaldetails`); the extensions area checks the extension through the wired linker.
"""

from __future__ import annotations

from typing import Any

from switchboard.api.call import Call
from switchboard.api.commands.infra_common import (
    audit,
    extension_fields,
    extension_of,
    linker,
    listing,
    map_param,
    page_of,
    usage_checks,
)
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.infra import clusters, pods, zones
from switchboard.infra.clusters import ClusterRecord
from switchboard.infra.common import Page
from switchboard.infra.extension_link import ExtensionRef
from switchboard.roles import ALL_ROLES


def cluster_view(record: ClusterRecord, refs: dict[int, ExtensionRef]) -> dict[str, Any]:
    """CloudStack's ClusterResponse (with extensionid/extensionname when tied to an extension)."""
    cluster = record.cluster
    return {
        "id": cluster.uuid,
        "name": cluster.name,
        "podid": record.pod.uuid,
        "podname": record.pod.name,
        "zoneid": record.zone.uuid,
        "zonename": record.zone.name,
        "hypervisortype": cluster.hypervisor_type,
        "clustertype": cluster.cluster_type,
        "allocationstate": cluster.allocation_state,
        "managedstate": cluster.managed_state,
        "cpuovercommitratio": "1.0",
        "memoryovercommitratio": "1.0",
        "arch": cluster.arch,
        "hasannotations": False,
        **extension_fields(refs, cluster.extension_id),
    }


def _views(call: Call, records: list[ClusterRecord]) -> dict[int, ExtensionRef]:
    ids = {r.cluster.extension_id for r in records if r.cluster.extension_id is not None}
    return linker(call).describe(call.session, ids) if ids else {}


@api_command(
    "addCluster",
    params=[
        Param("zoneid", ParamType.UUID, required=True, description="the Zone ID for the cluster"),
        Param("podid", ParamType.UUID, required=True, description="the Pod ID for the host"),
        Param("clustername", required=True, description="the cluster name"),
        Param("clustertype", required=True, description="type of the cluster: CloudManaged, ExternalManaged"),
        Param("hypervisor", required=True, description="hypervisor type of the cluster: External, KVM, ..."),
        Param("allocationstate", description="Allocation state of this cluster for allocation of new resources"),
        Param("arch", description="the CPU arch of the cluster. Valid options are: x86_64, aarch64"),
        Param("extensionid", ParamType.UUID, description="the ID of the extension for the cluster (External only)",
              since="4.21.0"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension's "
              "resource map (only with extensionid)", since="4.21.0"),
        Param("url", description="the URL (ignored: no cluster manager to connect to)"),
        Param("username", description="the username for the cluster (ignored)"),
        Param("password", description="the password for the cluster (ignored, never stored)"),
    ],
    description="Adds a new cluster",
    response_object="cluster",
)
def add_cluster(call: Call) -> ListResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    pod = pods.get_pod(call.session, call.get("podid"))
    extension = extension_of(call, purpose="cluster")
    cluster = clusters.add_cluster(
        call.session, zone, pod, name=call.get("clustername"), hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"), allocation_state=call.get("allocationstate"), arch=call.get("arch"),
        extension=extension, external_details=map_param(call, "externaldetails"),
    )
    audit(call, "CLUSTER.CREATE", f"Added cluster {cluster.name}", resource_type="Cluster",
          resource_uuid=cluster.uuid)
    record = ClusterRecord(cluster, zone, pod)
    refs = {extension.id: extension} if extension else {}
    return ListResponse("cluster", [cluster_view(record, refs)])


@api_command(
    "listClusters",
    params=[
        Param("id", ParamType.UUID, description="lists clusters by the cluster ID"),
        Param("name", description="lists clusters by the cluster name"),
        Param("zoneid", ParamType.UUID, description="lists clusters by Zone ID"),
        Param("podid", ParamType.UUID, description="lists clusters by Pod ID"),
        Param("hypervisor", description="lists clusters by hypervisor type"),
        Param("clustertype", description="lists clusters by cluster type"),
        Param("allocationstate", description="lists clusters by allocation state"),
        Param("managedstate", description="whether this cluster is managed by cloudstack"),
        Param("arch", description="CPU arch of the clusters"),
        Param("extensionid", ParamType.UUID, description="lists clusters tied to this extension"),
        Param("showcapacities", ParamType.BOOLEAN, description="flag to display the capacity of the clusters"),
    ],
    description="Lists clusters.",
    response_object="cluster",
    is_list=True,
)
def list_clusters(call: Call) -> ListResponse:
    extension_id = None
    if call.get("extensionid"):
        extension_id = linker(call).resolve(call.session, call.get("extensionid"), parameter="extensionid",
                                            purpose="cluster").id
    found, total = clusters.list_clusters(
        call.session, page_of(call), uuid=call.get("id"), name=call.get("name"),
        zone_id=zones.get_zone(call.session, call.get("zoneid")).id if call.get("zoneid") else None,
        pod_id=pods.get_pod(call.session, call.get("podid")).id if call.get("podid") else None,
        hypervisor=call.get("hypervisor"), cluster_type=call.get("clustertype"),
        allocation_state=call.get("allocationstate"), extension_id=extension_id, arch=call.get("arch"),
    )
    refs = _views(call, found)
    return listing("cluster", found, total, lambda record: cluster_view(record, refs))


@api_command(
    "updateCluster",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the Cluster"),
        Param("clustername", description="the cluster name"),
        Param("allocationstate", description="Allocation state of this cluster for allocation of new resources"),
        Param("managedstate", description="whether this cluster is managed by cloudstack"),
        Param("arch", description="the CPU arch of the cluster"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs replacing the "
              "extension resource map's details", since="4.21.0"),
        Param("hypervisor", description="hypervisor type of the cluster (cannot change)"),
        Param("clustertype", description="type of the cluster (cannot change)"),
    ],
    description="Updates an existing cluster",
    response_object="cluster",
)
def update_cluster(call: Call) -> ObjectResponse:
    cluster = clusters.get_cluster(call.session, call.get("id"), parameter="id")
    clusters.update_cluster(
        call.session, cluster, name=call.get("clustername"), allocation_state=call.get("allocationstate"),
        managed_state=call.get("managedstate"), arch=call.get("arch"),
        external_details=map_param(call, "externaldetails"),
    )
    found, _total = clusters.list_clusters(call.session, Page(), uuid=cluster.uuid)
    return ObjectResponse("cluster", cluster_view(found[0], _views(call, found)))


@api_command(
    "deleteCluster",
    params=[Param("id", ParamType.UUID, required=True, description="the cluster ID")],
    description="Deletes a cluster.",
)
def delete_cluster(call: Call) -> SuccessResponse:
    cluster = clusters.get_cluster(call.session, call.get("id"), parameter="id")
    clusters.delete_cluster(call.session, cluster, checks=usage_checks(call))
    audit(call, "CLUSTER.DELETE", f"Deleted cluster {cluster.name}", resource_type="Cluster",
          resource_uuid=cluster.uuid)
    return SuccessResponse()


@api_command(
    "listHypervisors",
    params=[Param("zoneid", ParamType.UUID, description="the zone id for listing hypervisors")],
    roles=ALL_ROLES,
    description="List hypervisors: those of the zone's clusters, or every supported one",
    response_object="hypervisor",
)
def list_hypervisors(call: Call) -> ListResponse:
    if call.get("zoneid"):
        zone = zones.get_zone(call.session, call.get("zoneid"))
        names = clusters.hypervisors_in_zone(call.session, zone.id)
    else:
        names = list(clusters.HYPERVISORS)
    return ListResponse("hypervisor", [{"name": name} for name in names])
