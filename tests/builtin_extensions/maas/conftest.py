"""The MaaS extension, run as the server runs it, against the MAAS stand-in over real TLS.

    def test_x(maas):
        run = maas.run("status")            # payloads shaped by switchboard.extensions.payload
        assert maas.calls() == [("GET", "/machines/abc123/", "", {})]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.extensions.builtins import BUILTIN_SOURCE
from switchboard.extensions.payload_model import InstanceInfo, NicInfo, TemplateInfo
from tests.builtin_extensions.bed import Bed, with_details
from tests.builtin_extensions.maas.maas_standin import MaasStandin
from tests.builtin_extensions.standin import HttpsStandin, Tls, issue_tls

ENTRY = BUILTIN_SOURCE / "MaaS" / "maas.py"
CONSUMER, TOKEN, SECRET = "CnsmrKey12345678", "TokenKey12345678", "TokenSecretAbCdEfGhIjKlMnOpQrSt"
APIKEY = f"{CONSUMER}:{TOKEN}:{SECRET}"

NICS = (
    NicInfo(device_id=0, nic_uuid="31111111-0000-4000-8000-000000000001", network_uuid="42222222-0000-4000-8000-"
            "000000000001", network_id=301, default_nic=True, mac="02:01:00:dd:00:01", broadcast_uri="vlan://untagged"),
    NicInfo(device_id=1, nic_uuid="31111111-0000-4000-8000-000000000002", network_uuid="42222222-0000-4000-8000-"
            "000000000002", network_id=302, mac="02:01:00:dd:00:02", broadcast_uri="vlan://untagged"),
)
FRESH = InstanceInfo(
    id=21, uuid="7be77659-2f5f-492c-b616-6d78ef134dcc", account_id=2, cpus=8, speed=2000, ram_mb=32768,
    state="Starting", vnc_password="vnc-secret-2", details={"deployvm": "true"}, nics=NICS,
    template=TemplateInfo(details={"External:os": "ubuntu", "External:distro_series": "jammy",
                                   "External:architecture": "amd64/generic"}),
)
# After prepare allocated machine abc123 (the orchestrator keeps what prepare answered).
INSTANCE = with_details(FRESH, **{"External:maas_system_id": "abc123", "External:mac_address": "52:54:00:00:01:01",
                                  "deployvm": ""})


@pytest.fixture(scope="package")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return issue_tls(tmp_path_factory.mktemp("maas-tls"))


@dataclass(kw_only=True)
class Maas(Bed):
    """The MaaS extension against the MAAS stand-in."""

    standin: MaasStandin

    def calls(self) -> list[tuple[str, str, str, dict[str, str]]]:
        """(method, path below /MAAS/api/2.0, op, form) of the calls since the last look."""
        return [(c.method, c.path.removeprefix("/MAAS/api/2.0"), c.query.get("op", [""])[-1],
                 {k: v[-1] for k, v in c.form.items()}) for c in self.requests()]


@pytest.fixture
def maas(tls: Tls, tmp_path: Path) -> Iterator[Maas]:
    standin = MaasStandin()
    standin.add_machine("abc123", hostname="metal-01")
    standin.add_machine("def456", hostname="metal-02", architecture="arm64/generic")
    with HttpsStandin(standin, tls) as server:
        yield Maas(standin=standin, entry=ENTRY, server=server, payloads=tmp_path / "payloads", instance=INSTANCE,
                   extension={"endpoint": f"https://127.0.0.1:{server.port}/MAAS", "apikey": APIKEY,
                              "ca_certificate": tls.ca_pem})
