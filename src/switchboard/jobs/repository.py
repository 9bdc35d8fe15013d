"""Every query on the job and management-server tables. Callers own the session (or connection) and its
transaction.

Claiming works the same way on both databases: one `UPDATE ... WHERE id = (SELECT ... LIMIT 1) AND
status = 'pending' RETURNING ...`, which also hands back what running the job needs. On PostgreSQL the
inner SELECT takes the row with `FOR UPDATE SKIP LOCKED`, so concurrent claimers (threads or servers) pass
over each other's rows instead of queueing behind them; on SQLite the single statement takes the write
lock and the repeated status check keeps a row from being claimed twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, Update, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from switchboard.db.base import new_uuid, utcnow
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.jobs.context import JobOwner, JobSpec
from switchboard.jobs.states import JobStatus, ServerStatus


@dataclass(frozen=True)
class ServerRun:
    """This process's registration: the server's row id and public uuid, its name, and this run's id."""

    server_id: int
    uuid: str
    name: str
    runid: str


@dataclass(frozen=True)
class Orphan:
    """An in-progress job whose owner run is gone."""

    job_id: int
    runid: str | None
    server_name: str | None


# --- jobs -----------------------------------------------------------------------------------------------

# The hot statements (every job is inserted, claimed and finished once; idle workers look for work) are
# built once over the table: their cache keys are computed once and rows need no ORM objects.
_JOB = cast(Table, AsyncJob.__table__)  # declared a FromClause; it is the model's Table
_CLAIMED_COLUMNS = (
    _JOB.c.id, _JOB.c.uuid, _JOB.c.command, _JOB.c.handler, _JOB.c.args, _JOB.c.user_id, _JOB.c.user_uuid,
    _JOB.c.user_name, _JOB.c.account_id, _JOB.c.account_uuid, _JOB.c.account_name, _JOB.c.domain_id,
    _JOB.c.domain_uuid, _JOB.c.domain_path, _JOB.c.role_type, _JOB.c.instance_type, _JOB.c.instance_id,
    _JOB.c.interruption,
)


@functools.lru_cache(maxsize=16)
def _claim_statements(handlers: tuple[str, ...]) -> tuple[Select[int], Update]:
    """The look and the claim for one set of handler names (a server's set hardly ever changes). The names
    are plain parameters, not an expanding IN list, whose SQL would be rewritten at every execution."""
    waiting = (_JOB.c.status == JobStatus.PENDING.value, or_(*(_JOB.c.handler == name for name in handlers)))
    look = select(_JOB.c.id).where(*waiting).limit(2)  # two: whether others wait besides the one claimed
    claim = (
        update(_JOB)
        .where(
            _JOB.c.id == select(_JOB.c.id).where(*waiting).order_by(_JOB.c.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery(),
            _JOB.c.status == JobStatus.PENDING.value,
        )
        .values(status=JobStatus.IN_PROGRESS.value, owner_server_id=bindparam("server_id"),
                owner_runid=bindparam("run_id"), claimed=bindparam("now"))
        .returning(*_CLAIMED_COLUMNS)
    )
    return look, claim


_LOAD = select(*_CLAIMED_COLUMNS).where(_JOB.c.id == bindparam("job_id"))
_FINISH = (
    update(_JOB)
    .where(_JOB.c.id == bindparam("job_id"), _JOB.c.status == JobStatus.IN_PROGRESS.value,
           _JOB.c.owner_runid == bindparam("run_id"))
    .values(status=bindparam("new_status"), result_code=bindparam("code"), result=bindparam("outcome"),
            completed=bindparam("now"))
)
_INSERT = insert(_JOB)


@dataclass(frozen=True, kw_only=True)
class ClaimedJob:
    """What running (or repairing) a job needs of its row."""

    id: int
    uuid: str
    command: str
    handler: str
    args: dict[str, Any]
    owner: JobOwner
    instance_type: str | None
    instance_id: str | None
    interruption: str | None
    others_waiting: bool = False  # other jobs were pending when this one was claimed


def _claimed(row: Row[*tuple[Any, ...]], *, others_waiting: bool = False) -> ClaimedJob:
    return ClaimedJob(
        id=row.id, uuid=row.uuid, command=row.command, handler=row.handler, args=dict(row.args or {}),
        owner=JobOwner(
            user_id=row.user_id, user_uuid=row.user_uuid, user_name=row.user_name, account_id=row.account_id,
            account_uuid=row.account_uuid, account_name=row.account_name, domain_id=row.domain_id,
            domain_uuid=row.domain_uuid, domain_path=row.domain_path, role_type=row.role_type,
        ),
        instance_type=row.instance_type, instance_id=row.instance_id, interruption=row.interruption,
        others_waiting=others_waiting,
    )


def insert_job(session: Session, spec: JobSpec, *, now: dt.datetime) -> str:
    """Insert a pending job in the session's transaction: it lives or dies with it. Returns its uuid
    (chosen here, so no extra round trip is needed to learn it)."""
    owner = spec.owner
    uuid = new_uuid()
    session.connection().execute(_INSERT, {
        "uuid": uuid, "command": spec.command, "handler": spec.handler, "args": spec.args,
        "user_id": owner.user_id, "user_uuid": owner.user_uuid, "user_name": owner.user_name,
        "account_id": owner.account_id, "account_uuid": owner.account_uuid, "account_name": owner.account_name,
        "domain_id": owner.domain_id, "domain_uuid": owner.domain_uuid, "domain_path": owner.domain_path,
        "role_type": owner.role_type, "instance_type": spec.instance_type, "instance_id": spec.instance_id,
        "status": JobStatus.PENDING.value, "progress": 0, "result_code": 0, "created": now,
    })
    return uuid


def _connection(db: Session | Connection) -> Connection:
    return db if isinstance(db, Connection) else db.connection()


def claim_next(
    db: Session | Connection, *, run: ServerRun, handlers: Collection[str], now: dt.datetime
) -> ClaimedJob | None:
    """Claim the oldest pending job that one of `handlers` can run, in `db`'s transaction (the caller
    commits); None when there is none."""
    if not handlers:
        return None
    connection = _connection(db)
    look, claim = _claim_statements(tuple(sorted(handlers)))
    # Look before taking a write lock: idle workers poll, and on SQLite a write blocks every other writer.
    waiting = connection.execute(look).all()
    if not waiting:
        return None
    row = connection.execute(claim, {"server_id": run.server_id, "run_id": run.runid, "now": now}).first()
    return None if row is None else _claimed(row, others_waiting=len(waiting) > 1)


def load_job(session: Session, job_id: int) -> ClaimedJob:
    """The job with internal id `job_id` (it must exist)."""
    return _claimed(session.connection().execute(_LOAD, {"job_id": job_id}).one())


def finish(
    db: Session | Connection,
    *,
    job_id: int,
    runid: str,
    status: JobStatus,
    code: int,
    result: dict[str, Any] | None,
    now: dt.datetime,
) -> bool:
    """Record the outcome of a job this run owns. False when the job is no longer ours (it was taken over
    because this server was believed dead) - the outcome is then dropped."""
    changed = _connection(db).execute(_FINISH, {"job_id": job_id, "run_id": runid, "new_status": status.value,
                                                    "code": code, "outcome": result, "now": now})
    return bool(changed.rowcount)


def set_progress(session: Session, *, job_id: int, runid: str, value: int) -> bool:
    changed = session.execute(
        update(AsyncJob)
        .where(AsyncJob.id == job_id, AsyncJob.status == JobStatus.IN_PROGRESS.value, AsyncJob.owner_runid == runid)
        .values(progress=value)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def cancel_pending(session: Session, *, job_uuid: str, now: dt.datetime) -> bool:
    """Cancel a job that no worker has claimed yet. False if it is running, finished or unknown."""
    changed = session.execute(
        update(AsyncJob)
        .where(AsyncJob.uuid == job_uuid, AsyncJob.status == JobStatus.PENDING.value)
        .values(status=JobStatus.CANCELLED.value, completed=now)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def purge_finished(session: Session, *, before: dt.datetime) -> int:
    """Delete jobs that completed before `before`; returns how many."""
    deleted = session.execute(
        delete(AsyncJob)
        .where(AsyncJob.completed.is_not(None), AsyncJob.completed < before)
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def find_orphans(session: Session, *, cutoff: dt.datetime, own_runid: str) -> list[Orphan]:
    """In-progress jobs whose owner run is gone: the server restarted (another run id), shut down, or has
    not heartbeaten since `cutoff`. Jobs of this very run are never orphans to itself."""
    rows = session.execute(
        select(AsyncJob.id, AsyncJob.owner_runid, ManagementServer.name)
        .outerjoin(ManagementServer, AsyncJob.owner_server_id == ManagementServer.id)
        .where(
            AsyncJob.status == JobStatus.IN_PROGRESS.value,
            or_(AsyncJob.owner_runid.is_(None), AsyncJob.owner_runid != own_runid),
            or_(
                ManagementServer.id.is_(None),
                ManagementServer.runid != AsyncJob.owner_runid,
                ManagementServer.status == ServerStatus.DOWN.value,
                ManagementServer.last_heartbeat < cutoff,
            ),
        )
        .order_by(AsyncJob.id)
    ).all()
    return [Orphan(job_id=row[0], runid=row[1], server_name=row[2]) for row in rows]


def adopt_orphan(session: Session, *, orphan: Orphan, run: ServerRun, interruption: str, now: dt.datetime) -> bool:
    """Take an orphan over so that this run repairs and fails it. The first interruption text sticks, so a
    job whose rescuer died too still names the server that was running it. False if another server was
    quicker."""
    owner_matches = (
        AsyncJob.owner_runid.is_(None) if orphan.runid is None else AsyncJob.owner_runid == orphan.runid
    )
    changed = session.execute(
        update(AsyncJob)
        .where(AsyncJob.id == orphan.job_id, AsyncJob.status == JobStatus.IN_PROGRESS.value, owner_matches)
        .values(
            owner_server_id=run.server_id,
            owner_runid=run.runid,
            claimed=now,
            interruption=func.coalesce(AsyncJob.interruption, interruption),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


# --- management servers ---------------------------------------------------------------------------------


def database_now(session: Session) -> dt.datetime:
    """The time heartbeats are stamped and judged with. On PostgreSQL it is the database server's clock, so
    management servers on different hosts need not agree on the time; SQLite is local to one host anyway."""
    if session.get_bind().dialect.name == "postgresql":
        now: dt.datetime = session.execute(select(func.clock_timestamp())).scalar_one()
        return now.astimezone(dt.UTC)
    return utcnow()


def register_server(session: Session, *, uuid: str, name: str, runid: str, now: dt.datetime) -> ServerRun:
    """Insert or revive this server's row with a new run id, status Up and a fresh heartbeat."""
    server = session.execute(select(ManagementServer).where(ManagementServer.uuid == uuid)).scalar_one_or_none()
    if server is None:
        server = ManagementServer(uuid=uuid, created=now)
        session.add(server)
    server.name = name
    server.runid = runid
    server.status = ServerStatus.UP.value
    server.started = now
    server.last_heartbeat = now
    session.flush()
    return ServerRun(server_id=server.id, uuid=server.uuid, name=name, runid=runid)


def heartbeat(session: Session, *, run: ServerRun, now: dt.datetime) -> bool:
    """Stamp this run's heartbeat. False if the row now belongs to another run (a second process started
    with the same server identity)."""
    changed = session.execute(
        update(ManagementServer)
        .where(ManagementServer.id == run.server_id, ManagementServer.runid == run.runid)
        .values(last_heartbeat=now, status=ServerStatus.UP.value)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def list_servers(session: Session) -> list[ManagementServer]:
    """Every management server that ever registered, oldest first."""
    return list(session.execute(select(ManagementServer).order_by(ManagementServer.id)).scalars())


def mark_down(session: Session, *, run: ServerRun) -> None:
    session.execute(
        update(ManagementServer)
        .where(ManagementServer.id == run.server_id, ManagementServer.runid == run.runid)
        .values(status=ServerStatus.DOWN.value)
        .execution_options(synchronize_session=False)
    )
