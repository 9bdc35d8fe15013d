"""Service offerings (compute sizes) and the network offerings networks are created from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.direct import PrebuiltQuery
from switchboard.db.models.infrastructure import (
    NetworkOffering,
    OfferingState,
    ServiceOffering,
    ServiceOfferingDetail,
)
from switchboard.errors import Conflict, InvalidParameter
from switchboard.infra import details as detail_store
from switchboard.infra.common import Page, fetch_page, live_by_uuid, live_ref, matches, one_of, require_name

__all__ = [
    "OfferingSpec",
    "create_service_offering",
    "delete_service_offering",
    "get_network_offering",
    "get_service_offering",
    "list_network_offerings",
    "list_service_offerings",
    "offering_details",
    "update_service_offering",
]


@dataclass(frozen=True, kw_only=True)
class OfferingSpec:
    name: str
    display_text: str | None = None
    cpu: int | None = None  # vCPUs
    speed: int | None = None  # MHz
    memory: int | None = None  # MiB
    offer_ha: bool = False
    limit_cpu_use: bool = False
    is_volatile: bool = False
    dynamic_scaling_enabled: bool = True
    host_tag: str | None = None
    storage_type: str = "shared"
    provisioning_type: str = "thin"
    root_disk_size: int | None = None  # GiB
    external_details: Mapping[str, str] | None = None
    details: Mapping[str, str] | None = None


def get_service_offering(session: Session, uuid: str, *, parameter: str = "serviceofferingid") -> ServiceOffering:
    return live_by_uuid(session, ServiceOffering, uuid, parameter=parameter, label="service offering")


class OfferingRef(NamedTuple):
    """What deploying an instance reads of a live service offering (no ORM entity). cpu, speed and
    ram_size are None for a custom offering."""

    id: int
    name: str
    cpu: int | None
    speed: int | None
    ram_size: int | None
    offer_ha: bool
    limit_cpu_use: bool
    dynamic_scaling_enabled: bool
    root_disk_size: int | None  # GiB


# Built once: every deploy reads its offering.
_REF = PrebuiltQuery(
    select(ServiceOffering.id, ServiceOffering.name, ServiceOffering.cpu, ServiceOffering.speed,
           ServiceOffering.ram_size, ServiceOffering.offer_ha, ServiceOffering.limit_cpu_use,
           ServiceOffering.dynamic_scaling_enabled, ServiceOffering.root_disk_size)
    .where(ServiceOffering.uuid == bindparam("uuid"), ServiceOffering.removed.is_(None)),
    row_type=OfferingRef._make,
)


def service_offering_ref(connection: Connection, uuid: str, *, parameter: str = "serviceofferingid") -> OfferingRef:
    """The live service offering `uuid` as an OfferingRef; NotFound naming `parameter` otherwise (as
    get_service_offering)."""
    ref: OfferingRef = live_ref(connection, _REF, uuid, parameter=parameter, label="service offering")
    return ref


def _positive(value: int | None, parameter: str, *, maximum: int) -> None:
    if value is not None and not 0 < value <= maximum:
        raise InvalidParameter(f"Parameter {parameter} must be between 1 and {maximum}", parameter=parameter)


def create_service_offering(session: Session, spec: OfferingSpec) -> ServiceOffering:
    """Create a service offering. cpunumber, cpuspeed and memory are given together, or none of them (a
    customised offering whose size is chosen at deploy time)."""
    name = require_name(spec.name)
    sizes = {"cpunumber": spec.cpu, "cpuspeed": spec.speed, "memory": spec.memory}
    given = [key for key, value in sizes.items() if value is not None]
    if given and len(given) != len(sizes):
        missing = next(key for key in sizes if key not in given)
        raise InvalidParameter(
            "cpunumber, cpuspeed and memory must be all specified or none of them", parameter=missing
        )
    _positive(spec.cpu, "cpunumber", maximum=512)
    _positive(spec.speed, "cpuspeed", maximum=1_000_000)
    _positive(spec.memory, "memory", maximum=64 * 1024 * 1024)
    offering = ServiceOffering(
        name=name, display_text=spec.display_text or name, cpu=spec.cpu, speed=spec.speed, ram_size=spec.memory,
        offer_ha=spec.offer_ha, limit_cpu_use=spec.limit_cpu_use, is_volatile=spec.is_volatile,
        dynamic_scaling_enabled=spec.dynamic_scaling_enabled, host_tag=spec.host_tag,
        storage_type=one_of(spec.storage_type, ("shared", "local"), parameter="storagetype"),
        provisioning_type=one_of(spec.provisioning_type, ("thin", "sparse", "fat"), parameter="provisioningtype"),
        root_disk_size=spec.root_disk_size,
    )
    session.add(offering)
    session.flush()
    if spec.external_details:
        detail_store.replace_details(
            session, ServiceOfferingDetail, offering.id, spec.external_details, external=True
        )
    if spec.details:
        detail_store.replace_details(session, ServiceOfferingDetail, offering.id, spec.details, external=False)
    return offering


def offering_details(session: Session, offering_id: int) -> dict[str, str]:
    """An offering's external details, prefix stripped (the base layer of `virtualmachine` details)."""
    return detail_store.external_details(session, ServiceOfferingDetail, offering_id)


def update_service_offering(
    session: Session,
    offering: ServiceOffering,
    *,
    name: str | None = None,
    display_text: str | None = None,
    sort_key: int | None = None,
    host_tag: str | None = None,
    external_details: Mapping[str, str] | None = None,
    clean_up_external_details: bool = False,
) -> ServiceOffering:
    """Change the given fields; `external_details` replaces the external details (or clean them up)."""
    if name is not None:
        offering.name = require_name(name)
    if display_text is not None:
        offering.display_text = display_text
    if sort_key is not None:
        offering.sort_key = sort_key
    if host_tag is not None:
        offering.host_tag = host_tag or None
    if clean_up_external_details:
        detail_store.replace_details(session, ServiceOfferingDetail, offering.id, {}, external=True)
    elif external_details is not None:
        detail_store.replace_details(session, ServiceOfferingDetail, offering.id, external_details, external=True)
    session.flush()
    return offering


def delete_service_offering(session: Session, offering: ServiceOffering) -> None:
    """Soft-delete; instances keep the sizes they were deployed with."""
    if offering.is_system:
        raise Conflict(f"System service offering {offering.name} cannot be deleted", uuids=[offering.uuid])
    offering.removed = utcnow()
    offering.state = OfferingState.INACTIVE.value
    session.flush()


def list_service_offerings(
    session: Session, page: Page, *, uuid: str | None = None, name: str | None = None,
    is_system: bool = False, cpu: int | None = None, memory: int | None = None,
) -> tuple[Sequence[ServiceOffering], int]:
    """Live, active offerings ordered by sort key then id."""
    stmt = (
        select(ServiceOffering)
        .where(ServiceOffering.removed.is_(None), ServiceOffering.is_system.is_(is_system),
               ServiceOffering.state == OfferingState.ACTIVE.value)
        .order_by(ServiceOffering.sort_key, ServiceOffering.id)
    )
    if uuid:
        stmt = stmt.where(ServiceOffering.uuid == uuid)
    if name:
        stmt = stmt.where(ServiceOffering.name == name)
    if cpu is not None:
        stmt = stmt.where(ServiceOffering.cpu == cpu)
    if memory is not None:
        stmt = stmt.where(ServiceOffering.ram_size == memory)
    if page.keyword:
        stmt = stmt.where(matches(ServiceOffering.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [row[0] for row in rows], total


# --- network offerings ---------------------------------------------------------------------------------


def get_network_offering(session: Session, uuid: str, *, parameter: str = "networkofferingid") -> NetworkOffering:
    return live_by_uuid(session, NetworkOffering, uuid, parameter=parameter, label="network offering")


def list_network_offerings(
    session: Session, page: Page, *, uuid: str | None = None, name: str | None = None,
    guest_type: str | None = None, specify_vlan: bool | None = None, is_default: bool | None = None,
    state: str | None = None, traffic_type: str | None = None,
) -> tuple[Sequence[NetworkOffering], int]:
    """Live network offerings ordered by id."""
    stmt = select(NetworkOffering).where(NetworkOffering.removed.is_(None)).order_by(NetworkOffering.id)
    filters = [
        (NetworkOffering.uuid, uuid), (NetworkOffering.name, name), (NetworkOffering.guest_type, guest_type),
        (NetworkOffering.specify_vlan, specify_vlan), (NetworkOffering.is_default, is_default),
        (NetworkOffering.state, state), (NetworkOffering.traffic_type, traffic_type),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if page.keyword:
        stmt = stmt.where(matches(NetworkOffering.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [row[0] for row in rows], total
