"""The run journal: every lifecycle run of an extension on an instance, recorded before it starts.

An extension run outlives the server that started it (its own session, by design). So each run of
prepare, create, start, stop, reboot or delete is a row in `extension_run`, written in the same transaction
that moves the instance into its transitional state (or, for reboot, in the transaction that checks it):

* `open` inserts it: which instance and action, the files its output and exit status go to, the server run
  that owns it, this machine and boot. A partial unique index allows one unsettled run per instance, so a
  second action on an instance whose run has not ended is refused (InstanceBusy) — on every server.
* `recorder` records the process (pid = process group, start ticks) as soon as it exists, with the deadline
  counted from then.
* `close` marks it settled, in the transaction that records its outcome on the instance; `forget` removes
  its files afterwards.

A run whose server died stays unsettled; switchboard.compute.run_watch takes it over, waits for it and
settles the instance by its real outcome (see ADR 0005).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.compute.states import InstanceBusy
from switchboard.db.base import new_uuid, utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import ExtensionRun, Instance, RunOutcome, RunState
from switchboard.extensions.detached import ProcessIdentity, RunFiles, machine, remove_files
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.runner import RunResult
from switchboard.jobs import ServerRun

__all__ = ["RunJournal", "RunTicket", "has_unsettled_run", "outcome_of", "unsettled_instances"]

log = logging.getLogger(__name__)

_RUN = cast(Table, ExtensionRun.__table__)  # declared a FromClause; it is the model's Table
_CLOSE = (
    update(_RUN)
    .where(_RUN.c.id == bindparam("run_id"), _RUN.c.state == RunState.RUNNING.value)
    .values(state=RunState.SETTLED.value, outcome=bindparam("new_outcome"), exit_code=bindparam("code"),
            settled=bindparam("now"))
)
_RECORD = (
    update(_RUN).where(_RUN.c.id == bindparam("run_id"))
    .values(pid=bindparam("new_pid"), start_ticks=bindparam("ticks"), started=bindparam("now"),
            deadline=bindparam("new_deadline"))
)
# Every lifecycle action inserts one run: built once, no ORM unit of work (ADR 0003).
_INSERT = insert(_RUN).returning(_RUN.c.id)
_UNSETTLED = select(ExtensionRun.action, ExtensionRun.started_by, ExtensionRun.started).where(
    ExtensionRun.instance_id == bindparam("instance_id"), ExtensionRun.state == RunState.RUNNING.value)


@dataclass(frozen=True)
class RunTicket:
    """An opened run: what its process and its settling need."""

    id: int
    uuid: str
    instance_uuid: str
    action: str
    files: RunFiles


def outcome_of(result: RunResult) -> RunOutcome:
    """How a finished run ended."""
    if result.timed_out:
        return RunOutcome.TIMED_OUT
    return RunOutcome.SUCCEEDED if result.success else RunOutcome.FAILED


def has_unsettled_run(instance_id: Any) -> Any:
    """SQL: whether the instance (an id or an id column) has a run whose outcome is not recorded yet."""
    return exists().where(ExtensionRun.instance_id == instance_id, ExtensionRun.state == RunState.RUNNING.value)


def unsettled_instances(session: Session) -> set[int]:
    """Ids of the instances that have a run whose outcome is not recorded yet."""
    return set(session.execute(
        select(ExtensionRun.instance_id).where(ExtensionRun.state == RunState.RUNNING.value)).scalars())


class RunJournal:
    """Opens, records and closes runs for this server. `owner()` is this process's registration (None
    before the job runtime started); `server_name` names it in the row (events quote it); `wait` is the
    runs' timeout."""

    def __init__(self, *, db: Database, roots: ExtensionRoots, wait: Callable[[], int], server_name: str,
                 owner: Callable[[], ServerRun | None]) -> None:
        self.db = db
        self.roots = roots
        self.wait = wait  # CloudStack's `wait` in force now (dynamic): a run's deadline is its start plus it
        self.server_name = server_name
        self._owner = owner

    def open(self, session: Session, instance: Instance, action: str, *, extension_name: str,
             host_id: int | None, context: dict[str, Any] | None = None) -> RunTicket:
        """Record a run about to start, in the caller's transaction (the one that moves the instance).

        Raises InstanceBusy, naming the run, when the instance has a run that has not been settled."""
        running = session.connection().execute(_UNSETTLED, {"instance_id": instance.id}).first()
        if running is not None:
            raise _busy(instance, running.action, running.started_by, running.started)
        uuid = new_uuid()
        files = RunFiles.in_directory(self.roots.payload_dir(extension_name), uuid)
        owner = self._owner()
        here = machine()
        now = utcnow()
        try:
            run_id = session.connection().execute(_INSERT, {
                "uuid": uuid, "instance_id": instance.id, "action": action, "extension_name": extension_name,
                "host_id": host_id, "context": context or {}, "owner_server_id": owner.server_id if owner else None,
                "owner_runid": owner.runid if owner else None, "started_by": self.server_name,
                "machine_id": here.machine_id, "boot_id": here.boot_id, "output_file": str(files.output),
                "status_file": str(files.status), "started": now, "deadline": now + dt.timedelta(seconds=self.wait()),
                "state": RunState.RUNNING.value,
            }).scalar_one()
        except IntegrityError as exc:  # another server opened one first
            raise InstanceBusy(f"Instance {instance.name} is busy with another operation; try again",
                               uuids=[instance.uuid]) from exc
        return RunTicket(id=run_id, uuid=uuid, instance_uuid=instance.uuid, action=action, files=files)

    def recorder(self, ticket: RunTicket) -> Callable[[ProcessIdentity], None]:
        """What records the run's process once it exists (in a transaction of its own)."""

        def record(identity: ProcessIdentity) -> None:
            now = utcnow()
            with self.db.kept_connection() as connection:  # a worker thread's own (ADR 0003)
                connection.execute(_RECORD, {
                    "run_id": ticket.id, "new_pid": identity.pid, "ticks": identity.start_ticks, "now": now,
                    "new_deadline": now + dt.timedelta(seconds=self.wait())})
                connection.commit()

        return record

    @staticmethod
    def close(session: Session, ticket_or_id: RunTicket | int, outcome: RunOutcome,
              exit_code: int | None = None) -> bool:
        """Mark the run settled in the caller's transaction (the one that records its outcome). False when
        it already was (another server settled it)."""
        run_id = ticket_or_id.id if isinstance(ticket_or_id, RunTicket) else ticket_or_id
        result = session.connection().execute(_CLOSE, {"run_id": run_id, "new_outcome": outcome.value,
                                                       "code": exit_code, "now": utcnow()})
        return bool(result.rowcount)

    @staticmethod
    def forget(ticket: RunTicket | None) -> None:
        """Remove a settled run's files (after the transaction that closed it committed)."""
        if ticket is not None:
            remove_files(ticket.files)


def _busy(instance: Instance, action: str, started_by: str, started: dt.datetime) -> InstanceBusy:
    return InstanceBusy(
        f"Instance {instance.name} is busy: its {action}, started by management server {started_by} at "
        f"{started:%Y-%m-%d %H:%M:%S} UTC, has not ended yet; try again when it has", uuids=[instance.uuid])
