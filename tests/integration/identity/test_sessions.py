"""Login sessions over real HTTP: the session key must come as parameter and cookie; logout ends it."""

from __future__ import annotations

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.fixtures import ADMIN_PASSWORD, create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _login(server: ServerProcess, client: httpx.Client, username: str, password: str,
           **extra: str) -> httpx.Response:
    return client.post(server.url, data={"command": "login", "username": username, "password": password,
                                         "response": "json", **extra})


def test_login_returns_cloudstack_fields_and_sets_the_cookie(api_server: ServerProcess) -> None:
    with httpx.Client() as client:
        reply = _login(api_server, client, "admin", ADMIN_PASSWORD, domain="/")
        assert reply.status_code == 200, reply.text
        body = reply.json()["loginresponse"]
        assert body["username"] == "admin" and body["account"] == "admin"
        assert body["type"] == "1" and body["timeout"] == "1800" and body["registered"] == "false"
        assert body["sessionkey"] and client.cookies["sessionkey"] == body["sessionkey"]
        listed = client.get(api_server.url, params={"command": "listDomains", "response": "json",
                                                    "sessionkey": body["sessionkey"]})
        assert listed.status_code == 200, listed.text
        assert listed.json()["listdomainsresponse"]["count"] >= 1


def test_session_needs_both_the_parameter_and_a_matching_cookie(api_server: ServerProcess) -> None:
    with httpx.Client() as client:
        key = _login(api_server, client, "admin", ADMIN_PASSWORD).json()["loginresponse"]["sessionkey"]
        # cookie only (what a cross-site request would carry)
        assert client.get(api_server.url, params={"command": "listDomains"}).status_code == 401
        # parameter only
        bare = httpx.get(api_server.url, params={"command": "listDomains", "sessionkey": key})
        assert bare.status_code == 401
        # parameter and cookie disagree
        other = httpx.get(api_server.url, params={"command": "listDomains", "sessionkey": key},
                          cookies={"sessionkey": key[:-2] + "xx"})
        assert other.status_code == 401
        # a made-up key presented both ways
        fake = httpx.get(api_server.url, params={"command": "listDomains", "sessionkey": "sbt-made-up"},
                         cookies={"sessionkey": "sbt-made-up"})
        assert fake.status_code == 401
        assert client.get(api_server.url, params={"command": "listDomains", "sessionkey": key}).status_code == 200


def test_logout_invalidates_the_session_key(api_server: ServerProcess) -> None:
    with httpx.Client() as client:
        key = _login(api_server, client, "admin", ADMIN_PASSWORD).json()["loginresponse"]["sessionkey"]
        out = client.get(api_server.url, params={"command": "logout", "sessionkey": key, "response": "json"})
        assert out.json() == {"logoutresponse": {"description": "success"}}
        assert "sessionkey" not in client.cookies
        again = httpx.get(api_server.url, params={"command": "listDomains", "sessionkey": key},
                          cookies={"sessionkey": key})
        assert again.status_code == 401


def test_wrong_password_unknown_user_and_wrong_domain_fail_alike(api_server: ServerProcess) -> None:
    with httpx.Client() as client:
        for username, password, extra in [("admin", "wrong", {}), ("sbt-nobody", "x", {}),
                                          ("admin", ADMIN_PASSWORD, {"domain": "/sbt-no-such-domain"})]:
            reply = _login(api_server, client, username, password, **extra)
            assert reply.status_code == 401, reply.text
            assert reply.json()["loginresponse"]["errorcode"] == 401
            assert "sessionkey" not in client.cookies


def test_login_by_domain_id_and_in_a_subdomain(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    domain = admin_cs.createDomain(name="sbt-login-sub")["domain"]
    account, _ = create_account_with_keys(admin_cs, domain_id=domain["id"], password="sub-secret-1")
    username = account["user"][0]["username"]
    with httpx.Client() as client:
        assert _login(api_server, client, username, "sub-secret-1").status_code == 401  # not in ROOT
        by_path = _login(api_server, client, username, "sub-secret-1", domain="/sbt-login-sub")
        assert by_path.status_code == 200, by_path.text
        by_id = _login(api_server, client, username, "sub-secret-1", domainId=domain["id"])
        assert by_id.json()["loginresponse"]["domainid"] == domain["id"]


def test_a_user_session_sees_only_its_own_account(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, _ = create_account_with_keys(admin_cs, password="user-secret-2")
    with httpx.Client() as client:
        login = _login(api_server, client, account["user"][0]["username"], "user-secret-2")
        key = login.json()["loginresponse"]["sessionkey"]
        assert login.json()["loginresponse"]["type"] == "0"
        listed = client.get(api_server.url, params={"command": "listAccounts", "sessionkey": key,
                                                    "response": "json"}).json()["listaccountsresponse"]
        assert [a["id"] for a in listed["account"]] == [account["id"]]
        # an admin command is hidden from a User, as CloudStack does
        denied = client.get(api_server.url, params={"command": "createDomain", "name": "x", "sessionkey": key})
        assert denied.status_code == 432


def test_changing_ones_own_password_needs_the_current_one(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    account, keys = create_account_with_keys(admin_cs, password="old-secret-3")
    user = account["user"][0]
    own = cs_client(api_server, keys)
    with pytest.raises(CloudStackApiException) as failure:
        own.updateUser(id=user["id"], password="new-secret-3")
    assert failure.value.error["errorcode"] == 431
    with pytest.raises(CloudStackApiException):
        own.updateUser(id=user["id"], password="new-secret-3", currentpassword="wrong")
    updated = own.updateUser(id=user["id"], password="new-secret-3", currentpassword="old-secret-3",
                             firstname="Renamed")["user"]
    assert updated["firstname"] == "Renamed"
    with httpx.Client() as client:
        assert _login(api_server, client, user["username"], "old-secret-3").status_code == 401
        assert _login(api_server, client, user["username"], "new-secret-3").status_code == 200
    # an admin may reset another user's password without knowing it
    admin_cs.updateUser(id=user["id"], password="reset-secret-3")
    with httpx.Client() as client:
        assert _login(api_server, client, user["username"], "reset-secret-3").status_code == 200
