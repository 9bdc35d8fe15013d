"""Read side: jobs as clients see them, with the management server that ran them, in one query."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, or_, select
from sqlalchemy.orm import Session

from switchboard.db.direct import PrebuiltQuery
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.jobs.context import JobOwner
from switchboard.jobs.states import JobStatus, ServerStatus


@dataclass(frozen=True, kw_only=True)
class JobView:
    """One job with the name and uuid of the server that owns (or owned) it."""

    uuid: str
    command: str
    owner: JobOwner
    status: JobStatus
    progress: int
    result_code: int
    result: dict[str, Any] | None
    instance_type: str | None
    instance_id: str | None
    server_uuid: str | None
    server_name: str | None
    created: dt.datetime
    completed: dt.datetime | None


@dataclass(frozen=True, kw_only=True)
class JobScope:
    """Which jobs a reader may see. `account_id` limits to one account; `domain_path` to a domain subtree;
    neither means every job (root admins). System jobs (no account) are visible only without limits."""

    account_id: int | None = None
    domain_path: str | None = None

    def allows(self, owner: JobOwner) -> bool:
        if self.account_id is not None and owner.account_id != self.account_id:
            return False
        return self.domain_path is None or in_domain(owner.domain_path, self.domain_path)


@dataclass(frozen=True, kw_only=True)
class JobFilter:
    """Optional narrowing of a listing, on top of the scope."""

    account_name: str | None = None
    domain_uuid: str | None = None
    server_uuid: str | None = None
    created_since: dt.datetime | None = None
    keyword: str | None = None


@dataclass(frozen=True, kw_only=True)
class ServerView:
    """A management server as others see it. `alive`: Up and heartbeating within the timeout."""

    uuid: str
    name: str
    status: ServerStatus
    alive: bool
    started: dt.datetime
    last_heartbeat: dt.datetime


def in_domain(path: str | None, root: str) -> bool:
    """Whether domain `path` is `root` or below it. Works for "/a/b/" and "ROOT/a/b" path styles alike."""
    if path is None:
        return False
    base = root.rstrip("/")
    return path == root or path.rstrip("/") == base or path.startswith(base + "/")


def get_view(connection: Connection, job_uuid: str) -> JobView | None:
    """One job by public id (every poll of queryAsyncJobResult); None when unknown. Runs on a Core
    connection (a session's, or a quick request's without any session)."""
    row = _GET.first(connection, {"uuid": job_uuid})
    return None if row is None else _view(row)


def list_views(
    session: Session, *, scope: JobScope, filters: JobFilter, offset: int = 0, limit: int | None = None
) -> tuple[list[JobView], int]:
    """The page of jobs `scope` and `filters` select, newest first, with the total count before paging."""
    conditions: list[Any] = []
    if scope.account_id is not None:
        conditions.append(AsyncJob.account_id == scope.account_id)
    if scope.domain_path is not None:
        base = scope.domain_path.rstrip("/")
        conditions.append(
            or_(
                AsyncJob.domain_path == scope.domain_path,
                AsyncJob.domain_path == base,
                AsyncJob.domain_path.startswith(base + "/", autoescape=True),
            )
        )
    if filters.account_name is not None:
        conditions.append(AsyncJob.account_name == filters.account_name)
    if filters.domain_uuid is not None:
        conditions.append(AsyncJob.domain_uuid == filters.domain_uuid)
    if filters.server_uuid is not None:
        conditions.append(ManagementServer.uuid == filters.server_uuid)
    if filters.created_since is not None:
        conditions.append(AsyncJob.created >= filters.created_since)
    if filters.keyword:
        conditions.append(AsyncJob.command.contains(filters.keyword, autoescape=True))
    total = session.execute(
        select(func.count(AsyncJob.id))
        .select_from(AsyncJob)
        .outerjoin(ManagementServer, AsyncJob.owner_server_id == ManagementServer.id)
        .where(*conditions)
    ).scalar_one()
    query = _BASE.where(*conditions).order_by(_JOB.c.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_view(row) for row in session.connection().execute(query)], int(total)


_JOB = AsyncJob.__table__
_SERVER = ManagementServer.__table__
# Built once over the tables: polls are the most frequent request of a client waiting for a job, and the
# rows need no ORM objects. The server columns are None for never-claimed jobs.
_BASE = select(
    _JOB.c.uuid, _JOB.c.command, _JOB.c.user_id, _JOB.c.user_uuid, _JOB.c.user_name, _JOB.c.account_id,
    _JOB.c.account_uuid, _JOB.c.account_name, _JOB.c.domain_id, _JOB.c.domain_uuid, _JOB.c.domain_path,
    _JOB.c.role_type, _JOB.c.status, _JOB.c.progress, _JOB.c.result_code, _JOB.c.result, _JOB.c.instance_type,
    _JOB.c.instance_id, _JOB.c.created, _JOB.c.completed, _SERVER.c.uuid.label("server_uuid"),
    _SERVER.c.name.label("server_name"),
).select_from(_JOB.outerjoin(_SERVER, _JOB.c.owner_server_id == _SERVER.c.id))
_BY_UUID = _BASE.where(_JOB.c.uuid == bindparam("uuid"))
# Polls read straight off the DB-API cursor (SQLAlchemy's execution layer cost several times the read).
_JobRow = namedtuple("_JobRow", [column.key for column in _BASE.selected_columns])  # type: ignore[misc]
_GET = PrebuiltQuery(_BY_UUID, row_type=_JobRow._make)


def _view(job: Row[*tuple[Any, ...]] | Any) -> JobView:
    return JobView(
        uuid=job.uuid,
        command=job.command,
        owner=JobOwner(
            user_id=job.user_id,
            user_uuid=job.user_uuid,
            user_name=job.user_name,
            account_id=job.account_id,
            account_uuid=job.account_uuid,
            account_name=job.account_name,
            domain_id=job.domain_id,
            domain_uuid=job.domain_uuid,
            domain_path=job.domain_path,
            role_type=job.role_type,
        ),
        status=JobStatus(job.status),
        progress=job.progress,
        result_code=job.result_code,
        result=job.result,
        instance_type=job.instance_type,
        instance_id=job.instance_id,
        server_uuid=job.server_uuid,
        server_name=job.server_name,
        created=job.created,
        completed=job.completed,
    )
