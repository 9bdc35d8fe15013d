"""`api.key.access` (CloudStack §7.1 step 7): API keys work only where the setting allows them.

The value that applies is the account's, else the nearest domain's (the domain, then its ancestors), else
the global one, else true; `updateConfiguration`/`listConfigurations` set and show it per scope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from cs import CloudStack

from tests.support.fixtures import create_account_with_keys, signed_get
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def refused(server: ServerProcess, keys: dict[str, str]) -> bool:
    reply: httpx.Response = signed_get(server, {"command": "listZones", "response": "json"}, keys)
    assert reply.status_code in (200, 401), reply.text
    return reply.status_code == 401


def setting(admin: CloudStack, **scope: str) -> dict[str, Any]:
    listed = admin.listConfigurations(name="api.key.access", **scope)["configuration"]
    assert len(listed) == 1
    return dict(listed[0])


def test_an_account_without_api_key_access_is_refused_and_others_are_not(
    api_server: ServerProcess, admin_cs: CloudStack, admin_keys: dict[str, str]
) -> None:
    account, keys = create_account_with_keys(admin_cs)
    other, other_keys = create_account_with_keys(admin_cs)
    assert not refused(api_server, keys)

    answer = admin_cs.updateConfiguration(name="api.key.access", value="FALSE", accountid=account["id"])
    assert answer["configuration"]["value"] == "false"
    assert answer["configuration"]["scope"] == "account"
    assert refused(api_server, keys)
    assert not refused(api_server, other_keys)
    assert not refused(api_server, admin_keys)
    assert setting(admin_cs, accountid=account["id"])["value"] == "false"
    assert setting(admin_cs, accountid=other["id"])["value"] == "true"
    assert setting(admin_cs)["value"] == "true"

    admin_cs.updateConfiguration(name="api.key.access", value="true", accountid=account["id"])
    assert not refused(api_server, keys)


def test_a_domain_value_applies_to_its_subdomains_and_an_account_value_wins(
    api_server: ServerProcess, admin_cs: CloudStack
) -> None:
    parent = admin_cs.createDomain(name=f"sbt-{uuid.uuid4().hex[:6]}")["domain"]
    child = admin_cs.createDomain(name=f"sbt-{uuid.uuid4().hex[:6]}", parentdomainid=parent["id"])["domain"]
    account, keys = create_account_with_keys(admin_cs, domain_id=child["id"])
    assert not refused(api_server, keys)

    admin_cs.updateConfiguration(name="api.key.access", value="false", domainid=parent["id"])
    assert refused(api_server, keys)
    assert setting(admin_cs, domainid=child["id"])["value"] == "false"  # inherited from the parent

    admin_cs.updateConfiguration(name="api.key.access", value="true", accountid=account["id"])
    assert not refused(api_server, keys)
    admin_cs.updateConfiguration(name="api.key.access", value="true", domainid=parent["id"])


def test_bad_configuration_requests_name_the_problem(api_server: ServerProcess, admin_keys: dict[str, str],
                                                     admin_cs: CloudStack) -> None:
    def error(**params: str) -> dict[str, Any]:
        reply = signed_get(api_server, {"command": "updateConfiguration", "response": "json", **params}, admin_keys)
        assert reply.status_code == 431, reply.text
        return dict(reply.json()["updateconfigurationresponse"])

    assert "true or false" in error(name="api.key.access", value="maybe")["errortext"]
    assert "does not exist" in error(name="no.such.setting", value="1")["errortext"]
    assert "missing parameter value" in error(name="api.key.access")["errortext"]
    unknown = str(uuid.uuid4())
    assert error(name="api.key.access", value="true", accountid=unknown)["uuidList"] == [unknown]


def test_only_admins_change_configuration(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    _account, user_keys = create_account_with_keys(admin_cs)
    reply = signed_get(api_server, {"command": "updateConfiguration", "response": "json", "name": "api.key.access",
                                    "value": "false"}, user_keys)
    assert reply.status_code == 432
    assert not refused(api_server, user_keys)
