"""Compute tables: instances, their details, and the lease that keeps the power sync on one server.

* `instance` — one virtual machine (CloudStack's `vm_instance` + `user_vm`). `instance_name` is the internal
  name `i-<account id>-<id>-VM` the extension sees (set right after the row gets its id). `state` is the
  lifecycle state (`InstanceState`), `power_state` what the extension last reported and
  `power_off_reports` how many PowerOff reports in a row arrived for a Running instance (power sync turns
  it Stopped at two). `updated` counts state transitions: every transition is a conditional UPDATE on
  (state, updated), so two servers can never both move one instance. `vnc_password_sealed` is the VNC
  password sealed with the server key (bound to the instance uuid); it is never shown by the API.
  CPU, speed and memory are copied from the offering (or the deploy-time details of a custom offering).
* `instance_details` — key/value details: `External:<k>` (deploy-time and template external details),
  `deployvm` ("true" until the first successful start), and whatever `prepare` returned.
* `compute_lease` — named leases (`power-sync`): the holder's id and until when it holds it.

NICs live in the infrastructure `nic` table (`nic.instance_id` = `instance.id`); the service keeps that
link (NICs are released when an instance is expunged).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, TimestampMixin, UtcDateTime, UuidMixin, utcnow


class InstanceState(enum.StrEnum):
    """CloudStack's VirtualMachine.State names for the states an External instance goes through."""

    STOPPED = "Stopped"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    DESTROYED = "Destroyed"
    EXPUNGING = "Expunging"
    ERROR = "Error"


class PowerStateValue(enum.StrEnum):
    """What the extension reported last (CloudStack's PowerState names)."""

    POWER_ON = "PowerOn"
    POWER_OFF = "PowerOff"
    POWER_UNKNOWN = "PowerUnknown"


class Instance(UuidMixin, TimestampMixin, Base):
    __tablename__ = "instance"
    __table_args__ = (
        Index("ix_instance_host_state", "host_id", "state"),
        Index("ix_instance_last_host", "last_host_id"),
    )

    name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    instance_name: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("template.id"), index=True)
    service_offering_id: Mapped[int] = mapped_column(ForeignKey("service_offering.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), default=None)
    last_host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), default=None)
    state: Mapped[str] = mapped_column(String(32), default=InstanceState.STOPPED.value, index=True)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    state_changed: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    power_state: Mapped[str] = mapped_column(String(32), default=PowerStateValue.POWER_UNKNOWN.value)
    power_state_updated: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    power_off_reports: Mapped[int] = mapped_column(Integer, default=0)
    vnc_password_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    cpus: Mapped[int] = mapped_column(Integer, default=1)
    speed: Mapped[int] = mapped_column(Integer, default=0)  # MHz
    memory: Mapped[int] = mapped_column(Integer, default=0)  # MiB
    arch: Mapped[str] = mapped_column(String(16), default="x86_64")
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamically_scalable: Mapped[bool] = mapped_column(Boolean, default=False)


class InstanceDetail(Base):
    __tablename__ = "instance_details"
    __table_args__ = (UniqueConstraint("instance_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    display: Mapped[bool] = mapped_column(Boolean, default=True)


class ComputeLease(Base):
    """A named lease: the server run holding it may do the leased work until `expires`."""

    __tablename__ = "compute_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64), default=None)
    expires: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
