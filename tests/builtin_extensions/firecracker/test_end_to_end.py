"""End to end: the management server drives a microVM through the seeded Firecracker extension and a real
agent (HTTPS, mTLS allow-list, PAM) on a "host" of its own — a network namespace reached over a veth pair,
with Open vSwitch for the guests' TAPs and the Firecracker stand-in (the real test guest under QEMU TCG) as
the VMM. Deploy, see the guest boot, custom actions, reboot, stop/start, the agent killed and restarted,
a guest that powers itself off caught by power sync, destroy, and nothing left on the host."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cs import CloudStack

from switchboard.agent.network.naming import tap_name
from tests.agent.agentcore import pamusers
from tests.builtin_extensions.firecracker.agenthost import MARKER, AgentHost, Pki, make_pki, netns_with_ovs
from tests.builtin_extensions.firecracker.site import build_cloud, succeeded, vm_state, wait_job, wait_vm_state
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.root, pytest.mark.slow]

ENV = {"SWITCHBOARD_POWER_SYNC_INTERVAL": "2", "SWITCHBOARD_STATUSES_RETRY": "4", "SWITCHBOARD_EXTENSION_WAIT": "180",
       "SWITCHBOARD_ADMIN_PASSWORD": "sbt-fc-e2e-admin"}


@dataclass
class Site:
    agent: AgentHost
    pki: Pki
    server: ServerProcess
    admin: CloudStack


@pytest.fixture(scope="module")
def site(pam: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("fc-e2e")
    with netns_with_ovs(root / "net") as netns:
        pki = make_pki(root, address=netns.inside)
        agent = AgentHost(root / "host", pki, vmm="firecracker", netns=netns)
        try:
            agent.start()
            with start_server(root / "server", env=ENV) as server:
                yield Site(agent, pki, server, cs_client(server, api_keys_of(server)))
        finally:
            agent.close()


def custom(site: Site, cloud: dict[str, Any], vm_id: str, action: str, **parameters: str) -> dict[str, Any]:
    answer = site.admin.runCustomAction(customactionid=cloud["actions"][action], resourceid=vm_id,
                                        **({"parameters": parameters} if parameters else {}))
    result: dict[str, Any] = succeeded(site.admin, answer)["customactionresult"]
    assert result["success"] is True, result
    return result


def test_a_microvm_from_deploy_to_expunge(site: Site) -> None:
    admin, agent = site.admin, site.agent
    cloud = build_cloud(admin, agent, site.pki)
    # What the API answers about the host and the extension never holds the agent password.
    for listing in (admin.listHosts(id=cloud["host"]["id"]), admin.listExtensions(name="Firecracker", details="all")):
        assert pamusers.PASSWORD not in json.dumps(listing), listing
    answer = admin.deployVirtualMachine(zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"],
                                        serviceofferingid=cloud["offering"]["id"], networkids=cloud["network"]["id"])
    vm = succeeded(admin, answer)["virtualmachine"]
    vm_id, name = vm["id"], vm["instancename"]
    assert vm["state"] == "Running"
    agent.wait_console(name, MARKER)
    # The NIC reached the host: its TAP is an access port on VLAN 1577 with the guest's MAC.
    tap = tap_name(name, 0)
    assert tap in agent.netns.links()  # type: ignore[union-attr]
    assert agent.netns.vsctl("get", "Port", tap, "tag").strip() == "1577"  # type: ignore[union-attr]
    with agent.http() as http:
        details = http.get(f"/v1/vms/{name}/details").json()
    assert details["network"]["interfaces"][0]["guest_mac"] == vm["nic"][0]["macaddress"]
    assert (details["vm_config"]["cpus"], details["vm_config"]["memory_mib"]) == (1, 256)

    # Custom actions, as a user runs them.
    log = custom(site, cloud, vm_id, "ConsoleLog", lines="500")["result"]["details"]
    assert MARKER in json.loads(log)["message"]
    custom(site, cloud, vm_id, "Pause")
    assert agent.state(name) == "paused"
    custom(site, cloud, vm_id, "Resume")
    assert agent.state(name) == "running"
    custom(site, cloud, vm_id, "CreateSnapshot", snapshot_name="s1")
    listed = json.loads(custom(site, cloud, vm_id, "ListSnapshots")["result"]["details"])
    assert listed["printmessage"] == "true" and [row["name"] for row in listed["message"]] == ["s1"]
    custom(site, cloud, vm_id, "RestoreSnapshot", snapshot_name="s1")
    agent.wait_state(name, "running")
    custom(site, cloud, vm_id, "DeleteSnapshot", snapshot_name="s1")
    metrics = json.loads(custom(site, cloud, vm_id, "Metrics")["result"]["details"])["message"]
    assert {"metric": "switchboard_agent_vms", "labels": "state=running", "value": "1.0"} in metrics

    succeeded(admin, admin.rebootVirtualMachine(id=vm_id))
    agent.wait_console(name, MARKER, count=2)
    assert succeeded(admin, admin.stopVirtualMachine(id=vm_id))["virtualmachine"]["state"] == "Stopped"
    assert agent.state(name) == "stopped"
    assert succeeded(admin, admin.startVirtualMachine(id=vm_id))["virtualmachine"]["state"] == "Running"
    agent.wait_console(name, MARKER, count=3)

    # The agent dies (SIGKILL): a stop fails saying why and the instance stays Running, as it is.
    agent.kill()
    job = wait_job(admin, admin.stopVirtualMachine(id=vm_id))
    assert job["jobstatus"] == 2, job
    assert f"agent unreachable at {agent.url}: Connection refused" in job["jobresult"]["errortext"], job
    assert vm_state(admin, vm_id) == "Running"
    # Back again, the agent adopts the running guest (no new boot), and power sync keeps it Running.
    agent.start()
    agent.wait_state(name, "running")
    time.sleep(6)  # a few power-sync rounds and reconcile passes
    assert vm_state(admin, vm_id) == "Running" and agent.console(name).count(MARKER) == 3

    # The agent dies in the middle of a stop (the guest is paused, so its graceful shutdown waits; the agent
    # is killed once it has taken the stop). The job fails saying so; restarted, the agent finishes the stop
    # it recorded, and power sync brings the instance to Stopped.
    custom(site, cloud, vm_id, "Pause")
    stopping = admin.stopVirtualMachine(id=vm_id)
    deadline = time.monotonic() + 60
    with agent.http() as http:
        while http.get(f"/v1/vms/{name}/details").json()["desired_state"] != "stopped":
            assert time.monotonic() < deadline, "the agent never took the stop"
            time.sleep(0.05)
    agent.kill()
    job = wait_job(admin, stopping)
    assert job["jobstatus"] == 2, job
    assert (f"the agent at {agent.url} went away in the middle of the request (now: Connection refused); the "
            "operation may still complete on the host") in job["jobresult"]["errortext"], job
    agent.start()
    agent.wait_state(name, "stopped")
    wait_vm_state(admin, vm_id, "Stopped")
    assert succeeded(admin, admin.startVirtualMachine(id=vm_id))["virtualmachine"]["state"] == "Running"
    agent.wait_console(name, MARKER, count=4)

    # The guest powers itself off: the agent records it, power sync moves the instance to Stopped.
    agent.type(name, "poweroff")
    wait_vm_state(admin, vm_id, "Stopped")
    events = admin.listEvents(type="VM.STOP", pagesize=200).get("event") or []
    assert any(e["description"] == f"Instance {vm['name']} was stopped outside Switchboard: the extension reported "
               "PowerOff twice in a row" for e in events), events

    succeeded(admin, admin.destroyVirtualMachine(id=vm_id, expunge=True))
    wait_vm_state(admin, vm_id, "Expunged")
    assert agent.leftovers(name, [pamusers.PASSWORD, site.pki.client("mgmt")[1].read_text()]) == []
    with agent.http() as http:
        assert http.get("/v1/vms/status").json()["power_state"] == {}

    # The management server: no secret and no traceback in its log or the agent's; the payloads the server
    # keeps are private to it.
    assert pamusers.PASSWORD not in site.server.log()
    assert "Traceback" not in site.server.log() and "Traceback" not in agent.log_path.read_text()
    payloads = site.server.data_dir / "extensions-data" / "Firecracker"
    assert stat.S_IMODE(payloads.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in payloads.iterdir())
