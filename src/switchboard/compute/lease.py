"""Named leases in the database: at most one server run holds a lease at a time (SQLite and PostgreSQL).

A holder renews its lease each time it acquires it; when it stops renewing (a dead server), the lease is
free again after its time-to-live and another server takes it. A holder that is a server run (its `runid`)
is known dead sooner: once no Up server with a fresh heartbeat has that run, the lease is free at once, so a
server restarted after a crash, or the survivor of a dead one, does not wait out the time-to-live.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.compute import ComputeLease
from switchboard.db.models.jobs import ManagementServer
from switchboard.infra.common import savepoint
from switchboard.jobs import ServerStatus

__all__ = ["acquire", "release"]


def acquire(session: Session, name: str, holder: str, ttl: float, *,
            live_since: dt.datetime | None = None) -> bool:
    """Take or renew lease `name` for `ttl` seconds; False when another holder's lease has not expired.
    With `live_since`, holders are server runids, and a lease whose holder is not the run of an Up server
    heartbeating since then is taken even before it expires."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=ttl)
    free = [ComputeLease.holder == holder, ComputeLease.holder.is_(None), ComputeLease.expires < now]
    if live_since is not None:
        live_runs = select(ManagementServer.runid).where(ManagementServer.status == ServerStatus.UP.value,
                                                         ManagementServer.last_heartbeat >= live_since)
        free.append(ComputeLease.holder.not_in(live_runs))
    result = session.execute(
        update(ComputeLease)
        .where(ComputeLease.name == name, or_(*free))
        .values(holder=holder, expires=expires)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    if session.get(ComputeLease, name) is not None:
        return False
    try:
        with savepoint(session):
            session.add(ComputeLease(name=name, holder=holder, expires=expires))
            session.flush()
    except IntegrityError:  # another server created it first: it holds it
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up if `holder` holds it (a clean stop lets another server take over at once)."""
    session.execute(
        update(ComputeLease).where(ComputeLease.name == name, ComputeLease.holder == holder)
        .values(holder=None).execution_options(synchronize_session=False)
    )
