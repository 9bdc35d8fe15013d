"""Fixtures for the Hyper-V built-in: a WinRM stand-in over real HTTPS with NTLM, backed by a Hyper-V model,
and a runner that starts hyperv.py as a server would (its own process, clean environment, argv contract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.extensions.builtins import BUILTIN_SOURCE
from tests.builtin_extensions.hyperv.hyperv_model import HyperVHost
from tests.builtin_extensions.hyperv.tls import Certificates, make_certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn

HYPERV = BUILTIN_SOURCE / "HyperV" / "hyperv.py"
USER = "HV01\\cloudadmin"
PASSWORD = "Hv-Secret-7e1f9a"
TEMPLATE = "C:\\Templates\\ubuntu-22.04.vhdx"
ISO = "C:\\ISO\\ubuntu-22.04.iso"


def new_host() -> HyperVHost:
    host = HyperVHost(switches=("External", "Lab Switch"), folders=("D:\\VMs", "D:\\VHDs"))
    host.add_file(TEMPLATE)
    host.add_file(ISO, size=2 * 1024**3)
    return host


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("winrm-tls"))


@pytest.fixture
def standin(certificates: Certificates, tmp_path: Path) -> Iterator[WinRMStandIn]:
    server = WinRMStandIn(new_host(), users={USER: PASSWORD}, certificate=certificates.certificate,
                          key=certificates.key, workdir=tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def host_details(standin: WinRMStandIn, certificates: Certificates, **overrides: str) -> dict[str, str]:
    details = {"url": f"127.0.0.1:{standin.port}", "username": USER, "password": PASSWORD,
               "network_switch": "External", "vhd_path": "D:\\VHDs", "vm_path": "D:\\VMs",
               "ca_bundle": str(certificates.ca)}
    details.update(overrides)
    return {k: v for k, v in details.items() if v is not None}


def nic(device: int, mac: str, vlan: str | None) -> dict[str, Any]:
    return {"deviceId": device, "defaultNic": device == 0, "uuid": f"net-{device}", "nicUuid": f"nic-{device}",
            "mac": mac, "broadcastUri": vlan, "broadcastType": "Vlan", "type": "Guest", "ip": f"10.1.{device}.5"}


def vm_payload(host: dict[str, str], *, name: str = "i-2-12-VM", vm_details: dict[str, str] | None = None,
               cpus: int = 2, ram_mb: int = 1024, nics: list[dict[str, Any]] | None = None,
               parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A payload shaped as CloudStack sends it for an instance (create/start/stop/…; custom actions with
    `parameters`)."""
    details = {"template_type": "template", "template_path": TEMPLATE, "generation": "2"}
    details.update(vm_details or {})
    payload: dict[str, Any] = {
        "externaldetails": {"extension": {}, "resourcemap": {"zone_tag": "east"}, "host": host,
                            "virtualmachine": {k: v for k, v in details.items() if v is not None}},
        "virtualmachineid": "6ae77659-2f5f-492c-b616-6d78ef134dcb", "virtualmachinename": name,
        "cloudstack.vm.details": {
            "id": 12, "name": name, "state": "Starting", "type": "User", "cpus": cpus,
            "minRam": ram_mb * 1024 * 1024, "maxRam": ram_mb * 1024 * 1024, "vncPassword": "vnc-Secret-42",
            "details": {"deployvm": "true"},
            "nics": nics if nics is not None else [nic(0, "02:01:00:cc:00:01", "vlan://1577")],
        },
    }
    if parameters is not None:
        payload["parameters"] = parameters
    return payload


@dataclass
class Run:
    code: int
    output: str

    @property
    def answer(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.output)
        return value


def run_hyperv(tmp_path: Path, action: str, payload: dict[str, Any], timeout: int = 30,
               executable: Path = HYPERV, python: str = sys.executable) -> Run:
    """Run the extension as a server does: argv contract, clean environment, output merged; the interpreter
    is the server's (the one that has pywinrm) unless `python` says otherwise."""
    path = tmp_path / f"payload-{action}-{os.urandom(4).hex()}.json"
    path.write_text(json.dumps(payload))
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "HOME": str(tmp_path), "TMPDIR": "/tmp"}
    done = subprocess.run([python, str(executable), action, str(path), str(timeout)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout + 30)
    return Run(done.returncode, done.stdout.strip())
