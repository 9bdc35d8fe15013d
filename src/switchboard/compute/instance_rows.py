"""Instance rows as operations read and remove them: by public id, live only."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.compute import Instance
from switchboard.errors import NotFound

__all__ = ["get_instance", "host_in_use", "mark_removed", "not_found"]

# Built once: every step of every operation reads its instance.
_LIVE_BY_UUID = select(Instance).where(Instance.uuid == bindparam("uuid"), Instance.removed.is_(None))
_INSTANCE = cast(Table, Instance.__table__)  # declared a FromClause; it is the model's Table
_REMOVE = (
    update(_INSTANCE).where(_INSTANCE.c.id == bindparam("instance_id"), _INSTANCE.c.removed.is_(None))
    .values(removed=bindparam("now"))
)


def get_instance(session: Session, uuid: str, *, parameter: str = "id") -> Instance:
    """The live (not expunged) instance with public id `uuid`; NotFound otherwise."""
    instance = session.execute(_LIVE_BY_UUID, {"uuid": uuid}).scalar_one_or_none()
    if instance is None:
        raise not_found(uuid, parameter)
    return instance


def not_found(uuid: str, parameter: str = "id") -> NotFound:
    """The NotFound an unknown or expunged instance `uuid` is answered with."""
    return NotFound(f"Unable to find virtual machine with id {uuid} (parameter {parameter})", uuids=[uuid])


def mark_removed(session: Session, uuid: str, instance_id: int) -> None:
    """Expunge the instance's row (set `removed`); NotFound when it is already expunged."""
    if session.connection().execute(_REMOVE, {"instance_id": instance_id, "now": utcnow()}).rowcount != 1:
        raise not_found(uuid)


def host_in_use(session: Session, host_id: int) -> str | None:
    """Why the host may not be deleted (a live instance placed there), or None: infrastructure's usage check.

    Networks need no such check: infrastructure refuses to delete a network while NICs are on it."""
    found = session.execute(
        select(Instance.name).where(Instance.host_id == host_id, Instance.removed.is_(None)).limit(1)
    ).scalar_one_or_none()
    return f"The host is still used by instance {found}" if found is not None else None
