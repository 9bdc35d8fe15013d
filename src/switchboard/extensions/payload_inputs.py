"""What an extension run needs, read from the database in a fixed number of queries.

`host_target` gives the extension, resource map and host of one host (the payload's host-level groups) in
two queries; `instance_infos` turns many instance rows into the payload builder's InstanceInfo values
(details, template and offering details, NICs, the VNC password in the clear) in two more. Everything is
plain values, so the run itself happens outside any transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance, InstanceDetail
from switchboard.db.models.extensions import Extension, ExtensionDetail
from switchboard.db.models.guest_data import InstanceUserData
from switchboard.db.models.infrastructure import (
    Cluster,
    ClusterDetail,
    Host,
    HostDetail,
    Nic,
    ServiceOffering,
    ServiceOfferingDetail,
    TemplateDetail,
    Zone,
)
from switchboard.errors import NotFound
from switchboard.extensions import store
from switchboard.extensions.payload_model import (
    ExtensionInfo,
    GuestData,
    HostInfo,
    InstanceInfo,
    NicInfo,
    OfferingInfo,
    ResourceMapInfo,
    TemplateInfo,
)
from switchboard.extensions.registry import require_usable
from switchboard.infra import details as detail_store
from switchboard.infra.nics import NicView, nic_views
from switchboard.infra.userdata import parse_details_text

__all__ = ["HostTarget", "details_of", "guest_data", "host_target", "instance_infos", "nic_info"]

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


# Built once: every operation on an instance reads its host's target.
_TARGET = (
    select(Host, Cluster, Extension)
    .join(Cluster, Cluster.id == Host.cluster_id)
    .outerjoin(Extension, Extension.id == Cluster.extension_id)
    .where(Host.id == bindparam("host_id"))
)


def host_target(session: Session, host_id: int, *, check_usable: bool = True) -> HostTarget:
    """The payload groups of `host_id`. Raises NotFound for an unknown host and ExtensionUnusable (with
    CloudStack's texts) when its cluster has no extension, or the extension is disabled or not ready."""
    row = session.execute(_TARGET, {"host_id": host_id}).first()
    if row is None:
        raise NotFound(f"Unable to find host with internal id {host_id}")
    host, cluster, extension = row
    if check_usable:
        extension = require_usable(extension)
    elif extension is None:
        raise NotFound(f"Cluster {cluster.name} is not registered with an extension")
    found = _details(session, _TARGET_DETAILS, {"extension": extension.id, "cluster": cluster.id, "host": host.id})
    own = found.get(("extension", extension.id), {})
    record = store.ExtensionRecord(
        extension=extension, details={name: value for name, (value, display) in own.items() if display},
        hidden={name: value for name, (value, display) in own.items() if not display})
    return HostTarget(
        host_id=host.id, host_name=host.name, cluster_id=cluster.id, extension_id=extension.id,
        extension_name=extension.name, relative_path=extension.relative_path,
        extension=ExtensionInfo(name=extension.name, details={**record.details, **record.hidden},
                                hidden_details=frozenset(record.hidden)),
        requires_prepare=record.requires_prepare_vm,
        # The resource map: the cluster's external details, prefix stripped.
        resource_map=ResourceMapInfo(details=detail_store.external_only(_values(found.get(("cluster", cluster.id))))),
        host=HostInfo(name=host.name, details=_values(found.get(("host", host.id)))),
    )


def _labelled(source: str, owner: Any, name: Any, value: Any, display: Any, seq: Any) -> Select[Any]:
    return select(literal_column(f"'{source}'").label("source"), owner.label("owner"), name.label("name"),
                  value.label("value"), display.label("display"), seq.label("seq"))


# The details a payload needs live in several tables; one UNION ALL reads them in one round trip. Rows come
# in id order per table, so a later row of the same name wins, as when each table is read on its own.
# Host, cluster, template and offering details count only when displayable (as `all_details` reads them).
_TARGET_DETAILS = union_all(
    _labelled("extension", ExtensionDetail.extension_id, ExtensionDetail.name, ExtensionDetail.value,
              ExtensionDetail.display, ExtensionDetail.id)
    .where(ExtensionDetail.extension_id == bindparam("extension")),
    _labelled("cluster", ClusterDetail.cluster_id, ClusterDetail.name, ClusterDetail.value, ClusterDetail.display,
              ClusterDetail.id)
    .where(ClusterDetail.cluster_id == bindparam("cluster"), ClusterDetail.display.is_(True)),
    _labelled("host", HostDetail.host_id, HostDetail.name, HostDetail.value, HostDetail.display, HostDetail.id)
    .where(HostDetail.host_id == bindparam("host"), HostDetail.display.is_(True)),
).order_by(literal_column("seq"))
_INFO_DETAILS = union_all(
    _labelled("instance", InstanceDetail.instance_id, InstanceDetail.name, InstanceDetail.value,
              InstanceDetail.display, InstanceDetail.id)
    .where(InstanceDetail.instance_id.in_(bindparam("instances", expanding=True))),
    _labelled("template", TemplateDetail.template_id, TemplateDetail.name, TemplateDetail.value,
              TemplateDetail.display, TemplateDetail.id)
    .where(TemplateDetail.template_id.in_(bindparam("templates", expanding=True)), TemplateDetail.display.is_(True)),
    _labelled("offering", ServiceOfferingDetail.service_offering_id, ServiceOfferingDetail.name,
              ServiceOfferingDetail.value, ServiceOfferingDetail.display, ServiceOfferingDetail.id)
    .where(ServiceOfferingDetail.service_offering_id.in_(bindparam("offerings", expanding=True)),
           ServiceOfferingDetail.display.is_(True)),
).order_by(literal_column("seq"))

Found = dict[tuple[str, int], dict[str, tuple[str, bool]]]


def _details(session: Session, statement: CompoundSelect[Any], params: dict[str, Any]) -> Found:
    """The rows of a details union by (source, owner id): {name: (value, display)}."""
    found: Found = {}
    for source, owner, name, value, display, _seq in session.connection().execute(statement, params):
        found.setdefault((source, owner), {})[name] = (value, bool(display))
    return found


def _values(details: dict[str, tuple[str, bool]] | None) -> dict[str, str]:
    return {name: value for name, (value, _display) in (details or {}).items()}


_DETAILS = (
    select(InstanceDetail.instance_id, InstanceDetail.name, InstanceDetail.value)
    .where(InstanceDetail.instance_id.in_(bindparam("ids", expanding=True))).order_by(InstanceDetail.id)
)


def details_of(db: Session | Connection, instance_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """All details of many instances (one query), by instance id."""
    ids = list(set(instance_ids))
    result: dict[int, dict[str, str]] = {i: {} for i in ids}
    if not ids:
        return result
    connection = db if isinstance(db, Connection) else db.connection()
    for instance_id, name, value in connection.execute(_DETAILS, {"ids": ids}):
        result[instance_id][name] = value
    return result


def guest_data(session: Session, instance: Instance, *, public_keys: str | None,
               config_drive_label: str = "config-2") -> GuestData:
    """What `instance`'s guest is given at boot (the `vmData` of its create and start payloads): its user
    data, its zone's and offering's names, its name and default address, its public keys (the
    `SSH.PublicKey` detail, passed in), in two queries."""
    row = session.execute(
        select(InstanceUserData.content, InstanceUserData.details, Zone.name, Zone.network_type,
               ServiceOffering.display_text, ServiceOffering.name)
        .select_from(Instance)
        .join(Zone, Zone.id == Instance.zone_id)
        .join(ServiceOffering, ServiceOffering.id == Instance.service_offering_id)
        .outerjoin(InstanceUserData, InstanceUserData.instance_id == Instance.id)
        .where(Instance.id == instance.id)
    ).one()
    content, details, zone_name, network_type, offering_text, offering_name = row
    address = session.scalar(select(Nic.ip4_address).where(Nic.instance_id == instance.id, Nic.is_default.is_(True)))
    return GuestData(
        user_data=content or None, user_data_details=tuple(parse_details_text(details)),
        service_offering=offering_text or offering_name, availability_zone=zone_name,
        local_hostname=instance.name, local_ipv4=address,
        # CloudStack names a public host only in Basic zones (elsewhere there is no public address of its own).
        public_hostname=instance.name if network_type == "Basic" else None,
        instance_id=instance.uuid, public_keys=public_keys or None, config_drive_label=config_drive_label,
    )


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
    """InstanceInfo of many instances in two queries, by instance id. `state` overrides the state the
    extension is told (e.g. "Starting" while a start is under way)."""
    items = list(instances)
    if not items:
        return {}
    ids = [i.id for i in items]
    found = _details(session, _INFO_DETAILS, {"instances": ids, "templates": list({i.template_id for i in items}),
                                              "offerings": list({i.service_offering_id for i in items})})
    nics = nic_views(session, ids)
    return {
        i.id: _info(i, _values(found.get(("instance", i.id))), nics[i.id],
                    _values(found.get(("template", i.template_id))),
                    _values(found.get(("offering", i.service_offering_id))), unseal(i), state or i.state)
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

