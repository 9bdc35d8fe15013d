"""`PeerCertH11Protocol` extends uvicorn's h11 protocol class, which uvicorn does not document as an API.
These tests pin what the agent relies on — the constructor uvicorn calls, `connection_made` with the TLS
transport, the `app` attribute used for every request on the connection — and its effect over real TLS:
each connection's requests carry that connection's client certificate, never another's."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import httpx
import uvicorn
from tests.support.eventually import eventually
from uvicorn.protocols.http.h11_impl import H11Protocol

from agentcore.harness import Pki, client, free_port
from switchboard.agent.config import TlsConfig
from switchboard.agent.tls import PeerCertH11Protocol, server_context


async def _echo_tls(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reply with the TLS extension of the request's scope (and the client port, to tell connections apart)."""
    if scope["type"] != "http":
        return
    tls = scope.get("extensions", {}).get("tls")
    body = json.dumps({"tls": tls and {k: v for k, v in tls.items() if k != "client_cert_chain"},
                       "port": scope["client"][1]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def _server(pki: Pki | None) -> Iterator[str]:
    port = free_port()
    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "log_config": None, "lifespan": "off",
                               "http": PeerCertH11Protocol}
    if pki is not None:
        tls = TlsConfig(enabled=True, cert_file=pki.directory / "server.crt", key_file=pki.directory / "server.key",
                        ca_file=pki.ca, client_auth="optional")
        context = server_context(tls)
        options.update(ssl_certfile=str(tls.cert_file), ssl_context_factory=lambda _config, _default: context)
    server = uvicorn.Server(uvicorn.Config(_echo_tls, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, what="uvicorn to start")
    try:
        yield f"{'https' if pki else 'http'}://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_the_uvicorn_internals_the_protocol_uses_are_there() -> None:
    major, minor = (int(part) for part in version("uvicorn").split(".")[:2])
    assert (major, minor) >= (0, 47)  # ssl_context_factory
    assert "ssl_context_factory" in inspect.signature(uvicorn.Config).parameters
    assert list(inspect.signature(H11Protocol.__init__).parameters)[:4] == ["self", "config", "server_state",
                                                                          "app_state"]
    assert PeerCertH11Protocol.connection_made is not H11Protocol.connection_made
    assert issubclass(PeerCertH11Protocol, H11Protocol)


def test_each_connection_carries_its_own_client_certificate(pki: Pki) -> None:
    with _server(pki) as url:

        def two_requests(name: str) -> list[dict[str, Any]]:
            # One keep-alive connection per client: both requests travel on it.
            with client(url, pki, cert=name, auth=None) as http:
                return [http.get("/").json() for _ in range(2)]

        with ThreadPoolExecutor(3) as pool:
            replies = dict(zip(["mgmt", "other", "ro"], pool.map(two_requests, ["mgmt", "other", "ro"]), strict=True))
        for name, (first, second) in replies.items():
            assert first["port"] == second["port"], "httpx reused the connection"
            for reply in (first, second):
                assert reply["tls"]["client_cert_name"] == f"CN={name},O=Switchboard"
                assert reply["tls"]["client_cert_fingerprint"].startswith("sha256:")
                assert reply["tls"]["tls_version_name"].startswith("TLSv1.")
        with client(url, pki, cert=None, auth=None) as anonymous:
            tls = anonymous.get("/").json()["tls"]
        assert tls["client_cert_name"] is None and "client_cert_fingerprint" not in tls


def test_plain_http_connections_get_no_tls_extension() -> None:
    with _server(None) as url, httpx.Client(base_url=url) as http:
        assert http.get("/").json()["tls"] is None
