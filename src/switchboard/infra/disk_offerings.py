"""Disk offerings: the sizes a DATADISK volume may be given at deploy (a fixed size, or `customized`: the
deploy's `size`). Sizes are kept in bytes and shown in GiB, as CloudStack does. Soft-deleted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.storage import DiskOffering
from switchboard.errors import InvalidParameter
from switchboard.infra.common import Page, fetch_page, live_by_uuid, matches, one_of, require_name

__all__ = [
    "GIB",
    "DiskOfferingSpec",
    "create_disk_offering",
    "delete_disk_offering",
    "get_disk_offering",
    "list_disk_offerings",
    "update_disk_offering",
]

GIB = 1024 ** 3
MAX_GB = 1024 * 1024  # a sanity bound (1 PiB), as CloudStack's custom.diskoffering.size.max is a bound


@dataclass(frozen=True, kw_only=True)
class DiskOfferingSpec:
    name: str
    display_text: str | None = None
    disk_size_gb: int | None = None
    customized: bool = False
    storage_type: str = "shared"
    provisioning_type: str = "thin"
    tags: str | None = None
    display_offering: bool = True


def get_disk_offering(session: Session, uuid: str, *, parameter: str = "diskofferingid") -> DiskOffering:
    return live_by_uuid(session, DiskOffering, uuid, parameter=parameter, label="disk offering")


def create_disk_offering(session: Session, spec: DiskOfferingSpec) -> DiskOffering:
    """A disk offering of `disk_size_gb`, or a customized one (CloudStack: one of them must be given)."""
    name = require_name(spec.name)
    customized = spec.customized or spec.disk_size_gb is None
    if spec.disk_size_gb is not None and not 0 < spec.disk_size_gb <= MAX_GB:
        raise InvalidParameter(f"Disk size must be between 1 and {MAX_GB} GB", parameter="disksize")
    if spec.customized and spec.disk_size_gb is not None:
        raise InvalidParameter("Disksize is not allowed for a customized disk offering", parameter="disksize")
    offering = DiskOffering(
        name=name, display_text=spec.display_text or name,
        disk_size=None if customized else spec.disk_size_gb * GIB if spec.disk_size_gb else None,
        customized=customized, tags=spec.tags or None, display_offering=spec.display_offering,
        storage_type=one_of(spec.storage_type, ("shared", "local"), parameter="storagetype"),
        provisioning_type=one_of(spec.provisioning_type, ("thin", "sparse", "fat"), parameter="provisioningtype"),
    )
    session.add(offering)
    session.flush()
    return offering


def update_disk_offering(session: Session, offering: DiskOffering, *, name: str | None = None,
                         display_text: str | None = None, sort_key: int | None = None,
                         display_offering: bool | None = None, tags: str | None = None) -> DiskOffering:
    if name is not None:
        offering.name = require_name(name)
    if display_text is not None:
        offering.display_text = display_text
    if sort_key is not None:
        offering.sort_key = sort_key
    if display_offering is not None:
        offering.display_offering = display_offering
    if tags is not None:
        offering.tags = tags or None
    session.flush()
    return offering


def delete_disk_offering(session: Session, offering: DiskOffering) -> None:
    """Soft-delete; volumes keep the size they were given."""
    offering.removed = utcnow()
    offering.state = "Inactive"
    session.flush()


def list_disk_offerings(session: Session, page: Page, *, uuid: str | None = None, name: str | None = None,
                        admin: bool = False) -> tuple[Sequence[DiskOffering], int]:
    """Live, active offerings by sort key then id; users see only those with `displayoffering`."""
    stmt = (select(DiskOffering).where(DiskOffering.removed.is_(None), DiskOffering.state == "Active")
            .order_by(DiskOffering.sort_key, DiskOffering.id))
    if not admin:
        stmt = stmt.where(DiskOffering.display_offering.is_(True))
    if uuid:
        stmt = stmt.where(DiskOffering.uuid == uuid)
    if name:
        stmt = stmt.where(DiskOffering.name == name)
    if page.keyword:
        stmt = stmt.where(matches(DiskOffering.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [row[0] for row in rows], total
