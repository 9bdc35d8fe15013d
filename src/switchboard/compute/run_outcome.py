"""Settling an instance by the outcome of a run its server did not live to record (see compute.run_watch).

The moves are those the operation itself would have made, judged by what the run really did:

* prepare: Starting → Error, however it ended (create never ran: its server died before).
* create / start: succeeded → Running; failed or timed out → Error (create) / Stopped (start); lost →
  Running when the extension reports PowerOn, else Error / Stopped.
* stop: succeeded → Stopped; failed or timed out → Running (a forced stop: Stopped); lost → Stopped on
  PowerOff, Running on PowerOn, Running with PowerUnknown otherwise (power sync will tell).
* reboot: the instance stays Running; an event says how the reboot ended.
* delete: succeeded → expunged (NICs released); failed, timed out or lost → Destroyed (expunge it again:
  `delete` is idempotent).

Each settling writes one event that says what happened: which run, started by which server, and how it
ended. An instance that is no longer in the state the run left it in (someone else settled it) is left
alone; the run is marked settled either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from switchboard.compute import states
from switchboard.compute.audit import owner_ids
from switchboard.compute.deploy import DEPLOY_VM
from switchboard.compute.instance_rows import mark_removed
from switchboard.compute.runs import RunJournal
from switchboard.db.base import utcnow
from switchboard.db.models.compute import ExtensionRun, Instance, InstanceDetail, RunOutcome
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.db.models.events import EventLevel
from switchboard.db.models.infrastructure import Host
from switchboard.extensions.payload_model import PowerState
from switchboard.infra import nics
from switchboard.infra.events import record_event

__all__ = ["Verdict", "settle_run"]


@dataclass(frozen=True)
class Verdict:
    """How a run ended: its outcome and exit code, what it printed (or why nothing is known), and for a
    lost run what the extension's `status` said."""

    outcome: RunOutcome
    exit_code: int | None = None
    details: str = ""
    power: PowerState = PowerState.POWER_UNKNOWN

    def said(self, action: str, started_by: str) -> str:
        """`its create, started by management server X, succeeded` and the like."""
        run = f"its {action}, started by management server {started_by},"
        if self.outcome is RunOutcome.SUCCEEDED:
            return f"{run} succeeded after that server stopped"
        if self.outcome is RunOutcome.TIMED_OUT:
            return f"{run} timed out after that server stopped"
        if self.outcome is RunOutcome.FAILED:
            return f"{run} failed after that server stopped: {self.details}"
        return (f"{run} was lost when that server stopped (it ended without an exit status); the extension "
                f"reports {self.power.value}")


def settle_run(session: Session, run: ExtensionRun, verdict: Verdict) -> str | None:
    """Record `verdict` on the run's instance and mark the run settled, in the caller's transaction.

    Returns the instance's state afterwards ("Expunged" when it was removed), or None when the run had
    already been settled by someone else (nothing is changed then)."""
    if not RunJournal.close(session, run.id, verdict.outcome, verdict.exit_code):
        return None
    instance = session.execute(select(Instance).where(Instance.id == run.instance_id)).scalar_one()
    if instance.removed is not None:
        return "Expunged"
    settle = _SETTLERS.get(run.action)
    if settle is not None:
        settle(session, instance, run, verdict)
    return "Expunged" if instance.removed is not None else instance.state


def _event(session: Session, instance: Instance, type_: str, text: str, *, error: bool = False) -> None:
    record_event(session, type=type_, description=text, actor=owner_ids(instance), resource_type="VirtualMachine",
                 resource_uuid=instance.uuid, level=EventLevel.ERROR if error else EventLevel.INFO)


def _host_name(session: Session, host_id: int | None) -> str:
    name = session.execute(select(Host.name).where(Host.id == host_id)).scalar_one_or_none() if host_id else None
    return f" on host {name}" if name else ""


def _prepare(session: Session, instance: Instance, run: ExtensionRun, verdict: Verdict) -> None:
    if instance.state == S.STARTING.value:
        states.move(session, instance, S.ERROR)
        _event(session, instance, "VM.CREATE", f"Failed to deploy instance {instance.name}: "
               f"{verdict.said('prepare', run.started_by)}; create never ran", error=True)


def _start(session: Session, instance: Instance, run: ExtensionRun, verdict: Verdict) -> None:
    if instance.state != S.STARTING.value:
        return
    deploying = run.action == "create"
    started = verdict.outcome is RunOutcome.SUCCEEDED or (
        verdict.outcome is RunOutcome.LOST and verdict.power is PowerState.POWER_ON)
    what = "Deployed" if deploying else "Started"
    kind = "VM.CREATE" if deploying else "VM.START"
    said = verdict.said(run.action, run.started_by)
    if started:
        states.move(session, instance, S.RUNNING, host_id=run.host_id, last_host_id=run.host_id,
                    power_state=P.POWER_ON.value, power_state_updated=utcnow())
        if deploying:
            session.execute(delete(InstanceDetail).where(InstanceDetail.instance_id == instance.id,
                                                         InstanceDetail.name == DEPLOY_VM))
        _event(session, instance, kind, f"{what} instance {instance.name}{_host_name(session, run.host_id)}: {said}")
        return
    if deploying:
        states.move(session, instance, S.ERROR)
    else:
        states.move(session, instance, S.STOPPED, host_id=None)
    _event(session, instance, kind, f"Failed to {'deploy' if deploying else 'start'} instance {instance.name}: "
           f"{said}", error=True)


def _stop(session: Session, instance: Instance, run: ExtensionRun, verdict: Verdict) -> None:
    if instance.state != S.STOPPING.value:
        return
    forced = bool(run.context.get("forced"))
    confirmed_off = verdict.outcome is RunOutcome.SUCCEEDED or (
        verdict.outcome is RunOutcome.LOST and verdict.power is PowerState.POWER_OFF)
    said = verdict.said("stop", run.started_by)
    now = utcnow()
    if confirmed_off or forced:
        power: dict[str, Any] = {"power_state": P.POWER_OFF.value} if confirmed_off else {}
        states.move(session, instance, S.STOPPED, host_id=None, last_host_id=run.host_id,
                    power_state_updated=now, **power)
        _event(session, instance, "VM.STOP", f"Stopped instance {instance.name}"
               f"{' (forced)' if forced and not confirmed_off else ''}: {said}")
        return
    # A failed stop leaves the power state as power sync last saw it; a lost one, as the extension says.
    reported = P.POWER_ON if verdict.power is PowerState.POWER_ON else P.POWER_UNKNOWN
    power = {"power_state": reported.value, "power_state_updated": now} \
        if verdict.outcome is RunOutcome.LOST else {}
    states.move(session, instance, S.RUNNING, **power)
    _event(session, instance, "VM.STOP", f"Failed to stop instance {instance.name}: {said}",
           error=verdict.outcome is not RunOutcome.LOST)


def _reboot(session: Session, instance: Instance, run: ExtensionRun, verdict: Verdict) -> None:
    said = verdict.said("reboot", run.started_by)
    if verdict.outcome is RunOutcome.SUCCEEDED:
        instance.power_off_reports = 0  # reports from before the reboot ended do not count
        _event(session, instance, "VM.REBOOT", f"Rebooted instance {instance.name}: {said}")
    else:
        _event(session, instance, "VM.REBOOT", f"Reboot of instance {instance.name} not confirmed: {said}",
               error=verdict.outcome is not RunOutcome.LOST)


def _delete(session: Session, instance: Instance, run: ExtensionRun, verdict: Verdict) -> None:
    if instance.state != S.EXPUNGING.value:
        return
    said = verdict.said("delete", run.started_by)
    if verdict.outcome is RunOutcome.SUCCEEDED:
        nics.release_instance_nics(session, instance.id)
        mark_removed(session, instance.uuid, instance.id)
        set_committed_value(instance, "removed", utcnow())
        _event(session, instance, "VM.EXPUNGE", f"Expunged instance {instance.name}: {said}")
        return
    states.move(session, instance, S.DESTROYED)
    _event(session, instance, "VM.EXPUNGE", f"Failed to expunge instance {instance.name}: {said}; expunge it "
           "again", error=True)


_SETTLERS = {"prepare": _prepare, "create": _start, "start": _start, "stop": _stop, "reboot": _reboot,
             "delete": _delete}
