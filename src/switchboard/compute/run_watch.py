"""Taking over the runs of dead servers: wait for each, then settle its instance by its real outcome.

Every server runs a `RunWatcher`. Each round (`watch_once`, every `interval` seconds):

1. It reads the unsettled runs whose owner is gone - the owning server restarted (another run id), shut
   down, or has not heartbeaten for `heartbeat_timeout` - and takes over those it can judge (a conditional
   update of the owner, so one server takes each): runs on this machine at once; runs on another machine
   only once their deadline has passed (nothing on this machine can see that process).
2. For each run it took over, on this machine and boot, it looks at the process (recorded pid and start
   time; for a run whose pid was never recorded, a process whose command line names the run's status
   file). While it lives, the run stays unsettled (so no other action starts on the instance), its output
   is kept bounded, and at its deadline its process group is killed (a timeout, as the runner would).
3. A run that has ended is settled by its exit status and output (its files); a run whose process is gone
   without an exit status - or on another boot or machine without a readable status file - is lost: the
   extension is asked for the instance's `status`, and the instance follows the backend
   (switchboard.compute.run_outcome).

Settled runs are kept for a day (power sync words its events by the last run), then deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from switchboard.compute.actions import Actions
from switchboard.compute.run_outcome import Verdict, settle_run
from switchboard.compute.runs import outcome_of
from switchboard.db.engine import Database
from switchboard.db.models.compute import ExtensionRun, Instance, RunOutcome, RunState
from switchboard.db.models.jobs import ManagementServer
from switchboard.db.outage import report_failure
from switchboard.errors import SwitchboardError
from switchboard.extensions.detached import (
    ProcessIdentity,
    RunFiles,
    alive,
    find_process,
    kill_group,
    machine,
    read_status,
    remove_files,
    trim_output,
)
from switchboard.extensions.durable import result_from_files
from switchboard.extensions.kept_output import kept_copy
from switchboard.extensions.payload_inputs import host_target, instance_infos
from switchboard.extensions.payload_model import PowerState
from switchboard.extensions.power import parse_power_state
from switchboard.jobs import ServerRun, ServerStatus
from switchboard.jobs.repository import database_now

__all__ = ["RunWatcher"]

log = logging.getLogger(__name__)

_KEEP_SETTLED = dt.timedelta(days=1)
_PURGE_EVERY = 300.0


class RunWatcher:
    """Takes over and settles the runs of dead servers (see the module docstring). `start()` runs a round
    every `interval` seconds on a daemon thread; `watch_once()` runs one now; `stop()` ends the loop."""

    def __init__(self, *, db: Database, actions: Actions, unseal: Callable[[Instance], str | None],
                 owner: Callable[[], ServerRun | None], interval: float, heartbeat_timeout: float,
                 output_limit: int) -> None:
        self._db = db
        self._actions = actions
        self._unseal = unseal
        self._owner = owner
        self._interval = interval
        self._heartbeat_timeout = heartbeat_timeout
        self._output_limit = output_limit
        self._taken: set[int] = set()  # runs this process took over and waits for
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_purge = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="run-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a `status` it waits for is not worth holding a stop up

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.watch_once()
                if time.monotonic() >= self._next_purge:
                    self.purge_once()
                    self._next_purge = time.monotonic() + _PURGE_EVERY
            except SQLAlchemyError as exc:
                report_failure(log, exc, "watching the runs of stopped servers failed; retrying")
            except Exception:  # keep the loop alive; the next round tries again
                log.exception("watching the runs of stopped servers failed")
            self._stopping.wait(self._interval)

    def watch_once(self) -> list[str]:
        """One round; the uuids of the runs it settled. Raises SQLAlchemyError on database trouble."""
        own = self._owner()
        if own is None:
            return []
        here = machine()
        with self._db.session() as session:
            cutoff = database_now(session) - dt.timedelta(seconds=self._heartbeat_timeout)
            runs = list(session.execute(
                select(ExtensionRun).outerjoin(ManagementServer, ManagementServer.id == ExtensionRun.owner_server_id)
                .where(ExtensionRun.state == RunState.RUNNING.value,
                       or_(ExtensionRun.owner_runid == own.runid, ExtensionRun.owner_runid.is_(None),
                           ManagementServer.id.is_(None), ManagementServer.runid != ExtensionRun.owner_runid,
                           ManagementServer.status == ServerStatus.DOWN.value,
                           ManagementServer.last_heartbeat < cutoff))
                .order_by(ExtensionRun.id)
            ).scalars())
            session.expunge_all()
        settled: list[str] = []
        for run in runs:
            if self._stopping.is_set():
                break
            if run.owner_runid == own.runid and run.id not in self._taken:
                continue  # a worker of this server waits for it
            if run.id not in self._taken:
                local = run.machine_id == here.machine_id
                if not local and run.deadline > _now():
                    continue  # its process may still run over there; judged after its deadline
                if not self._take(run, own):
                    continue
            if self._judge(run):
                settled.append(run.uuid)
        return settled

    def _take(self, run: ExtensionRun, own: ServerRun) -> bool:
        with self._db.session() as session:
            owner = (ExtensionRun.owner_runid.is_(None) if run.owner_runid is None
                     else ExtensionRun.owner_runid == run.owner_runid)
            taken = session.execute(
                update(ExtensionRun).where(ExtensionRun.id == run.id, ExtensionRun.state == RunState.RUNNING.value,
                                           owner)
                .values(owner_server_id=own.server_id, owner_runid=own.runid)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
        if taken:
            self._taken.add(run.id)
            log.warning("took over the %s run %s of instance #%s, started by management server %s", run.action,
                        run.uuid, run.instance_id, run.started_by)
        return bool(taken)

    def _judge(self, run: ExtensionRun) -> bool:
        """Settle the run if it has ended; False while it still runs."""
        files = RunFiles(output=Path(run.output_file), status=Path(run.status_file))
        verdict: Verdict | None
        here = machine()
        if run.machine_id == here.machine_id and run.boot_id == here.boot_id:
            identity = ProcessIdentity(run.pid, run.start_ticks or 0, run.boot_id) if run.pid else find_process(files)
            if identity is not None and alive(identity):
                if _now() < run.deadline:
                    trim_output(files, self._output_limit)
                    return False
                kill_group(identity.pid)
                log.warning("the %s run %s passed its deadline: its process group %s was killed", run.action,
                            run.uuid, identity.pid)
                result = result_from_files(files, None, limit=self._output_limit)
                verdict = Verdict(outcome=RunOutcome.TIMED_OUT, details=kept_copy(result.details))
                return self._settle(run, verdict, files)
        status = read_status(files)
        if status is not None:
            result = result_from_files(files, status, limit=self._output_limit)
            verdict = Verdict(outcome=outcome_of(result), exit_code=status, details=kept_copy(result.details))
        else:
            verdict = Verdict(outcome=RunOutcome.LOST, power=self._ask_status(run))
        return self._settle(run, verdict, files)

    def _settle(self, run: ExtensionRun, verdict: Verdict, files: RunFiles) -> bool:
        with self._db.session() as session:
            state = settle_run(session, run, verdict)
        self._taken.discard(run.id)
        remove_files(files)
        if state is not None:
            log.warning("settled the %s run %s of instance #%s (%s): instance %s", run.action, run.uuid,
                        run.instance_id, verdict.outcome.value, state)
        return True

    def _ask_status(self, run: ExtensionRun) -> PowerState:
        """What the extension says of the instance now (PowerUnknown when it cannot be asked)."""
        try:
            with self._db.session() as session:
                instance = session.get_one(Instance, run.instance_id)
                target = host_target(session, run.host_id) if run.host_id is not None else None
                info = instance_infos(session, [instance], unseal=self._unseal)[instance.id]
        except SwitchboardError as exc:
            log.warning("cannot ask the extension about instance #%s: %s", run.instance_id, exc)
            return PowerState.POWER_UNKNOWN
        if target is None:
            return PowerState.POWER_UNKNOWN
        result = self._actions.run(target, "status", info).result
        return parse_power_state(result.success, result.output)

    def purge_once(self) -> int:
        """Delete runs settled more than a day ago (removing any files left); returns how many."""
        with self._db.session() as session:
            old = list(session.execute(
                select(ExtensionRun.id, ExtensionRun.output_file, ExtensionRun.status_file)
                .where(ExtensionRun.state == RunState.SETTLED.value, ExtensionRun.settled < _now() - _KEEP_SETTLED)
            ).all())
            if old:
                session.execute(delete(ExtensionRun).where(ExtensionRun.id.in_([row[0] for row in old])))
        for _id, output, status in old:
            remove_files(RunFiles(output=Path(output), status=Path(status)))
        return len(old)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

