"""Cluster commands: addCluster, listClusters, updateCluster, deleteCluster.

External clusters may be tied to an extension with `extensionid` (and the resource map's details with
`externaldetails`); the extensions area checks the extension through the wired linker.
"""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import EXTENSION_FIELDS, HAS_ANNOTATIONS_FIELD, extension_fields
from switchboard.infra import clusters, pods, zones
from switchboard.infra.clusters import ClusterRecord
from switchboard.infra.common import Page
from switchboard.infra.extension_link import ExtensionRef
from switchboard.roles import ALL_ROLES

CLUSTER = Shape("cluster", [
    Field("id", T.STRING, "the cluster ID"),
    Field("name", T.STRING, "the cluster name"),
    Field("podid", T.STRING, "the Pod ID of the cluster"),
    Field("podname", T.STRING, "the Pod name of the cluster"),
    Field("zoneid", T.STRING, "the Zone ID of the cluster"),
    Field("zonename", T.STRING, "the Zone name of the cluster"),
    Field("hypervisortype", T.STRING, "the hypervisor type of the cluster"),
    Field("clustertype", T.STRING, "the type of the cluster"),
    Field("allocationstate", T.STRING, "the allocation state of the cluster"),
    Field("managedstate", T.STRING, "whether this cluster is managed by cloudstack"),
    Field("cpuovercommitratio", T.STRING, "The cpu overcommit ratio of the cluster"),
    Field("memoryovercommitratio", T.STRING, "The memory overcommit ratio of the cluster"),
    Field("arch", T.STRING, "CPU Arch of the hosts in the cluster"),
    HAS_ANNOTATIONS_FIELD,
    *EXTENSION_FIELDS,
])
HYPERVISOR = Shape("hypervisor", [Field("name", T.STRING, "Hypervisor name")])


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
    return call.services.linker.describe(call.session, ids) if ids else {}


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
    response=CLUSTER,
)
def add_cluster(call: Call) -> ListResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    pod = pods.get_pod(call.session, call.get("podid"))
    extension = call.extension_param(purpose="cluster")
    cluster = clusters.add_cluster(
        call.session, zone, pod, name=call.get("clustername"), hypervisor=call.get("hypervisor"),
        cluster_type=call.get("clustertype"), allocation_state=call.get("allocationstate"), arch=call.get("arch"),
        extension=extension, external_details=call.map_param("externaldetails"),
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
    response=CLUSTER,
    is_list=True,
)
def list_clusters(call: Call) -> ListResponse:
    extension_id = None
    if call.get("extensionid"):
        extension_id = call.services.linker.resolve(call.session, call.get("extensionid"), parameter="extensionid",
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
    response=CLUSTER,
)
def update_cluster(call: Call) -> ObjectResponse:
    cluster = clusters.get_cluster(call.session, call.get("id"), parameter="id")
    clusters.update_cluster(
        call.session, cluster, name=call.get("clustername"), allocation_state=call.get("allocationstate"),
        managed_state=call.get("managedstate"), arch=call.get("arch"),
        external_details=call.map_param("externaldetails"),
    )
    found, _total = clusters.list_clusters(call.session, Page(), uuid=cluster.uuid)
    return ObjectResponse("cluster", cluster_view(found[0], _views(call, found)))


@api_command(
    "deleteCluster",
    params=[Param("id", ParamType.UUID, required=True, description="the cluster ID")],
    description="Deletes a cluster.",
    response=SUCCESS,
)
def delete_cluster(call: Call) -> SuccessResponse:
    cluster = clusters.get_cluster(call.session, call.get("id"), parameter="id")
    clusters.delete_cluster(call.session, cluster, checks=call.services.usage)
    audit(call, "CLUSTER.DELETE", f"Deleted cluster {cluster.name}", resource_type="Cluster",
          resource_uuid=cluster.uuid)
    return SuccessResponse()


@api_command(
    "listHypervisors",
    params=[Param("zoneid", ParamType.UUID, description="the zone id for listing hypervisors")],
    roles=ALL_ROLES,
    description="List hypervisors: those of the zone's clusters, or every supported one",
    response=HYPERVISOR,
)
def list_hypervisors(call: Call) -> ListResponse:
    if call.get("zoneid"):
        zone = zones.get_zone(call.session, call.get("zoneid"))
        names = clusters.hypervisors_in_zone(call.session, zone.id)
    else:
        names = list(clusters.HYPERVISORS)
    return ListResponse("hypervisor", [{"name": name} for name in names])
