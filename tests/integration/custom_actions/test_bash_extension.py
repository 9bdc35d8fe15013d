"""A bash extension written here (as CloudStack's own smoke test does): it prints its payload for custom
actions, so the typed parameters it received come back through `result.details`."""

from __future__ import annotations

import json

import pytest

from tests.integration.compute.env import build_bed, ok, unique, wait_job
from tests.integration.custom_actions.conftest import World, result_of

pytestmark = pytest.mark.database

SCRIPT = """#!/bin/bash
action=$1 payload=$2
case "$action" in
  prepare|create|start|stop|reboot|delete) echo '{"status":"success"}' ;;
  status) echo '{"status":"success","power_state":"poweron"}' ;;
  statuses) echo '{"error":"Invalid action"}'; exit 1 ;;
  Fail) echo "cannot do that"; exit 4 ;;
  *) cat "$payload" ;;
esac
"""


def test_a_bash_executable_gets_typed_parameters_and_its_output_is_the_result(world: World) -> None:
    bed = build_bed(world.server, world.admin, requires_prepare=False, script=SCRIPT, filename="ext.sh")
    vm = ok(world.admin, bed.deploy(name=unique("bash")))
    echo = world.admin.addCustomAction(
        extensionid=bed.extension["id"], name="Echo", enabled=True, details={"k": "v"},
        parameters=[{"name": "Name", "type": "STRING", "required": "true"}, {"name": "n", "type": "NUMBER"},
                    {"name": "ratio", "type": "NUMBER", "validationformat": "DECIMAL"},
                    {"name": "on", "type": "BOOLEAN"}, {"name": "at", "type": "DATE"}],
    )["extensioncustomaction"]
    answer = world.admin.runCustomAction(customactionid=echo["id"], resourceid=vm["id"], parameters={
        "Name": "snap-1", "n": "3", "ratio": "0.75", "on": "false", "at": "2026-01-01T00:00:00-05:00", "x": "y"})
    result = result_of(wait_job(world.admin, answer["jobid"]))
    assert result["success"] is True and result["result"]["message"] == "Successfully completed Echo"
    payload = json.loads(result["result"]["details"])
    assert payload["parameters"] == {"Name": "snap-1", "n": 3, "ratio": 0.75, "on": False,
                                     "at": "2026-01-01T05:00:00Z", "x": "y"}
    assert payload["externaldetails"]["action"] == {"k": "v"} and payload["virtualmachineid"] == vm["id"]
    fail = world.admin.addCustomAction(extensionid=bed.extension["id"], name="Fail", enabled=True,
                                       errormessage="{{actionName}} failed on {{extensionName}}")
    answer = world.admin.runCustomAction(customactionid=fail["extensioncustomaction"]["id"], resourceid=vm["id"])
    failed = result_of(wait_job(world.admin, answer["jobid"]))
    assert failed["success"] is False
    assert failed["result"] == {"message": f"Fail failed on {bed.extension['name']}",
                                "details": "Exit code: 4, Output: cannot do that"}
