"""Passwords over real HTTP and the real command line: CloudStack's password policy settings, a new
password ending the user's other sessions, the first start's secrets kept out of stdout and logs, and
`switchboard admin reset-password`."""

from __future__ import annotations

import os
import pty
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.fixtures import api_keys_of, create_account_with_keys, cs_client, start_server
from tests.support.server import REPO, ServerProcess, switchboard_cmd

pytestmark = pytest.mark.database


def _login(server: ServerProcess, username: str, password: str) -> httpx.Response:
    return httpx.post(server.url, data={"command": "login", "username": username, "password": password,
                                        "response": "json"}, timeout=30)


@contextmanager
def _session(server: ServerProcess, username: str, password: str) -> Iterator[httpx.Client]:
    """A client logged in as `username` (its session key sent as parameter and cookie)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        reply = client.post("", data={"command": "login", "username": username, "password": password,
                                      "response": "json"})
        assert reply.status_code == 200, reply.text
        client.params = {"sessionkey": reply.json()["loginresponse"]["sessionkey"], "response": "json"}
        yield client


def _refused(call: object, **kwargs: object) -> str:
    with pytest.raises(CloudStackApiException) as failure:
        call(**kwargs)  # type: ignore[operator]
    assert failure.value.error["errorcode"] == 431
    return str(failure.value.error["errortext"])


def test_the_password_policy_is_cloudstacks_with_at_least_8_characters(admin_cs: CloudStack) -> None:
    listed = {c["name"]: c for c in admin_cs.listConfigurations(keyword="password.policy")["configuration"]}
    assert set(listed) == {"password.policy.minimum.length", "password.policy.minimum.special.characters",
                           "password.policy.minimum.uppercase.letters", "password.policy.minimum.lowercase.letters",
                           "password.policy.minimum.digits", "password.policy.allowPasswordToContainUsername",
                           "password.policy.regex"}
    assert listed["password.policy.minimum.length"]["value"] == "8"
    common = {"email": "p@example.com", "firstname": "P", "lastname": "Olicy", "accounttype": 0}
    assert _refused(admin_cs.createAccount, username="sbt-pw-x", password="x", **common) == \
        "User password should contain at least [8] characters."
    domain = admin_cs.createDomain(name="sbt-strict")["domain"]
    admin_cs.updateConfiguration(name="password.policy.minimum.digits", value="2", domainid=domain["id"])
    admin_cs.updateConfiguration(name="password.policy.allowPasswordToContainUsername", value="false",
                                 domainid=domain["id"])
    assert _refused(admin_cs.createAccount, username="sbt-pw-d", password="only-letters", domainid=domain["id"],
                    **common) == "User password should contain at least [2] digits."
    assert _refused(admin_cs.createAccount, username="sbt-pw-u", password="sbt-pw-u-42", domainid=domain["id"],
                    **common) == "User password should not contain their username."
    made = admin_cs.createAccount(username="sbt-pw-ok", password="two-digits-42", domainid=domain["id"],
                                  **common)["account"]
    # ROOT keeps the global policy: no digits needed there
    admin_cs.createAccount(username="sbt-pw-root", password="only-letters", **common)
    # the policy applies to a changed password too
    assert _refused(admin_cs.updateUser, id=made["user"][0]["id"], password="nodigits") == \
        "User password should contain at least [2] digits."
    bad_regex = _refused(admin_cs.updateConfiguration, name="password.policy.regex", value="(")
    assert "not a regular expression" in bad_regex


def test_a_new_password_ends_the_users_other_sessions(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, _ = create_account_with_keys(admin_cs, password="First-password-1")
    user = account["user"][0]
    with _session(api_server, user["username"], "First-password-1") as mine, \
            _session(api_server, user["username"], "First-password-1") as other:
        changed = mine.post("", data={"command": "updateUser", "id": user["id"], "password": "Second-password-2",
                                      "currentpassword": "First-password-1"})
        assert changed.status_code == 200, changed.text
        assert mine.get("", params={"command": "listAccounts"}).status_code == 200  # the caller's own stays
        assert other.get("", params={"command": "listAccounts"}).status_code == 401
        admin_cs.updateUser(id=user["id"], password="Reset-password-3")  # a reset by an admin ends them all
        assert mine.get("", params={"command": "listAccounts"}).status_code == 401
    assert _login(api_server, user["username"], "Reset-password-3").status_code == 200


def test_the_first_start_hands_secrets_to_a_0600_file_not_to_stdout(tmp_path: Path) -> None:
    with start_server(tmp_path) as server:  # no SWITCHBOARD_ADMIN_PASSWORD: a random one is made
        handed = server.data_dir / "admin-credentials.txt"
        assert stat.S_IMODE(handed.stat().st_mode) == 0o600
        text = handed.read_text()
        password = text.split("admin password:")[1].split()[0]
        secret = text.split("admin secret key:")[1].split()[0]
        log = server.log()
        assert str(handed) in log
        assert password not in log and secret not in log
        assert _login(server, "admin", password).status_code == 200
        keys = api_keys_of(server)
        assert keys["secretkey"] == secret


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdout; returns its exit code and what it printed there."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(args, stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                   env=env, cwd=REPO)
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")
    finally:
        os.close(leader)


def test_reset_password_from_the_command_line(tmp_path: Path) -> None:
    with start_server(tmp_path, env={"SWITCHBOARD_ADMIN_PASSWORD": "Lost-password-1"}) as server:
        env = {**os.environ, **server.env}
        with _session(server, "admin", "Lost-password-1") as before:
            chosen = subprocess.run(switchboard_cmd("admin", "reset-password", "--password-stdin", *server.db_args()),
                                    input="Chosen-password-2\n", capture_output=True, text=True, env=env, cwd=REPO)
            assert chosen.returncode == 0, chosen.stderr
            assert "Chosen-password-2" not in chosen.stdout + chosen.stderr
            assert before.get("", params={"command": "listAccounts"}).status_code == 401  # sessions ended
        assert _login(server, "admin", "Lost-password-1").status_code == 401
        assert _login(server, "admin", "Chosen-password-2").status_code == 200
        weak = subprocess.run(switchboard_cmd("admin", "reset-password", "--password-stdin", *server.db_args()),
                              input="short\n", capture_output=True, text=True, env=env, cwd=REPO)
        assert weak.returncode == 1 and "at least [8] characters" in weak.stderr
        # generated: printed on a terminal ...
        code, shown = _run_on_a_terminal(switchboard_cmd("admin", "reset-password", *server.db_args()), env)
        assert code == 0
        generated = shown.split("the new password of admin is ")[1].split()[0]
        assert _login(server, "admin", generated).status_code == 200
        # ... and written to a 0600 file when stdout is not one
        piped = subprocess.run(switchboard_cmd("admin", "reset-password", *server.db_args()), capture_output=True,
                               text=True, env=env, cwd=REPO)
        assert piped.returncode == 0
        handed = server.data_dir / "admin-credentials.txt"
        assert str(handed) in piped.stderr and stat.S_IMODE(handed.stat().st_mode) == 0o600
        newest = handed.read_text().split("the new password of admin is ")[1].split()[0]
        assert newest not in piped.stdout + piped.stderr
        assert _login(server, "admin", newest).status_code == 200
        assert cs_client(server, api_keys_of(server)).listApis(name="listZones")  # API keys survive a reset
