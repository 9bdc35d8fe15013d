"""Volumes: the disks each instance was given, as CloudStack lists them (see `db.models.storage`).

A deploy allocates a ROOT volume (device 0) sized by `rootdisksize`, else by the service offering's root
disk size, else by the template's size; and a DATADISK (device 1) when it names a disk offering. They are
Allocated until the instance first starts, then Ready, and go when the instance is expunged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.orm import Session, aliased

from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.db.models.compute import Instance
from switchboard.db.models.infrastructure import ServiceOffering, Template, Zone
from switchboard.db.models.storage import DiskOffering, Volume, VolumeState, VolumeType
from switchboard.errors import InvalidParameter
from switchboard.infra.common import Page, fetch_table_page, matches
from switchboard.infra.disk_offerings import GIB, MAX_GB
from switchboard.infra.owned import visible

__all__ = [
    "DataDisk",
    "VolumeFilter",
    "allocate_volumes",
    "list_volumes",
    "mark_ready",
    "release_volumes",
    "root_size",
]


@dataclass(frozen=True)
class DataDisk:
    """A DATADISK asked for at deploy: its offering and, for a customized one, the size in GiB."""

    offering: DiskOffering
    size_gb: int | None = None

    def size(self) -> int:
        if self.offering.customized:
            if self.size_gb is None:
                raise InvalidParameter(f"Disk offering {self.offering.name} is customized: give the size (GB)",
                                       parameter="size")
            if not 0 < self.size_gb <= MAX_GB:
                raise InvalidParameter(f"Size must be between 1 and {MAX_GB} GB", parameter="size")
            return self.size_gb * GIB
        return int(self.offering.disk_size or 0)


def root_size(*, requested_gb: int | None, offering_gb: int | None, template_bytes: int | None) -> int | None:
    """The ROOT volume's size in bytes: the deploy's `rootdisksize`, else the offering's root disk size, else
    the template's size (None when none is known). A requested size smaller than the template is refused."""
    if requested_gb is not None:
        if not 0 < requested_gb <= MAX_GB:
            raise InvalidParameter(f"Root disk size must be between 1 and {MAX_GB} GB", parameter="rootdisksize")
        if template_bytes is not None and requested_gb * GIB < template_bytes:
            raise InvalidParameter(f"Root disk size [{requested_gb}] is smaller than the template size "
                                   f"[{template_bytes}]", parameter="rootdisksize")
        return requested_gb * GIB
    if offering_gb:
        return offering_gb * GIB
    return template_bytes


def allocate_volumes(session: Session, instance: Instance, *, root_bytes: int | None,
                     data: DataDisk | None) -> list[Volume]:
    """The new instance's volumes (Allocated), named as CloudStack names them: ROOT-<id>, DATA-<id>."""
    volumes = [Volume(name=f"ROOT-{instance.id}", account_id=instance.account_id, domain_id=instance.domain_id,
                      zone_id=instance.zone_id, instance_id=instance.id, volume_type=VolumeType.ROOT.value,
                      device_id=0, size=root_bytes, template_id=instance.template_id)]
    if data is not None:
        volumes.append(Volume(name=f"DATA-{instance.id}", account_id=instance.account_id,
                              domain_id=instance.domain_id, zone_id=instance.zone_id, instance_id=instance.id,
                              volume_type=VolumeType.DATADISK.value, device_id=1, size=data.size(),
                              disk_offering_id=data.offering.id, provisioning_type=data.offering.provisioning_type,
                              storage_type=data.offering.storage_type))
    session.add_all(volumes)
    session.flush()
    return volumes


def mark_ready(session: Session, instance_id: int) -> None:
    """The instance started for the first time: its volumes exist now."""
    session.execute(update(Volume).where(Volume.instance_id == instance_id, Volume.removed.is_(None),
                                         Volume.state == VolumeState.ALLOCATED.value)
                    .values(state=VolumeState.READY.value))


def release_volumes(session: Session, instance_id: int) -> None:
    """The instance was expunged: so are its volumes."""
    session.execute(update(Volume).where(Volume.instance_id == instance_id, Volume.removed.is_(None))
                    .values(state=VolumeState.EXPUNGED.value, removed=utcnow()))


@dataclass(frozen=True, kw_only=True)
class VolumeFilter:
    uuid: str | None = None
    uuids: tuple[str, ...] = ()
    name: str | None = None
    volume_type: str | None = None
    instance_id: int | None = None
    zone_id: int | None = None
    account_id: int | None = None
    list_all: bool = False
    tagged: Any = None  # a WHERE clause on Volume.id (resource tags), or None


_VM = aliased(Instance)
_TEMPLATE = aliased(Template)
_VIEW: Select[*tuple[Any, ...]] = (
    select(Volume.id, Volume.uuid, Volume.name, Volume.account_id, Volume.volume_type, Volume.device_id,
           Volume.size, Volume.state, Volume.provisioning_type, Volume.storage_type, Volume.created,
           Zone.uuid.label("zone_uuid"), Zone.name.label("zone_name"),
           _VM.uuid.label("vm_uuid"), _VM.name.label("vm_name"), _VM.display_name.label("vm_display_name"),
           _VM.state.label("vm_state"),
           DiskOffering.uuid.label("disk_offering_uuid"), DiskOffering.name.label("disk_offering_name"),
           DiskOffering.display_text.label("disk_offering_display_text"),
           _TEMPLATE.uuid.label("template_uuid"), _TEMPLATE.name.label("template_name"),
           _TEMPLATE.display_text.label("template_display_text"),
           ServiceOffering.uuid.label("offering_uuid"), ServiceOffering.name.label("offering_name"),
           ServiceOffering.display_text.label("offering_display_text"))
    .join(Zone, Zone.id == Volume.zone_id)
    .outerjoin(_VM, _VM.id == Volume.instance_id)
    .outerjoin(DiskOffering, DiskOffering.id == Volume.disk_offering_id)
    .outerjoin(_TEMPLATE, _TEMPLATE.id == Volume.template_id)
    .outerjoin(ServiceOffering, (ServiceOffering.id == _VM.service_offering_id)
               & (Volume.volume_type == VolumeType.ROOT.value))
    .where(Volume.removed.is_(None))
)


def list_volumes(session: Session, caller: Caller, page: Page, filters: VolumeFilter) -> tuple[Sequence[Row[Any]], int]:
    """Live volumes the caller may see (rows of `_VIEW`), by id."""
    by_id = filters.uuid is not None or bool(filters.uuids) or filters.instance_id is not None
    stmt = _VIEW.where(visible(caller, Volume.account_id, list_all=filters.list_all, account_id=filters.account_id,
                               by_id=by_id))
    for column, value in ((Volume.uuid, filters.uuid), (Volume.name, filters.name),
                          (Volume.volume_type, filters.volume_type), (Volume.instance_id, filters.instance_id),
                          (Volume.zone_id, filters.zone_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.uuids:
        stmt = stmt.where(Volume.uuid.in_(filters.uuids))
    if filters.tagged is not None:
        stmt = stmt.where(filters.tagged)
    if page.keyword:
        stmt = stmt.where(matches(Volume.name, page.keyword))
    return fetch_table_page(session, stmt.order_by(Volume.id), page)

