"""The Proxmox extension, run as the server runs it, against the Proxmox VE stand-in over real TLS.

    def test_x(pve):
        run = pve.run("status")               # payloads shaped by switchboard.extensions.payload
        assert pve.calls() == [("GET", "/nodes/pve1/qemu/105/status/current", {})]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.extensions.builtins import BUILTIN_SOURCE
from switchboard.extensions.payload_model import InstanceInfo, NicInfo, TemplateInfo
from tests.builtin_extensions.bed import Bed
from tests.builtin_extensions.proxmox.pve_standin import ProxmoxStandin
from tests.builtin_extensions.standin import HttpsStandin, Tls, issue_tls

ENTRY = BUILTIN_SOURCE / "Proxmox" / "proxmox.py"
SECRET = "s3cret-pve-token"

NICS = (
    NicInfo(device_id=0, nic_uuid="11111111-0000-4000-8000-000000000001", network_uuid="22222222-0000-4000-8000-"
            "000000000001", network_id=204, default_nic=True, mac="02:01:00:cc:00:01", broadcast_type="Vlan",
            broadcast_uri="vlan://1577", isolation_uri="vlan://1577", ip="10.1.1.245"),
    NicInfo(device_id=1, nic_uuid="11111111-0000-4000-8000-000000000002", network_uuid="22222222-0000-4000-8000-"
            "000000000002", network_id=205, mac="02:01:00:cc:00:02", broadcast_type="Vlan",
            broadcast_uri="vlan://untagged", ip="10.1.2.245"),
)
INSTANCE = InstanceInfo(
    id=12, uuid="6ae77659-2f5f-492c-b616-6d78ef134dcb", account_id=2, cpus=2, speed=1000, ram_mb=1024,
    state="Running", vnc_password="vnc-secret-1", details={"proxmox_vmid": "105"}, nics=NICS,
    template=TemplateInfo(details={"External:template_type": "template", "External:template_id": "9000"}),
)


@pytest.fixture(scope="package")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return issue_tls(tmp_path_factory.mktemp("pve-tls"))


@dataclass(kw_only=True)
class Pve(Bed):
    """The Proxmox extension against the Proxmox VE stand-in."""

    standin: ProxmoxStandin

    def calls(self) -> list[tuple[str, str, dict[str, str]]]:
        """The API calls made since the last look, task polls left out."""
        return [(c.method, c.path.removeprefix("/api2/json"), c.params()) for c in self.requests()
                if not c.path.endswith("/status") or "/tasks/" not in c.path]

    def polls(self) -> list[str]:
        """The task ids polled since the last look (the calls are forgotten)."""
        return [c.path.split("/tasks/")[1].removesuffix("/status") for c in self.requests() if "/tasks/" in c.path]


@pytest.fixture
def pve(tls: Tls, tmp_path: Path) -> Iterator[Pve]:
    standin = ProxmoxStandin(secret=SECRET)
    standin.add_template(9000)
    with HttpsStandin(standin, tls) as server:
        bed = Pve(standin=standin, entry=ENTRY, server=server, payloads=tmp_path / "payloads", instance=INSTANCE,
                  extension={"url": f"https://127.0.0.1:{server.port}", "user": "root@pam", "token": "cloudstack",
                             "secret": SECRET, "ca_certificate": tls.ca_pem},
                  host={"node": "pve1", "network_bridge": "vmbr0"})
        yield bed
