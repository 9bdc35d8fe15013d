"""Async jobs and the management servers that run them.

A job row is the record of intent: the command, the handler that carries it out and its JSON arguments.
Workers claim pending rows, run the handler and write the outcome back. Ownership (`owner_server_id` +
`owner_runid`) ties an in-progress job to one run of one management server, so a job whose server run is
gone (dead heartbeat, marked Down, or restarted with a new run id) can be recognised and finished.

The submitter's identity is copied onto the job when it is queued (user, account, domain): the job's record
says who asked, even if the account is renamed later, and listing jobs needs no join.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base, UtcDateTime, UuidMixin, utcnow


class ManagementServer(UuidMixin, Base):
    """One management server. `runid` changes on every start; `status` is `Up` or `Down`."""

    __tablename__ = "management_server"

    name: Mapped[str] = mapped_column(String(255))
    runid: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_heartbeat: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AsyncJob(UuidMixin, Base):
    """One async job. `status` is one of switchboard.jobs.JobStatus; `result` is the JSON outcome."""

    __tablename__ = "async_job"
    __table_args__ = (Index("ix_async_job_status_id", "status", "id"),)

    command: Mapped[str] = mapped_column(String(255))
    handler: Mapped[str] = mapped_column(String(255))
    args: Mapped[dict[str, Any]] = mapped_column(JSON())
    # Who submitted it (all empty for system jobs).
    user_id: Mapped[int | None] = mapped_column(Integer())
    user_uuid: Mapped[str | None] = mapped_column(String(36))
    user_name: Mapped[str | None] = mapped_column(String(255))
    account_id: Mapped[int | None] = mapped_column(Integer(), index=True)
    account_uuid: Mapped[str | None] = mapped_column(String(36))
    account_name: Mapped[str | None] = mapped_column(String(255))
    domain_id: Mapped[int | None] = mapped_column(Integer())
    domain_uuid: Mapped[str | None] = mapped_column(String(36))
    domain_path: Mapped[str | None] = mapped_column(String(1024))
    role_type: Mapped[str | None] = mapped_column(String(32))
    # The object the job works on, as the API shows it (e.g. "VirtualMachine" + its uuid).
    instance_type: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer(), default=0)
    result_code: Mapped[int] = mapped_column(Integer(), default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    owner_server_id: Mapped[int | None] = mapped_column(ForeignKey("management_server.id"), index=True)
    owner_runid: Mapped[str | None] = mapped_column(String(36))
    claimed: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # Set when the job's server run vanished; the text the failed job reports.
    interruption: Mapped[str | None] = mapped_column(String(1024))
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
