"""Signed requests over real HTTP with the unmodified `cs` client, and hand-built ones that must fail."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.eventually import eventually
from tests.support.fixtures import cs_client, signed_get, signed_params
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _expires(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S%z")


def test_cs_client_with_signature_version_3_lists_the_root_domain(admin_cs: CloudStack) -> None:
    reply = admin_cs.listDomains(name="ROOT")
    assert reply["count"] == 1
    assert reply["domain"][0]["path"] == "ROOT" and reply["domain"][0]["level"] == 0


def test_cs_client_without_expiry_signs_version_1(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    client = cs_client(api_server, admin_keys, expiration=-1)
    roles = client.listRoles()
    assert {role["type"] for role in roles["role"]} == {"Admin", "ResourceAdmin", "DomainAdmin", "User"}


def test_cs_client_over_post_with_awkward_values(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    client = cs_client(api_server, admin_keys, method="post")
    account = client.createAccount(username="sbt-post", password="p a+s~s*w&o=r%d", email="x@example.com",
                                   firstname="Ann É", lastname="O'Neil ~", accounttype=0)["account"]
    assert account["user"][0]["lastname"] == "O'Neil ~"
    assert client.listAccounts(name="sbt-post")["account"][0]["id"] == account["id"]


def test_hand_signed_version_3_request_is_accepted(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    reply = signed_get(api_server, {"command": "listDomains", "name": "ROOT", "signatureVersion": "3",
                                    "expires": _expires(dt.timedelta(minutes=5))}, admin_keys)
    assert reply.status_code == 200, reply.text
    assert reply.json()["listdomainsresponse"]["count"] == 1


def _assert_401(reply: httpx.Response, command: str) -> None:
    assert reply.status_code == 401, reply.text
    body = reply.json()[f"{command.lower()}response"]
    assert body["errorcode"] == 401
    assert body["errortext"] == "unable to verify user credentials and/or request signature"


def test_bad_signature_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    params = signed_params({"command": "listDomains", "response": "json"}, admin_keys)
    params["signature"] = params["signature"][:-4] + ("AAAA" if not params["signature"].endswith("AAAA") else "BBBB")
    _assert_401(httpx.get(api_server.url, params=params), "listDomains")


def test_signature_over_other_parameters_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    params = signed_params({"command": "listDomains", "response": "json", "name": "ROOT"}, admin_keys)
    params["name"] = "OTHER"
    _assert_401(httpx.get(api_server.url, params=params), "listDomains")


def test_expired_request_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    reply = signed_get(api_server, {"command": "listDomains", "signatureversion": "3",
                                    "expires": _expires(-dt.timedelta(seconds=5))}, admin_keys)
    _assert_401(reply, "listDomains")


def test_a_request_verified_before_is_refused_once_it_expired(api_server: ServerProcess,
                                                              admin_keys: dict[str, str]) -> None:
    # Verified signatures are remembered; the expiry must still be checked on every request.
    params = signed_params({"command": "listDomains", "response": "json", "signatureversion": "3",
                            "expires": _expires(dt.timedelta(seconds=2))}, admin_keys)
    assert httpx.get(api_server.url, params=params).status_code == 200
    assert httpx.get(api_server.url, params=params).status_code == 200  # the remembered one
    expired = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    eventually(lambda: dt.datetime.now(dt.UTC) >= expired, what="the signature's `expires` to pass", interval=0.2)
    _assert_401(httpx.get(api_server.url, params=params), "listDomains")


def test_version_3_without_expires_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    _assert_401(signed_get(api_server, {"command": "listDomains", "signatureversion": "3"}, admin_keys),
                "listDomains")


def test_unknown_api_key_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    forged = {"apikey": "sbt-no-such-key", "secretkey": admin_keys["secretkey"]}
    _assert_401(signed_get(api_server, {"command": "listDomains"}, forged), "listDomains")


def test_missing_signature_is_refused(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    reply = httpx.get(api_server.url, params={"command": "listDomains", "apiKey": admin_keys["apikey"],
                                              "response": "json"})
    _assert_401(reply, "listDomains")


def test_no_credentials_at_all_is_refused(api_server: ServerProcess) -> None:
    _assert_401(httpx.get(api_server.url, params={"command": "listDomains", "response": "json"}), "listDomains")


def test_unknown_command_is_432(admin_cs: CloudStack) -> None:
    with pytest.raises(CloudStackApiException) as failure:
        admin_cs.frobnicateEverything()
    assert failure.value.error["errorcode"] == 432
    assert "does not exist" in failure.value.error["errortext"]


def test_missing_required_parameter_is_431_naming_it(api_server: ServerProcess,
                                                    admin_keys: dict[str, str]) -> None:
    reply = signed_get(api_server, {"command": "createDomain"}, admin_keys)
    assert reply.status_code == 431
    body = reply.json()["createdomainresponse"]
    assert body["errorcode"] == 431 and body["cserrorcode"] == 4350
    assert "missing parameter name" in body["errortext"]


def test_malformed_parameter_is_431_naming_it(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    reply = signed_get(api_server, {"command": "listUsers", "id": "not-a-uuid"}, admin_keys)
    assert reply.status_code == 431
    assert "Invalid parameter id value=not-a-uuid" in reply.json()["listusersresponse"]["errortext"]
    reply = signed_get(api_server, {"command": "listDomains", "level": "high"}, admin_keys)
    assert reply.status_code == 431
    assert "parameter level" in reply.json()["listdomainsresponse"]["errortext"]


def test_unknown_command_without_credentials_is_432(api_server: ServerProcess) -> None:
    reply = httpx.get(api_server.url, params={"command": "noSuchThing", "response": "json"})
    assert reply.status_code == 432
    assert reply.json()["nosuchthingresponse"]["errorcode"] == 432
