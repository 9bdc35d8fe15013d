"""Hosts: members of a cluster. External hosts are the extension's targets: no agent, CPU and RAM 0.

Credentials for the external system go in `externaldetails` (stored as `External:` host details, the
payload's `host` group). The addHost `password` is never stored: Switchboard connects to no host agent.
"""

from __future__ import annotations

import hashlib
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from switchboard.db.base import utcnow
from switchboard.db.models.infrastructure import (
    Cluster,
    Host,
    HostDetail,
    HostStatus,
    Pod,
    ResourceState,
    Zone,
)
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import details as detail_store
from switchboard.infra.clusters import EXTERNAL, hypervisor_name
from switchboard.infra.common import Page, fetch_page, live_by_uuid, matches, one_of
from switchboard.infra.usage import NO_CHECKS, UsageChecks

__all__ = [
    "HostRecord",
    "add_host",
    "delete_host",
    "external_guid",
    "get_host",
    "host_details",
    "list_hosts",
    "set_maintenance",
    "set_status",
    "update_host",
]


@dataclass(frozen=True)
class HostRecord:
    host: Host
    zone: Zone
    pod: Pod
    cluster: Cluster


def get_host(session: Session, uuid: str, *, parameter: str = "id") -> Host:
    return live_by_uuid(session, Host, uuid, parameter=parameter, label="host")


def external_guid(url: str) -> str:
    """CloudStack's External host GUID: "External:" + Java's nameUUIDFromBytes(url) (an MD5, version 3 UUID)."""
    digest = bytearray(hashlib.md5(url.encode(), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return f"External:{uuid_module.UUID(bytes=bytes(digest))}"


def _host_name(url: str) -> str:
    parsed = urlsplit(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise InvalidParameter(f"Invalid url {url}: no host name", parameter="url")
    return parsed.hostname


def add_host(
    session: Session,
    zone: Zone,
    pod: Pod,
    cluster: Cluster,
    *,
    url: str,
    hypervisor: str,
    username: str | None = None,
    host_tags: list[str] | None = None,
    allocation_state: str | None = None,
    external_details: Mapping[str, str] | None = None,
) -> Host:
    """Add a host to `cluster`.

    External hosts come Up at once (their "agent" is the extension); the cluster must be tied to an
    extension. Hosts of other hypervisors are recorded Disconnected: Switchboard runs no agent for them.
    Conflict when a live host has the same URL.
    """
    if pod.zone_id != zone.id:
        raise InvalidParameter(f"Pod {pod.name} does not belong to zone {zone.name}", parameter="podid")
    if cluster.pod_id != pod.id:
        raise InvalidParameter(f"Cluster {cluster.name} does not belong to pod {pod.name}", parameter="clusterid")
    hypervisor = hypervisor_name(hypervisor)
    if hypervisor != cluster.hypervisor_type:
        raise InvalidParameter(
            f"Hypervisor {hypervisor} does not match the cluster's {cluster.hypervisor_type}", parameter="hypervisor"
        )
    external = hypervisor == EXTERNAL
    if external and cluster.extension_id is None:
        raise InvalidParameter(f"Cluster: {cluster.name} is not registered with an extension", parameter="clusterid")
    if external_details and not external:
        raise InvalidParameter("externaldetails are supported only for hypervisor External",
                               parameter="externaldetails")
    name = _host_name(url)
    guid = external_guid(url) if external else f"{hypervisor}:{uuid_module.uuid4()}"
    if session.execute(select(Host.id).where(Host.url == url, Host.removed.is_(None))).first() is not None:
        raise Conflict(f"A host with url {url} already exists")
    host = Host(
        name=name, zone_id=zone.id, pod_id=pod.id, cluster_id=cluster.id, type="Routing",
        hypervisor_type=hypervisor, url=url, guid=guid, arch=cluster.arch,
        status=(HostStatus.UP if external else HostStatus.DISCONNECTED).value,
        resource_state=_resource_state(allocation_state or "Enable"),
        private_ip_address="External" if external else None,
        host_tags=",".join(host_tags) if host_tags else None,
        last_pinged=utcnow(), status_changed=utcnow(),
    )
    session.add(host)
    session.flush()
    if username:
        session.add(HostDetail(host_id=host.id, name="username", value=username, display=False))
    if external_details:
        detail_store.replace_details(session, HostDetail, host.id, external_details, external=True)
    session.flush()
    return host


def _resource_state(allocation_state: str) -> str:
    """addHost/updateHost `allocationstate` (Enable/Disable, or Enabled/Disabled) → resource state."""
    word = one_of(allocation_state, ("Enable", "Disable", "Enabled", "Disabled"), parameter="allocationstate")
    return (ResourceState.ENABLED if word.startswith("Enable") else ResourceState.DISABLED).value


def host_details(session: Session, host_id: int) -> dict[str, str]:
    """The payload's `host` group: the host's external details, prefix stripped."""
    return detail_store.external_details(session, HostDetail, host_id)


def update_host(
    session: Session,
    host: Host,
    *,
    name: str | None = None,
    allocation_state: str | None = None,
    host_tags: list[str] | None = None,
    external_details: Mapping[str, str] | None = None,
) -> Host:
    """Change the given fields; `external_details` replaces all of the host's external details.

    Enabling or disabling is refused while the host is in (or entering) maintenance."""
    if name is not None:
        if not name.strip():
            raise InvalidParameter("Parameter name must not be empty", parameter="name")
        host.name = name.strip()
    if allocation_state is not None:
        if host.resource_state in (ResourceState.MAINTENANCE.value, ResourceState.PREPARE_FOR_MAINTENANCE.value):
            raise Conflict(f"Host {host.name} is in maintenance; cancel maintenance first")
        host.resource_state = _resource_state(allocation_state)
    if host_tags is not None:
        host.host_tags = ",".join(host_tags) or None
    if external_details is not None:
        if host.hypervisor_type != EXTERNAL:
            raise InvalidParameter("externaldetails are supported only for hypervisor External",
                                   parameter="externaldetails")
        detail_store.replace_details(session, HostDetail, host.id, external_details, external=True)
    session.flush()
    return host


def set_maintenance(session: Session, host: Host, *, enter: bool) -> Host:
    """Enter or leave maintenance. Switchboard moves no instances, so entering completes at once."""
    if enter:
        if host.resource_state == ResourceState.MAINTENANCE.value:
            raise Conflict(f"Host {host.name} is already in maintenance")
        host.resource_state = ResourceState.MAINTENANCE.value
    else:
        if host.resource_state not in (ResourceState.MAINTENANCE.value, ResourceState.PREPARE_FOR_MAINTENANCE.value,
                                       ResourceState.ERROR_IN_MAINTENANCE.value):
            raise Conflict(f"Host {host.name} is not in maintenance")
        host.resource_state = ResourceState.ENABLED.value
    session.flush()
    return host


def set_status(session: Session, host: Host, status: HostStatus) -> None:
    """Record the host's connection status (e.g. from power sync); stamps the change time when it changes."""
    now = utcnow()
    if host.status != status.value:
        host.status = status.value
        host.status_changed = now
    host.last_pinged = now
    session.flush()


def delete_host(session: Session, host: Host, *, forced: bool = False, checks: UsageChecks = NO_CHECKS) -> None:
    """Soft-delete `host`. Unless `forced`, it must be in maintenance or disabled, or not Up."""
    ready_for_removal = host.resource_state in (
        ResourceState.MAINTENANCE.value, ResourceState.DISABLED.value, ResourceState.ERROR_IN_MAINTENANCE.value
    ) or host.status != HostStatus.UP.value
    if not forced and not ready_for_removal:
        raise Conflict(
            f"Host {host.name} cannot be deleted as it is not in maintenance mode or disabled; "
            "use forced=true to delete it anyway", uuids=[host.uuid]
        )
    checks.ensure_unused(session, "host", host.id, uuid=host.uuid)
    host.removed = utcnow()
    host.status = HostStatus.REMOVED.value
    session.flush()


def list_hosts(
    session: Session,
    page: Page,
    *,
    uuid: str | None = None,
    name: str | None = None,
    zone_id: int | None = None,
    pod_id: int | None = None,
    cluster_id: int | None = None,
    host_type: str | None = None,
    status: str | None = None,
    resource_state: str | None = None,
    hypervisor: str | None = None,
    extension_id: int | None = None,
) -> tuple[list[HostRecord], int]:
    """Live hosts with zone, pod and cluster, ordered by id (one query, plus a count when paged)."""
    zone, pod, cluster = aliased(Zone), aliased(Pod), aliased(Cluster)
    stmt = (
        select(Host, zone, pod, cluster)
        .join(zone, zone.id == Host.zone_id)
        .join(pod, pod.id == Host.pod_id)
        .join(cluster, cluster.id == Host.cluster_id)
        .where(Host.removed.is_(None))
        .order_by(Host.id)
    )
    filters = [
        (Host.uuid, uuid), (Host.name, name), (Host.zone_id, zone_id), (Host.pod_id, pod_id),
        (Host.cluster_id, cluster_id), (Host.type, host_type), (Host.status, status),
        (Host.resource_state, resource_state), (cluster.extension_id, extension_id),
        (Host.hypervisor_type, hypervisor_name(hypervisor) if hypervisor else None),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if page.keyword:
        stmt = stmt.where(matches(Host.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [HostRecord(*row) for row in rows], total
