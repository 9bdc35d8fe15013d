"""`switchboard ext check --details FILE` passes on the Proxmox and MaaS built-ins against their stand-ins.

The details file points the check's sample payloads at the stand-in (its URL, credentials and CA), as an
operator points the check at a live backend; the check watches every output for those credentials as it
does for its own planted secrets. Everything else — the actions, their order, the payloads, the output
checks — is the check's own, run by the real command line."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

from switchboard.extensions.builtins import BUILTIN_SOURCE
from tests.builtin_extensions.maas.maas_standin import MaasStandin
from tests.builtin_extensions.proxmox.pve_standin import ProxmoxStandin
from tests.builtin_extensions.standin import HttpsStandin, Tls, issue_tls
from tests.support.server import REPO, switchboard_cmd

STEPS = ["prepare", "create", "status (Running)", "stop", "status (Stopped)", "start", "reboot", "getconsole",
         "statuses", "custom action", "unknown action", "delete"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return issue_tls(tmp_path_factory.mktemp("check-tls"))


def ext_check(entry: Path, details: dict[str, Any], directory: Path) -> tuple[int, dict[str, Any]]:
    """`switchboard ext check ENTRY --details FILE --json`: its exit code and report."""
    path = directory / "details.json"
    path.write_text(json.dumps(details))
    done = subprocess.run(switchboard_cmd("ext", "check", str(entry), "--details", str(path), "--json"),
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.stdout, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def passes(code: int, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step ran and nothing was found; the steps by name."""
    steps = {step["step"]: step for step in report["steps"]}
    assert list(steps) == STEPS
    problems = [(step["step"], f["severity"], f["message"], step["output"]) for step in report["steps"]
                for f in step["findings"]]
    assert (code, report["passed"], problems, report["findings"]) == (0, True, [], []), problems
    return steps


def test_the_proxmox_builtin_passes_the_check(tls: Tls, tmp_path: Path) -> None:
    token, secret = "tcheck", secrets.token_hex(16)
    standin = ProxmoxStandin(user="admin@pve", token=token, secret=secret)
    standin.add_template(9000)
    with HttpsStandin(standin, tls) as server:
        details = {"extension": {"url": f"https://127.0.0.1:{server.port}", "user": "admin@pve", "token": token,
                                 "secret": secret, "ca_certificate": tls.ca_pem},
                   "host": {"node": "pve1", "network_bridge": "vmbr0"}}
        steps = passes(*ext_check(BUILTIN_SOURCE / "Proxmox" / "proxmox.py", details, tmp_path))
    console = json.loads(steps["getconsole"]["output"])["console"]
    # The node's VNC proxy (the node's address as the cluster status gives it), with a one-time password.
    assert (console["host"], console["protocol"], console["passwordonetimeuseonly"]) == ("192.0.2.11", "vnc", True)
    assert standin.vms.keys() == {9000}  # the instance's VM was made, then deleted


def test_the_maas_builtin_passes_the_check(tls: Tls, tmp_path: Path) -> None:
    consumer, token, secret = "Consumer" + "0" * 10, "t" + secrets.token_hex(8), secrets.token_hex(16)
    standin = MaasStandin(consumer=consumer, token=token, secret=secret)
    standin.add_machine("chk001", hostname="metal-check")
    with HttpsStandin(standin, tls) as server:
        details = {"extension": {"endpoint": f"https://127.0.0.1:{server.port}/MAAS",
                                 "apikey": f"{consumer}:{token}:{secret}", "ca_certificate": tls.ca_pem},
                   # each part of the API key on its own, too
                   "secrets": {"token key": token, "token secret": secret}}
        passes(*ext_check(BUILTIN_SOURCE / "MaaS" / "maas.py", details, tmp_path))
    machine = standin.machines["chk001"]
    assert machine.status_name in ("Releasing", "Ready") and machine.owner_data == {}  # deployed, then released
