"""CloudStack's HostResponse: a host as the host commands and the maintenance job show it. Host credentials
and external details never appear in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from switchboard.api.params import format_date
from switchboard.api.shapes import Field, Shape, T
from switchboard.api.views.fields import EXTENSION_FIELDS, HAS_ANNOTATIONS_FIELD, extension_fields
from switchboard.infra import hosts
from switchboard.infra.common import Page
from switchboard.infra.extension_link import ExtensionLinker, ExtensionRef
from switchboard.infra.hosts import HostRecord

_OUT_OF_BAND = Shape("outofbandmanagement", [
    Field("enabled", T.BOOLEAN, "true if out-of-band management is enabled for the host"),
    Field("powerstate", T.STRING, "the out-of-band management interface powerState of the host"),
])
HOST = Shape("host", [
    Field("id", T.STRING, "the ID of the host"),
    Field("name", T.STRING, "the name of the host"),
    Field("state", T.STRING, "the state of the host"),
    Field("type", T.STRING, "the host type"),
    Field("ipaddress", T.STRING, "the IP address of the host"),
    Field("zoneid", T.STRING, "the Zone ID of the host"),
    Field("zonename", T.STRING, "the Zone name of the host"),
    Field("podid", T.STRING, "the Pod ID of the host"),
    Field("podname", T.STRING, "the Pod name of the host"),
    Field("clusterid", T.STRING, "the cluster ID of the host"),
    Field("clustername", T.STRING, "the cluster name of the host"),
    Field("clustertype", T.STRING, "the cluster type of the cluster that host belongs to"),
    Field("hypervisor", T.STRING, "the host hypervisor"),
    Field("cpunumber", T.INTEGER, "the CPU number of the host"),
    Field("cpuspeed", T.LONG, "the CPU speed of the host"),
    Field("cpuallocated", T.STRING, "the amount of the host's CPU currently allocated"),
    Field("cpuused", T.STRING, "the amount of the host's CPU currently used"),
    Field("memorytotal", T.LONG, "the memory total of the host"),
    Field("memoryallocated", T.LONG, "the amount of the host's memory currently allocated"),
    Field("memoryused", T.LONG, "the amount of the host's memory currently used"),
    Field("resourcestate", T.STRING, "the resource state of the host"),
    Field("hosttags", T.STRING, "comma-separated list of tags for the host"),
    Field("explicithosttags", T.STRING, "comma-separated list of explicit host tags for the host"),
    Field("islocalstorageactive", T.BOOLEAN, "true if local storage is active, false otherwise"),
    Field("hahost", T.BOOLEAN, "true if the host is Ha host (dedicated to vms started by HA process; false "
          "otherwise"),
    Field("arch", T.STRING, "CPU Arch of the host"),
    Field("created", T.DATE, "the date and time the host was created"),
    Field("lastpinged", T.DATE, "the date and time the host was last pinged"),
    HAS_ANNOTATIONS_FIELD,
    Field("outofbandmanagement", T.OBJECT, "the host out-of-band management information", shape=_OUT_OF_BAND),
    *EXTENSION_FIELDS,
    Field("version", T.STRING, "the host version"),
    Field("disconnected", T.DATE, "the date the host was last seen going out of the Up state"),
])


def host_view(record: HostRecord, refs: dict[int, ExtensionRef]) -> dict[str, Any]:
    """CloudStack's HostResponse; External hosts report no CPU or memory (§1.6)."""
    host, cluster = record.host, record.cluster
    tags = host.host_tags or ""
    fields: dict[str, Any] = {
        "id": host.uuid,
        "name": host.name,
        "state": host.status,
        "type": host.type,
        "ipaddress": host.private_ip_address or "",
        "zoneid": record.zone.uuid,
        "zonename": record.zone.name,
        "podid": record.pod.uuid,
        "podname": record.pod.name,
        "clusterid": cluster.uuid,
        "clustername": cluster.name,
        "clustertype": cluster.cluster_type,
        "hypervisor": host.hypervisor_type,
        "cpunumber": host.cpus,
        "cpuspeed": host.speed,
        "cpuallocated": "0%",
        "cpuused": "0%",
        "memorytotal": host.total_memory,
        "memoryallocated": 0,
        "memoryused": 0,
        "resourcestate": host.resource_state,
        "hosttags": tags,
        "explicithosttags": tags,
        "islocalstorageactive": False,
        "hahost": False,
        "arch": host.arch,
        "created": format_date(host.created),
        "lastpinged": format_date(host.last_pinged),
        "hasannotations": False,
        "outofbandmanagement": {"enabled": False, "powerstate": "Disabled"},
        **extension_fields(refs, cluster.extension_id),
    }
    if host.version:
        fields["version"] = host.version
    if host.status != "Up" and host.status_changed is not None:
        fields["disconnected"] = format_date(host.status_changed)
    return fields


def host_response(session: Session, linker: ExtensionLinker, uuid: str) -> dict[str, Any]:
    """One host's response fields (for job results, which have no Call)."""
    found, _total = hosts.list_hosts(session, Page(), uuid=uuid)
    ids = {r.cluster.extension_id for r in found if r.cluster.extension_id is not None}
    return host_view(found[0], linker.describe(session, ids) if ids else {})
