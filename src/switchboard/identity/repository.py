"""Queries of the identity tables. Nothing above this module writes SQL for domains, accounts or users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import True_

from switchboard.caller import Caller
from switchboard.db.models.identity import Account, Domain, LoginSession, Role, User
from switchboard.errors import Conflict
from switchboard.identity import paths
from switchboard.identity.records import AccountRecord, DomainRecord, UserRecord, role_type_of
from switchboard.roles import RoleType

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def _build_user_select() -> Select[User, Account, Domain, Role]:
    return (
        select(User, Account, Domain, Role)
        .join(Account, User.account_id == Account.id)
        .join(Domain, Account.domain_id == Domain.id)
        .join(Role, Account.role_id == Role.id)
        .where(User.removed.is_(None), Account.removed.is_(None))
    )


# Statements are built once: constructing a select (and above all an alias) costs more than running it
# against SQLite, and SQLAlchemy caches the compiled form by statement structure anyway.
_USER_SELECT = _build_user_select()
_USER_LIST = _USER_SELECT.order_by(User.id.desc())


def _user_select() -> Select[User, Account, Domain, Role]:
    return _USER_SELECT


def _build_domain_select() -> Select[Domain, Domain, int]:
    parent = aliased(Domain, name="parent_domain")
    child = aliased(Domain, name="child_domain")
    has_child = (
        select(func.count(child.id)).where(child.parent_id == Domain.id, child.removed.is_(None))
        .correlate(Domain).scalar_subquery()
    )
    return (
        select(Domain, parent, has_child)
        .outerjoin(parent, Domain.parent_id == parent.id)
        .where(Domain.removed.is_(None))
        .order_by(Domain.id.desc())
    )


_DOMAIN_SELECT = _build_domain_select()


def _narrowed(stmt: S, where: tuple[ColumnElement[bool], ...]) -> S:
    """`stmt` with the given conditions; an admin's `true()` adds nothing. Reusing the prebuilt statement
    object itself when nothing is added lets SQLAlchemy keep its cache key instead of recomputing it (the
    largest single cost of a small query)."""
    narrowing = [clause for clause in where if not isinstance(clause, True_)]
    return stmt.where(*narrowing) if narrowing else stmt


def find_user(session: Session, *where: ColumnElement[bool]) -> UserRecord | None:
    row = session.execute(_narrowed(_user_select(), where)).first()
    if row is None:
        return None
    user, account, domain, role = row
    return UserRecord(user, account, domain, role)


def list_users(session: Session, *where: ColumnElement[bool]) -> list[UserRecord]:
    rows = session.execute(_narrowed(_USER_LIST, where)).all()
    return [UserRecord(user, account, domain, role) for user, account, domain, role in rows]


def find_session(session: Session, digest: str) -> tuple[LoginSession, UserRecord] | None:
    stmt = _user_select().add_columns(LoginSession).join(LoginSession, LoginSession.user_id == User.id)
    row = session.execute(stmt.where(LoginSession.key_digest == digest)).first()
    if row is None:
        return None
    user, account, domain, role, login = row
    return login, UserRecord(user, account, domain, role)


def find_domain(session: Session, *where: ColumnElement[bool]) -> Domain | None:
    return session.scalars(select(Domain).where(Domain.removed.is_(None), *where)).first()


def list_domains(session: Session, *where: ColumnElement[bool]) -> list[DomainRecord]:
    """Domains with their parent and whether they have children, newest first: one query."""
    rows = session.execute(_narrowed(_DOMAIN_SELECT, where)).all()
    return [DomainRecord(domain, parent, bool(count)) for domain, parent, count in rows]


def find_role(session: Session, *where: ColumnElement[bool]) -> Role | None:
    return session.scalars(select(Role).where(Role.removed.is_(None), *where)).first()


_ROLE_SELECT = select(Role).where(Role.removed.is_(None)).order_by(Role.id.desc())


def list_roles(session: Session, *where: ColumnElement[bool]) -> Sequence[Role]:
    return session.scalars(_narrowed(_ROLE_SELECT, where)).all()


_ACCOUNT_LIST = (
    select(Account, Domain, Role)
    .join(Domain, Account.domain_id == Domain.id)
    .join(Role, Account.role_id == Role.id)
    .where(Account.removed.is_(None))
    .order_by(Account.id.desc())
)


def find_account(session: Session, *where: ColumnElement[bool]) -> AccountRecord | None:
    records = list_accounts(session, *where)
    return records[0] if records else None


def list_accounts(session: Session, *where: ColumnElement[bool]) -> list[AccountRecord]:
    """Accounts with their domain, role and live users: two queries whatever the number of accounts."""
    rows = session.execute(_narrowed(_ACCOUNT_LIST, where)).all()
    if not rows:
        return []
    users: dict[int, list[User]] = {}
    ids = [account.id for account, _, _ in rows]
    for user in session.scalars(
        select(User).where(User.account_id.in_(ids), User.removed.is_(None)).order_by(User.id)
    ):
        users.setdefault(user.account_id, []).append(user)
    return [AccountRecord(account, domain, role, users.get(account.id, [])) for account, domain, role in rows]


# What verifying a signed request needs about the key's holder, in one query built once (the API key is a
# bound parameter, so SQLAlchemy reuses the statement's cache key): no ORM entities are loaded.
_KEY_HOLDER = (
    select(
        User.id.label("user_id"), User.uuid.label("user_uuid"), User.username, User.state.label("user_state"),
        User.secret_key_sealed,
        Account.id.label("account_id"), Account.uuid.label("account_uuid"), Account.name.label("account_name"),
        Account.state.label("account_state"),
        Domain.id.label("domain_id"), Domain.uuid.label("domain_uuid"), Domain.path.label("domain_path"),
        Role.id.label("role_id"), Role.uuid.label("role_uuid"), Role.name.label("role_name"), Role.role_type,
    )
    .join(Account, User.account_id == Account.id)
    .join(Domain, Account.domain_id == Domain.id)
    .join(Role, Account.role_id == Role.id)
    .where(User.api_key == bindparam("api_key"), User.removed.is_(None), Account.removed.is_(None))
)


@dataclass(frozen=True)
class KeyHolder:
    """The live user holding an API key, as signed-request verification needs it."""

    caller: Caller
    secret_key_sealed: bytes | None
    active: bool  # user and account enabled (see `is_active`)
    domain_path_stored: str  # the domain's path as stored ("/a/b/"), for settings lookups


def find_key_holder(connection: Connection, api_key: str) -> KeyHolder | None:
    """The live user (of a live account) whose API key is `api_key`, or None. One query."""
    row = connection.execute(_KEY_HOLDER, {"api_key": api_key}).first()
    if row is None:
        return None
    caller = Caller(
        user_id=row.user_id, user_uuid=row.user_uuid, username=row.username, account_id=row.account_id,
        account_uuid=row.account_uuid, account_name=row.account_name, domain_id=row.domain_id,
        domain_uuid=row.domain_uuid, domain_path=paths.shown(row.domain_path), role_id=row.role_id,
        role_uuid=row.role_uuid, role_name=row.role_name, role_type=RoleType.from_wire(row.role_type),
    )
    return KeyHolder(caller=caller, secret_key_sealed=row.secret_key_sealed,
                     active=row.user_state == "enabled" and row.account_state == "enabled",
                     domain_path_stored=row.domain_path)


def make_caller(record: UserRecord, *, session_key: str | None = None) -> Caller:
    user, account, domain, role = record.user, record.account, record.domain, record.role
    return Caller(
        user_id=user.id,
        user_uuid=user.uuid,
        username=user.username,
        account_id=account.id,
        account_uuid=account.uuid,
        account_name=account.name,
        domain_id=domain.id,
        domain_uuid=domain.uuid,
        domain_path=paths.shown(domain.path),
        role_id=role.id,
        role_uuid=role.uuid,
        role_name=role.name,
        role_type=role_type_of(role),
        session_key=session_key,
    )


def is_active(record: UserRecord) -> bool:
    """A user may call the API only while it and its account are enabled."""
    return record.user.state == "enabled" and record.account.state == "enabled"


def add(session: Session, *objects: Any) -> None:
    session.add_all(objects)
    session.flush()


def add_unique(session: Session, row: Domain | Account | User) -> None:
    """Add (or flush changes to) a row whose name must be unique; Conflict when it is not.

    A concurrent create of the same name trips the unique constraint; the request's transaction is then
    rolled back as a whole (no SAVEPOINT: nothing of the request may survive a clash)."""
    try:
        add(session, row)
    except IntegrityError as exc:
        raise Conflict("An object with that name already exists") from exc


def keyword_match(column: ColumnElement[str] | InstrumentedAttribute[str], keyword: str) -> ColumnElement[bool]:
    """CloudStack's `keyword`: a case-insensitive substring match; `%` and `_` are taken literally."""
    return func.lower(column).contains(keyword.lower(), autoescape=True)
