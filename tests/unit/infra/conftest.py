"""A migrated database per test (copied from one migrated template, so each test pays no migration),
with the ROOT domain, an admin and a user account, and callers for both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.engine import Database, make_engine
from switchboard.db.migrate import upgrade
from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.db.models.infrastructure import Pod, Zone
from switchboard.infra import pods, zones
from switchboard.roles import RoleType
from tests.support.fixtures import PG_URL, fresh_database


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a database migrated to head, used only as a template."""
    with fresh_database(tmp_path_factory.mktemp("infra-template")) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()  # on SQLite, closing the last connection checkpoints the WAL into the file
        yield url


@pytest.fixture
def db(migrated_template: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated database for one test."""
    with fresh_database(tmp_path, template=migrated_template) as url:
        database = Database.from_url(url)
        try:
            yield database
        finally:
            database.dispose()


def make_caller(session: Session, *, name: str, role_type: RoleType, domain: Domain | None = None) -> Caller:
    """An account with one user of the given role type, returned as the Caller the API would build."""
    if domain is None:
        domain = session.query(Domain).filter_by(path="/").one_or_none()
        if domain is None:
            domain = Domain(name="ROOT", path="/", level=0)
            session.add(domain)
            session.flush()
    role = session.query(Role).filter_by(role_type=role_type.wire_name).first()
    if role is None:
        role = Role(name=f"{role_type.wire_name} role", role_type=role_type.wire_name)
        session.add(role)
        session.flush()
    account = Account(name=name, domain_id=domain.id, role_id=role.id)
    session.add(account)
    session.flush()
    user = User(username=name, account_id=account.id, domain_id=domain.id)
    session.add(user)
    session.flush()
    return Caller(
        user_id=user.id, user_uuid=user.uuid, username=name, account_id=account.id, account_uuid=account.uuid,
        account_name=name, domain_id=domain.id, domain_uuid=domain.uuid,
        domain_path="ROOT" if domain.path == "/" else "ROOT/" + domain.path.strip("/"),
        role_id=role.id, role_uuid=role.uuid, role_name=role.name, role_type=role_type,
    )


@pytest.fixture(scope="session")
def shared_pg_engine(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """PostgreSQL only: one migrated database that tests use inside transactions rolled back at the end."""
    with fresh_database(tmp_path_factory.mktemp("infra-shared"), template=migrated_template) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """One session for the test.

    SQLite: a fresh copy of the migrated database, committed at the end like a request. PostgreSQL (where
    creating a database per test is slow): a shared database, inside a transaction that is rolled back;
    the services' savepoints nest inside it. Tests that need commits visible to other sessions use `db`.
    """
    if not PG_URL:
        database: Database = request.getfixturevalue("db")
        with database.session() as sqlite_session:
            yield sqlite_session
        return
    engine: Engine = request.getfixturevalue("shared_pg_engine")
    with engine.connect() as connection:
        transaction = connection.begin()
        pg_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield pg_session
        finally:
            pg_session.close()
            transaction.rollback()


@pytest.fixture
def admin(session: Session) -> Caller:
    return make_caller(session, name="admin", role_type=RoleType.ADMIN)


@pytest.fixture
def user(session: Session, admin: Caller) -> Caller:
    return make_caller(session, name="alice", role_type=RoleType.USER)


@pytest.fixture
def zone(session: Session) -> Zone:
    return zones.create_zone(session, zones.ZoneSpec(name="zone1", dns1="8.8.8.8", internal_dns1="10.0.0.2"))


@pytest.fixture
def pod(session: Session, zone: Zone) -> Pod:
    return pods.create_pod(session, zone, name="pod1", gateway="10.0.0.1", netmask="255.255.255.0",
                           start_ip="10.0.0.10", end_ip="10.0.0.20")
