"""runCustomAction over real HTTP with a real (recording) executable: typed parameters in the payload, the
payload's groups, results and messages, failures and timeouts, every precise refusal, every role type, and a
PASSWORD value that never shows up in the server log, events, job results or the job table."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.integration.compute.env import wait_job
from tests.integration.custom_actions.conftest import World, failure_of, result_of
from tests.support.fixtures import create_account_with_keys, cs_client

pytestmark = pytest.mark.database

EVERY_KIND = [
    {"name": "s", "type": "STRING"},
    {"name": "u", "type": "STRING", "validationformat": "UUID"},
    {"name": "e", "type": "STRING", "validationformat": "EMAIL"},
    {"name": "pw", "type": "STRING", "validationformat": "PASSWORD"},
    {"name": "url", "type": "STRING", "validationformat": "URL"},
    {"name": "size", "type": "STRING", "valueoptions": "small,large"},
    {"name": "n", "type": "NUMBER", "required": "true"},
    {"name": "count", "type": "NUMBER", "valueoptions": "10,100,1000"},
    {"name": "d", "type": "NUMBER", "validationformat": "DECIMAL"},
    {"name": "b", "type": "BOOLEAN"},
    {"name": "when", "type": "DATE"},
]
GOOD = {"s": "plain text", "u": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "e": "ops@example.org", "pw": "hunter2",
        "url": "https://backup.example.org/v1", "size": "large", "n": "-7", "count": "100", "d": "2.50",
        "b": "true", "when": "2025-08-22T13:42:37+02:00", "undefined": "kept as text"}
TYPED = {"s": "plain text", "u": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "e": "ops@example.org", "pw": "hunter2",
         "url": "https://backup.example.org/v1", "size": "large", "n": -7, "count": 100, "d": 2.5, "b": True,
         "when": "2025-08-22T11:42:37Z", "undefined": "kept as text"}


def test_typed_parameters_and_every_group_reach_the_executable(world: World) -> None:
    action = world.add(parameters=EVERY_KIND, details={"region": "eu", "bucket": "snaps"}, timeout=7,
                       successmessage="{{actionName}} done for {{resourceName}} in {{extensionName}}")
    world.bed.behave(**{action["name"]: {"output": "snapshot s1 created\n"}})
    result = result_of(world.run(world.admin, action, parameters=GOOD))
    vm_name = world.admin.listVirtualMachines(id=world.admin_vm["id"])["virtualmachine"][0]["instancename"]
    assert result == {"id": action["id"], "name": action["name"], "success": True,
                      "result": {"message": f"{action['name']} done for {vm_name} in {world.bed.extension['name']}",
                                 "details": "snapshot s1 created"}}
    [call] = world.calls(action)
    assert call["argv"][1] == action["name"] and call["argv"][3] == "7" and call["mode"] == 0o600
    payload = call["payload"]
    assert payload["parameters"] == TYPED
    assert json.dumps(payload["parameters"]["b"]) == "true" and isinstance(payload["parameters"]["d"], float)
    assert payload["action"] == action["name"]
    assert payload["virtualmachineid"] == world.admin_vm["id"] and payload["virtualmachinename"] == vm_name
    assert payload["cloudstack.vm.details"]["uuid"] == world.admin_vm["id"]
    groups = payload["externaldetails"]
    assert groups["action"] == {"region": "eu", "bucket": "snaps"}
    assert groups["virtualmachine"]["template_type"] == "template"  # the 4.22+ group
    assert groups["extension"] == {"url": "https://10.0.0.5", "secret": "ext-secret"}
    assert groups["host"]["node"] == "pve1" and groups["resourcemap"] == {"zone_tag": "east"}
    assert payload["caller"]["roletype"] == "Admin"


def test_an_action_without_parameters_drops_whatever_is_supplied(world: World) -> None:
    action = world.add()
    assert result_of(world.run(world.admin, action, parameters={"stray": "x"}))["success"] is True
    [call] = world.calls(action)
    assert "parameters" not in call["payload"]
    assert "action" not in call["payload"]["externaldetails"]  # no details: the empty group is left out


def test_a_failing_executable_gives_a_succeeded_job_with_success_false(world: World) -> None:
    templated = world.add(errormessage="Could not {{actionName}} {{resourceName}}")
    plain = world.add()
    world.bed.behave(**{templated["name"]: {"exit": 3, "output": "disk full"},
                        plain["name"]: {"exit": 1, "output": ""}})
    result = result_of(world.run(world.admin, templated))
    vm_name = world.calls(templated)[0]["payload"]["virtualmachinename"]
    assert result["success"] is False
    assert result["result"] == {"message": f"Could not {templated['name']} {vm_name}",
                                "details": "Exit code: 3, Output: disk full"}
    default = result_of(world.run(world.admin, plain))["result"]
    assert default == {"message": f"Failed to complete {plain['name']}", "details": "Exit code: 1, Output: "}


def test_a_successful_answer_is_kept_whole_and_a_failure_cut_to_a_few_kib(world: World) -> None:
    answer = json.dumps({"status": "success", "printmessage": "true",
                         "message": [{"name": f"snap-{i:04d}", "description": "x" * 60} for i in range(300)]})
    assert 16_000 < len(answer) < 65_536
    listed, broken = world.add(), world.add()
    world.bed.behave(**{listed["name"]: {"output": answer}, broken["name"]: {"exit": 2, "output": answer}})
    # A table of 300 snapshots is the answer the user asked for: whole, so the UI can render it.
    kept = result_of(world.run(world.admin, listed))["result"]["details"]
    assert json.loads(kept) == json.loads(answer)
    # The same text from a failing run is a diagnosis: its beginning and end, with what was cut in between.
    cut = result_of(world.run(world.admin, broken))["result"]["details"]
    assert cut.startswith("Exit code: 2, Output: ") and "characters of output cut" in cut and len(cut) < 9 * 1024


def test_the_actions_own_timeout_bounds_its_process(world: World) -> None:
    action = world.add(timeout=1)
    world.bed.behave(**{action["name"]: {"sleep": 30}})
    result = result_of(world.run(world.admin, action))
    assert result["success"] is False and result["result"]["details"] == "Timeout"
    assert world.calls(action)[0]["argv"][3] == "1"


BAD_VALUES: list[tuple[dict[str, str], str]] = [
    ({}, "Missing or empty required parameter: n"),
    ({"n": "  "}, "Missing or empty required parameter: n"),
    ({"n": "1", "s": ""}, "Empty value for parameter 's'"),
    ({"n": "1.5"}, "Invalid value for parameter 'n' (NUMBER): '1.5' is not a whole number"),
    ({"n": "1", "count": "7"}, "Invalid value for parameter 'count' (NUMBER): '7' is not one of the valid options: "
                               "10, 100, 1000"),
    ({"n": "1", "d": "two"}, "Invalid value for parameter 'd' (NUMBER, DECIMAL): 'two' is not a decimal number"),
    ({"n": "1", "b": "yes"}, "Invalid value for parameter 'b' (BOOLEAN): 'yes' is not a boolean"),
    ({"n": "1", "when": "22/08/2025"}, "Invalid value for parameter 'when' (DATE): '22/08/2025' is not a date"),
    ({"n": "1", "u": "not-a-uuid"}, "Invalid value for parameter 'u' (STRING, UUID): 'not-a-uuid' is not a UUID"),
    ({"n": "1", "e": "ops@"}, "Invalid value for parameter 'e' (STRING, EMAIL): 'ops@' is not an email address"),
    ({"n": "1", "url": "example.org"}, "Invalid value for parameter 'url' (STRING, URL): 'example.org' is not a URL"),
    ({"n": "1", "size": "medium"}, "Invalid value for parameter 'size' (STRING): 'medium' is not one of the valid "
                                   "options: small, large"),
]


def test_bad_values_fail_the_job_naming_the_parameter_and_the_rule(world: World) -> None:
    action = world.add(parameters=EVERY_KIND)
    for values, message in BAD_VALUES:
        job = world.run(world.user, action, world.user_vm, parameters=values or None)
        assert failure_of(job).startswith(message), (values, job)
        assert job["jobresultcode"] == 431
    assert world.calls(action) == []  # nothing ran


def test_refusals_say_what_is_wrong(world: World) -> None:
    action = world.add(parameters=[{"name": "x", "type": "STRING"}])
    missing = str(uuid.uuid4())
    assert failure_of(world.run(world.admin, {"id": missing})) == \
        f"Unable to find custom action with id {missing} that role type Admin may run"
    assert failure_of(world.run(world.admin, action, resourcetype="Host")).startswith(
        "Invalid resource type: Host; custom actions run on VirtualMachine only")
    assert result_of(world.run(world.admin, action, resourcetype="virtualmachine"))["success"] is True
    assert failure_of(world.run(world.admin, action, {"id": missing})) == f"Unable to find instance with id {missing}"
    disabled = world.add(enabled=False)
    assert failure_of(world.run(world.admin, disabled)) == f"Custom action {disabled['name']} is disabled"
    proxmox = next(e for e in world.admin.listExtensions()["extension"] if e["name"] == "Proxmox")
    foreign = world.admin.listCustomActions(extensionid=proxmox["id"], name="ListSnapshots")
    assert failure_of(world.run(world.admin, foreign["extensioncustomaction"][0])).startswith(
        "Custom action ListSnapshots belongs to extension Proxmox, which does not serve instance")
    extension = world.bed.extension
    world.admin.updateExtension(id=extension["id"], state="Disabled")
    try:
        assert failure_of(world.run(world.admin, action)) == \
            f"Extension {extension['name']} of custom action {action['name']} is disabled"
    finally:
        world.admin.updateExtension(id=extension["id"], state="Enabled")
    assert world.calls(disabled) == [] and len(world.calls(action)) == 1


def test_each_role_type_runs_what_its_role_allows_on_what_it_may_see(world: World) -> None:
    everyone = world.add()
    for client in (world.user, world.domain_admin, world.resource_admin, world.admin):
        assert result_of(world.run(client, everyone, world.user_vm))["success"] is True
    roles = [call["payload"]["caller"]["roletype"] for call in world.calls(everyone)]
    assert sorted(roles) == ["Admin", "DomainAdmin", "ResourceAdmin", "User"]
    # A User only on its own instances: another account's reads exactly like one that does not exist.
    assert failure_of(world.run(world.other, everyone, world.user_vm)) == \
        f"Unable to find instance with id {world.user_vm['id']}"
    assert failure_of(world.run(world.user, everyone, world.admin_vm)) == \
        f"Unable to find instance with id {world.admin_vm['id']}"
    # A role outside the mask reads exactly like an unknown action.
    for role, client in (("User", world.user), ("DomainAdmin", world.domain_admin),
                         ("ResourceAdmin", world.resource_admin)):
        others = ",".join(r for r in ("ResourceAdmin", "DomainAdmin", "User") if r != role)
        action = world.add(allowedroletypes=others)
        assert failure_of(world.run(client, action, world.user_vm)) == \
            f"Unable to find custom action with id {action['id']} that role type {role} may run"
        assert result_of(world.run(world.admin, action, world.user_vm))["success"] is True  # Admin always may


def test_a_password_value_never_leaves_the_payload(world: World) -> None:
    secret = f"sbt-Secret-{uuid.uuid4().hex}"
    action = world.add(parameters=[{"name": "pw", "type": "STRING", "validationformat": "PASSWORD"},
                                   {"name": "n", "type": "NUMBER"}])
    picky = world.add(parameters=[{"name": "pw", "type": "STRING", "validationformat": "PASSWORD",
                                   "valueoptions": "alpha,beta"}])
    world.bed.behave(**{action["name"]: {"output": "done"}})
    jobs = [
        world.run(world.user, action, world.user_vm, parameters={"pw": secret, "n": "1"}),
        world.run(world.user, action, world.user_vm, parameters={"pw": secret, "n": "x"}),
        world.run(world.user, picky, world.user_vm, parameters={"pw": secret}),
    ]
    assert result_of(jobs[0])["success"] is True
    assert failure_of(jobs[1]).startswith("Invalid value for parameter 'n'")
    assert failure_of(jobs[2]) == "Invalid value for parameter 'pw' (STRING, PASSWORD): the value is not one of " \
                                  "the valid options: alpha, beta"
    assert world.calls(action)[0]["payload"]["parameters"]["pw"] == secret  # the executable does get it
    seen = [json.dumps(jobs), json.dumps(world.user.listAsyncJobs()), json.dumps(world.admin.listAsyncJobs(
        listall=True)), json.dumps(world.admin.listEvents(type="CUSTOM.ACTION", listall=True)),
        json.dumps(world.user.listEvents()), json.dumps(world.admin.listEvents(listall=True)), world.server.log()]
    for text_seen in seen:
        assert secret not in text_seen
    assert "CUSTOM.ACTION" in seen[3] and "CUSTOM.ACTION" in seen[4]
    engine = create_engine(world.server.database_url or "")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM async_job")).all()
    finally:
        engine.dispose()
    assert rows and secret not in repr(rows) and "hunter" not in repr(rows)


def test_runs_are_recorded_as_custom_action_events(world: World) -> None:
    action = world.add()
    world.bed.behave(**{action["name"]: {"exit": 2}})
    world.run(world.user, action, world.user_vm)
    vm_name = world.calls(action)[0]["payload"]["virtualmachinename"]
    events = world.user.listEvents(type="CUSTOM.ACTION")["event"]
    mine = [e for e in events if action["name"] in e["description"]]
    assert len(mine) == 1 and mine[0]["level"] == "ERROR"
    assert mine[0]["description"] == \
        f"Custom action {action['name']} of extension {world.bed.extension['name']} on instance {vm_name}: failed"


def test_a_domain_admin_runs_only_on_instances_of_its_subtree(world: World) -> None:
    child = world.admin.createDomain(name=f"sbt-ca-{uuid.uuid4().hex[:6]}")["domain"]
    _account, keys = create_account_with_keys(world.admin, prefix="sbt-cad", account_type=2, domain_id=child["id"])
    sub_admin = cs_client(world.server, keys)
    action = world.add(allowedroletypes="DomainAdmin")
    assert failure_of(world.run(sub_admin, action, world.user_vm)) == \
        f"Unable to find instance with id {world.user_vm['id']}"
    assert result_of(world.run(world.domain_admin, action, world.user_vm))["success"] is True


def test_an_instance_that_never_started_has_no_host_to_run_on(world: World) -> None:
    action = world.add()
    answer = world.bed.deploy(name=f"sbt-nostart-{uuid.uuid4().hex[:6]}", startvm=False)
    vm = wait_job(world.admin, answer["jobid"])["jobresult"]["virtualmachine"]
    assert vm["state"] == "Stopped"
    assert failure_of(world.run(world.admin, action, vm)) == \
        f"Instance {vm['name']} has no host yet: custom actions run on the host of an instance that has been started"
    listed = world.admin.listCustomActions(resourcetype="VirtualMachine", resourceid=vm["id"])
    assert action["name"] in {a["name"] for a in listed["extensioncustomaction"]}  # found by its template


def test_refused_runs_are_recorded_as_error_events(world: World) -> None:
    action = world.add(parameters=[{"name": "n", "type": "NUMBER", "required": "true"}])
    world.run(world.user, action, world.user_vm)
    events = world.user.listEvents(type="CUSTOM.ACTION")["event"]
    [refused] = [e for e in events if action["id"] in e["description"]]
    assert refused["level"] == "ERROR"
    assert refused["description"] == f"Custom action {action['id']} on {world.user_vm['id']} refused: Missing or " \
                                      "empty required parameter: n"


def test_an_action_without_a_resource_type_needs_one_from_the_caller(world: World) -> None:
    action = world.add()
    engine = create_engine(world.server.database_url or "")
    try:
        with engine.begin() as connection:  # what addCustomAction never writes, as for non-Orchestrator types
            connection.execute(text("UPDATE extension_custom_action SET resource_type = NULL WHERE uuid = :u"),
                               {"u": action["id"]})
    finally:
        engine.dispose()
    assert failure_of(world.run(world.admin, action)) == "Resource type not specified for the action"
    assert result_of(world.run(world.admin, action, resourcetype="VirtualMachine"))["success"] is True
    listed = world.admin.listCustomActions(id=action["id"])["extensioncustomaction"][0]
    assert "resourcetype" not in listed
