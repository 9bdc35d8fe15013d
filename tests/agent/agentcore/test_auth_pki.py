"""Unit behaviour of the throttle and login cache (with a fake clock), and of the issued certificates."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from pathlib import Path

import anyio
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from switchboard.agent import cli
from switchboard.agent.auth import AccessDenied, Authenticator, AuthFailed, Role, Throttled
from switchboard.agent.config import AuthConfig, load_config
from switchboard.agent.pki import PkiError, init_tls

REPO = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _authenticator(clock: Clock, calls: list[str], **config: object) -> Authenticator:
    def check(user: str, password: str, service: str) -> bool:
        calls.append(user)
        return password == "good"

    settings = AuthConfig(enabled=True, admin_group="adm", readonly_group="ro", **config)  # type: ignore[arg-type]
    return Authenticator(settings, check=check, groups=lambda u: {"a": {"adm"}, "r": {"ro"}}.get(u, set()),
                         clock=clock)


def test_a_lockout_ends_after_its_time_and_only_hits_the_failing_source() -> None:
    clock, calls = Clock(), []
    auth = _authenticator(clock, calls, max_failures=2, lockout_seconds=30)

    async def scenario() -> None:
        for _ in range(2):
            with pytest.raises(AuthFailed):
                await auth.authenticate(_basic("a", "bad"), "10.0.0.1")
        with pytest.raises(Throttled):
            await auth.authenticate(_basic("a", "good"), "10.0.0.1")
        assert (await auth.authenticate(_basic("a", "good"), "10.0.0.2")).role is Role.ADMIN
        clock.now += 31
        assert (await auth.authenticate(_basic("r", "good"), "10.0.0.1")).role is Role.READONLY

    anyio.run(scenario)
    assert calls.count("a") == 3  # the throttled attempt never reached PAM


def test_a_successful_login_is_cached_for_its_time_only() -> None:
    clock, calls = Clock(), []
    auth = _authenticator(clock, calls, cache_seconds=30)

    async def scenario() -> None:
        for _ in range(3):
            await auth.authenticate(_basic("a", "good"), "s")
        clock.now += 31
        await auth.authenticate(_basic("a", "good"), "s")
        with pytest.raises(AuthFailed):
            await auth.authenticate(_basic("a", "other"), "s")

    anyio.run(scenario)
    assert calls == ["a", "a", "a"]


def test_concurrent_logins_with_the_same_credentials_ask_pam_once() -> None:
    calls: list[str] = []

    def slow_check(user: str, password: str, service: str) -> bool:
        calls.append(user)
        time.sleep(0.2)
        return password == "good"

    settings = AuthConfig(enabled=True, admin_group=None, readonly_group=None)
    auth = Authenticator(settings, check=slow_check)

    async def scenario() -> list[str]:
        results: list[str] = []

        async def login(password: str) -> None:
            try:
                results.append((await auth.authenticate(_basic("a", password), "s")).user)
            except AuthFailed:
                results.append("refused")

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(login, "good")
            for _ in range(3):
                group.start_soon(login, "bad")
        return results

    results = anyio.run(scenario)
    assert sorted(results) == ["a"] * 6 + ["refused"] * 3
    assert len(calls) == 2  # one PAM conversation per distinct credential


@pytest.mark.parametrize("header", [None, "Bearer x", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()])
def test_malformed_headers_are_401(header: str | None) -> None:
    auth = _authenticator(Clock(), [])
    with pytest.raises(AuthFailed):
        anyio.run(auth.authenticate, header, "s")


def test_users_outside_both_groups_are_denied() -> None:
    auth = _authenticator(Clock(), [])
    with pytest.raises(AccessDenied):
        anyio.run(auth.authenticate, _basic("stranger", "good"), "s")


def test_init_tls_issues_a_ca_a_server_cert_with_sans_and_client_certs(tmp_path: Path) -> None:
    tls, ca = tmp_path / "tls", tmp_path / "ca"
    issued = init_tls(tls, ca_dir=ca, hostnames=["fc01.example", "fc01"], addresses=["10.0.0.5"], clients=["mgmt"])
    server = x509.load_pem_x509_certificate((tls / "server.crt").read_bytes())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["fc01.example", "fc01"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    client = x509.load_pem_x509_certificate(issued.clients["mgmt"][0].read_bytes())
    assert list(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    # The agent's directory holds what the agent needs and nothing that could issue or impersonate.
    assert sorted(p.name for p in tls.iterdir()) == ["ca.crt", "server.crt", "server.key"]
    assert sorted(p.name for p in ca.iterdir()) == ["ca.crt", "ca.key", "client-mgmt.crt", "client-mgmt.key"]
    assert ca.stat().st_mode & 0o077 == 0
    for key in (ca / "ca.key", tls / "server.key", ca / "client-mgmt.key"):
        assert key.stat().st_mode & 0o077 == 0
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(issued.ca_cert), str(tls / "server.crt"),
         str(issued.clients["mgmt"][0])], capture_output=True, text=True,
    )
    assert verify.returncode == 0, verify.stderr
    # A second run reuses the CA, so earlier client certificates stay valid.
    ca_before = issued.ca_cert.read_bytes()
    init_tls(tls, ca_dir=ca, clients=["second"])
    assert issued.ca_cert.read_bytes() == ca_before
    with pytest.raises(PkiError):
        init_tls(tls, ca_dir=ca, clients=["../evil"])
    with pytest.raises(PkiError, match="must not be the agent's"):
        init_tls(tls, ca_dir=tls)


def test_init_tls_moves_a_ca_key_left_in_the_agents_directory_out(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    # The earlier layout: everything in one directory.
    old = init_tls(tmp_path / "old-ca", ca_dir=tmp_path / "old-ca-keys", clients=["mgmt"])
    tls.mkdir()
    for path in [*(tmp_path / "old-ca-keys").iterdir(), old.server_cert, old.server_key]:
        assert path is not None
        (tls / path.name).write_bytes(path.read_bytes())
    ca_key = (tls / "ca.key").read_bytes()
    issued = init_tls(tls, ca_dir=tmp_path / "ca", clients=["mgmt"])
    assert not (tls / "ca.key").exists() and not (tls / "client-mgmt.key").exists()
    assert (tmp_path / "ca" / "ca.key").read_bytes() == ca_key
    assert issued.fingerprints() == old.fingerprints()  # the same client certificate, moved


def test_the_cli_init_tls_prints_allow_list_entries_and_fills_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = json.loads((REPO / "deploy" / "firecracker-agent.json").read_text())
    assert sample["security"]["tls"]["allowed_clients"] == []  # filled on the host, by init-tls
    config = tmp_path / "agent.json"
    config.write_text(json.dumps(sample))
    config.chmod(0o640)
    tls, ca = tmp_path / "t", tmp_path / "ca"
    argv = ["init-tls", "--dir", str(tls), "--ca-dir", str(ca), "--hostname", "localhost", "--config", str(config)]
    assert cli.main([*argv, "--client", "mgmt"]) == 0
    out = capsys.readouterr().out
    entry = re.search(r"allowed_clients entry: (sha256:[0-9a-f]{64})", out)
    assert entry is not None and str(ca / "ca.key") in out
    assert cli.main([*argv, "--client", "mgmt", "--client", "backup"]) == 0  # again, with a second client
    second = re.findall(r"allowed_clients entry: (sha256:[0-9a-f]{64})", capsys.readouterr().out)
    written = load_config(config)
    assert written.security.tls.allowed_clients == (entry.group(1), second[1])
    assert written.security.tls.client_auth == "required" and written.security.tls.enabled
    assert written.security.tls.cert_file == tls / "server.crt" and written.security.tls.ca_file == tls / "ca.crt"
    assert written.defaults.net.driver == "linux-bridge"  # the rest of the sample is untouched
    assert config.stat().st_mode & 0o777 == 0o640
    assert cli.main(["serve", "--config", str(tmp_path / "missing.json")]) == 2
    assert "cannot read config" in capsys.readouterr().err
