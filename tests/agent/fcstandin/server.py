"""Firecracker's HTTP API on a Unix socket, for the stand-in.

Requests are served one at a time on the main thread, like Firecracker's single API thread (and so that QEMU,
started from a request, is a child of a thread that lives as long as the process). Every response closes
its connection, so one idle client never blocks another.
"""

from __future__ import annotations

import http.server
import json
import os
import socketserver
from pathlib import Path
from typing import Any

from .machine import Machine

DEFAULT_MAX_PAYLOAD = 51200


class _Server(socketserver.UnixStreamServer):
    machine: Machine
    max_payload: int


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "Firecracker API"
    sys_version = ""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.server.max_payload:
            self._reply(400, {"fault_message": f"Request payload with size {length} is larger than the limit of "
                                               f"{self.server.max_payload} allowed by server."})  # fmt: skip
            return
        raw = self.rfile.read(length) if length else b""
        status, body = self.server.machine.handle(self.command, self.path, raw)
        self._reply(status, body)

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _serve

    def _reply(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.close_connection = True
        try:
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away; Firecracker does not care either

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Firecracker logs requests at debug level only


def serve(socket_path: Path, machine: Machine, *, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
    """Serve the API on `socket_path` until the process ends. OSError if the socket path is taken."""
    server = _Server(str(socket_path), _Handler, bind_and_activate=False)
    server.machine = machine
    server.max_payload = max_payload
    try:
        server.server_bind()
        os.chmod(socket_path, 0o600)
        server.server_activate()
    except OSError:
        server.server_close()
        raise
    server.serve_forever(poll_interval=0.5)
