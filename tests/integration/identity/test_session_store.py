"""SessionStore against a real migrated database with a controllable clock: idle expiry and touch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models.identity import LoginSession, User
from switchboard.errors import AuthenticationFailed
from switchboard.identity import repository
from switchboard.identity.bootstrap import bootstrap
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.sessions import SessionStore

pytestmark = pytest.mark.database


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[tuple[Database, ServerKey]]:
    database = Database.from_url(database_url)
    upgrade(database.engine, "0001")  # identity tables are all this needs
    key = ServerKey.load_or_create(tmp_path / "secret.key")
    with database.session() as session:
        bootstrap(session, key, admin_password="pw")
    yield database, key
    database.dispose()


def test_sessions_expire_after_the_idle_timeout_and_use_keeps_them_alive(db: tuple[Database, ServerKey]) -> None:
    database, key = db
    clock = Clock()
    store = SessionStore(key, timeout=dt.timedelta(minutes=30), clock=clock)
    with database.session() as session:
        admin = repository.find_user(session, User.username == "admin")
        assert admin is not None
        token = store.open(session, admin, client_ip="127.0.0.1")
        stored = session.scalars(select(LoginSession.key_digest)).all()
        assert stored == [key.digest(token)] and token not in stored
    for _ in range(3):  # used every 20 minutes: stays alive past the 30-minute timeout
        clock.now += dt.timedelta(minutes=20)
        with database.session() as session:
            assert store.resolve(session, token).user.username == "admin"
    clock.now += dt.timedelta(minutes=31)
    with database.session() as session, pytest.raises(AuthenticationFailed):
        store.resolve(session, token)
    with database.session() as session:
        assert store.purge_expired(session) == 1
        assert session.scalars(select(LoginSession)).all() == []


def test_an_unknown_token_or_a_closed_session_is_refused(db: tuple[Database, ServerKey]) -> None:
    database, key = db
    store = SessionStore(key)
    with database.session() as session:
        admin = repository.find_user(session, User.username == "admin")
        assert admin is not None
        token = store.open(session, admin, client_ip="")
    with database.session() as session, pytest.raises(AuthenticationFailed):
        store.resolve(session, token + "x")
    with database.session() as session:
        store.close(session, token)
    with database.session() as session, pytest.raises(AuthenticationFailed):
        store.resolve(session, token)
    # the same token under another server key is a different digest: not found
    with database.session() as session:
        token2 = store.open(session, admin, client_ip="")
    with database.session() as session, pytest.raises(AuthenticationFailed):
        SessionStore(ServerKey(b"\x07" * 32)).resolve(session, token2)
