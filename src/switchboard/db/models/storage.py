"""Storage as CloudStack reports it: disk offerings and the volumes of instances.

* `disk_offering` — a disk size (bytes; None with `customized`, whose size is chosen when it is used),
  with CloudStack's storage and provisioning types. Soft-deleted.
* `volume` — one disk of an instance: its ROOT disk (sized by the deploy's `rootdisksize`, else the service
  offering's root disk size, else the template's size) and a DATADISK where the deploy names a disk
  offering. Volumes are records of what an instance was given: an External instance's disks are the
  extension's to make (CloudStack sends External instances no disks either). `state` is Allocated until
  the instance first starts, then Ready; expunging the instance removes its volumes.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UuidMixin


class VolumeType(enum.StrEnum):
    ROOT = "ROOT"
    DATADISK = "DATADISK"


class VolumeState(enum.StrEnum):
    """CloudStack's Volume.State names for the states Switchboard's volumes go through."""

    ALLOCATED = "Allocated"
    READY = "Ready"
    EXPUNGED = "Expunged"


class DiskOffering(UuidMixin, TimestampMixin, Base):
    __tablename__ = "disk_offering"

    name: Mapped[str] = mapped_column(String(255))
    display_text: Mapped[str | None] = mapped_column(String(4096), default=None)
    disk_size: Mapped[int | None] = mapped_column(BigInteger, default=None)  # bytes
    customized: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_type: Mapped[str] = mapped_column(String(32), default="shared")
    provisioning_type: Mapped[str] = mapped_column(String(32), default="thin")
    tags: Mapped[str | None] = mapped_column(String(4096), default=None)
    display_offering: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(32), default="Active")
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class Volume(UuidMixin, TimestampMixin, Base):
    __tablename__ = "volume"

    name: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), default=None, index=True)
    volume_type: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[int | None] = mapped_column(Integer, default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)  # bytes; None: not known
    disk_offering_id: Mapped[int | None] = mapped_column(ForeignKey("disk_offering.id"), default=None)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("template.id"), default=None)
    state: Mapped[str] = mapped_column(String(32), default=VolumeState.ALLOCATED.value)
    provisioning_type: Mapped[str] = mapped_column(String(32), default="thin")
    storage_type: Mapped[str] = mapped_column(String(32), default="shared")
