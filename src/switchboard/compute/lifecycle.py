"""The instance lifecycle run by job workers: start (incl. the first start of a deploy), stop, reboot,
destroy, expunge; and the repair of instances whose job was interrupted by a dying server.

The action sequence is CloudStack's (protocol notes §1.2): `prepare` on the very first start when the
template's extension requires it, `create` while the instance has `deployvm=true`, `start` afterwards,
`stop`, `reboot`, and `delete` on expunge. Each operation is: one transaction that checks and moves the
instance into a transitional state (Starting, Stopping, Expunging) and reads everything the payload needs;
the run, outside any transaction; one transaction that records the outcome, by a move conditional on the
instance being as the first transaction left it (so it needs no fresh read; when something else changed it
meanwhile, e.g. a takeover's repair, it is read again and judged as it is). A failure always ends in a
stable state: a failed first start → Error, a failed later start → Stopped, a failed stop → Running (or
Stopped when forced), a failed delete → Destroyed. The closing transaction waits out a database that cannot
take it (a full disk: `db.outage.until_available`): the extension has acted, so its outcome is recorded, late
rather than never.

Every run is recorded in the run journal (`switchboard.compute.runs`) in the transaction that moves the
instance (for reboot, the one that checks it), runs durably (it outlives this server), and is marked settled
in the transaction that records its outcome. If the server dies in between, the run watcher of a live server
(`switchboard.compute.run_watch`) waits for the run and settles the instance by its real outcome; `repair`
(the jobs' interruption hook) only handles what no run was under way for.

Starting lives in `switchboard.compute.starting`, the settle and failure texts in `.settling`, VNC passwords
in `.vnc`; this class is the one entry point job handlers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from switchboard.compute import states
from switchboard.compute.actions import Actions
from switchboard.compute.audit import caller_info, event
from switchboard.compute.instance_rows import get_instance, mark_removed
from switchboard.compute.repair import repair_instance
from switchboard.compute.runs import RunJournal, RunTicket, outcome_of
from switchboard.compute.settling import settle
from switchboard.compute.starting import Starter
from switchboard.compute.vnc import VncSecrets
from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance, RunOutcome
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.db.outage import until_available
from switchboard.errors import ExtensionFailed, SwitchboardError
from switchboard.extensions.payload_inputs import HostTarget, host_target, instance_infos
from switchboard.extensions.payload_model import CallerInfo, InstanceInfo
from switchboard.identity.serverkey import ServerKey
from switchboard.infra import nics, tags, volumes
from switchboard.jobs import JobOwner

__all__ = ["Lifecycle", "get_instance"]


@dataclass(frozen=True)
class _Stopping:
    """A stop under way: the instance as moved to Stopping, and what the run needs."""

    instance: Instance
    host_id: int | None
    target: HostTarget | None
    info: InstanceInfo
    caller: CallerInfo | None
    ticket: RunTicket | None  # the `stop` run (None: no host to run it on)


class Lifecycle:
    """Carries out instance operations for job handlers. Methods block (call them from worker threads),
    raise SwitchboardError subclasses for failures the caller should see (ExtensionFailed carries the
    extension's output), and return nothing: the caller renders the instance afterwards."""

    def __init__(self, *, db: Database, actions: Actions, server_key: ServerKey, journal: RunJournal) -> None:
        self.db = db
        self.actions = actions
        self.journal = journal
        self.vnc = VncSecrets(server_key)
        self._starter = Starter(db=db, actions=actions, vnc=self.vnc, journal=journal)

    # -- secrets ------------------------------------------------------------------------------------------

    def seal_vnc(self, instance_uuid: str, password: str) -> bytes:
        return self.vnc.seal(instance_uuid, password)

    def unseal_vnc(self, instance: Instance) -> str | None:
        return self.vnc.unseal(instance)

    # -- start --------------------------------------------------------------------------------------------

    def start(self, uuid: str, owner: JobOwner, *, wanted_host_id: int | None = None) -> None:
        """Start a Stopped instance (nothing to do when it is Running); see `switchboard.compute.starting`."""
        self._starter.start(uuid, owner, wanted_host_id=wanted_host_id)

    # -- stop, reboot ---------------------------------------------------------------------------------------

    def stop(self, uuid: str, owner: JobOwner, *, forced: bool = False) -> None:
        """Stop a Running instance (nothing to do when it is Stopped). A failed stop leaves it Running,
        unless `forced`: then it is marked Stopped whatever the extension said."""
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if instance.state == S.STOPPED.value:
                return
            stopping = self._begin_stop(session, instance, owner, forced=forced)
        self._run_stop(stopping, owner, forced=forced)

    def _begin_stop(self, session: Session, instance: Instance, owner: JobOwner, *, forced: bool) -> _Stopping:
        """Running → Stopping, and what the run needs (in the caller's transaction)."""
        if instance.state != S.RUNNING.value:
            raise states.InvalidState(f"Unable to stop instance {instance.name} in state {instance.state}",
                                      uuids=[instance.uuid])
        host_id = instance.host_id or instance.last_host_id
        target: HostTarget | None = None
        try:
            target = host_target(session, host_id) if host_id is not None else None
        except SwitchboardError:
            if not forced:
                raise
        info = instance_infos(session, [instance], unseal=self.unseal_vnc, state=S.STOPPING.value)[instance.id]
        caller = caller_info(session, owner)
        states.move(session, instance, S.STOPPING)  # the writes last (see start)
        ticket = self.journal.open(session, instance, "stop", extension_name=target.extension_name,
                                   host_id=host_id, context={"forced": forced}) if target is not None else None
        return _Stopping(instance, host_id, target, info, caller, ticket)

    def _run_stop(self, stopping: _Stopping, owner: JobOwner, *, forced: bool) -> Instance | None:
        """Run `stop` and record the outcome; the instance as it is afterwards (None when someone else
        settled it meanwhile). Raises ExtensionFailed for a failed stop that was not forced."""
        info = stopping.info
        what = f"the stop of instance {stopping.instance.uuid}"
        ticket = stopping.ticket
        try:
            details = None
            ended = RunOutcome.FAILED
            if stopping.target is not None and ticket is not None:
                outcome = self.actions.run(stopping.target, "stop", info, caller=stopping.caller,
                                           files=ticket.files, started=self.journal.recorder(ticket))
                details = None if outcome.result.success else outcome.result.details
                ended = outcome_of(outcome.result)
            else:
                details = "no host to run the stop on"
        except Exception:  # never leave it Stopping
            until_available(lambda: self._settle_stop(stopping, owner, stopped=forced,
                                                    reason="the stop did not complete"), what=what)
            self.journal.forget(ticket)
            raise
        settled = until_available(lambda: self._settle_stop(stopping, owner, stopped=details is None or forced,
                                                          reason=details, ended=ended), what=what)
        self.journal.forget(ticket)
        if details is not None and not forced:
            raise ExtensionFailed(f"Failed to stop instance {info.internal_name}: {details}",
                                  uuids=[stopping.instance.uuid])
        return settled

    def _settle_stop(self, stopping: _Stopping, owner: JobOwner, *, stopped: bool,
                     reason: str | None, ended: RunOutcome = RunOutcome.FAILED) -> Instance | None:
        with self.db.session() as session:
            if stopping.ticket is not None:
                self.journal.close(session, stopping.ticket, RunOutcome.SUCCEEDED if reason is None else ended)
            now = utcnow()
            # A stop that failed but is forced keeps the power state power sync last saw.
            power: dict[str, Any] = {"power_state": P.POWER_OFF.value} if reason is None else {}
            instance = (
                settle(session, stopping.instance, S.STOPPED, expected=S.STOPPING, host_id=None,
                       last_host_id=stopping.host_id, power_state_updated=now, **power)
                if stopped else settle(session, stopping.instance, S.RUNNING, expected=S.STOPPING)
            )
            if instance is None:
                return None
            if stopped:
                text = f"Stopped instance {instance.name}" + (f" (forced; the extension said: {reason})"
                                                               if reason else "")
                event(session, instance, owner, "VM.STOP", text)
            else:
                event(session, instance, owner, "VM.STOP", f"Failed to stop instance {instance.name}: {reason}",
                      error=True)
            return instance

    def reboot(self, uuid: str, owner: JobOwner) -> None:
        """Reboot a Running instance; the state does not change, a failure is reported."""
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if instance.state != S.RUNNING.value:
                raise states.InvalidState(f"Unable to reboot instance {instance.name} in state {instance.state}",
                                          uuids=[uuid])
            host_id = instance.host_id or instance.last_host_id
            target = host_target(session, host_id)  # type: ignore[arg-type]
            info = instance_infos(session, [instance], unseal=self.unseal_vnc)[instance.id]
            caller = caller_info(session, owner)
            # Recorded like every run: no other action starts on the instance until the reboot has ended.
            ticket = self.journal.open(session, instance, "reboot", extension_name=target.extension_name,
                                       host_id=host_id)
        try:
            outcome = self.actions.run(target, "reboot", info, caller=caller, files=ticket.files,
                                       started=self.journal.recorder(ticket))
        except Exception:
            until_available(lambda: self._close(ticket, RunOutcome.FAILED), what=f"the reboot of instance {uuid}")
            raise

        def record() -> None:
            with self.db.session() as session:
                self.journal.close(session, ticket, outcome_of(outcome.result))
                instance = get_instance(session, uuid)
                if not outcome.result.success:
                    event(session, instance, owner, "VM.REBOOT", f"Failed to reboot instance {instance.name}",
                          error=True)
                else:
                    instance.power_off_reports = 0  # reports from before the reboot ended do not count
                    event(session, instance, owner, "VM.REBOOT", f"Rebooted instance {instance.name}")

        until_available(record, what=f"the reboot of instance {uuid}")
        self.journal.forget(ticket)
        if not outcome.result.success:
            raise ExtensionFailed(f"Failed to reboot instance {info.internal_name}: {outcome.result.details}",
                                  uuids=[uuid])

    # -- destroy, expunge, recover -----------------------------------------------------------------------

    def destroy(self, uuid: str, owner: JobOwner, *, expunge: bool = False) -> None:
        """Destroy: stop a Running instance first (`stop`), then mark it Destroyed; with `expunge`, also
        run `delete` and remove it. A failed stop leaves it Running."""
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            stopping = self._begin_stop(session, instance, owner, forced=False) \
                if instance.state == S.RUNNING.value else None
            if stopping is None:
                self._destroy_in(session, instance, owner)
        if stopping is not None:
            settled = self._run_stop(stopping, owner, forced=False)
            with self.db.session() as session:
                try:
                    self._destroy_in(session, settled or get_instance(session, uuid), owner)
                except states.InstanceBusy:  # it changed after the stop: judge it as it is now
                    self._destroy_in(session, get_instance(session, uuid), owner)
        if expunge:
            self.expunge(uuid, owner)

    def _destroy_in(self, session: Session, instance: Instance, owner: JobOwner) -> None:
        if instance.state in (S.STOPPED.value, S.ERROR.value):
            # Keep where it was: expunge sends `delete` there (also after a failed first `create`).
            states.move(session, instance, S.DESTROYED, host_id=None,
                        last_host_id=instance.host_id or instance.last_host_id)
            event(session, instance, owner, "VM.DESTROY", f"Destroyed instance {instance.name}")
        elif instance.state != S.DESTROYED.value:
            raise states.InvalidState(f"Unable to destroy instance {instance.name} in state {instance.state}",
                                      uuids=[instance.uuid])

    def expunge(self, uuid: str, owner: JobOwner) -> None:
        """Expunge a Destroyed instance: `delete` on its last host (when it ever had one), then release its
        NICs and remove it. A failed delete leaves it Destroyed."""
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if instance.state != S.DESTROYED.value:
                raise states.InvalidState(f"Unable to expunge instance {instance.name} in state {instance.state}; "
                                          "destroy it first", uuids=[uuid])
            host_id = instance.host_id or instance.last_host_id
            target = host_target(session, host_id) if host_id is not None else None
            info = instance_infos(session, [instance], unseal=self.unseal_vnc, state=S.EXPUNGING.value)[instance.id]
            caller = caller_info(session, owner)
            states.move(session, instance, S.EXPUNGING)  # the writes last (see start)
            ticket = self.journal.open(session, instance, "delete", extension_name=target.extension_name,
                                       host_id=host_id) if target is not None else None
        details: str | None = None
        ended = RunOutcome.SUCCEEDED
        what = f"the expunge of instance {uuid}"
        try:
            if target is not None and ticket is not None:
                outcome = self.actions.run(target, "delete", info, caller=caller, files=ticket.files,
                                           started=self.journal.recorder(ticket))
                details = None if outcome.result.success else outcome.result.details
                ended = outcome_of(outcome.result)
        except Exception:  # never leave it Expunging
            until_available(lambda: self._expunge_failed(uuid, owner, "the delete did not complete", ticket,
                                                         RunOutcome.FAILED), what=what)
            self.journal.forget(ticket)
            raise
        if details is not None:
            failure = details
            until_available(lambda: self._expunge_failed(uuid, owner, failure, ticket, ended), what=what)
            self.journal.forget(ticket)
            raise ExtensionFailed(f"Failed to delete instance {info.internal_name}: {details}", uuids=[uuid])

        def removed() -> None:
            with self.db.session() as session:
                if ticket is not None:
                    self.journal.close(session, ticket, RunOutcome.SUCCEEDED, 0)
                nics.release_instance_nics(session, instance.id)
                volumes.release_volumes(session, instance.id)
                tags.delete_resource_tags(session, "UserVm", instance.id)
                mark_removed(session, uuid, instance.id)
                event(session, instance, owner, "VM.EXPUNGE", f"Expunged instance {instance.name}")

        until_available(removed, what=what)
        self.journal.forget(ticket)

    def _close(self, ticket: RunTicket, outcome: RunOutcome) -> None:
        with self.db.session() as session:
            self.journal.close(session, ticket, outcome)

    def _expunge_failed(self, uuid: str, owner: JobOwner, reason: str, ticket: RunTicket | None,
                        ended: RunOutcome) -> None:
        with self.db.session() as session:
            if ticket is not None:
                self.journal.close(session, ticket, ended)
            instance = get_instance(session, uuid)
            if instance.state == S.EXPUNGING.value:
                states.move(session, instance, S.DESTROYED)
                event(session, instance, owner, "VM.EXPUNGE", f"Failed to expunge instance {instance.name}: "
                      f"{reason}", error=True)

    def recover(self, session: Session, instance: Instance, owner: JobOwner) -> None:
        """Destroyed → Stopped, in the caller's transaction; no extension call (CloudStack's recover)."""
        if instance.state != S.DESTROYED.value:
            raise states.InvalidState(f"Unable to recover instance {instance.name} in state {instance.state}",
                                      uuids=[instance.uuid])
        states.move(session, instance, S.STOPPED)
        event(session, instance, owner, "VM.RECOVER", f"Recovered instance {instance.name}")

    def caller_info(self, owner: JobOwner) -> CallerInfo | None:
        """The payload's `caller` for the job's submitter, in a transaction of its own (for other areas,
        e.g. custom actions); None for system jobs."""
        with self.db.session() as session:
            return caller_info(session, owner)

    # -- interrupted jobs ----------------------------------------------------------------------------------

    def repair(self, uuid: str, *, deploying: bool = False) -> str | None:
        """Put an instance a dead server left half-done into a stable one (see `switchboard.compute.repair`;
        `deploying`: the interrupted job was a deploy that was to start it); the new state, or None when
        nothing needed repair (or its run is still to be settled by the run watcher)."""
        with self.db.session() as session:
            return repair_instance(session, uuid, deploying=deploying)
