"""Pods: a zone's racks, with the management IP range CloudStack asks for (kept, not used)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.infrastructure import AllocationState, Cluster, Pod, Zone
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import validate
from switchboard.infra.common import Page, fetch_page, live_by_uuid, matches, one_of, require_name

__all__ = ["create_pod", "delete_pod", "get_pod", "list_pods"]


def get_pod(session: Session, uuid: str, *, parameter: str = "podid") -> Pod:
    return live_by_uuid(session, Pod, uuid, parameter=parameter, label="pod")


def create_pod(
    session: Session,
    zone: Zone,
    *,
    name: str,
    gateway: str | None = None,
    netmask: str | None = None,
    start_ip: str | None = None,
    end_ip: str | None = None,
    allocation_state: str | None = None,
) -> Pod:
    """Create a pod in `zone`. Names are unique per zone; the IP range must sit in gateway/netmask."""
    name = require_name(name)
    clash = session.execute(
        select(Pod.id).where(Pod.zone_id == zone.id, Pod.name == name, Pod.removed.is_(None))
    ).first()
    if clash is not None:
        raise Conflict(f"Pod {name} already exists in zone {zone.name}")
    gateway = validate.ipv4(gateway, parameter="gateway")
    netmask = validate.netmask(netmask)
    start_ip = validate.ipv4(start_ip, parameter="startip")
    end_ip = validate.ipv4(end_ip, parameter="endip")
    if start_ip and not (gateway and netmask):
        raise InvalidParameter("gateway and netmask are required with startip", parameter="gateway")
    if gateway and netmask:
        checks = [(address, parameter) for address, parameter in ((start_ip, "startip"), (end_ip, "endip")) if address]
        validate.same_subnet(gateway, netmask, *checks)
    if start_ip and end_ip:
        validate.ip_range(start_ip, end_ip)
    pod = Pod(
        name=name, zone_id=zone.id, gateway=gateway, netmask=netmask, start_ip=start_ip, end_ip=end_ip or start_ip,
        allocation_state=one_of(allocation_state or "Enabled", [s.value for s in AllocationState],
                                parameter="allocationstate"),
    )
    session.add(pod)
    session.flush()
    return pod


def delete_pod(session: Session, pod: Pod) -> None:
    """Soft-delete `pod`; Conflict while live clusters belong to it."""
    if session.execute(select(exists().where(Cluster.pod_id == pod.id, Cluster.removed.is_(None)))).scalar():
        raise Conflict(f"The pod {pod.name} is not deletable because there are clusters in it", uuids=[pod.uuid])
    pod.removed = utcnow()
    session.flush()


def list_pods(
    session: Session,
    page: Page,
    *,
    uuid: str | None = None,
    name: str | None = None,
    zone_id: int | None = None,
    allocation_state: str | None = None,
) -> tuple[Sequence[tuple[Pod, Zone]], int]:
    """Live pods with their zone, ordered by id."""
    stmt = (
        select(Pod, Zone).join(Zone, Zone.id == Pod.zone_id).where(Pod.removed.is_(None)).order_by(Pod.id)
    )
    if uuid:
        stmt = stmt.where(Pod.uuid == uuid)
    if name:
        stmt = stmt.where(Pod.name == name)
    if zone_id is not None:
        stmt = stmt.where(Pod.zone_id == zone_id)
    if allocation_state:
        stmt = stmt.where(Pod.allocation_state == allocation_state)
    if page.keyword:
        stmt = stmt.where(matches(Pod.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [(row[0], row[1]) for row in rows], total
