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
* `extension_run` — one lifecycle run of an extension on an instance (prepare, create, start, stop,
  reboot, delete), recorded before it starts so that it outlives the server that started it: the server
  run that owns it now, the machine and boot it runs in, the process (pid = process group, start time in
  clock ticks), its output and exit-status files, its deadline, and once its outcome is recorded on the
  instance, how it ended. At most one run per instance is unsettled (a partial unique index), so no two
  actions on one instance ever overlap. See `switchboard.compute.runs` and ADR 0005.
* `console_session` — one console endpoint handed out (CloudStack's `console_session`): who asked for which
  instance, from where, until when its single-use ticket may be claimed and when it was. Only the ticket's
  SHA-256 is stored; the VNC address and password the extension gave are sealed with the server key (bound
  to the session uuid) and wiped when the ticket is claimed or expires.

NICs live in the infrastructure `nic` table (`nic.instance_id` = `instance.id`); the service keeps that
link (NICs are released when an instance is expunged).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
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


class RunState(enum.StrEnum):
    """Whether a run's outcome has been recorded on its instance."""

    RUNNING = "Running"  # started (or about to start); nobody has recorded its outcome yet
    SETTLED = "Settled"


class RunOutcome(enum.StrEnum):
    """How a settled run ended, as far as Switchboard knows."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    LOST = "Lost"  # its process vanished without an exit status: the backend was asked (`status`)


class ExtensionRun(UuidMixin, Base):
    __tablename__ = "extension_run"
    __table_args__ = (
        Index("uq_extension_run_instance_running", "instance_id", unique=True,
              sqlite_where=text("state = 'Running'"), postgresql_where=text("state = 'Running'")),
        Index("ix_extension_run_state", "state"),
    )

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    extension_name: Mapped[str] = mapped_column(String(255))
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), default=None)
    # What settling needs besides the action: {"deploying": bool, "forced": bool}.
    context: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    # The server run that waits for it (the one that started it, or the one that took it over).
    owner_server_id: Mapped[int | None] = mapped_column(ForeignKey("management_server.id"), default=None)
    owner_runid: Mapped[str | None] = mapped_column(String(36), default=None)
    started_by: Mapped[str] = mapped_column(String(255))  # the starting server's name, for events
    machine_id: Mapped[str] = mapped_column(String(64))
    boot_id: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    start_ticks: Mapped[int | None] = mapped_column(BigInteger, default=None)
    output_file: Mapped[str] = mapped_column(String(4096))
    status_file: Mapped[str] = mapped_column(String(4096))
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    state: Mapped[str] = mapped_column(String(16), default=RunState.RUNNING.value)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    settled: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class ConsoleSession(UuidMixin, TimestampMixin, Base):
    """A console endpoint handed out by createConsoleEndpoint; its ticket opens the console once."""

    __tablename__ = "console_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), default=None)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    creator_address: Mapped[str] = mapped_column(String(64), default="")
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    expires: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    acquired: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    connection_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
