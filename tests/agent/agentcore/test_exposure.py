"""The agent's safe defaults, with real agent processes over real TLS: no serving without TLS and
authentication unless told `--insecure` (then loopback only), the client allow-list that `init-tls` fills,
and the allow-list reloaded on SIGHUP."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import psutil
import pytest
from tests.support.eventually import eventually

from agentcore.agentproc import AgentProcess
from agentcore.harness import Pki, client
from switchboard.agent import cli

REPO = Path(__file__).resolve().parents[3]


def _config(root: Path, pki: Pki, **tls: Any) -> dict[str, Any]:
    return {
        "defaults": {
            "host": {"vmm": "qemu", "state_dir": str(root / "state"), "run_dir": str(root / "run"),
                     "log_dir": str(root / "log")},
            "storage": {"driver": "file", "volume_dir": str(root / "volumes")},
        },
        "security": {"tls": {"enabled": True, "cert_file": str(pki.directory / "server.crt"),
                             "key_file": str(pki.directory / "server.key"), "ca_file": str(pki.ca),
                             "client_auth": "required", **tls}},
    }


def _exits(agent: AgentProcess) -> tuple[int, str]:
    proc = agent.launch()
    return proc.wait(30), agent.log()


@pytest.mark.parametrize(
    ("tls", "auth", "problem"),
    [
        ({"enabled": False}, {"enabled": True}, "TLS is off"),
        ({"client_auth": "optional"}, {"enabled": False}, "callers are not authenticated"),
        ({"enabled": False, "client_auth": "none"}, {"enabled": False}, "TLS is off"),
    ],
)
def test_the_agent_refuses_to_serve_without_tls_or_authentication(
    tmp_path: Path, pki: Pki, tls: dict[str, Any], auth: dict[str, Any], problem: str
) -> None:
    config = {**_config(tmp_path, pki, **tls), "auth": auth}
    code, log = _exits(AgentProcess(tmp_path, pki, config, bind_host="0.0.0.0"))
    assert code == 2
    assert "refusing to start" in log and problem in log and "--insecure" in log


def test_insecure_serves_but_on_loopback_only(tmp_path: Path, pki: Pki) -> None:
    config = {**_config(tmp_path, pki, client_auth="optional"), "auth": {"enabled": False}}
    agent = AgentProcess(tmp_path, pki, config, bind_host="0.0.0.0", args=("--insecure",))
    agent.start()
    try:
        assert agent.proc is not None
        listening = {c.laddr.ip for c in psutil.Process(agent.proc.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == agent.port}
        assert listening == {"127.0.0.1"}
        assert "listening on 127.0.0.1 instead of 0.0.0.0" in agent.log()
        with client(agent.url, pki, cert=None, auth=None) as http:  # nobody is asked who they are
            assert http.get("/v1/vms").status_code == 200
    finally:
        agent.stop()


def test_a_config_filled_by_init_tls_admits_the_issued_client_only(tmp_path: Path) -> None:
    sample = json.loads((REPO / "deploy" / "firecracker-agent.json").read_text())
    sample["defaults"] = _config(tmp_path, Pki(tmp_path, tmp_path, tmp_path))["defaults"]
    sample["auth"] = {"enabled": False}  # client certificates are the authentication here
    config_path = tmp_path / "sample.json"
    config_path.write_text(json.dumps(sample))
    tls, ca = tmp_path / "tls", tmp_path / "ca"
    issued_args = ["init-tls", "--dir", str(tls), "--ca-dir", str(ca), "--hostname", "localhost",
                   "--ip", "127.0.0.1", "--config", str(config_path)]
    assert cli.main([*issued_args, "--client", "mgmt"]) == 0
    # Another certificate from the same CA, issued without --config: not on the list.
    assert cli.main(["init-tls", "--dir", str(tls), "--ca-dir", str(ca), "--hostname", "localhost",
                     "--ip", "127.0.0.1", "--client", "intruder"]) == 0
    pki = Pki(tls, ca, ca)
    agent = AgentProcess(tmp_path, pki, json.loads(config_path.read_text()))
    agent.start()
    try:
        with client(agent.url, pki, cert="mgmt", auth=None) as http:
            assert http.get("/v1/vms").status_code == 200
        with client(agent.url, pki, cert="intruder", auth=None) as http:
            assert http.get("/v1/vms").status_code == 403
    finally:
        agent.stop()


def test_sighup_reloads_the_client_allow_list(tmp_path: Path, pki: Pki) -> None:
    fingerprint = _fingerprints(pki)
    config = {**_config(tmp_path, pki, allowed_clients=[fingerprint["mgmt"]]), "auth": {"enabled": False}}
    agent = AgentProcess(tmp_path, pki, config)
    agent.start()

    def status(name: str) -> int:
        with client(agent.url, pki, cert=name, auth=None) as http:
            return http.get("/v1/vms").status_code

    try:
        assert (status("mgmt"), status("other")) == (200, 403)
        # The operator swaps the entries: nothing changes until the agent is told.
        config["security"]["tls"]["allowed_clients"] = [fingerprint["other"], "CN=ro,O=Switchboard"]
        agent.config_path.write_text(json.dumps({**config, "bind_host": "127.0.0.1", "bind_port": agent.port}))
        assert status("other") == 403
        agent.sighup()
        eventually(lambda: status("other") == 200, what="the new allow-list to admit `other`")
        assert (status("mgmt"), status("ro")) == (403, 200)
        # A broken entry: the reload is refused as a whole and the list in use stays.
        config["security"]["tls"]["allowed_clients"] = [fingerprint["mgmt"], "CN=,,broken"]
        agent.config_path.write_text(json.dumps({**config, "bind_host": "127.0.0.1", "bind_port": agent.port}))
        agent.sighup()
        eventually(lambda: "reload failed" in agent.log(), what="the broken allow-list to be refused")
        assert (status("mgmt"), status("other")) == (403, 200)
        assert agent.proc is not None and agent.proc.poll() is None
    finally:
        agent.stop()


def _fingerprints(pki: Pki) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return {
        name: "sha256:" + x509.load_pem_x509_certificate(Path(pki.client(name)[0]).read_bytes())
        .fingerprint(hashes.SHA256()).hex()
        for name in ("mgmt", "other", "ro")
    }


def test_a_stop_is_not_held_by_an_idle_client_connection(tmp_path: Path, pki: Pki) -> None:
    """A client keeping an idle keep-alive TLS connection never answers the close_notify a TLS close sends
    (asyncio waits 30 s for it, and uvicorn for the connection): the agent closes such connections itself
    and exits once its requests are done."""
    config = {**_config(tmp_path, pki), "auth": {"enabled": False}}
    agent = AgentProcess(tmp_path, pki, config)
    agent.start()
    assert agent.proc is not None
    try:
        with client(agent.url, pki, cert="mgmt", auth=None) as http:
            assert http.get("/v1/vms").status_code == 200  # the connection stays open in the client's pool
            agent.proc.send_signal(signal.SIGTERM)
            agent.proc.wait(15)  # it was held for uvicorn's whole graceful-shutdown timeout (30 s)
        assert "Application shutdown complete" in agent.log()  # a clean stop, not a kill
    finally:
        agent.stop()
