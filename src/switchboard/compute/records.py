"""What an extension run needs, read from the database in a fixed number of queries.

`host_target` gives the extension, resource map and host of one host (the payload's host-level groups);
`instance_infos` turns many instance rows into the payload builder's InstanceInfo values (details,
template and offering details, NICs, the VNC password in the clear). Everything is plain values, so the
run itself happens outside any transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance, InstanceDetail
from switchboard.db.models.extensions import Extension
from switchboard.db.models.infrastructure import (
    Cluster,
    Host,
    HostDetail,
    ServiceOfferingDetail,
    Template,
    TemplateDetail,
)
from switchboard.errors import NotFound
from switchboard.extensions import store
from switchboard.extensions.payload_model import (
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    NicInfo,
    OfferingInfo,
    ResourceMapInfo,
    TemplateInfo,
)
from switchboard.extensions.registry import require_usable
from switchboard.infra import clusters
from switchboard.infra import details as detail_store
from switchboard.infra.nics import NicView, nic_views

__all__ = ["DEPLOY_VM", "HostTarget", "details_of", "host_target", "instance_infos", "nic_info"]

DEPLOY_VM = "deployvm"
# The NIC details CloudStack sends for every External NIC (NicTO.details).
_NIC_DETAILS = {"PromiscuousMode": "false", "MacAddressChanges": "true", "ForgedTransmits": "true",
                "MacLearning": "false"}

Unseal = Callable[[Instance], str | None]


@dataclass(frozen=True, kw_only=True)
class HostTarget:
    """One host of an External cluster, with its extension: everything but the instance of a payload."""

    host_id: int
    host_name: str
    cluster_id: int
    extension_id: int
    extension_name: str
    relative_path: str
    extension: ExtensionInfo
    requires_prepare: bool
    resource_map: ResourceMapInfo
    host: HostInfo


def host_target(session: Session, host_id: int, *, check_usable: bool = True) -> HostTarget:
    """The payload groups of `host_id`. Raises NotFound for an unknown host and ExtensionUnusable (with
    CloudStack's texts) when its cluster has no extension, or the extension is disabled or not ready."""
    row = session.execute(
        select(Host, Cluster).join(Cluster, Cluster.id == Host.cluster_id).where(Host.id == host_id)
    ).first()
    if row is None:
        raise NotFound(f"Unable to find host with internal id {host_id}")
    host, cluster = row
    extension = session.get(Extension, cluster.extension_id) if cluster.extension_id is not None else None
    if check_usable:
        extension = require_usable(extension)
    elif extension is None:
        raise NotFound(f"Cluster {cluster.name} is not registered with an extension")
    record = store.record_of(session, extension, with_resources=False)
    return HostTarget(
        host_id=host.id, host_name=host.name, cluster_id=cluster.id, extension_id=extension.id,
        extension_name=extension.name, relative_path=extension.relative_path,
        extension=ExtensionInfo(name=extension.name, details={**record.details, **record.hidden},
                                hidden_details=frozenset(record.hidden)),
        requires_prepare=record.requires_prepare_vm,
        resource_map=ResourceMapInfo(details=clusters.resource_map_details(session, cluster.id)),
        host=HostInfo(name=host.name, details=detail_store.all_details(session, HostDetail, [host.id])[host.id]),
    )


_DETAILS = (
    select(InstanceDetail.instance_id, InstanceDetail.name, InstanceDetail.value)
    .where(InstanceDetail.instance_id.in_(bindparam("ids", expanding=True))).order_by(InstanceDetail.id)
)


def details_of(session: Session, instance_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """All details of many instances (one query), by instance id."""
    ids = list(set(instance_ids))
    result: dict[int, dict[str, str]] = {i: {} for i in ids}
    if not ids:
        return result
    for instance_id, name, value in session.connection().execute(_DETAILS, {"ids": ids}):
        result[instance_id][name] = value
    return result


def nic_info(view: NicView) -> NicInfo:
    """A NIC as the payload builder wants it (NicTO fields)."""
    return NicInfo(
        device_id=view.device_id, nic_uuid=view.uuid, network_uuid=view.network_uuid, network_id=view.network_id,
        default_nic=view.is_default, network_rate_mbps=view.network_rate_mbps, details=_NIC_DETAILS,
        mtu=view.mtu, network_segment_name=view.segment_name, ip=view.ip, netmask=view.netmask,
        gateway=view.gateway, mac=view.mac, dns1=view.dns1, dns2=view.dns2, broadcast_type=view.broadcast_type,
        type=view.traffic_type, broadcast_uri=view.broadcast_uri, isolation_uri=view.isolation_uri,
        name=view.network_name, ip6_address=view.ip6_address,
    )


def instance_infos(
    session: Session, instances: Iterable[Instance], *, unseal: Unseal, state: str | None = None,
) -> dict[int, InstanceInfo]:
    """InstanceInfo of many instances in five queries, by instance id. `state` overrides the state the
    extension is told (e.g. "Starting" while a start is under way)."""
    items = list(instances)
    ids = [i.id for i in items]
    details = details_of(session, ids)
    nics = nic_views(session, ids)
    template_ids = {i.template_id for i in items}
    offering_ids = {i.service_offering_id for i in items}
    template_details = detail_store.all_details(session, TemplateDetail, template_ids)
    offering_details = detail_store.all_details(session, ServiceOfferingDetail, offering_ids)
    return {
        i.id: _info(i, details[i.id], nics[i.id], template_details[i.template_id],
                    offering_details[i.service_offering_id], unseal(i), state or i.state)
        for i in items
    }


def _info(
    instance: Instance, details: Mapping[str, str], nics: list[NicView], template: Mapping[str, str],
    offering: Mapping[str, str], vnc_password: str | None, state: str,
) -> InstanceInfo:
    return InstanceInfo(
        id=instance.id, uuid=instance.uuid, account_id=instance.account_id, cpus=instance.cpus,
        speed=instance.speed, ram_mb=instance.memory, state=state, vnc_password=vnc_password,
        details=dict(details), arch=instance.arch, nics=tuple(nic_info(n) for n in nics),
        template=TemplateInfo(details=dict(template)), offering=OfferingInfo(details=dict(offering)),
        enable_ha=instance.ha_enabled, limit_cpu_use=instance.limit_cpu_use,
        dynamically_scalable=instance.dynamically_scalable,
    )


def template_extension(session: Session, template: Template) -> Extension | None:
    """The live extension a template is tied to, or None."""
    if template.extension_id is None:
        return None
    extension = session.get(Extension, template.extension_id)
    return extension if extension is not None and extension.removed is None else None
