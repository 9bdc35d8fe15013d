"""The login service against a real migrated database: a throttled attempt computes no password hash, and
the allowance refills with time (a controllable clock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.db.engine import Database
from switchboard.db.migrate import upgrade
from switchboard.errors import AuthenticationFailed, TooManyRequests
from switchboard.identity import login as login_module
from switchboard.identity.bootstrap import bootstrap
from switchboard.identity.login import Login
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.sessions import SessionStore
from switchboard.identity.throttle import LoginThrottle, ThrottleLimits

pytestmark = pytest.mark.database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[tuple[Database, ServerKey]]:
    database = Database.from_url(database_url)
    upgrade(database.engine)
    key = ServerKey.load_or_create(tmp_path / "secret.key")
    with database.session() as session:
        bootstrap(session, key, admin_password="Admin-password-1")
    yield database, key
    database.dispose()


def test_a_throttled_attempt_hashes_nothing_and_time_lets_one_more_through(
        db: tuple[Database, ServerKey], monkeypatch: pytest.MonkeyPatch) -> None:
    database, key = db
    hashed: list[str] = []
    real_verify = login_module.verify_password

    def counting_verify(stored: str | None, password: str) -> bool:
        hashed.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(login_module, "verify_password", counting_verify)
    clock = Clock()
    service = Login(SessionStore(key), LoginThrottle(ThrottleLimits(per_user=3, per_address=100, window=60.0),
                                                     clock=clock))

    def attempt(password: str) -> None:
        with database.session() as session:
            service.login(session, username="admin", password=password, client_ip="192.0.2.7")

    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            attempt("wrong")
    assert len(hashed) == 3
    for password in ("wrong", "Admin-password-1"):
        with pytest.raises(TooManyRequests) as throttled:
            attempt(password)
        assert throttled.value.retry_after == 20  # 3 per 60 s: one more every 20 s
    assert len(hashed) == 3  # no argon2 work for the throttled attempts
    clock.now += 20
    attempt("Admin-password-1")  # one token back: the right password opens a session
    assert len(hashed) == 4
