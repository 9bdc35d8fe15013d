"""The audit trail (`record_event`, `list_events`) and operator alerts (`record_alert`, `list_alerts`).

Every area records its events through `record_event`, inside the transaction of the work it describes,
so an event exists exactly when the change it reports was committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import BindParameter, ColumnElement, Integer, Table, bindparam, insert, select
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlalchemy.orm import InstrumentedAttribute, Session

from switchboard.caller import Caller
from switchboard.db.base import new_uuid, utcnow
from switchboard.db.models.events import Alert, Event, EventLevel, EventState
from switchboard.db.models.identity import Account, Domain, User
from switchboard.errors import InvalidParameter
from switchboard.identity.scope import account_clause
from switchboard.infra.common import Page, fetch_page, matches

__all__ = [
    "ALERT_TYPES",
    "Actor",
    "ActorIds",
    "archive_alerts",
    "archive_events",
    "list_alerts",
    "list_events",
    "record_alert",
    "record_event",
]

# CloudStack's alert types that Switchboard raises (AlertManager.AlertType), by name.
ALERT_TYPES: dict[int, str] = {
    7: "ALERT.TYPE.HOST",
    12: "ALERT.TYPE.USERVM",
    13: "ALERT.TYPE.MANAGEMENT_NODE",
    33: "ALERT.TYPE.EXTENSION.PATH.NOT.READY",
}


class Actor(Protocol):
    """Who caused an event: any object with these ids (an API Caller, a job's owner)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def account_id(self) -> int | None: ...

    @property
    def domain_id(self) -> int | None: ...


@dataclass(frozen=True)
class ActorIds:
    """An Actor for code that has ids but no Caller (e.g. a job worker)."""

    user_id: int | None = None
    account_id: int | None = None
    domain_id: int | None = None


_EVENT = cast(Table, Event.__table__)  # declared a FromClause; it is the model's Table
# What every event is given; the actor's names come from the users/accounts/domains rows.
_GIVEN = ("uuid", "type", "state", "level", "description", "resource_type", "resource_uuid", "created")


def _given() -> list[BindParameter[Any]]:
    return [bindparam(name, type_=_EVENT.c[name].type) for name in _GIVEN]


# Built once: every instance operation records events. Each writes the event and looks the actor's names up
# in one INSERT ... SELECT (no read before the write, which matters while SQLite's write lock is held); it
# inserts (and returns) nothing when the user (or account) is gone, and the next one is tried. (RETURNING
# rather than rowcount: PostgreSQL's driver does not report one for INSERT ... SELECT through SQLAlchemy.)
_BY_USER = insert(_EVENT).from_select(
    [*_GIVEN, "user_id", "account_id", "domain_id", "username", "account_name", "domain_uuid", "domain_name"],
    select(*_given(), User.id, Account.id, Domain.id, User.username, Account.name, Domain.uuid, Domain.name)
    .join(Account, Account.id == User.account_id).join(Domain, Domain.id == Account.domain_id)
    .where(User.id == bindparam("user_id")),
).returning(_EVENT.c.id)
_BY_ACCOUNT = insert(_EVENT).from_select(
    [*_GIVEN, "user_id", "account_id", "domain_id", "account_name", "domain_uuid", "domain_name"],
    select(*_given(), bindparam("actor_user_id", type_=Integer()), Account.id, Domain.id, Account.name,
           Domain.uuid, Domain.name)
    .join(Domain, Domain.id == Account.domain_id).where(Account.id == bindparam("account_id")),
).returning(_EVENT.c.id)
_PLAIN = insert(_EVENT)


def record_event(
    session: Session,
    *,
    type: str,
    description: str,
    actor: Actor | None = None,
    resource_type: str | None = None,
    resource_uuid: str | None = None,
    level: EventLevel = EventLevel.INFO,
    state: EventState = EventState.COMPLETED,
) -> str:
    """Write an event (e.g. type "VM.CREATE") in the session's transaction; returns its uuid.

    The actor's user, account and domain names are looked up once and stored with the event, so listing
    events needs no joins. Without an actor the event is a system event, visible to admins only.
    """
    given: dict[str, Any] = {
        "uuid": new_uuid(), "type": type, "description": description, "level": level.value, "state": state.value,
        "resource_type": resource_type, "resource_uuid": resource_uuid, "created": utcnow(),
    }
    # The ORM may hold changes this event reports; they go first, as a flush before an ORM insert would.
    session.flush()
    connection = session.connection()
    written = False
    if actor is not None and actor.user_id is not None:
        written = connection.execute(_BY_USER, {**given, "user_id": actor.user_id}).first() is not None
    if not written and actor is not None and actor.account_id is not None:
        written = connection.execute(_BY_ACCOUNT, {**given, "actor_user_id": actor.user_id,
                                                    "account_id": actor.account_id}).first() is not None
    if not written:
        ids = {} if actor is None else {"user_id": actor.user_id, "account_id": actor.account_id,
                                        "domain_id": actor.domain_id}
        connection.execute(_PLAIN, {**given, **ids})
    return str(given["uuid"])


def list_events(
    session: Session,
    caller: Caller,
    page: Page,
    *,
    uuid: str | None = None,
    type: str | None = None,
    level: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    resource_uuid: str | None = None,
) -> tuple[Sequence[Event], int]:
    """Events the caller may see (a User: its own account's), newest first."""
    stmt = (
        select(Event)
        # System events (no account) match no account clause, so only admins see them.
        .where(Event.archived.is_(False), Event.display.is_(True),
               account_clause(caller, cast("InstrumentedAttribute[int]", Event.account_id)))
        .order_by(Event.created.desc(), Event.id.desc())
    )
    if uuid:
        stmt = stmt.where(Event.uuid == uuid)
    if type:
        stmt = stmt.where(Event.type == type)
    if level:
        stmt = stmt.where(Event.level == level.upper())
    if start is not None:
        stmt = stmt.where(Event.created >= start)
    if end is not None:
        stmt = stmt.where(Event.created <= end)
    if resource_uuid:
        stmt = stmt.where(Event.resource_uuid == resource_uuid)
    if page.keyword:
        stmt = stmt.where(matches(Event.description, page.keyword) | matches(Event.type, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [row[0] for row in rows], total


def _selection(
    *, uuids: list[str] | None, type: str | None, start: dt.datetime | None, end: dt.datetime | None,
    model: type[Event] | type[Alert],
) -> list[ColumnElement[bool]]:
    if not (uuids or type or start or end):
        raise InvalidParameter("Either ids, type, startdate or enddate must be specified", parameter="ids")
    clauses: list[ColumnElement[bool]] = []
    if uuids:
        clauses.append(model.uuid.in_(uuids))
    if type:
        clauses.append(model.type == (int(type) if model is Alert else type))
    if start is not None:
        clauses.append(model.created >= start)
    if end is not None:
        clauses.append(model.created <= end)
    return clauses


def archive_events(
    session: Session, caller: Caller, *, uuids: list[str] | None = None, type: str | None = None,
    start: dt.datetime | None = None, end: dt.datetime | None = None, delete: bool = False,
) -> int:
    """Archive (hide from listings) or delete the selected events the caller may see; returns how many.
    InvalidParameter when nothing selects them (CloudStack refuses to archive everything at once)."""
    clauses = _selection(uuids=uuids, type=type, start=start, end=end, model=Event)
    scope = account_clause(caller, cast("InstrumentedAttribute[int]", Event.account_id))
    statement = (sa_delete(Event) if delete else sa_update(Event).values(archived=True)).where(scope, *clauses)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def archive_alerts(
    session: Session, *, uuids: list[str] | None = None, type: int | None = None,
    start: dt.datetime | None = None, end: dt.datetime | None = None, delete: bool = False,
) -> int:
    """Archive or delete the selected alerts; returns how many."""
    clauses = _selection(uuids=uuids, type=str(type) if type is not None else None, start=start, end=end,
                         model=Alert)
    statement = (sa_delete(Alert) if delete else sa_update(Alert).values(archived=True)).where(*clauses)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def record_alert(
    session: Session,
    *,
    type: int,
    subject: str,
    content: str | None = None,
    zone_id: int | None = None,
    pod_id: int | None = None,
    cluster_id: int | None = None,
) -> Alert:
    """Raise an alert. A repeat of an unarchived alert with the same type and subject is counted on the
    existing row (sent count, last sent) rather than added again, so periodic checks do not flood."""
    existing = session.execute(
        select(Alert).where(Alert.type == type, Alert.subject == subject, Alert.archived.is_(False))
        .order_by(Alert.id.desc()).limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        existing.sent_count += 1
        existing.last_sent = utcnow()
        if content is not None:
            existing.content = content
        session.flush()
        return existing
    alert = Alert(type=type, name=ALERT_TYPES.get(type), subject=subject, content=content, zone_id=zone_id,
                  pod_id=pod_id, cluster_id=cluster_id)
    session.add(alert)
    session.flush()
    return alert


def list_alerts(
    session: Session, page: Page, *, uuid: str | None = None, type: int | None = None, name: str | None = None,
) -> tuple[Sequence[Alert], int]:
    """Unarchived alerts, most recently sent first."""
    stmt = select(Alert).where(Alert.archived.is_(False)).order_by(Alert.last_sent.desc(), Alert.id.desc())
    if uuid:
        stmt = stmt.where(Alert.uuid == uuid)
    if type is not None:
        stmt = stmt.where(Alert.type == type)
    if name:
        stmt = stmt.where(Alert.name == name)
    if page.keyword:
        stmt = stmt.where(matches(Alert.subject, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [row[0] for row in rows], total
