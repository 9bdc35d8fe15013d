"""API keys, disabled and locked users, and where secrets must never show up (logs, lists, database)."""

from __future__ import annotations

import httpx
import pytest
from cs import CloudStack, CloudStackApiException
from sqlalchemy import create_engine, text

from tests.support.fixtures import create_account_with_keys, cs_client, signed_get
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _status(server: ServerProcess, keys: dict[str, str]) -> int:
    return signed_get(server, {"command": "listAccounts"}, keys).status_code


def test_registering_new_keys_retires_the_old_pair_at_once(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, old = create_account_with_keys(admin_cs)
    user_id = account["user"][0]["id"]
    assert _status(api_server, old) == 200
    new = admin_cs.registerUserKeys(id=user_id)["userkeys"]
    assert new["apikey"] != old["apikey"] and new["secretkey"] != old["secretkey"]
    assert _status(api_server, old) == 401
    assert _status(api_server, new) == 200
    assert admin_cs.getUserKeys(id=user_id)["userkeys"] == new
    # the user itself may rotate its own keys
    newer = cs_client(api_server, new).registerUserKeys(id=user_id)["userkeys"]
    assert _status(api_server, new) == 401 and _status(api_server, newer) == 200


def test_a_disabled_user_is_refused_until_enabled(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, keys = create_account_with_keys(admin_cs, password="disabled-pw-1")
    user_id = account["user"][0]["id"]
    job = admin_cs.disableUser(id=user_id, fetch_result=True)
    assert job["user"]["state"] == "disabled"
    assert _status(api_server, keys) == 401
    login = httpx.post(api_server.url, data={"command": "login", "username": account["user"][0]["username"],
                                             "password": "disabled-pw-1", "response": "json"})
    assert login.status_code == 401
    assert admin_cs.enableUser(id=user_id)["user"]["state"] == "enabled"
    assert _status(api_server, keys) == 200


def test_a_locked_user_is_refused_and_its_sessions_end(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, keys = create_account_with_keys(admin_cs, password="locked-pw-1")
    with httpx.Client() as client:
        login = client.post(api_server.url, data={"command": "login", "username": account["user"][0]["username"],
                                                  "password": "locked-pw-1", "response": "json"})
        session_key = login.json()["loginresponse"]["sessionkey"]
        assert admin_cs.lockUser(id=account["user"][0]["id"])["user"]["state"] == "locked"
        assert _status(api_server, keys) == 401
        after = client.get(api_server.url, params={"command": "listAccounts", "sessionkey": session_key})
        assert after.status_code == 401


def test_a_caller_cannot_disable_itself(admin_cs: CloudStack) -> None:
    me = admin_cs.listUsers(username="admin")["user"][0]["id"]
    with pytest.raises(CloudStackApiException) as failure:
        admin_cs.lockUser(id=me)
    assert failure.value.error["errorcode"] == 431


def test_secrets_never_reach_lists_logs_or_the_database(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    password = "sbt-Pa55word-never-logged"
    account, keys = create_account_with_keys(admin_cs, password=password)
    username = account["user"][0]["username"]
    with httpx.Client() as client:
        wrong = client.post(api_server.url, data={"command": "login", "username": username,
                                                  "password": password + "-wrong", "response": "json"})
        assert wrong.status_code == 401
        good = client.post(api_server.url, data={"command": "login", "username": username, "password": password,
                                                 "response": "json"})
        session_key = good.json()["loginresponse"]["sessionkey"]
    bad_signature = {"apikey": keys["apikey"], "secretkey": keys["secretkey"] + "x"}
    assert _status(api_server, bad_signature) == 401

    listed = str(admin_cs.listUsers(username=username)) + str(admin_cs.listAccounts(name=account["name"]))
    assert keys["apikey"] in listed
    assert keys["secretkey"] not in listed and "secretkey" not in listed

    log = api_server.log()
    assert "API request refused" in log  # the failures were logged ...
    for secret in (password, password + "-wrong", keys["secretkey"], session_key):
        assert secret not in log  # ... without the secrets

    engine = create_engine(api_server.database_url or "")
    try:
        with engine.connect() as conn:
            dump = str(conn.execute(text("SELECT * FROM users")).all())
            dump += str(conn.execute(text("SELECT * FROM login_sessions")).all())
    finally:
        engine.dispose()
    assert keys["apikey"] in dump
    for secret in (password, keys["secretkey"], session_key):
        assert secret not in dump
    assert "$argon2id$" in dump
