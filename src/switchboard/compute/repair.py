"""Repair of an instance whose operation was cut short by a dying server (the jobs' interruption hook)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from switchboard.compute import states
from switchboard.compute.audit import owner_ids
from switchboard.compute.records import DEPLOY_VM, details_of
from switchboard.db.models.compute import Instance
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.models.compute import PowerStateValue as P
from switchboard.infra.events import record_event

__all__ = ["repair_instance"]


def repair_instance(session: Session, uuid: str) -> str | None:
    """Put an instance left in a transitional state by a dead server into a stable one; idempotent.

    Starting → Error (a deploy) or Stopped; Stopping → Running (the stop is unconfirmed: power sync
    will tell); Expunging → Destroyed. Returns the new state, or None when nothing needed repair."""
    instance = session.execute(select(Instance).where(Instance.uuid == uuid)).scalar_one_or_none()
    if instance is None or instance.removed is not None:
        return None
    deploying = details_of(session, [instance.id])[instance.id].get(DEPLOY_VM) == "true"
    repairs: dict[str, tuple[S, dict[str, Any]]] = {
        S.STARTING.value: (S.ERROR, {}) if deploying else (S.STOPPED, {"host_id": None}),
        S.STOPPING.value: (S.RUNNING, {"power_state": P.POWER_UNKNOWN.value}),
        S.EXPUNGING.value: (S.DESTROYED, {}),
    }
    repair = repairs.get(instance.state)
    if repair is None:
        return None
    target, values = repair
    before = instance.state
    states.move(session, instance, target, **values)
    record_event(session, type="VM.REPAIR", description=f"Instance {instance.name} was {before} when its "
                 f"management server stopped; now {target.value}", actor=owner_ids(instance),
                 resource_type="VirtualMachine", resource_uuid=instance.uuid)
    return target.value
