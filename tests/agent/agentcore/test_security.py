"""TLS, mTLS with the client allow-list, PAM with group authorisation and throttling — all real: real
certificates and handshakes, real local users and groups created for the test, the shipped PAM file."""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from tests.support.eventually import eventually

from agentcore.agentproc import AgentProcess
from agentcore.conftest import Host
from agentcore.fakes import FakeNetwork, FakeStorage, FakeVmm
from agentcore.harness import Pki, agent_config, client, payload, serve
from agentcore.pamusers import ADMIN, ADMIN_GROUP, NOBODY, PAM_SERVICE, PASSWORD, READER, READONLY_GROUP
from switchboard.agent.pki import init_tls
from switchboard.agent.server import build_agent

REFUSED = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)


def _host(tmp_path: Path, pki, **sections) -> Host:
    return Host(tmp_path, pki, FakeVmm(), FakeStorage(tmp_path / "volumes"), FakeNetwork(),
                agent_config(tmp_path, pki, **sections))


def _fingerprint(cert_path: str) -> str:
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    return "sha256:" + cert.fingerprint(hashes.SHA256()).hex()


def test_the_server_certificate_verifies_by_name_and_address(served, host: Host) -> None:
    _, url = served
    for base in (url, url.replace("localhost", "127.0.0.1")):
        with client(base, host.pki) as http:
            assert http.get("/v1/health").status_code == 200


def test_clients_without_a_certificate_or_with_a_foreign_one_are_refused(served, host: Host) -> None:
    _, url = served
    for cert in (None, host.pki.rogue_client()):
        with client(url, host.pki, cert=cert) as http, pytest.raises(REFUSED):
            http.get("/v1/health")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_below_1_2_is_refused(served, host: Host) -> None:
    _, url = served
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(host.pki.ca))
    context.load_cert_chain(*host.pki.client("mgmt"))
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with httpx.Client(verify=context) as http, pytest.raises(REFUSED):
        http.get(url + "/healthz")


def test_the_allow_list_admits_listed_fingerprints_and_subjects_only(tmp_path: Path, pki) -> None:
    allowed = [_fingerprint(pki.client("mgmt")[0]), "CN=ro,O=Switchboard"]
    host = _host(tmp_path, pki, security={"tls": {**agent_config(tmp_path, pki).security.tls.model_dump(
        mode="json"), "allowed_clients": allowed}})
    agent = host.agent()
    with serve(agent) as url:
        for name in ("mgmt", "ro"):
            with client(url, pki, cert=name) as http:
                assert http.get("/v1/vms").status_code == 200, name
        with client(url, pki, cert="other") as http:
            refused = http.get("/v1/vms")
            assert refused.status_code == 403
            assert refused.json() == {"error": "client certificate not allowed"}
            assert http.get("/healthz").status_code == 403
    assert 'reason="client_cert"' in agent.metrics.render().decode()


@pytest.mark.root
class TestPam:
    @pytest.fixture
    def url(self, pam_users, tmp_path: Path, pki) -> Iterator[str]:
        host = _host(tmp_path, pki, auth={"enabled": True, "service": PAM_SERVICE, "admin_group": ADMIN_GROUP,
                                         "readonly_group": READONLY_GROUP, "max_failures": 2, "lockout_seconds": 600})
        self.host = host
        agent = build_agent(host.config, backends=(host.vmm, host.storage, host.network), boot_id="b")
        with serve(agent) as base:
            yield base

    def test_groups_decide_what_a_user_may_do(self, url: str, pki) -> None:
        with client(url, pki, auth=(ADMIN, PASSWORD)) as admin:
            assert admin.post("/v1/vms", json={"spec": payload("pam-1")}).status_code == 201
        with client(url, pki, auth=(READER, PASSWORD)) as reader:
            assert reader.get("/v1/vms").json()["count"] == 1
            assert reader.post("/v1/status", json={"vm_name": "pam-1"}).json()["power_state"] == "poweron"
            assert reader.get("/metrics").status_code == 200
            for method, path in [("POST", "/v1/vms/pam-1/stop"), ("DELETE", "/v1/vms/pam-1"),
                                 ("POST", "/v1/create")]:
                reply = reader.request(method, path, json={"spec": payload("pam-2")})
                assert reply.status_code == 403, path
                assert "read-only" in reply.json()["error"]
        with client(url, pki, auth=(NOBODY, PASSWORD)) as nobody:
            reply = nobody.get("/v1/vms")
            assert reply.status_code == 403 and "neither" in reply.json()["error"]
        assert self.host.vmm.running_vms() == {"pam-1"}

    def test_missing_and_wrong_credentials_are_401_and_repeated_failures_throttled(self, url: str, pki) -> None:
        with client(url, pki, auth=None) as anonymous:
            missing = anonymous.get("/v1/vms")
            assert missing.status_code == 401 and missing.json() == {"error": "Missing credentials"}
            assert missing.headers["WWW-Authenticate"].startswith("Basic")
            assert anonymous.get("/healthz").status_code == 200

        def bad_login(_: int) -> httpx.Response:
            with client(url, pki, auth=(ADMIN, "wrong")) as http:
                return http.get("/v1/vms")

        # Two failures (each delayed ~3 s by pam_unix, run side by side) lock this source out.
        with ThreadPoolExecutor(2) as pool:
            failures = list(pool.map(bad_login, range(2)))
        assert [r.status_code for r in failures] == [401, 401]
        assert failures[0].json() == {"error": "Invalid credentials"}
        with client(url, pki, auth=(ADMIN, PASSWORD)) as http:
            locked = http.get("/v1/vms")
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) > 0


def test_state_changing_calls_are_audited_with_the_user_and_client_certificate(
    served, host: Host, caplog: pytest.LogCaptureFixture
) -> None:
    _, url = served
    caplog.set_level("INFO", logger="switchboard.agent.audit")
    with client(url, host.pki) as http:
        http.get("/v1/vms")
        http.post("/v1/vms", json={"spec": payload("audit-1")})
    lines = [r.getMessage() for r in caplog.records if r.name == "switchboard.agent.audit"]
    assert lines == ["POST /v1/vms by user=admin client=CN=mgmt,O=Switchboard from 127.0.0.1"]


def _server_fingerprint(port: int, pki_dir: Path, ca_dir: Path) -> str:
    context = ssl.create_default_context(cafile=str(pki_dir / "ca.crt"))
    context.load_cert_chain(str(ca_dir / "client-mgmt.crt"), str(ca_dir / "client-mgmt.key"))
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(
        raw, server_hostname="localhost"
    ) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).hexdigest()


def test_sighup_reloads_rotated_certificates_without_a_restart(tmp_path: Path) -> None:
    tls_dir, ca_dir = tmp_path / "tls", tmp_path / "ca"
    init_tls(tls_dir, ca_dir=ca_dir, hostnames=["localhost"], addresses=["127.0.0.1"], clients=["mgmt"])
    config = {
        "defaults": {"host": {"vmm": "qemu", "state_dir": str(tmp_path / "state"), "run_dir": str(tmp_path / "run"),
                              "log_dir": str(tmp_path / "log")},
                     "storage": {"driver": "file", "volume_dir": str(tmp_path / "volumes")}},
        "security": {"tls": {"enabled": True, "cert_file": str(tls_dir / "server.crt"),
                             "key_file": str(tls_dir / "server.key"), "ca_file": str(tls_dir / "ca.crt"),
                             "client_auth": "required"}},
    }
    agent = AgentProcess(tmp_path, Pki(tls_dir, ca_dir, ca_dir), config)
    agent.start()
    try:
        before = _server_fingerprint(agent.port, tls_dir, ca_dir)
        init_tls(tls_dir, ca_dir=ca_dir, hostnames=["localhost"], addresses=["127.0.0.1"], clients=["mgmt"],
                 force=True)
        assert _server_fingerprint(agent.port, tls_dir, ca_dir) == before  # nothing changes until told
        agent.sighup()
        rotated = eventually(
            lambda: (fp := _server_fingerprint(agent.port, tls_dir, ca_dir)) != before and fp,
            what="the rotated certificate to be served", timeout=10, interval=0.1,
        )
        # Broken files on a later SIGHUP: the agent keeps serving what it has.
        (tls_dir / "server.key").write_text("not a key")
        agent.sighup()
        eventually(lambda: "still using the previous TLS settings" in agent.log(), what="the reload to be refused")
        assert _server_fingerprint(agent.port, tls_dir, ca_dir) == rotated
        assert agent.proc is not None and agent.proc.poll() is None
    finally:
        agent.stop()
