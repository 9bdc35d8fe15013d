"""TLS for the agent: the server context (TLS 1.2+), the client certificate in the ASGI scope, and the
client allow-list.

uvicorn does not put the peer certificate into the ASGI scope, so `PeerCertH11Protocol` reads it from the
connection's SSL object when the connection is made and adds it to every request's scope as
`scope["extensions"]["tls"]` (the keys of the ASGI TLS extension, plus `client_cert_fingerprint`).
`ClientAllowList` is ASGI middleware that refuses (403) a request whose certificate is not on the list.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from uvicorn.protocols.http.h11_impl import H11Protocol

from switchboard.agent.config import TlsConfig

__all__ = [
    "ClientAllowList",
    "ClientIdentity",
    "PeerCertH11Protocol",
    "TlsSetupError",
    "reload_certificates",
    "server_context",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

_VERIFY = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


class TlsSetupError(Exception):
    """The TLS section is inconsistent or its files cannot be loaded."""


def server_context(config: TlsConfig) -> ssl.SSLContext:
    """Build the server SSLContext: minimum version from config (TLS 1.2 by default), client certificates
    verified against `ca_file` when `client_auth` asks for them. Raises TlsSetupError."""
    if config.cert_file is None or config.key_file is None:
        raise TlsSetupError("security.tls needs cert_file and key_file")
    if config.client_auth != "none" and config.ca_file is None:
        raise TlsSetupError("security.tls.client_auth needs ca_file (the CA that signs client certificates)")
    if config.allowed_clients and config.client_auth == "none":
        raise TlsSetupError("security.tls.allowed_clients needs client_auth optional or required")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[config.min_version]
    context.options |= ssl.OP_NO_COMPRESSION
    try:
        context.load_cert_chain(str(config.cert_file), str(config.key_file))
        if config.client_auth != "none":
            context.load_verify_locations(cafile=str(config.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot load TLS files: {exc}") from exc
    context.verify_mode = _VERIFY[config.client_auth]
    return context


def reload_certificates(context: ssl.SSLContext, config: TlsConfig) -> None:
    """Load the (rotated) server certificate, key and client CA into the running context; new connections
    use them, open ones keep theirs. A CA added here is trusted in addition to the old one until the next
    restart (OpenSSL cannot forget a loaded CA). Raises TlsSetupError and leaves the old files in use."""
    try:
        context.load_cert_chain(str(config.cert_file), str(config.key_file))
        if config.client_auth != "none":
            context.load_verify_locations(cafile=str(config.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"cannot reload TLS files: {exc}") from exc


@dataclass(frozen=True)
class ClientIdentity:
    """A verified client certificate: its RFC 4514 subject and SHA-256 fingerprint (`sha256:<hex>`)."""

    subject: str
    fingerprint: str
    pem: str

    @classmethod
    def from_der(cls, der: bytes) -> ClientIdentity:
        cert = x509.load_der_x509_certificate(der)
        return cls(
            subject=cert.subject.rfc4514_string(),
            fingerprint="sha256:" + hashlib.sha256(der).hexdigest(),
            pem=cert.public_bytes(Encoding.PEM).decode(),
        )

    def scope_extension(self) -> dict[str, Any]:
        return {
            "client_cert_chain": [self.pem],
            "client_cert_name": self.subject,
            "client_cert_error": None,
            "client_cert_fingerprint": self.fingerprint,
        }


def _with_tls(app: Asgi, tls: dict[str, Any]) -> Asgi:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("extensions", {})["tls"] = tls
        await app(scope, receive, send)

    return wrapped


# How long an idle connection's TLS close may wait for the client's close_notify when the agent stops.
_IDLE_CLOSE_SECONDS = 1.0


class PeerCertH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus the verified peer certificate in every request's scope, and a stop
    that idle keep-alive clients cannot hold up."""

    def shutdown(self) -> None:
        # A TLS close sends close_notify and waits (asyncio: 30 s) for the client's; a client keeping the
        # connection idle in its pool never reads it, and uvicorn waits for every connection to go. An idle
        # connection is closed politely, then dropped if the client has not answered within a second.
        idle = self.cycle is None or self.cycle.response_complete
        super().shutdown()
        if idle:
            self.loop.call_later(_IDLE_CLOSE_SECONDS, self._drop_if_open)

    def _drop_if_open(self) -> None:
        if self in self.connections:
            self.transport.abort()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        der = ssl_object.getpeercert(binary_form=True)
        tls: dict[str, Any] = {"client_cert_chain": [], "client_cert_name": None, "client_cert_error": None}
        if der:
            tls = ClientIdentity.from_der(der).scope_extension()
        tls["tls_version_name"] = ssl_object.version()
        self.app = _with_tls(self.app, tls)


def _normalise_fingerprint(text: str) -> str:
    return "sha256:" + text.split(":", 1)[1].replace(":", "").lower()


@dataclass(frozen=True)
class _AllowRules:
    fingerprints: frozenset[str]
    subjects: tuple[x509.Name, ...]

    @classmethod
    def parse(cls, allowed: tuple[str, ...]) -> _AllowRules:
        try:
            subjects = tuple(x509.Name.from_rfc4514_string(e) for e in allowed if not e.lower().startswith("sha256:"))
        except ValueError as exc:
            raise TlsSetupError(f"security.tls.allowed_clients: bad subject: {exc}") from exc
        fingerprints = frozenset(_normalise_fingerprint(e) for e in allowed if e.lower().startswith("sha256:"))
        return cls(fingerprints, subjects)

    @property
    def enabled(self) -> bool:
        return bool(self.fingerprints or self.subjects)


class ClientAllowList:
    """ASGI middleware: with a non-empty allow-list, only requests whose client certificate's subject or
    fingerprint is listed reach the app; others get 403 `{"error": ...}`. `replace` swaps the list while
    serving (SIGHUP): requests after it are checked against the new entries."""

    def __init__(self, app: Asgi, allowed: tuple[str, ...], *, on_refusal: Callable[[], None] | None = None):
        self._app = app
        self._rules = _AllowRules.parse(allowed)
        self._on_refusal = on_refusal

    def replace(self, allowed: tuple[str, ...]) -> None:
        """Use `allowed` from now on. Raises TlsSetupError (and keeps the current list) for a bad entry."""
        self._rules = _AllowRules.parse(allowed)  # one assignment: a request sees the old or the new list

    def allows(self, tls: dict[str, Any] | None) -> bool:
        rules = self._rules
        if not rules.enabled:
            return True
        if not tls or not tls.get("client_cert_fingerprint"):
            return False
        if tls["client_cert_fingerprint"] in rules.fingerprints:
            return True
        subject = x509.Name.from_rfc4514_string(tls["client_cert_name"])
        return subject in rules.subjects

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.allows(scope.get("extensions", {}).get("tls")):
            await self._app(scope, receive, send)
            return
        if self._on_refusal is not None:
            self._on_refusal()
        body = json.dumps({"error": "client certificate not allowed"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
