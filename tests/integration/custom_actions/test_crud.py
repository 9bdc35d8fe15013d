"""add/list/update/deleteCustomAction over real HTTP: CloudStack's defaults, response fields and order,
definition checks, role-mask visibility, listCustomActions' filters and quirks, the seeded built-in actions."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import unique
from tests.integration.custom_actions.conftest import World

pytestmark = pytest.mark.database

FIELDS = ["id", "name", "description", "extensionid", "extensionname", "resourcetype", "allowedroletypes",
          "successmessage", "errormessage", "timeout", "enabled", "details", "parameters", "created"]


def error_of(call: Any, **params: Any) -> tuple[int, str]:
    with pytest.raises(CloudStackApiException) as caught:
        call(**params)
    body = next(iter(caught.value.response.json().values()))
    return body["errorcode"], body["errortext"]


def test_add_uses_cloudstacks_defaults_and_field_order(world: World) -> None:
    name = unique("Snap shot")
    action = world.admin.addCustomAction(
        extensionid=world.bed.extension["id"], name=name, description="Create an Instance snapshot",
        details={"mode": "fast"}, successmessage="Snapshot created for {{resourceName}} in {{extensionName}}",
        parameters=[{"name": "snap_name", "type": "string", "required": "true"},
                    {"name": "count", "type": "NUMBER", "valueoptions": "10,100,1000"}],
    )["extensioncustomaction"]
    assert list(action) == [f for f in FIELDS if f != "errormessage"]
    assert action["name"] == name and action["enabled"] is False and action["timeout"] == 3
    assert action["allowedroletypes"] == ["Admin"] and action["resourcetype"] == "VirtualMachine"
    assert action["extensionid"] == world.bed.extension["id"]
    assert action["extensionname"] == world.bed.extension["name"]
    assert action["details"] == {"mode": "fast"}
    assert action["parameters"] == [
        {"name": "snap_name", "type": "STRING", "validationformat": "NONE", "required": True},
        {"name": "count", "type": "NUMBER", "validationformat": "NONE", "valueoptions": [10, 100, 1000],
         "required": False},
    ]
    listed = world.admin.listCustomActions(id=action["id"])
    assert listed["count"] == 1 and listed["extensioncustomaction"] == [action]


def test_admin_is_always_added_on_add_but_not_on_update(world: World) -> None:
    action = world.add(allowedroletypes="User,DomainAdmin")
    assert action["allowedroletypes"] == ["Admin", "DomainAdmin", "User"]
    updated = world.admin.updateCustomAction(id=action["id"], allowedroletypes="ResourceAdmin")
    assert updated["extensioncustomaction"]["allowedroletypes"] == ["ResourceAdmin"]


def test_add_refuses_what_cloudstack_refuses(world: World) -> None:
    ext = world.bed.extension["id"]
    add = world.admin.addCustomAction
    taken = world.add()
    assert error_of(add, extensionid=ext, name=taken["name"]) == (431, "Action by name already exists")
    code, text = error_of(add, extensionid=ext, name="bad/name")
    assert code == 431 and text.startswith("Invalid name: bad/name")
    code, text = error_of(add, extensionid=ext, name=unique("a"), resourcetype="Host")
    assert code == 431 and text.startswith("Invalid resource type specified: Host")
    code, text = error_of(add, extensionid=ext, name=unique("a"), allowedroletypes="admin")
    assert code == 431 and text.startswith("Invalid role type: admin")
    code, text = error_of(add, extensionid=ext, name=unique("a"), timeout=0)
    assert code == 431 and text.startswith("Invalid timeout: 0")
    code, text = error_of(add, extensionid="0b3d1f56-1111-4222-8333-944445555666", name=unique("a"))
    assert code == 431 and text.startswith("Unable to find extension with id 0b3d1f56-1111-4222-8333-944445555666")
    definitions: list[tuple[dict[str, str], str]] = [
        ({"name": "p"}, "No type specified for parameter: p"),
        ({"name": "p", "type": "TEXT"}, "Invalid type: TEXT specified for parameter: p"),
        ({"name": "p", "type": "NUMBER", "validationformat": "EMAIL"},
         "Invalid validation format: EMAIL specified for type: NUMBER"),
        ({"name": "p", "type": "STRING", "validationformat": "DECIMAL"},
         "Invalid validation format: DECIMAL specified for type: STRING"),
        ({"name": "p", "type": "BOOLEAN", "valueoptions": "true"},
         "Options not supported for type: BOOLEAN for parameter: p"),
        ({"name": "p", "type": "STRING", "validationformat": "URL", "valueoptions": "https://a.example,nope"},
         "Invalid value options with validation format: URL for parameter: p"),
    ]
    for definition, message in definitions:
        code, text = error_of(add, extensionid=ext, name=unique("a"), parameters=[definition])
        assert code == 431 and text.startswith(message), (definition, text)
    assert world.admin.listCustomActions(keyword="bad/name") == {}


def test_every_format_of_another_type_is_refused_over_http(world: World) -> None:
    types = ("STRING", "NUMBER", "BOOLEAN", "DATE")
    formats = {"UUID": "STRING", "EMAIL": "STRING", "PASSWORD": "STRING", "URL": "STRING", "DECIMAL": "NUMBER"}
    for type_ in types:
        for format_, base in formats.items():
            params = {"extensionid": world.bed.extension["id"], "name": unique("fmt"),
                      "parameters": [{"name": "p", "type": type_, "validationformat": format_}]}
            if base == type_:
                listed = world.admin.addCustomAction(**params)["extensioncustomaction"]["parameters"]
                assert listed == [{"name": "p", "type": type_, "validationformat": format_, "required": False}]
            else:
                assert error_of(world.admin.addCustomAction, **params) == \
                    (431, f"Invalid validation format: {format_} specified for type: {type_}")


def test_update_replaces_and_cleans_up(world: World) -> None:
    action = world.add(details={"a": "1", "b": "2"}, parameters=[{"name": "x", "type": "STRING"}], enabled=False)
    updated = world.admin.updateCustomAction(
        id=action["id"], description="new", enabled=True, timeout=60, details={"c": "3"},
        successmessage="ok {{actionName}}", errormessage="failed {{actionName}}",
        parameters=[{"name": "count", "type": "NUMBER", "valueoptions": "10,100,1000", "required": "true"}],
    )["extensioncustomaction"]
    assert list(updated) == FIELDS
    assert (updated["description"], updated["enabled"], updated["timeout"]) == ("new", True, 60)
    assert updated["details"] == {"c": "3"}
    assert updated["parameters"] == [{"name": "count", "type": "NUMBER", "validationformat": "NONE",
                                      "valueoptions": [10, 100, 1000], "required": True}]
    assert (updated["successmessage"], updated["errormessage"]) == ("ok {{actionName}}", "failed {{actionName}}")
    kept = world.admin.updateCustomAction(id=action["id"], description="again")["extensioncustomaction"]
    assert kept["details"] == {"c": "3"} and kept["parameters"] == updated["parameters"]
    cleaned = world.admin.updateCustomAction(id=action["id"], cleanupparameters=True, cleanupdetails=True,
                                             details={"ignored": "1"},
                                             parameters=[{"name": "y", "type": "DATE"}])["extensioncustomaction"]
    assert cleaned["details"] == {} and cleaned["parameters"] == []
    code, text = error_of(world.admin.updateCustomAction, id=action["id"],
                          parameters=[{"name": "y", "type": "DATE", "validationformat": "UUID"}])
    assert (code, text) == (431, "Invalid validation format: UUID specified for type: DATE")


def test_delete_removes_the_action_and_frees_its_name(world: World) -> None:
    action = world.add()
    assert world.admin.deleteCustomAction(id=action["id"]) == {"success": True}
    assert world.admin.listCustomActions(id=action["id"]) == {}
    code, _text = error_of(world.admin.deleteCustomAction, id=action["id"])
    assert code == 431
    again = world.admin.addCustomAction(extensionid=world.bed.extension["id"], name=action["name"])
    assert again["extensioncustomaction"]["name"] == action["name"]


def test_only_admins_manage_actions(world: World) -> None:
    for client in (world.user, world.domain_admin, world.resource_admin):
        code, _text = error_of(client.addCustomAction, extensionid=world.bed.extension["id"], name=unique("a"))
        assert code == 432
        code, _text = error_of(client.deleteCustomAction, id=world.add()["id"])
        assert code == 432


def _names(client: CloudStack, **params: Any) -> set[str]:
    return {a["name"] for a in client.listCustomActions(extensionid=params.pop("extensionid", None),
                                                         **params).get("extensioncustomaction", [])}


def test_each_role_type_sees_only_the_actions_its_role_may_run(world: World) -> None:
    only = {role: world.add(allowedroletypes=role)["name"] for role in ("ResourceAdmin", "DomainAdmin", "User")}
    admin_only = world.admin.addCustomAction(extensionid=world.bed.extension["id"], name=unique("adm"))
    admin_only_name = admin_only["extensioncustomaction"]["name"]
    ext = world.bed.extension["id"]
    every = set(only.values()) | {admin_only_name}
    assert every <= _names(world.admin, extensionid=ext)
    for client, role in ((world.user, "User"), (world.domain_admin, "DomainAdmin"),
                         (world.resource_admin, "ResourceAdmin")):
        seen = _names(client, extensionid=ext) & every
        assert seen == {only[role]}, role
    listed = world.user.listCustomActions(name=only["User"])["extensioncustomaction"][0]
    assert listed["details"] == {}  # the executable's configuration is for admins only


def test_list_filters_and_quirks(world: World) -> None:
    ext = world.bed.extension["id"]
    prefix = unique("flt")
    on = world.add(name=f"{prefix}-on")
    off = world.add(name=f"{prefix}-off", enabled=False)
    both = {on["name"], off["name"]}
    assert _names(world.admin, keyword=prefix) == both
    assert _names(world.admin, keyword=prefix.upper()) == both
    # CloudStack's quirk (§8.5): any value of `enabled`, even false, lists enabled actions only.
    for value in ("true", "false", "whatever"):
        assert _names(world.admin, keyword=prefix, enabled=value) == {on["name"]}
    assert _names(world.admin, name=off["name"]) == {off["name"]}
    assert _names(world.admin, keyword=prefix, resourcetype="VirtualMachine") == both
    code, _text = error_of(world.admin.listCustomActions, resourcetype="virtualmachine")
    assert code == 431  # case-sensitive here
    paged = world.admin.listCustomActions(extensionid=ext, page=1, pagesize=1)
    assert paged["count"] == 1 and len(paged["extensioncustomaction"]) == 1
    newest = world.admin.listCustomActions(keyword=prefix)["extensioncustomaction"]
    assert [a["name"] for a in newest] == [off["name"], on["name"]]  # by id, descending


def test_list_by_resource_finds_the_extension_serving_the_instance(world: World) -> None:
    action = world.add()
    by_vm = world.admin.listCustomActions(resourcetype="VirtualMachine", resourceid=world.admin_vm["id"])
    names = {a["name"] for a in by_vm["extensioncustomaction"]}
    assert action["name"] in names
    assert {a["extensionid"] for a in by_vm["extensioncustomaction"]} == {world.bed.extension["id"]}
    assert action["name"] in {a["name"] for a in world.user.listCustomActions(
        resourcetype="VirtualMachine", resourceid=world.user_vm["id"], enabled=True)["extensioncustomaction"]}
    failed = (431, "Internal error listing custom actions with specified resource")
    assert error_of(world.admin.listCustomActions, resourcetype="VirtualMachine",
                    resourceid="0b3d1f56-1111-4222-8333-944445555666") == failed
    # Another account's instance reads exactly like one that does not exist.
    assert error_of(world.other.listCustomActions, resourcetype="VirtualMachine",
                    resourceid=world.user_vm["id"]) == failed


def test_the_built_in_extensions_have_their_seeded_actions(world: World) -> None:
    extensions = {e["name"]: e["id"] for e in world.admin.listExtensions()["extension"]}
    expected: dict[str, dict[str, list[dict[str, Any]]]] = {
        "Proxmox": {
            "ListSnapshots": [],
            "CreateSnapshot": [
                {"name": "snap_name", "type": "STRING", "validationformat": "NONE", "required": True},
                {"name": "snap_description", "type": "STRING", "validationformat": "NONE", "required": False},
                {"name": "snap_save_memory", "type": "BOOLEAN", "validationformat": "NONE", "required": False},
            ],
            "RestoreSnapshot": [{"name": "snap_name", "type": "STRING", "validationformat": "NONE",
                                 "required": True}],
            "DeleteSnapshot": [{"name": "snap_name", "type": "STRING", "validationformat": "NONE",
                                "required": True}],
        },
        "HyperV": {
            "ListSnapshots": [], "Suspend": [], "Resume": [],
            **{name: [{"name": "snapshot_name", "type": "STRING", "validationformat": "NONE", "required": True}]
               for name in ("CreateSnapshot", "RestoreSnapshot", "DeleteSnapshot")},
        },
    }
    for extension, actions in expected.items():
        listed = world.admin.listCustomActions(extensionid=extensions[extension])["extensioncustomaction"]
        assert {a["name"]: a["parameters"] for a in listed} == actions, extension
        for action in listed:
            assert action["resourcetype"] == "VirtualMachine" and action["timeout"] == 60 and action["enabled"]
            assert action["allowedroletypes"] == ["Admin", "ResourceAdmin", "DomainAdmin", "User"]
            assert "{{resourceName}}" in action["successmessage"]
