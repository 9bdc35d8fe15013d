"""Recording how an operation ended: the conditional move of an instance out of the transitional state the
operation left it in, and the words an event uses for a failure."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from switchboard.compute import states
from switchboard.compute.instance_rows import get_instance
from switchboard.db.models.compute import Instance
from switchboard.db.models.compute import InstanceState as S
from switchboard.db.outage import explain, unavailable
from switchboard.errors import SwitchboardError

__all__ = ["settle", "why"]


def settle(session: Session, instance: Instance, target: S, *, expected: S, strict: bool = False,
           **values: Any) -> Instance | None:
    """Move `instance`, which this operation left `expected` in an earlier transaction, to `target`.

    The move is conditional on the instance being unchanged since, so it needs no fresh read. If it did
    change (or this object is ahead of the database), it is read again: None when it is no longer `expected`
    (someone else settled it; with `strict` the move is tried anyway and fails as the state machine
    says), else the move is made on what was read. Returns the moved instance."""
    if instance.state == expected.value:
        try:
            states.move(session, instance, target, **values)
            return instance
        except states.InstanceBusy:
            pass
    # It changed meanwhile (e.g. a takeover repaired it), or an earlier attempt of this write moved the
    # object but could not commit (`until_available`): judge it as the database has it now.
    current = get_instance(session, instance.uuid)
    if current.state != expected.value and not strict:
        return None
    states.move(session, current, target, **values)
    return current


def why(exc: Exception) -> str:
    """What an event says of a failure: never a driver's message, which may quote SQL and its values."""
    if isinstance(exc, SwitchboardError):
        return exc.message
    reason = unavailable(exc)
    if reason is not None:
        return explain(reason)
    return str(exc) if not isinstance(exc, SQLAlchemyError) else "an internal error (see the server log)"
