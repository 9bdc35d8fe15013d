"""Starting an instance: the first start of a deployed instance runs `prepare` (when the template's extension
requires it) and `create`; later starts run `start`. See `switchboard.compute.lifecycle` for the shape every
operation has (one transaction in, the run outside any, one transaction out) and the states a failure
leaves: a failed first start → Error, a failed later start → Stopped."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from switchboard.compute import states
from switchboard.compute.actions import Actions
from switchboard.compute.audit import caller_info, event
from switchboard.compute.planner import plan
from switchboard.compute.records import DEPLOY_VM, HostTarget, host_target, instance_infos
from switchboard.compute.rows import get_instance, not_found
from switchboard.compute.settling import settle, why
from switchboard.compute.vnc import VncSecrets
from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance, InstanceDetail
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.db.models.infrastructure import ServiceOffering, Template
from switchboard.db.outage import until_available
from switchboard.errors import ExtensionFailed, SwitchboardError
from switchboard.extensions.payload_model import CallerInfo, InstanceInfo
from switchboard.extensions.prepare_output import PrepareOutcome, PrepareOutputError, apply_prepare_output
from switchboard.infra import nics
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


class Starter:
    """Starts instances for `Lifecycle.start` (same contract: blocks, raises SwitchboardError subclasses)."""

    def __init__(self, *, db: Database, actions: Actions, vnc: VncSecrets) -> None:
        self.db = db
        self.actions = actions
        self.vnc = vnc

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
                states.move(session, instance, S.STARTING, host_id=host.id)
                started = _Started(instance, target, info, deploying,
                                   prepare=first and deploying and target.requires_prepare, caller=caller)
        if failure is not None:
            raise failure
        try:
            self._run_start(uuid, owner, started)
            until_available(lambda: self._started(uuid, owner, started), what=f"the start of instance {uuid}")
        except Exception as exc:  # the boundary that keeps an instance from staying in Starting
            reason = why(exc)
            until_available(lambda: self._start_failed(uuid, owner, deploying=started.deploying, reason=reason),
                          what=f"the failed start of instance {uuid}")
            raise

    def _started(self, uuid: str, owner: JobOwner, started: _Started) -> None:
        with self.db.session() as session:
            instance = settle(session, started.instance, S.RUNNING, expected=S.STARTING, strict=True,
                                    last_host_id=started.target.host_id, power_state=P.POWER_ON.value,
                                    power_state_updated=utcnow())
            if instance is None:  # not possible when strict; keeps the type checker informed
                raise not_found(uuid)
            if started.deploying:
                session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id,
                                                             InstanceDetail.name == DEPLOY_VM))
            event(session, instance, owner, "VM.CREATE" if started.deploying else "VM.START",
                  f"{'Deployed' if started.deploying else 'Started'} instance {instance.name} on host "
                  f"{started.target.host_name}")

    def _run_start(self, uuid: str, owner: JobOwner, started: _Started) -> None:
        caller = started.caller
        info = started.info
        if started.prepare:
            outcome = self.actions.run(started.target, "prepare", info, caller=caller)
            if not outcome.result.success:
                raise ExtensionFailed(f"Failed to prepare VM: {outcome.result.details}", uuids=[uuid])
            try:
                merged = apply_prepare_output(outcome.payload["cloudstack.vm.details"], outcome.result.output)
            except PrepareOutputError as exc:
                raise ExtensionFailed(f"Failed to prepare VM: {exc} ({exc.reason})", uuids=[uuid]) from exc
            info = self._persist_prepare(uuid, merged)
        action = "create" if started.deploying else "start"
        outcome = self.actions.run(started.target, action, info, caller=caller)
        if not outcome.result.success:
            raise ExtensionFailed(f"Failed to {action} instance {info.internal_name}: {outcome.result.details}",
                                  uuids=[uuid])

    def _persist_prepare(self, uuid: str, merged: PrepareOutcome) -> InstanceInfo:
        """Keep what §2.6 keeps: the VNC password, the whole details map, NIC mac/ip/ip6address."""
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if merged.vnc_password is not None:
                instance.vnc_password_sealed = self.vnc.seal(uuid, merged.vnc_password)
            session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id))
            session.add_all(InstanceDetail(instance_id=instance.id, name=k, value=v) for k, v in merged.details.items())
            for update in merged.nics:
                nic = nics.get_nic(session, update.nic_uuid)
                if nic.instance_id != instance.id:
                    continue  # prepare may only change this instance's NICs
                nics.update_addresses(session, nic, mac=update.mac, ip=update.ip, ip6=update.ip6_address)
            session.flush()
            return instance_infos(session, [instance], unseal=self.vnc.unseal)[instance.id]

    def _start_failed(self, uuid: str, owner: JobOwner, *, deploying: bool, reason: str) -> None:
        with self.db.session() as session:
            instance = get_instance(session, uuid)
            if instance.state != S.STARTING.value:
                return
            if deploying:
                states.move(session, instance, S.ERROR)
            else:
                states.move(session, instance, S.STOPPED, host_id=None)
            event(session, instance, owner, "VM.CREATE" if deploying else "VM.START",
                  f"Failed to {'deploy' if deploying else 'start'} instance {instance.name}: {reason}", error=True)
