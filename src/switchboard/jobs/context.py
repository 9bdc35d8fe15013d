"""What a job handler receives: the job's arguments, who asked, the database, and a progress reporter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.db.engine import Database


@dataclass(frozen=True, kw_only=True)
class JobOwner:
    """Who submitted a job, copied onto the job row when it is queued. All None for system jobs.

    `role_type` is the role type's CloudStack name (e.g. "Admin"), as switchboard.roles.RoleType.wire_name."""

    user_id: int | None = None
    user_uuid: str | None = None
    user_name: str | None = None
    account_id: int | None = None
    account_uuid: str | None = None
    account_name: str | None = None
    domain_id: int | None = None
    domain_uuid: str | None = None
    domain_path: str | None = None
    role_type: str | None = None


SYSTEM = JobOwner()


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """A job to queue: which handler runs it, with which JSON-serialisable arguments, for whom.

    `command` is the name shown to clients (the API command that asked for it); `instance_type` and
    `instance_id` name the object the job works on (e.g. "VirtualMachine" and its uuid)."""

    command: str
    handler: str
    args: dict[str, Any] = field(default_factory=dict)
    owner: JobOwner = SYSTEM
    instance_type: str | None = None
    instance_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """Handed to a handler (and to its interruption hook).

    The handler opens its own transactions on `db`; it should be idempotent, since after a crash the
    interruption hook may have to repair what a half-run handler left. `interruption` is set only for the
    interruption hook: the text the failed job reports."""

    job_id: int
    job_uuid: str
    command: str
    handler: str
    args: dict[str, Any]
    owner: JobOwner
    instance_type: str | None
    instance_id: str | None
    db: Database
    interruption: str | None = None
    _report_progress: Callable[[int], None] = field(default=lambda _value: None, repr=False)

    def progress(self, value: int) -> None:
        """Record progress (shown as `jobprocstatus`; any integer the handler finds meaningful, e.g. a
        percentage). Best effort: a failure to record it is logged, never raised."""
        self._report_progress(value)
