"""`listApis` in CloudStack's discovery format (what CloudMonkey's `sync` parses), filtered by role."""

from __future__ import annotations

import jsonschema
import pytest
from cs import CloudStack, CloudStackApiException

from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

# The fields and JSON types CloudMonkey reads (and type-asserts) when it caches the API list.
API_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "isasync", "related", "params", "response"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "isasync": {"type": "boolean"},
        "related": {"type": "string"},
        "since": {"type": "string"},
        "params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "description", "type", "length", "required", "related"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                    "description": {"type": "string"},
                    "type": {"enum": ["string", "uuid", "boolean", "integer", "short", "long", "date", "list",
                                      "map"]},
                    "length": {"type": "integer"},
                    "required": {"type": "boolean"},
                    "related": {"type": "string"},
                    "since": {"type": "string"},
                },
            },
        },
        "response": {"type": "array", "items": {"type": "object", "required": ["name", "type"]}},
    },
}


def test_every_api_entry_has_cloudmonkeys_fields(admin_cs: CloudStack) -> None:
    reply = admin_cs.listApis(listall="true")  # CloudMonkey's sync sends listall=true
    assert reply["count"] == len(reply["api"]) > 10
    for api in reply["api"]:
        jsonschema.validate(api, API_SCHEMA)
    by_name = {api["name"]: api for api in reply["api"]}
    create = {p["name"]: p for p in by_name["createAccount"]["params"]}
    assert create["username"]["required"] is True and create["domainid"]["type"] == "uuid"
    assert by_name["disableUser"]["isasync"] is True
    assert by_name["listAccounts"]["isasync"] is False
    assert {"keyword", "page", "pagesize"} <= {p["name"] for p in by_name["listAccounts"]["params"]}
    # uuid parameters name the commands answering their object, as CloudStack relates them; CloudMonkey
    # completes the values from the `list` one among them
    assert create["domainid"]["related"] == "createDomain,listDomains"
    lock = {p["name"]: p for p in by_name["lockUser"]["params"]}
    assert "listUsers" in lock["id"]["related"].split(",")
    # a command relates the others answering the same object, and lists that object's fields
    assert set(by_name["listAccounts"]["related"].split(",")) == {"createAccount"}
    fields = {f["name"]: f for f in by_name["listAccounts"]["response"]}
    assert fields["created"]["type"] == "date" and fields["user"]["type"] == "list"
    assert "username" in {f["name"] for f in fields["user"]["response"]}
    # an async command describes what its job returns, beside the job id it answers at once
    assert {"id", "username", "jobid"} <= {f["name"] for f in by_name["disableUser"]["response"]}


def test_a_user_sees_only_what_its_role_may_call(api_server: ServerProcess, admin_cs: CloudStack) -> None:
    _, keys = create_account_with_keys(admin_cs)
    user_names = {api["name"] for api in cs_client(api_server, keys).listApis()["api"]}
    admin_names = {api["name"] for api in admin_cs.listApis()["api"]}
    assert {"listAccounts", "login", "logout", "registerUserKeys"} <= user_names
    assert "createDomain" not in user_names and "createDomain" in admin_names
    assert user_names < admin_names


def test_one_api_by_name(admin_cs: CloudStack) -> None:
    reply = admin_cs.listApis(name="listDomains")
    assert [api["name"] for api in reply["api"]] == ["listDomains"]
    with pytest.raises(CloudStackApiException) as failure:
        admin_cs.listApis(name="sbtNoSuchApi")
    assert failure.value.error["errorcode"] == 431
