"""Response shapes: what they accept and refuse, and how `listApis` describes a command from them."""

from __future__ import annotations

import pytest

from switchboard.api.commands.apis import api_view
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import CommandRegistry, api_command
from switchboard.api.responses import ListResponse, SuccessResponse
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.roles import ALL_ROLES

PART = Shape("part", [Field("name", T.STRING, "the part's name"), Field("count", T.INTEGER, "how many")])
THING = Shape("thing", [
    Field("id", T.STRING, "the thing's id"),
    Field("created", T.DATE, "when it was made"),
    Field("enabled", T.BOOLEAN, "whether it is enabled"),
    Field("details", T.MAP, "its details"),
    Field("labels", T.LIST, "its labels", items=T.STRING),
    Field("part", T.SET, "its parts", shape=PART),
    Field("main", T.OBJECT, "its main part", shape=PART),
])


def test_a_conforming_item_has_no_problems() -> None:
    item = {"id": "t1", "created": "2025-08-22T11:42:37+0000", "enabled": True, "details": {"a": "b"},
            "labels": ["x"], "part": [{"name": "p", "count": 2}], "main": {"name": "m"}}
    assert THING.problems(item) == []
    assert THING.problems({}) == []  # absent fields are left out, as CloudStack leaves out nulls


@pytest.mark.parametrize(("item", "expected"), [
    ({"id": "t1", "colour": "red"}, "thing.colour: not declared in shape thing"),
    ({"enabled": "true"}, "thing.enabled: str 'true' is not a boolean"),
    ({"created": "2025-08-22 11:42:37"}, "thing.created: str"),
    ({"part": [{"name": "p", "weight": 3}]}, "thing.part[0].weight: not declared in shape part"),
    ({"main": {"count": True}}, "thing.main.count: bool True is not a integer"),
    ({"labels": ["x", 1]}, "thing.labels[1]: 1 is not a string"),
    ({"details": []}, "thing.details: list [] is not a map"),
])
def test_each_difference_is_named(item: dict[str, object], expected: str) -> None:
    problems = THING.problems(item)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_observe_records_the_fields_present_nested_ones_too() -> None:
    seen: set[tuple[str, str]] = set()
    THING.observe({"id": "t1", "part": [{"name": "p"}], "undeclared": 1}, seen)
    assert seen == {("thing", "id"), ("thing", "part"), ("part", "name")}
    assert {shape.name for shape in THING.reachable()} == {"thing", "part"}


def test_a_field_declares_nesting_only_where_it_can_have_it() -> None:
    with pytest.raises(ValueError, match="nested shape"):
        Field("name", T.STRING, "a name", shape=PART)
    with pytest.raises(ValueError, match="item type"):
        Field("name", T.MAP, "a name", items=T.STRING)
    with pytest.raises(ValueError, match="twice"):
        Shape("twice", [Field("a", T.STRING, ""), Field("a", T.STRING, "")])


def test_list_apis_describes_a_command_from_its_shape() -> None:
    registry = CommandRegistry()
    for name in ("listThings", "createThing"):
        api_command(name, params=[Param("id", ParamType.UUID)], roles=ALL_ROLES, description=name, response=THING,
                    registry=registry)(lambda call: ListResponse("thing", []))
    api_command("deleteThing", params=[Param("thingid", ParamType.UUID), Param("id", ParamType.UUID)],
                roles=ALL_ROLES, description="delete", response=SUCCESS, is_async=True,
                registry=registry)(lambda call: SuccessResponse())
    related = {"thing": ["createThing", "listThings"]}

    listing = api_view(registry.get("listThings"), related)  # type: ignore[arg-type]
    assert listing["related"] == "createThing"  # the others answering the same object
    assert listing["params"][0]["related"] == "createThing,listThings"  # `id` names the command's own object
    fields = {f["name"]: f for f in listing["response"]}
    assert fields["created"] == {"name": "created", "description": "when it was made", "type": "date"}
    assert [inner["name"] for inner in fields["part"]["response"]] == ["name", "count"]
    assert fields["part"]["type"] == "set" and "response" not in fields["labels"]

    delete = api_view(registry.get("deleteThing"), related)  # type: ignore[arg-type]
    assert delete["related"] == ""  # {"success": true} relates nothing, as in CloudStack
    assert delete["params"][0]["related"] == "createThing,listThings"  # `thingid` names a thing
    assert delete["params"][1]["related"] == "createThing,listThings"  # so does deleteThing's `id`
    assert [f["name"] for f in delete["response"]] == ["success", "displaytext", "jobid"]
    assert registry.get("listThings").response_object == "thing"  # type: ignore[union-attr]


def test_every_command_declares_the_shape_of_its_answer() -> None:
    import switchboard.api.commands  # noqa: F401  (registers every command)
    from switchboard.api.registry import REGISTRY

    undeclared = [command.name for command in REGISTRY if command.response is None]
    assert undeclared == []
    # the object name responses use is the shape's (a list or object response sits under it)
    mismatched = [command.name for command in REGISTRY if command.response is not SUCCESS
                  and command.response_object not in (None, command.response.name)]  # type: ignore[union-attr]
    assert mismatched == []
