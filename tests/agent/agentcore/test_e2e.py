"""End to end: the agent process over HTTPS (mTLS allow-list + PAM) with the real QEMU driver (and the
Firecracker driver on the Firecracker stand-in), file storage
and the `none` network, booting the real test guest with TCG."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.eventually import eventually

from agentcore.agentproc import AgentProcess
from agentcore.harness import Pki, client
from agentcore.pamusers import ADMIN, ADMIN_GROUP, PAM_SERVICE, PASSWORD, READER, READONLY_GROUP
from agentcore.realguests import (
    MARKER,
    SHUTDOWN,
    agent_config,
    cleanup_vmms,
    type_into,
    vm_payload,
    wait_console,
    wait_desired,
    wait_state,
)
from agentcore.vnc import console_processes, vnc_login

pytestmark = [pytest.mark.slow, pytest.mark.root]

PAM = {"enabled": True, "service": PAM_SERVICE, "admin_group": ADMIN_GROUP, "readonly_group": READONLY_GROUP}


def _fingerprint(pki: Pki, name: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(Path(pki.client(name)[0]).read_bytes())
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


_vm_payload = vm_payload
_wait_console = wait_console
_wait_state = wait_state


@pytest.fixture
def agent(pam_users: None, tmp_path: Path, templates: Path, pki: Pki) -> Iterator[AgentProcess]:
    yield from _agent(tmp_path, templates, pki, "qemu")


@pytest.fixture
def fc_agent(pam_users: None, tmp_path: Path, templates: Path, pki: Pki) -> Iterator[AgentProcess]:
    yield from _agent(tmp_path, templates, pki, "firecracker")


def _agent(tmp_path: Path, templates: Path, pki: Pki, vmm: str) -> Iterator[AgentProcess]:
    (tmp_path / "boot_id").write_text("boot-1\n")
    config = agent_config(tmp_path, templates, pki, vmm, auth=PAM, allowed_clients=[_fingerprint(pki, "mgmt")])
    process = AgentProcess(tmp_path, pki, config)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        cleanup_vmms(tmp_path / "state")


def _http(agent: AgentProcess, **kwargs: Any) -> httpx.Client:
    return client(agent.url, agent.pki, auth=(ADMIN, PASSWORD), timeout=180, **kwargs)


def _create_code(agent: AgentProcess, name: str) -> int:
    with _http(agent) as http:
        return http.post("/v1/vms", json={"spec": _vm_payload(name), "timeout": 60}).status_code


def _stop_code(agent: AgentProcess, name: str) -> int:
    with _http(agent) as http:
        return http.post(f"/v1/vms/{name}/stop").status_code


def test_the_whole_lifecycle_of_a_real_guest(agent: AgentProcess) -> None:
    with _http(agent) as http:
        # Four identical creates at once: one creates, the others get the same VM back.
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(lambda _: _create_code(agent, "e2e-1"), range(4)))
        assert codes == [200, 200, 200, 201]
        _wait_console(http, "e2e-1", MARKER)
        assert http.post("/v1/vms", json={"spec": _vm_payload("e2e-1")}).status_code == 200
        assert len(list((agent.root / "state" / "vmm").glob("vms/*/vmm.pid"))) == 1

        # A VNC console on the real VMM's tmux pane; the graceful stop below takes it down.
        console = http.post("/v1/vms/e2e-1/console")
        assert console.status_code == 200, console.text
        port, password = console.json()["port"], console.json()["password"]
        assert vnc_login(port, password) and not vnc_login(port, "wrong-pw")
        console_dir = agent.root / "run" / "e2e-1" / "console"
        assert any("x11vnc" in p for p in console_processes(console_dir, port, "e2e-1"))

        # Graceful stop, asked three times at once: the guest runs its shutdown (marker) before the VMM
        # goes away, and every caller gets success.
        with ThreadPoolExecutor(3) as pool:
            assert list(pool.map(lambda _: _stop_code(agent, "e2e-1"), range(3))) == [200, 200, 200]
        assert http.get("/v1/vms/e2e-1/status").json()["power_state"] == "poweroff"
        _wait_console(http, "e2e-1", SHUTDOWN)
        assert http.post("/v1/vms/e2e-1/stop").status_code == 200
        assert console_processes(console_dir, port, "e2e-1") == []
        assert password not in agent.log()

        started = http.post("/v1/vms/e2e-1/start")
        assert started.status_code == 200, started.text
        _wait_console(http, "e2e-1", MARKER, count=2)
        rebooted = http.post("/v1/vms/e2e-1/reboot")
        assert rebooted.status_code == 200, rebooted.text
        log = _wait_console(http, "e2e-1", MARKER, count=3)
        assert log.count(SHUTDOWN) == 2

        assert http.post("/v1/vms/e2e-1/pause").json()["state"] == "paused"
        assert http.get("/v1/vms/status").json()["state"] == {"e2e-1": "paused"}
        assert http.post("/v1/vms/e2e-1/resume").json()["state"] == "running"

        snap = http.post("/v1/vms/e2e-1/snapshots", json={"name": "s1"})
        assert snap.status_code == 201, snap.text
        assert [s["name"] for s in http.get("/v1/vms/e2e-1/snapshots").json()["snapshots"]] == ["s1"]
        assert http.post("/v1/vms/e2e-1/snapshots/s1/restore").status_code == 200
        _wait_state(http, "e2e-1", "running")
        assert http.delete("/v1/vms/e2e-1/snapshots/s1").status_code == 200

        volume = Path(http.get("/v1/vms/e2e-1/details").json()["storage"]["volume_file"])
        assert volume.exists()
        assert http.delete("/v1/vms/e2e-1").status_code == 200
        assert not volume.exists()
        assert http.get("/v1/vms/e2e-1/status").json()["power_state"] == "poweroff"
        assert http.delete("/v1/vms/e2e-1").status_code == 200

    # Other identities: a certificate off the allow-list, a wrong password, the read-only group.
    with client(agent.url, agent.pki, cert="other", auth=(ADMIN, PASSWORD)) as other:
        assert other.get("/v1/vms").status_code == 403
    with client(agent.url, agent.pki, auth=(READER, PASSWORD)) as reader:
        assert reader.get("/v1/vms").status_code == 200
        assert reader.post("/v1/vms", json={"spec": _vm_payload("e2e-x")}).status_code == 403
    with client(agent.url, agent.pki, auth=(ADMIN, "wrong")) as wrong:
        assert wrong.get("/v1/vms").status_code == 401
    # The payload's host password and VNC password reached neither the log nor any file of the agent's.
    assert "S3cret" not in agent.log()
    for path in agent.root.rglob("*"):
        if path.is_file() and "volumes" not in path.parts and path.stat().st_size < 1 << 20:
            assert b"S3cret" not in path.read_bytes(), path


def test_an_agent_killed_mid_create_finishes_the_vm_after_restart(agent: AgentProcess) -> None:
    record = agent.root / "state" / "vms" / "e2e-2.json"
    outcome: dict[str, Any] = {}

    def create() -> None:
        with _http(agent) as http:
            try:
                outcome["reply"] = http.post("/v1/vms", json={"spec": _vm_payload("e2e-2")})
            except httpx.HTTPError as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=create)
    thread.start()
    eventually(record.exists, what="the create to record its intent", timeout=60, interval=0.005)
    agent.kill()
    thread.join(60)
    assert record.exists()
    agent.start()
    with _http(agent) as http:
        _wait_console(http, "e2e-2", MARKER)
        _wait_state(http, "e2e-2", "running")
        again = http.post("/v1/vms", json={"spec": _vm_payload("e2e-2")})
        assert again.status_code == 200 and again.json()["created"] is False
        pids = list((agent.root / "state" / "vmm").glob("vms/e2e-2/vmm.pid"))
        assert len(pids) == 1
        # The agent restarted again: the running guest is adopted, not rebooted.
        agent.stop()
        agent.start()
        eventually(lambda: _reconcile_passes(http) >= 2, what="two reconcile passes of the new agent")
        log = _wait_console(http, "e2e-2", MARKER)
        assert log.count(MARKER) == 1
        assert http.get("/v1/vms/e2e-2/status").json()["state"] == "running"


def test_after_a_host_reboot_vms_meant_to_run_boot_again_and_stopped_ones_stay_stopped(
    agent: AgentProcess,
) -> None:
    with _http(agent) as http:
        for name in ("hr-1", "hr-2"):
            assert http.post("/v1/vms", json={"spec": _vm_payload(name)}).status_code == 201
        _wait_console(http, "hr-1", MARKER)
        assert http.post("/v1/vms/hr-2/stop", json={"force": True}).status_code == 200
    # The host "reboots": the agent dies, every VMM with it, and the kernel has a new boot id.
    agent.kill()
    cleanup_vmms(agent.root / "state")
    (agent.root / "boot_id").write_text("boot-2\n")
    agent.start()
    with _http(agent) as http:
        _wait_console(http, "hr-1", MARKER, count=2)
        _wait_state(http, "hr-1", "running")
        assert http.get("/v1/vms/hr-2/status").json()["state"] == "stopped"
        assert http.get("/v1/vms/hr-2/details").json()["desired_state"] == "stopped"


def test_a_vmm_killed_from_outside_is_noticed_and_can_be_started_again(agent: AgentProcess) -> None:
    with _http(agent) as http:
        # No need to wait for the guest to boot: the VMM process is what gets killed.
        assert http.post("/v1/vms", json={"spec": _vm_payload("e2e-3")}).status_code == 201
        _wait_state(http, "e2e-3", "running")
        pid = int((agent.root / "state" / "vmm" / "vms" / "e2e-3" / "vmm.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        _wait_state(http, "e2e-3", "stopped", timeout=30)
        details = wait_desired(http, "e2e-3", "stopped")
        assert "unexpectedly" in (details["last_error"] or "")
        started = http.post("/v1/vms/e2e-3/start")
        assert started.status_code == 200, started.text
        _wait_state(http, "e2e-3", "running")
        assert http.get("/v1/vms/e2e-3/details").json()["last_error"] is None
        assert http.delete("/v1/vms/e2e-3").status_code == 200


def test_firecracker_guest_reboot_is_completed_and_guest_poweroff_followed(fc_agent: AgentProcess) -> None:
    with _http(fc_agent) as http:
        created = http.post("/v1/create", json={"spec": _vm_payload("fc-1")})
        assert created.status_code == 201, created.text
        assert http.get("/v1/vms/fc-1/details").json()["vmm"] == "firecracker"
        _wait_console(http, "fc-1", MARKER)
        # The guest reboots itself: Firecracker exits on the reset, the agent boots the VM again.
        type_into(fc_agent.root, "fc-1", "reboot")
        _wait_console(http, "fc-1", MARKER, count=2)
        _wait_state(http, "fc-1", "running")
        assert http.get("/v1/vms/fc-1/details").json()["desired_state"] == "running"
        # The guest powers itself off: the VM is recorded stopped and stays stopped.
        type_into(fc_agent.root, "fc-1", "poweroff")
        _wait_state(http, "fc-1", "stopped", timeout=60)
        wait_desired(http, "fc-1", "stopped")
        passes = _reconcile_passes(http)
        # Three more reconcile passes: nothing boots it again.
        eventually(lambda: _reconcile_passes(http) >= passes + 3, what="three more reconcile passes")
        assert http.post("/v1/status", json={"vm_name": "fc-1"}).json()["power_state"] == "poweroff"
        assert http.post("/v1/delete", json={"vm_name": "fc-1"}).status_code == 200


def _reconcile_passes(http: httpx.Client) -> float:
    """The agent's reconcile pass counter, from its metrics."""
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("switchboard_agent_reconcile_passes "):
            return float(line.split()[1])
    raise AssertionError("no reconcile pass counter in /metrics")
