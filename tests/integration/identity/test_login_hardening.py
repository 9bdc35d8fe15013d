"""Login over real HTTP: POST only, and failed logins throttled per user and per source address (429)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cs import CloudStack

from tests.support.fixtures import ADMIN_PASSWORD, create_account_with_keys, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _login(server: ServerProcess, username: str, password: str, **extra: str) -> httpx.Response:
    return httpx.post(server.url, data={"command": "login", "username": username, "password": password,
                                        "response": "json", **extra}, timeout=30)


def test_login_must_be_a_post(api_server: ServerProcess) -> None:
    reply = httpx.get(api_server.url, params={"command": "login", "username": "admin", "password": ADMIN_PASSWORD,
                                              "response": "json"})
    assert reply.status_code == 405
    assert reply.json() == {"loginresponse": {
        "uuidList": [], "errorcode": 405, "cserrorcode": 9999,
        "errortext": "Please use HTTP POST to authenticate using this API"}}
    assert "sessionkey" not in reply.cookies
    assert _login(api_server, "admin", ADMIN_PASSWORD).status_code == 200


def test_failed_logins_of_one_user_are_throttled(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, _ = create_account_with_keys(admin_cs, prefix="sbt-thr", password="Right-password-1")
    username = account["user"][0]["username"]
    for _ in range(5):  # SWITCHBOARD_LOGIN_FAILURES_PER_USER's default
        assert _login(api_server, username, "wrong-password").status_code == 401
    throttled = _login(api_server, username, "wrong-password")
    assert throttled.status_code == 429
    error = throttled.json()["loginresponse"]
    assert error["errorcode"] == 429 and error["cserrorcode"] == 4545
    assert error["errortext"].startswith("Too many failed login attempts for this user; try again in ")
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # the right password gains nothing while the user is throttled: no guess can be confirmed
    assert _login(api_server, username, "Right-password-1").status_code == 429
    # the same name in another domain is another user, and other users are not affected
    assert _login(api_server, username, "wrong-password", domain="/sbt-elsewhere").status_code == 401
    assert _login(api_server, "admin", ADMIN_PASSWORD).status_code == 200


def test_failed_logins_from_one_address_are_throttled(tmp_path: Path) -> None:
    env = {"SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD, "SWITCHBOARD_LOGIN_FAILURES_PER_ADDRESS": "3"}
    with start_server(tmp_path, env=env) as server:
        for name in ("sbt-a", "sbt-b", "sbt-c"):  # a different user each time: only the address adds up
            assert _login(server, name, "guess").status_code == 401
        throttled = _login(server, "sbt-d", "guess")
        assert throttled.status_code == 429
        assert "for this address" in throttled.json()["loginresponse"]["errortext"]
        assert _login(server, "admin", ADMIN_PASSWORD).status_code == 429
        # the server's own log names no password
        assert "guess" not in server.log() and ADMIN_PASSWORD not in server.log()
