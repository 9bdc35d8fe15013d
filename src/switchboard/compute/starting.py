"""Starting an instance: the first start of a deployed instance runs `prepare` (when the template's extension
requires it) and `create`; later starts run `start`. See `switchboard.compute.lifecycle` for the shape every
operation has (one transaction in, the run outside any, one transaction out) and the states a failure
leaves: a failed first start → Error, a failed later start → Stopped. `create` and `start` carry what the
guest is given (`vmData`: user data, metadata, SSH keys), as CloudStack's StartCommand does; `prepare` does
not (CloudStack prepares before it builds that)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import delete, select

from switchboard.compute import states
from switchboard.compute.actions import ActionOutcome, Actions
from switchboard.compute.audit import caller_info, event
from switchboard.compute.deploy import DEPLOY_VM, SSH_PUBLIC_KEY
from switchboard.compute.instance_rows import get_instance, not_found
from switchboard.compute.planner import plan
from switchboard.compute.runs import RunJournal, RunTicket, outcome_of
from switchboard.compute.settling import settle, why
from switchboard.compute.vnc import VncSecrets
from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance, InstanceDetail, RunOutcome
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.db.models.infrastructure import ServiceOffering, Template
from switchboard.db.outage import until_available
from switchboard.errors import ExtensionFailed, SwitchboardError
from switchboard.extensions.payload_inputs import HostTarget, guest_data, host_target, instance_infos
from switchboard.extensions.payload_model import CallerInfo, GuestData, InstanceInfo
from switchboard.extensions.prepare_output import PrepareOutcome, PrepareOutputError, apply_prepare_output
from switchboard.infra import nics, volumes
from switchboard.jobs import JobOwner

__all__ = ["Starter"]


@dataclass(frozen=True)
class _Started:
    """A start under way: the instance as moved to Starting, and what the runs need."""

    instance: Instance
    target: HostTarget
    info: InstanceInfo
    deploying: bool
    prepare: bool
    caller: CallerInfo | None
    guest: GuestData  # what create/start hand the guest (vmData, SSH keys); prepare gets none
    ticket: RunTicket  # the first run (prepare, create or start), opened with the move to Starting


@dataclass
class _Progress:
    """Which run is open now (prepare hands over to create), and how the last one ended."""

    ticket: RunTicket
    ended: RunOutcome = RunOutcome.FAILED


class Starter:
    """Starts instances for `Lifecycle.start` (same contract: blocks, raises SwitchboardError subclasses)."""

    def __init__(self, *, db: Database, actions: Actions, vnc: VncSecrets, journal: RunJournal) -> None:
        self.db = db
        self.actions = actions
        self.vnc = vnc
        self.journal = journal

    def start(self, uuid: str, owner: JobOwner, *, wanted_host_id: int | None = None) -> None:
        """Start a Stopped instance (nothing to do when it is Running). The first start of a deployed
        instance runs `prepare` (if required) and `create`; later ones `start`."""
        failure: SwitchboardError | None = None
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if instance.state == S.RUNNING.value:
                return
            if instance.state != S.STOPPED.value:
                raise states.InvalidState(f"Unable to start instance {instance.name} in state {instance.state}",
                                          uuids=[uuid])
            first = instance.updated == 0
            # What the run needs is read first (the payload says Starting); its details tell a deploy.
            info = instance_infos(session, [instance], unseal=self.vnc.unseal, state=S.STARTING.value)[instance.id]
            deploying = info.details.get(DEPLOY_VM) == "true"
            template = session.get_one(Template, instance.template_id)
            offering = session.get_one(ServiceOffering, instance.service_offering_id)
            try:
                host, _extension = plan(session, instance, template, offering, wanted_host_id=wanted_host_id)
                target = host_target(session, host.id)
            except SwitchboardError as exc:
                if not deploying:
                    raise
                states.move(session, instance, S.ERROR)
                event(session, instance, owner, "VM.CREATE", f"Failed to deploy instance {instance.name}: {exc}",
                      error=True)
                failure = exc
            else:
                # Reads first, the move last: on SQLite the write lock is then held only for the move.
                caller = caller_info(session, owner)
                guest = guest_data(session, instance, public_keys=info.details.get(SSH_PUBLIC_KEY))
                states.move(session, instance, S.STARTING, host_id=host.id)
                prepare = first and deploying and target.requires_prepare
                action = "prepare" if prepare else ("create" if deploying else "start")
                ticket = self.journal.open(session, instance, action, extension_name=target.extension_name,
                                           host_id=host.id, context={"deploying": deploying})
                started = _Started(instance, target, info, deploying, prepare=prepare, caller=caller, guest=guest,
                                   ticket=ticket)
        if failure is not None:
            raise failure
        progress = _Progress(started.ticket)
        try:
            self._run_start(uuid, owner, started, progress)
            until_available(lambda: self._started(uuid, owner, started, progress.ticket),
                            what=f"the start of instance {uuid}")
        except Exception as exc:  # the boundary that keeps an instance from staying in Starting
            reason = why(exc)
            until_available(lambda: self._start_failed(uuid, owner, deploying=started.deploying, reason=reason,
                                                       progress=progress),
                            what=f"the failed start of instance {uuid}")
            raise
        finally:
            self.journal.forget(progress.ticket)

    def _started(self, uuid: str, owner: JobOwner, started: _Started, ticket: RunTicket) -> None:
        with self.db.session() as session:
            self.journal.close(session, ticket, RunOutcome.SUCCEEDED, 0)
            instance = settle(session, started.instance, S.RUNNING, expected=S.STARTING, strict=True,
                                    last_host_id=started.target.host_id, power_state=P.POWER_ON.value,
                                    power_state_updated=utcnow())
            if instance is None:  # not possible when strict; keeps the type checker informed
                raise not_found(uuid)
            if started.deploying:
                session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id,
                                                             InstanceDetail.name == DEPLOY_VM))
                volumes.mark_ready(session, instance.id)
            event(session, instance, owner, "VM.CREATE" if started.deploying else "VM.START",
                  f"{'Deployed' if started.deploying else 'Started'} instance {instance.name} on host "
                  f"{started.target.host_name}")

    def _run_start(self, uuid: str, owner: JobOwner, started: _Started, progress: _Progress) -> None:
        info = started.info
        if started.prepare:
            outcome = self._run(started, "prepare", info, progress)
            if not outcome.result.success:
                raise ExtensionFailed(f"Failed to prepare VM: {outcome.result.details}", uuids=[uuid])
            try:
                merged = apply_prepare_output(outcome.payload["cloudstack.vm.details"], outcome.result.output)
            except PrepareOutputError as exc:
                progress.ended = RunOutcome.FAILED  # it ran, but its answer cannot be used
                raise ExtensionFailed(f"Failed to prepare VM: {exc} ({exc.reason})", uuids=[uuid]) from exc
            prepared = progress.ticket
            admin_set = {*info.template.details, *info.offering.details}
            info, progress.ticket = until_available(
                lambda: self._persist_prepare(uuid, merged, started, prepared, admin_set=admin_set),
                what=f"the prepare of instance {uuid}")
            self.journal.forget(prepared)
            progress.ended = RunOutcome.FAILED
        action = "create" if started.deploying else "start"
        outcome = self._run(started, action, replace(info, guest=started.guest), progress)
        if not outcome.result.success:
            raise ExtensionFailed(f"Failed to {action} instance {info.internal_name}: {outcome.result.details}",
                                  uuids=[uuid])

    def _run(self, started: _Started, action: str, info: InstanceInfo, progress: _Progress) -> ActionOutcome:
        ticket = progress.ticket
        outcome = self.actions.run(started.target, action, info, caller=started.caller, files=ticket.files,
                                   started=self.journal.recorder(ticket))
        progress.ended = outcome_of(outcome.result)
        return outcome

    def _persist_prepare(self, uuid: str, merged: PrepareOutcome, started: _Started, prepared: RunTicket, *,
                         admin_set: set[str]) -> tuple[InstanceInfo, RunTicket]:
        """Keep what §2.6 keeps: the VNC password, the whole details map, NIC mac/ip/ip6address; settle the
        prepare run and open the create run in the same transaction (the instance always has one open).

        A detail keeps whether its owner may see it; one the merge brought in from the template or the
        offering (`admin_set`: their raw detail names) stays hidden from the owner, one the extension added
        is shown."""
        with self.db.session() as session:
            self.journal.close(session, prepared, RunOutcome.SUCCEEDED, 0)
            instance = get_instance(session, uuid)
            if merged.vnc_password is not None:
                instance.vnc_password_sealed = self.vnc.seal(uuid, merged.vnc_password)
            shown = dict(session.execute(select(InstanceDetail.name, InstanceDetail.display)
                                         .where(InstanceDetail.instance_id == instance.id)).tuples().all())
            session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id))
            session.add_all(InstanceDetail(instance_id=instance.id, name=k, value=v,
                                           display=shown.get(k, k not in admin_set))
                            for k, v in merged.details.items())
            for update in merged.nics:
                nic = nics.get_nic(session, update.nic_uuid)
                if nic.instance_id != instance.id:
                    continue  # prepare may only change this instance's NICs
                nics.update_addresses(session, nic, mac=update.mac, ip=update.ip, ip6=update.ip6_address)
            session.flush()
            info = instance_infos(session, [instance], unseal=self.vnc.unseal)[instance.id]
            ticket = self.journal.open(session, instance, "create", extension_name=started.target.extension_name,
                                       host_id=started.target.host_id, context={"deploying": True})
            return info, ticket

    def _start_failed(self, uuid: str, owner: JobOwner, *, deploying: bool, reason: str,
                      progress: _Progress) -> None:
        with self.db.session() as session:
            self.journal.close(session, progress.ticket, progress.ended)
            instance = get_instance(session, uuid)
            if instance.state != S.STARTING.value:
                return
            if deploying:
                states.move(session, instance, S.ERROR)
            else:
                states.move(session, instance, S.STOPPED, host_id=None)
            event(session, instance, owner, "VM.CREATE" if deploying else "VM.START",
                  f"Failed to {'deploy' if deploying else 'start'} instance {instance.name}: {reason}", error=True)
