"""Repair of an instance whose operation was cut short by a dying server (the jobs' interruption hook)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.compute import states
from switchboard.compute.audit import owner_ids
from switchboard.compute.deploy import DEPLOY_VM
from switchboard.compute.runs import has_unsettled_run
from switchboard.db.models.compute import Instance
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.extensions.payload_inputs import details_of
from switchboard.infra.events import record_event

__all__ = ["repair_instance"]


def repair_instance(session: Session, uuid: str, *, deploying: bool = False) -> str | None:
    """Put an instance a dead server left half-done into a stable one; idempotent.

    An instance with a run whose outcome is not recorded yet is left alone: the run watcher of a live server
    waits for that run and settles the instance by what it really did (switchboard.compute.run_watch).
    Otherwise no extension run was under way, so nothing happened on the backend: Starting → Error (a
    deploy) or Stopped; Stopping → Running (PowerUnknown: power sync will tell); Expunging → Destroyed; and a
    deploy (`deploying`) cut short before the instance reached Starting → Error, as a failed deploy ends.
    Returns the new state, or None when nothing needed repair."""
    instance = session.execute(select(Instance).where(Instance.uuid == uuid)).scalar_one_or_none()
    if instance is None or instance.removed is not None:
        return None
    if session.execute(select(has_unsettled_run(instance.id))).scalar():
        return None
    details = details_of(session, [instance.id])[instance.id]
    first_start = details.get(DEPLOY_VM) == "true"
    repairs: dict[str, tuple[S, dict[str, Any]]] = {
        S.STARTING.value: (S.ERROR, {}) if first_start else (S.STOPPED, {"host_id": None}),
        S.STOPPING.value: (S.RUNNING, {"power_state": P.POWER_UNKNOWN.value}),
        S.EXPUNGING.value: (S.DESTROYED, {}),
    }
    if deploying and first_start and instance.updated == 0:
        repairs[S.STOPPED.value] = (S.ERROR, {})
    repair = repairs.get(instance.state)
    if repair is None:
        return None
    target, values = repair
    before = instance.state
    try:
        states.move(session, instance, target, **values)
    except states.InstanceBusy:  # something moved it meanwhile: it is no longer ours to repair
        return None
    text = (f"Instance {instance.name} was being deployed when its management server stopped, before anything "
            f"ran on the backend; now {target.value}") if before == S.STOPPED.value else \
        (f"Instance {instance.name} was {before} when its management server stopped, with no extension run under "
         f"way; now {target.value}")
    record_event(session, type="VM.REPAIR", description=text, actor=owner_ids(instance),
                 resource_type="VirtualMachine", resource_uuid=instance.uuid)
    return target.value
