"""Plumbing for the stand-ins of the external systems the built-in extensions talk to, and for running an
extension executable the way the server does.

    tls = issue_tls(tmp_path)                      # a private CA and a certificate for 127.0.0.1/localhost
    with HttpsStandin(app, tls) as server:         # app(Request) -> Reply, on its own thread, over real TLS
        run = run_extension(entry, "status", payload, timeout=10)
        server.calls                               # every Request, in order

A stand-in's `app` checks what the real server checks (authentication, required fields) and answers what
the real API answers; the tests assert the exact calls an action made.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from switchboard.agent.pki import init_tls

__all__ = ["ExtensionRun", "HttpsStandin", "Reply", "Request", "Tls", "issue_tls", "load_module", "run_extension",
           "write_payload"]

# What the server gives an extension (docs/extensions.md): nothing of the test process leaks in.
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
             "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp"}


@dataclass(frozen=True)
class Tls:
    ca_pem: str
    cert: Path
    key: Path


def issue_tls(directory: Path) -> Tls:
    """A private CA and a server certificate for localhost, 127.0.0.1 and ::1."""
    issued = init_tls(directory / "pki", ca_dir=directory / "pki-ca", hostnames=["localhost"],
                      addresses=["127.0.0.1", "::1"])
    assert issued.server_cert is not None
    return Tls(ca_pem=issued.ca_cert.read_text(), cert=issued.server_cert, key=directory / "pki" / "server.key")


@dataclass
class Request:
    """One HTTP request as the stand-in saw it. `form`: the URL-encoded body (or multipart form parts)."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def params(self) -> dict[str, str]:
        """Query and form merged, one value per name (the last), as most APIs read them."""
        merged = {k: v[-1] for k, v in self.query.items()}
        merged.update({k: v[-1] for k, v in self.form.items()})
        return merged


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes or str
    reason: str = ""  # the status line's text (Proxmox VE puts its error message there)
    headers: dict[str, str] = field(default_factory=dict)


App = Callable[[Request], Reply]


def _parse_form(content_type: str, body: bytes) -> dict[str, list[str]]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
    if content_type.startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        form: dict[str, list[str]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                form.setdefault(name, []).append(payload.decode())
        return form
    return {}


class HttpsStandin:
    """`app` served over HTTPS on 127.0.0.1 (a free port) on a daemon thread; `calls` records every request."""

    def __init__(self, app: App, tls: Tls) -> None:
        self.app = app
        self.calls: list[Request] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command, path=urllib.parse.unquote(split.path),
                    query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
                    form=_parse_form(self.headers.get("Content-Type") or "", body),
                    headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                )
                with standin._lock:
                    standin.calls.append(request)
                reply = standin.app(request)
                data = reply.body if isinstance(reply.body, bytes) else (
                    reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
                self.send_response(reply.status, reply.reason or None)
                content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
                self.send_header("Content-Type", reply.headers.get("Content-Type", content_type))
                for name, value in reply.headers.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="https-standin", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> HttpsStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take_calls(self) -> list[Request]:
        """The calls recorded so far, forgetting them."""
        with self._lock:
            taken, self.calls = self.calls, []
        return taken


@dataclass
class ExtensionRun:
    code: int
    output: str
    duration: float

    @property
    def answer(self) -> dict[str, Any]:
        """The printed JSON object (fails the test when the output is not one)."""
        value = json.loads(self.output)
        assert isinstance(value, dict), self.output
        return value


def write_payload(directory: Path, payload: dict[str, Any]) -> Path:
    """The payload file, 0600 and compact, as the server writes it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"payload-{time.monotonic_ns()}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, separators=(",", ":"))
    return path


def run_extension(entry: Path, action: str, payload: dict[str, Any], *, payloads: Path,
                  timeout: int = 20) -> ExtensionRun:
    """Run `entry <action> <payload file> <timeout>` with the server's clean environment, in the entry's
    directory, stdout and stderr merged; the payload file is written in `payloads`. Killed (and the test
    failed by subprocess.TimeoutExpired) 5 s after `timeout`."""
    path = write_payload(payloads, payload)
    started = time.monotonic()
    try:
        done = subprocess.run([str(entry), action, str(path), str(timeout)], cwd=entry.parent,
                              env={**CLEAN_ENV, "HOME": str(entry.parent)}, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout + 5, check=False)
    finally:
        path.unlink(missing_ok=True)
    return ExtensionRun(code=done.returncode, output=done.stdout.decode().strip(),
                        duration=time.monotonic() - started)


def load_module(path: Path, name: str) -> Any:
    """The executable at `path` imported as module `name` (its pure functions tested directly)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
