"""Host commands: addHost, listHosts, updateHost, deleteHost, prepareHostForMaintenance and
cancelHostMaintenance. Host credentials and external details never appear in responses."""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS
from switchboard.api.views.hosts import HOST, host_response, host_view
from switchboard.errors import InvalidParameter
from switchboard.infra import clusters, hosts, pods, zones
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.hosts import HostRecord
from switchboard.infra.jobs import MAINTENANCE_JOB


def _refs(call: Call, records: list[HostRecord]) -> dict[int, ExtensionRef]:
    ids = {r.cluster.extension_id for r in records if r.cluster.extension_id is not None}
    return call.services.linker.describe(call.session, ids) if ids else {}


def _single(call: Call, uuid: str) -> dict[str, Any]:
    return host_response(call.session, call.services.linker, uuid)


@api_command(
    "addHost",
    params=[
        Param("zoneid", ParamType.UUID, required=True, description="the Zone ID for the host"),
        Param("podid", ParamType.UUID, required=True, description="the Pod ID for the host"),
        Param("url", required=True, description="the host URL (External: http://<name>)"),
        Param("hypervisor", required=True, description="hypervisor type of the host"),
        Param("clusterid", ParamType.UUID, description="the cluster ID for the host"),
        Param("username", description="the username for the host; required to be passed for hypervisors other "
              "than VMWare"),
        Param("password", description="the password for the host (never stored by Switchboard)"),
        Param("hosttags", ParamType.LIST, description="list of tags to be added to the host"),
        Param("allocationstate", description="Allocation state of this Host for allocation of new resources"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs for the extension "
              "(the payload's host group)", since="4.21.0"),
    ],
    description="Adds a new host.",
    response=HOST,
)
def add_host(call: Call) -> ListResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    pod = pods.get_pod(call.session, call.get("podid"))
    if call.get("clusterid") is None:
        raise InvalidParameter("clusterid is required: Switchboard does not create clusters implicitly",
                               parameter="clusterid")
    cluster = clusters.get_cluster(call.session, call.get("clusterid"))
    host = hosts.add_host(
        call.session, zone, pod, cluster, url=call.get("url"), hypervisor=call.get("hypervisor"),
        username=call.get("username"), host_tags=call.get("hosttags"),
        allocation_state=call.get("allocationstate"), external_details=call.map_param("externaldetails"),
    )
    audit(call, "HOST.ADD", f"Added host {host.name}", resource_type="Host", resource_uuid=host.uuid)
    return ListResponse("host", [_single(call, host.uuid)])


@api_command(
    "listHosts",
    params=[
        Param("id", ParamType.UUID, description="the id of the host"),
        Param("name", description="the name of the host"),
        Param("zoneid", ParamType.UUID, description="the Zone ID for the host"),
        Param("podid", ParamType.UUID, description="the Pod ID for the host"),
        Param("clusterid", ParamType.UUID, description="lists hosts existing in particular cluster"),
        Param("type", description="the host type"),
        Param("state", description="the state of the host"),
        Param("resourcestate", description="list hosts by resource state"),
        Param("hypervisor", description="hypervisor type of host: External, KVM, ..."),
        Param("extensionid", ParamType.UUID, description="lists hosts of clusters tied to this extension"),
        Param("details", ParamType.LIST, description="comma separated list of host details requested"),
        Param("outofbandmanagementenabled", ParamType.BOOLEAN, description="list hosts for which out-of-band "
              "management is enabled"),
    ],
    description="Lists hosts.",
    response=HOST,
    is_list=True,
)
def list_hosts(call: Call) -> ListResponse:
    extension_id = None
    if call.get("extensionid"):
        extension_id = call.services.linker.resolve(call.session, call.get("extensionid"), parameter="extensionid",
                                            purpose="cluster").id
    found, total = hosts.list_hosts(
        call.session, page_of(call), uuid=call.get("id"), name=call.get("name"),
        zone_id=zones.get_zone(call.session, call.get("zoneid")).id if call.get("zoneid") else None,
        pod_id=pods.get_pod(call.session, call.get("podid")).id if call.get("podid") else None,
        cluster_id=clusters.get_cluster(call.session, call.get("clusterid")).id if call.get("clusterid") else None,
        host_type=call.get("type"), status=call.get("state"), resource_state=call.get("resourcestate"),
        hypervisor=call.get("hypervisor"), extension_id=extension_id,
    )
    refs = _refs(call, found)
    return listing("host", found, total, lambda record: host_view(record, refs))


@api_command(
    "updateHost",
    params=[
        Param("id", ParamType.UUID, required=True, description="the ID of the host to update"),
        Param("name", description="the new name of the host"),
        Param("allocationstate", description="Change resource state of host, valid values are [Enable, Disable]"),
        Param("hosttags", ParamType.LIST, description="list of tags to be added to the host"),
        Param("externaldetails", ParamType.MAP, description="details in key/value pairs replacing the host's "
              "external details", since="4.21.0"),
    ],
    description="Updates a host.",
    response=HOST,
)
def update_host(call: Call) -> ObjectResponse:
    host = hosts.get_host(call.session, call.get("id"))
    hosts.update_host(
        call.session, host, name=call.get("name"), allocation_state=call.get("allocationstate"),
        host_tags=call.get("hosttags"), external_details=call.map_param("externaldetails"),
    )
    return ObjectResponse("host", _single(call, host.uuid))


@api_command(
    "deleteHost",
    params=[
        Param("id", ParamType.UUID, required=True, description="the host ID"),
        Param("forced", ParamType.BOOLEAN, description="Force delete the host even if it is not in maintenance"),
        Param("forcedestroylocalstorage", ParamType.BOOLEAN, description="Force destroy local storage (ignored)"),
    ],
    description="Deletes a host.",
    response=SUCCESS,
)
def delete_host(call: Call) -> SuccessResponse:
    host = hosts.get_host(call.session, call.get("id"))
    hosts.delete_host(call.session, host, forced=bool(call.get("forced")), checks=call.services.usage)
    audit(call, "HOST.DELETE", f"Deleted host {host.name}", resource_type="Host", resource_uuid=host.uuid)
    return SuccessResponse()


@api_command(
    "prepareHostForMaintenance",
    params=[Param("id", ParamType.UUID, required=True, description="the host ID")],
    description="Prepares a host for maintenance (Switchboard moves no instances: the job completes at once).",
    response=HOST,
    is_async=True,
)
def prepare_host_for_maintenance(call: Call) -> AsyncJobRequest:
    host = hosts.get_host(call.session, call.get("id"))
    return AsyncJobRequest(handler=MAINTENANCE_JOB, args={"id": host.uuid, "enter": True}, instance_type="Host",
                           instance_id=host.uuid)


@api_command(
    "cancelHostMaintenance",
    params=[Param("id", ParamType.UUID, required=True, description="the host ID")],
    description="Cancels host maintenance.",
    response=HOST,
    is_async=True,
)
def cancel_host_maintenance(call: Call) -> AsyncJobRequest:
    host = hosts.get_host(call.session, call.get("id"))
    return AsyncJobRequest(handler=MAINTENANCE_JOB, args={"id": host.uuid, "enter": False}, instance_type="Host",
                           instance_id=host.uuid)


