"""The Firecracker extension on its own, with CloudStack-shaped payloads, against a real agent process (HTTPS,
mTLS allow-list, PAM) running the test guest under QEMU TCG: every lifecycle and custom action on one
instance, from create to delete, and nothing left on the host afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent.agentcore.vnc import vnc_login
from tests.builtin_extensions.firecracker.agenthost import MARKER, AgentHost
from tests.builtin_extensions.firecracker.cloud import Cloud, run_extension

pytestmark = [pytest.mark.root, pytest.mark.slow]

SHUTDOWN = "SWITCHBOARD-GUEST-SHUTDOWN"


class Driver:
    """Runs actions of one cloud and checks what every run has in common: JSON out, no secret in it."""

    def __init__(self, cloud: Cloud, payloads: Path) -> None:
        self.cloud, self.payloads = cloud, payloads

    def run(self, action: str, parameters: dict[str, Any] | None = None, *, state: str = "Running",
            custom: bool = False) -> dict[str, Any]:
        if custom:
            payload = self.cloud.custom(action, parameters)
        elif action == "statuses":
            payload = self.cloud.statuses()
        else:
            payload = self.cloud.payload(action, state)
        run = run_extension(action, payload, self.payloads)
        for secret in self.cloud.secrets():
            assert secret not in run.output, f"{action} printed a secret: {run.output}"
        assert run.code == 0, f"{action} failed: {run.output}"
        reply = run.reply
        assert reply["status"] == "success", run.output
        return reply


def test_one_instance_through_every_action(cloud: Cloud, agent: AgentHost, payloads: Path) -> None:
    name, ext = cloud.name, Driver(cloud, payloads)
    prepared = run_extension("prepare", cloud.payload("prepare", "Starting"), payloads)
    assert (prepared.code, prepared.output) == (0, "")  # the agent answers; every NIC has its MAC already

    assert ext.run("create", state="Starting")["vm_name"] == name
    agent.wait_console(name, MARKER)
    with agent.http() as http:
        details = http.get(f"/v1/vms/{name}/details").json()
    assert (details["vm_config"]["cpus"], details["vm_config"]["memory_mib"]) == (1, 256)
    assert details["payload"]["nic"] == {"mac": "02:01:00:e9:00:01", "ip": "10.1.0.1", "vlan": "1577"}
    assert details["payload"]["kernel"] == "vmlinux" and details["payload"]["image"] == "guest.ext4"
    # CloudStack retrying a create it timed out on gets the same VM back.
    assert "already exists with the same spec" in ext.run("create", state="Starting")["message"]
    assert ext.run("status")["power_state"] == "poweron"
    assert ext.run("statuses")["power_state"] == {name: "poweron"}

    log = ext.run("ConsoleLog", {"lines": 400}, custom=True)["message"]
    assert MARKER in log and "\r" not in log
    assert len(ext.run("ConsoleLog", {"lines": 3}, custom=True)["message"].splitlines()) == 3

    ext.run("Pause", custom=True)
    assert agent.state(name) == "paused" and ext.run("status")["power_state"] == "poweron"
    ext.run("Resume", custom=True)
    assert agent.state(name) == "running"

    created = ext.run("CreateSnapshot", {"snapshot_name": "before-upgrade"}, custom=True)
    assert created["snapshot"]["name"] == "before-upgrade" and created["snapshot"]["created"].endswith("Z")
    listed = ext.run("ListSnapshots", custom=True)
    assert listed["printmessage"] == "true"
    assert [row["name"] for row in listed["message"]] == ["before-upgrade"]
    assert set(listed["message"][0]) == {"name", "created", "size"}
    ext.run("RestoreSnapshot", {"snapshot_name": "before-upgrade"}, custom=True)
    agent.wait_state(name, "running")
    ext.run("DeleteSnapshot", {"snapshot_name": "before-upgrade"}, custom=True)
    assert ext.run("ListSnapshots", custom=True) == {"status": "success", "message": f"{name} has no snapshots"}

    console = ext.run("getconsole")["console"]
    assert (console["host"], console["protocol"], console["passwordonetimeuseonly"]) == ("127.0.0.1", "vnc", False)
    assert isinstance(console["port"], int) and vnc_login(console["port"], console["password"])
    proxied = Driver(cloud.with_host(console_host="console.example"), payloads).run("getconsole")["console"]
    assert (proxied["host"], proxied["port"]) == ("console.example", console["port"])  # the same console

    rows = ext.run("Metrics", custom=True)["message"]
    assert {"metric": "switchboard_agent_vms", "labels": "state=running", "value": "1.0"} in rows
    assert not any(row["metric"].endswith("_bucket") for row in rows)

    ext.run("stop")
    assert ext.run("status")["power_state"] == "poweroff"
    assert SHUTDOWN in agent.console(name)  # a graceful stop: the guest ran its shutdown
    # Started again with a bigger offering: the agent adopts the memory of the payload.
    bigger = Driver(Cloud(host_details=cloud.host_details, template_details=cloud.template_details, ram_mb=320),
                    payloads)
    bigger.run("start", state="Starting")
    agent.wait_console(name, MARKER, count=2)
    with agent.http() as http:
        assert http.get(f"/v1/vms/{name}/details").json()["vm_config"]["memory_mib"] == 320
    ext.run("reboot")
    agent.wait_console(name, MARKER, count=3)

    ext.run("delete", state="Expunging")
    assert ext.run("status")["power_state"] == "poweroff"
    assert ext.run("statuses")["power_state"] == {}
    assert agent.leftovers(name, cloud.secrets()) == []
    ext.run("delete", state="Expunging")  # deleting again succeeds, as CloudStack expects
