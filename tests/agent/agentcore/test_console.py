"""VNC consoles through the real HTTPS API: real Xvfb, xterm and x11vnc attached to a real tmux session on
the agent's private tmux server (the VMM is a stand-in whose "VMM" is a shell in that session)."""

from __future__ import annotations

import logging
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.eventually import eventually

from agentcore.conftest import Host, fake_groups, fake_password_check
from agentcore.fakes import FakeNetwork, FakeStorage, FakeVmm
from agentcore.harness import agent_config, client, payload, serve
from agentcore.vnc import console_processes, listening_addresses, pid_of, rfb_handshake, vnc_login
from switchboard.agent.api import AgentContext
from switchboard.agent.model import LaunchConfig, PowerState
from switchboard.agent.server import build_agent
from switchboard.agent.vmm.tmux import SessionFiles, TmuxSupervisor

VM = "i-2-300-VM"
PORT_MIN, PORT_MAX = 25900, 25949  # away from the usual 5900s of a developer's own VNC servers


class TmuxFakeVmm(FakeVmm):
    """FakeVmm whose VMs also have a real session on a private tmux server (what the console attaches to)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__()
        self.tmux = TmuxSupervisor(state_dir / "tmux" / "server.sock")
        self._files = state_dir / "vms"

    def launch(self, config: LaunchConfig) -> None:
        super().launch(config)
        files = SessionFiles(self._files / config.name)
        argv = ["sh", "-c", "echo SBT-CONSOLE-READY; exec sleep 3600"]
        self.tmux.start(config.name, argv, files=files, console_log=config.console_log)

    def shutdown(self, name: str, *, grace_seconds: float) -> None:
        super().shutdown(name, grace_seconds=grace_seconds)
        self.tmux.kill_session(name)

    def kill(self, name: str) -> None:
        super().kill(name)
        self.tmux.kill_session(name)


def _require_tools() -> None:
    missing = [tool for tool in ("Xvfb", "xterm", "x11vnc", "tmux") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: install xvfb xterm x11vnc tmux (scripts/ci-deps.sh)")


@pytest.fixture
def console_host(tmp_path: Path, pki, request: pytest.FixtureRequest) -> Iterator[Host]:
    _require_tools()
    console = {"port_min": PORT_MIN, "port_max": PORT_MAX, **getattr(request, "param", {})}
    config = agent_config(tmp_path, pki)
    config = config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"console": config.defaults.console.model_copy(
            update=console)})}
    )  # fmt: skip
    vmm = TmuxFakeVmm(tmp_path / "vmm")
    yield Host(tmp_path, pki, vmm, FakeStorage(tmp_path / "volumes"), FakeNetwork(), config)
    vmm.tmux.kill_server()


@pytest.fixture
def agent(console_host: Host) -> Iterator[tuple[AgentContext, object]]:
    ctx = build_agent(
        console_host.config,
        backends=(console_host.vmm, console_host.storage, console_host.network),
        boot_id=console_host.boot_id,
        password_check=fake_password_check,
        group_lookup=fake_groups,
    )
    with serve(ctx) as url, client(url, console_host.pki) as http:
        yield ctx, http
    # Whatever a failing test left: no console may outlive it.
    for name in ctx.service.rt.consoles.names(console_host.config.defaults.host.run_dir):
        ctx.service.rt.consoles.close(name)


def _create(http) -> None:
    reply = http.post("/v1/vms", json={"spec": payload(VM), "timeout": 30})
    assert reply.status_code == 201, reply.text


def test_console_serves_vnc_with_an_8_char_password_is_reused_and_stops_completely(
    agent, console_host: Host, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, http = agent
    _create(http)

    reply = http.post(f"/v1/vms/{VM}/console")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "success"
    assert body["message"] == f"VNC console ready for VM {VM}"
    assert body["vm_name"] == VM
    assert body["host"] == "127.0.0.1"
    assert PORT_MIN <= body["port"] <= PORT_MAX
    password = body["password"]
    assert len(password) == 8 and password.isalnum()
    assert body["created_at"]

    banner, types = rfb_handshake(body["port"])
    assert banner.startswith(b"RFB 003.00") and banner.endswith(b"\n")
    assert 2 in types, f"VNC authentication not offered: {types!r}"
    assert 1 not in types, "the console must not offer access without a password"
    assert not vnc_login(body["port"], "wrong-pw")
    assert vnc_login(body["port"], password)

    console_dir = console_host.config.defaults.host.run_dir / VM / "console"
    mode = stat.S_IMODE((console_dir / "password").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(console_dir.stat().st_mode) == 0o700
    assert (console_dir / "password").read_text().strip() == password
    assert password not in (console_dir / "console.log").read_text(errors="replace")

    again = http.post(f"/v1/vms/{VM}/console").json()
    assert (again["port"], again["password"], again["created_at"]) == (body["port"], password, body["created_at"])

    procs = console_processes(console_dir, body["port"], VM)
    for tool in ("Xvfb", "xterm", "x11vnc"):
        assert any(tool in p for p in procs), f"{tool} not running: {procs}"
    assert all(password not in p for p in procs), "the password is on a command line"
    # Only the configured address listens: no IPv6 wildcard, no second port.
    assert listening_addresses(pid_of(console_dir, "x11vnc")) == {("127.0.0.1", body["port"])}
    assert listening_addresses(pid_of(console_dir, "Xvfb")) == set()

    stopped = http.delete(f"/v1/vms/{VM}/console")
    assert stopped.status_code == 200
    assert stopped.json() == {"status": "success", "message": f"VNC console stopped for {VM}", "vm_name": VM}
    assert console_processes(console_dir, body["port"], VM) == []
    assert not console_dir.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", body["port"]), timeout=5).close()
    assert http.delete(f"/v1/vms/{VM}/console").status_code == 200  # idempotent

    assert password not in caplog.text
    # The agent's VM session keeps running: closing the console detaches, it does not stop the VM.
    assert console_host.vmm.tmux.has_session(VM)


def test_console_of_an_unknown_or_stopped_vm_is_refused(agent) -> None:
    _, http = agent
    assert http.post("/v1/vms/i-9-999-VM/console").status_code == 404
    _create(http)
    assert http.post(f"/v1/vms/{VM}/stop").status_code == 200
    reply = http.post(f"/v1/vms/{VM}/console")
    assert reply.status_code == 409, reply.text


def test_stopping_or_deleting_the_vm_tears_its_console_down(agent, console_host: Host) -> None:
    _, http = agent
    run_dir = console_host.config.defaults.host.run_dir
    _create(http)
    port = http.post(f"/v1/vms/{VM}/console").json()["port"]
    assert http.post(f"/v1/vms/{VM}/stop", json={"force": True}).status_code == 200
    assert console_processes(run_dir / VM / "console", port, VM) == []

    assert http.post(f"/v1/vms/{VM}/start").status_code == 200
    port = http.post(f"/v1/vms/{VM}/console").json()["port"]
    assert http.delete(f"/v1/vms/{VM}").status_code == 200
    assert console_processes(run_dir / VM / "console", port, VM) == []


def test_reconcile_closes_the_console_of_a_vm_that_went_away(agent, console_host: Host) -> None:
    ctx, http = agent
    _create(http)
    port = http.post(f"/v1/vms/{VM}/console").json()["port"]
    # The VMM "dies" behind the agent's back while its tmux pane (and so the console) stays up.
    console_host.vmm.guest_exits(VM, "crash")
    report = ctx.reconciler.run_once()
    assert report.consoles_closed == [VM]
    assert console_processes(console_host.config.defaults.host.run_dir / VM / "console", port, VM) == []
    assert ctx.service.power_state(VM) is PowerState.STOPPED


@pytest.mark.parametrize("console_host", [{"read_only": True}], indirect=True)
def test_read_only_console_attaches_read_only_and_view_only(agent, console_host: Host) -> None:
    _, http = agent
    _create(http)
    port = http.post(f"/v1/vms/{VM}/console").json()["port"]
    procs = console_processes(console_host.config.defaults.host.run_dir / VM / "console", port, VM)
    assert any(" attach -r " in p for p in procs), procs
    assert any("x11vnc" in p and "-viewonly" in p for p in procs), procs
    assert http.delete(f"/v1/vms/{VM}/console").status_code == 200


@pytest.mark.parametrize("console_host", [{"once": True}], indirect=True)
def test_once_console_goes_away_with_its_first_viewer(agent, console_host: Host) -> None:
    _, http = agent
    _create(http)
    first = http.post(f"/v1/vms/{VM}/console").json()
    console_dir = console_host.config.defaults.host.run_dir / VM / "console"
    assert vnc_login(first["port"], first["password"])
    eventually(lambda: console_processes(console_dir, first["port"], VM) == [], timeout=30, interval=0.1,
               what="the console to go away after its viewer left")
    second = http.post(f"/v1/vms/{VM}/console").json()
    assert second["password"] != first["password"]
    assert vnc_login(second["port"], second["password"])


@pytest.mark.parametrize("console_host", [{"bind_host": "::1"}], indirect=True)
def test_an_ipv6_bind_address_is_the_only_listener(agent, console_host: Host) -> None:
    _, http = agent
    _create(http)
    body = http.post(f"/v1/vms/{VM}/console").json()
    assert body["host"] == "::1"
    console_dir = console_host.config.defaults.host.run_dir / VM / "console"
    assert listening_addresses(pid_of(console_dir, "x11vnc")) == {("::1", body["port"])}
    assert http.delete(f"/v1/vms/{VM}/console").status_code == 200


def test_a_restarted_agent_reuses_the_running_console(agent, console_host: Host) -> None:
    _, http = agent
    _create(http)
    first = http.post(f"/v1/vms/{VM}/console").json()
    restarted = build_agent(
        console_host.config,
        backends=(console_host.vmm, console_host.storage, console_host.network),
        boot_id=console_host.boot_id,
        password_check=fake_password_check,
        group_lookup=fake_groups,
    )
    assert restarted.reconciler.run_once().consoles_closed == []
    with serve(restarted) as url, client(url, console_host.pki) as http2:
        again = http2.post(f"/v1/vms/{VM}/console").json()
        assert (again["port"], again["password"], again["created_at"]) == (
            first["port"], first["password"], first["created_at"]
        )
        assert vnc_login(again["port"], again["password"])
        assert http2.delete(f"/v1/vms/{VM}/console").status_code == 200
    console_dir = console_host.config.defaults.host.run_dir / VM / "console"
    assert console_processes(console_dir, first["port"], VM) == []
