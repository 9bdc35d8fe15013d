"""Pod commands: createPod, listPods, deletePod."""

from __future__ import annotations

from typing import Any

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.paging import listing, page_of
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, ObjectResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import HAS_ANNOTATIONS_FIELD, without_none
from switchboard.db.models.infrastructure import Pod, Zone
from switchboard.infra import pods, zones

_IP_RANGE = Shape("ipranges", [
    Field("startip", T.STRING, "the starting IP for the range"),
    Field("endip", T.STRING, "the ending IP for the range"),
    Field("forsystemvms", T.STRING, "indicates if range is dedicated for CPVM and SSVM"),
    Field("vlanid", T.STRING, "indicates Vlan ID for the range"),
])
POD = Shape("pod", [
    Field("id", T.STRING, "the ID of the Pod"),
    Field("name", T.STRING, "the name of the Pod"),
    Field("zoneid", T.STRING, "the Zone ID of the Pod"),
    Field("zonename", T.STRING, "the Zone name of the Pod"),
    Field("gateway", T.STRING, "the gateway of the Pod"),
    Field("netmask", T.STRING, "the netmask of the Pod"),
    Field("startip", T.LIST, "the starting IP for the Pod (deprecated: see ipranges)", items=T.STRING),
    Field("endip", T.LIST, "the ending IP for the Pod (deprecated: see ipranges)", items=T.STRING),
    Field("ipranges", T.LIST, "the IP ranges for the Pod", shape=_IP_RANGE),
    Field("allocationstate", T.STRING, "the allocation state of the Pod"),
    HAS_ANNOTATIONS_FIELD,
])


def pod_view(pod: Pod, zone: Zone) -> dict[str, Any]:
    """CloudStack's PodResponse (start and end IPs are lists, one entry per range)."""
    ranges = [{"startip": pod.start_ip, "endip": pod.end_ip, "forsystemvms": "0", "vlanid": ""}] \
        if pod.start_ip else []
    return without_none({
        "id": pod.uuid,
        "name": pod.name,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "gateway": pod.gateway,
        "netmask": pod.netmask,
        "startip": [pod.start_ip] if pod.start_ip else [],
        "endip": [pod.end_ip] if pod.end_ip else [],
        "ipranges": ranges,
        "allocationstate": pod.allocation_state,
        "hasannotations": False,
    })


@api_command(
    "createPod",
    params=[
        Param("zoneid", ParamType.UUID, required=True, description="the Zone ID in which the Pod will be created"),
        Param("name", required=True, description="the name of the Pod"),
        Param("gateway", description="the gateway for the Pod"),
        Param("netmask", description="the netmask for the Pod"),
        Param("startip", description="the starting IP address for the Pod"),
        Param("endip", description="the ending IP address for the Pod"),
        Param("allocationstate", description="Allocation state of this Pod for allocation of new resources"),
    ],
    description="Creates a new Pod.",
    response=POD,
)
def create_pod(call: Call) -> ObjectResponse:
    zone = zones.get_zone(call.session, call.get("zoneid"))
    pod = pods.create_pod(
        call.session, zone, name=call.get("name"), gateway=call.get("gateway"), netmask=call.get("netmask"),
        start_ip=call.get("startip"), end_ip=call.get("endip"), allocation_state=call.get("allocationstate"),
    )
    audit(call, "POD.CREATE", f"Created pod {pod.name}", resource_type="Pod", resource_uuid=pod.uuid)
    return ObjectResponse("pod", pod_view(pod, zone))


@api_command(
    "listPods",
    params=[
        Param("id", ParamType.UUID, description="list Pods by ID"),
        Param("name", description="list Pods by name"),
        Param("zoneid", ParamType.UUID, description="list Pods by Zone ID"),
        Param("allocationstate", description="list pods by allocation state"),
        Param("showcapacities", ParamType.BOOLEAN, description="flag to display the capacity of the pods"),
    ],
    description="Lists all Pods.",
    response=POD,
    is_list=True,
)
def list_pods(call: Call) -> ListResponse:
    zone_id = zones.get_zone(call.session, call.get("zoneid")).id if call.get("zoneid") else None
    found, total = pods.list_pods(
        call.session, page_of(call), uuid=call.get("id"), name=call.get("name"), zone_id=zone_id,
        allocation_state=call.get("allocationstate"),
    )
    return listing("pod", found, total, lambda row: pod_view(*row))


@api_command(
    "deletePod",
    params=[Param("id", ParamType.UUID, required=True, description="the ID of the Pod")],
    description="Deletes a Pod.",
    response=SUCCESS,
)
def delete_pod(call: Call) -> SuccessResponse:
    pod = pods.get_pod(call.session, call.get("id"), parameter="id")
    pods.delete_pod(call.session, pod)
    audit(call, "POD.DELETE", f"Deleted pod {pod.name}", resource_type="Pod", resource_uuid=pod.uuid)
    return SuccessResponse()
