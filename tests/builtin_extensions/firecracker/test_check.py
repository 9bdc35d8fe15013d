"""`switchboard ext check --details FILE` on the Firecracker extension against a live agent, and its manifest.

The details file points the check's sample payloads at the agent (the host's address, credentials and
certificates; the test guest as the template), as an operator points the check at a host; the check watches
every output for the agent password as for its own planted secrets."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.extensions.builtins import BUILTIN_SOURCE, load_manifest
from switchboard.roles import RoleType
from tests.agent.agentcore import pamusers
from tests.builtin_extensions.firecracker.agenthost import AgentHost, template_details
from tests.builtin_extensions.firecracker.cloud import EXTENSION, Cloud, run_extension
from tests.support.server import REPO, switchboard_cmd

pytestmark = [pytest.mark.root]
SAMPLE_INSTANCE = "i-2-1001-VM"  # the check's sample instance (kit/sample.py)


@pytest.mark.slow
def test_ext_check_passes_against_a_live_agent(agent: AgentHost, tmp_path: Path) -> None:
    details = tmp_path / "details.json"
    details.write_text(json.dumps({"host": agent.details(), "template": template_details()}))
    done = subprocess.run(switchboard_cmd("ext", "check", str(EXTENSION), "--details", str(details), "--timeout",
                                          "90", "--json"), cwd=REPO, capture_output=True, text=True, timeout=1200)
    report = json.loads(done.stdout)
    findings = {step["step"]: [f["message"] for f in step["findings"]] for step in report["steps"]}
    assert (done.returncode, report["passed"]) == (0, True), findings
    assert all(not found for found in findings.values()), findings  # not even a warning
    steps = {step["step"]: step for step in report["steps"]}
    assert [steps[name]["exit_code"] for name in ("custom action", "unknown action")] == [1, 1]
    console = json.loads(steps["getconsole"]["output"])["console"]
    assert (console["host"], console["protocol"]) == ("127.0.0.1", "vnc") and len(console["password"]) == 8
    assert agent.leftovers(SAMPLE_INSTANCE, [pamusers.PASSWORD]) == []


def test_the_manifest_declares_what_the_executable_does(agent: AgentHost, tmp_path: Path) -> None:
    builtin = load_manifest(BUILTIN_SOURCE / "Firecracker" / "extension.json")
    assert builtin.relative_path == "Firecracker/firecracker.py" and not builtin.requires_prepare_vm
    actions = {action.name: action for action in builtin.actions}
    assert set(actions) == {"CreateSnapshot", "ListSnapshots", "RestoreSnapshot", "DeleteSnapshot", "Pause",
                            "Resume", "ConsoleLog", "Metrics"}
    assert actions["CreateSnapshot"].timeout == actions["RestoreSnapshot"].timeout == 600
    assert actions["Metrics"].allowed_roles_mask == RoleType.ADMIN.bit  # host-wide figures: admins only
    assert [(p.name, p.required) for p in actions["RestoreSnapshot"].parameters] == [("snapshot_name", True)]
    # Every declared action is one the executable knows: on an instance the agent does not have, each
    # fails saying so, never with "Invalid action" (Metrics is about the host; deleting what is not there
    # succeeds).
    cloud = Cloud(host_details=agent.details(), template_details=template_details(), instance_id=4090)
    for name in actions:
        run = run_extension(name, cloud.custom(name, {"snapshot_name": "s1", "lines": 5}), tmp_path)
        if name == "Metrics":
            assert run.code == 0 and run.reply["printmessage"] == "true", run.output
        elif name == "DeleteSnapshot":
            assert run.code == 0 and run.reply["message"] == "snapshot s1 did not exist", run.output
        else:
            assert run.error.startswith(f"VM {cloud.name} does not exist on the agent"), (name, run.output)


def test_the_executable_runs_on_a_cloudstack_management_server() -> None:
    """Python 3.7 grammar and the standard library alone: what a CloudStack 4.21 management server offers."""
    tree = ast.parse(EXTENSION.read_text(), feature_version=(3, 7))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported - {"__future__"} <= sys.stdlib_module_names, imported - sys.stdlib_module_names
    assert "from __future__ import annotations" in EXTENSION.read_text()  # annotations never evaluated
