"""The instance state machine: which moves exist, and the one function that makes them.

Every move is a conditional UPDATE on (id, state, updated): it succeeds for exactly one caller, on one
server or many, and bumps `updated`. A caller that loses the race gets InstanceBusy and changes nothing.

    Stopped   → Starting (start) · Destroyed (destroy) · Error (deploy could not be planned or was cut
                short) · Running (power sync: the extension reports PowerOn)
    Starting  → Running (started) · Stopped (start failed) · Error (first start failed)
    Running   → Stopping (stop) · Stopped (power sync: PowerOff twice)
    Stopping  → Stopped (stopped, or forced) · Running (stop failed)
    Error     → Destroyed (destroy)
    Destroyed → Stopped (recover) · Expunging (expunge)
    Expunging → Destroyed (delete failed); an expunged instance stays Expunging with `removed` set
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from switchboard.db.base import utcnow
from switchboard.db.models.compute import Instance
from switchboard.db.models.compute import InstanceState as S
from switchboard.errors import Conflict, InvalidParameter

__all__ = ["TRANSITIONS", "InstanceBusy", "InvalidState", "can_move", "move"]

TRANSITIONS: Mapping[S, frozenset[S]] = {
    S.STOPPED: frozenset({S.STARTING, S.DESTROYED, S.ERROR, S.RUNNING}),
    S.STARTING: frozenset({S.RUNNING, S.STOPPED, S.ERROR}),
    S.RUNNING: frozenset({S.STOPPING, S.STOPPED}),
    S.STOPPING: frozenset({S.STOPPED, S.RUNNING}),
    S.ERROR: frozenset({S.DESTROYED}),
    S.DESTROYED: frozenset({S.STOPPED, S.EXPUNGING}),
    S.EXPUNGING: frozenset({S.DESTROYED}),
}


class InstanceBusy(Conflict):
    """Another operation changed the instance first (its state or `updated` no longer match)."""


class InvalidState(InvalidParameter):
    """The operation is not possible in the instance's current state."""


def can_move(current: str, target: S) -> bool:
    """True when the state machine has the move `current → target`."""
    return target in TRANSITIONS.get(S(current), frozenset())


_INSTANCE = cast(Table, Instance.__table__)  # declared a FromClause; it is the model's Table
# Every move sets these; callers add others (host_id, power_state, ...) by keyword.
_ALWAYS = ("state", "updated", "state_changed", "power_off_reports")


@functools.lru_cache(maxsize=32)
def _move_statement(extra: tuple[str, ...]) -> Update:
    """The conditional UPDATE of a move that also sets the `extra` columns. Built once per column set (a
    handful exist): building one per move, and computing its cache key, cost more than running it."""
    return (
        update(_INSTANCE)
        .where(_INSTANCE.c.id == bindparam("instance_id"), _INSTANCE.c.state == bindparam("current"),
               _INSTANCE.c.updated == bindparam("version"))
        .values({name: bindparam(f"new_{name}") for name in (*_ALWAYS, *extra)})
    )


def move(session: Session, instance: Instance, target: S, **values: Any) -> None:
    """Move `instance` to `target` (setting `values` as well) if nobody moved it since it was read.

    Raises InvalidState when the machine has no such move and InstanceBusy when another transaction moved
    the instance first. On success the ORM object carries the new values (as committed ones: the UPDATE
    already wrote them, so there is nothing for the session to flush and nothing to read back).
    """
    current = instance.state
    if not can_move(current, target):
        raise InvalidState(f"Instance {instance.name} cannot go from {current} to {target.value}",
                           uuids=[instance.uuid])
    changes = {"state": target.value, "updated": instance.updated + 1, "state_changed": utcnow(),
               "power_off_reports": 0, **values}
    statement = _move_statement(tuple(sorted(name for name in changes if name not in _ALWAYS)))
    result = session.connection().execute(statement, {
        "instance_id": instance.id, "current": current, "version": instance.updated,
        **{f"new_{name}": value for name, value in changes.items()},
    })
    if result.rowcount != 1:
        raise InstanceBusy(f"Instance {instance.name} is busy with another operation; try again",
                           uuids=[instance.uuid])
    for key, value in changes.items():
        set_committed_value(instance, key, value)
