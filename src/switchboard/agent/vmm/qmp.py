"""A small synchronous QMP (QEMU Machine Protocol) client over a Unix socket.

QMP is JSON objects separated by newlines: a greeting, then `qmp_capabilities`, then one reply per
command, with asynchronous events interleaved. Events received while waiting for a reply are kept in
`events`. File descriptors can be handed to QEMU with `send_fd` (SCM_RIGHTS + `getfd`).
"""

from __future__ import annotations

import array
import json
import socket
import time
from pathlib import Path
from typing import Any

from switchboard.agent.vmm.base import VmmError

__all__ = ["QmpClient", "QmpError"]


class QmpError(VmmError):
    """QEMU answered a command with an error, or the QMP socket failed."""


class QmpClient:
    """One QMP connection. Use as a context manager; every call may raise QmpError.

    `timeout` (seconds) bounds each wait for a reply."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._sock: socket.socket | None = None
        self._buf = b""

    def __enter__(self) -> QmpClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Connect, read the greeting and enter command mode."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise QmpError(f"cannot connect to QMP socket {self.path}: {exc}") from exc
        self._sock = sock
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError(f"unexpected QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def execute(self, command: str, **arguments: Any) -> Any:
        """Run `command` and return its `return` value; QmpError with QEMU's `desc` on an error reply."""
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._send(json.dumps(message).encode() + b"\n")
        return self._reply(command)

    def send_fd(self, name: str, fd: int) -> None:
        """Register open file descriptor `fd` with QEMU under `name` (for `fd:<name>` migration URIs)."""
        payload = json.dumps({"execute": "getfd", "arguments": {"fdname": name}}).encode() + b"\n"
        sock = self._require()
        try:
            sock.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        except OSError as exc:
            raise QmpError(f"QMP send failed: {exc}") from exc
        self._reply("getfd")

    def wait_event(self, name: str, timeout: float) -> dict[str, Any]:
        """Wait up to `timeout` seconds for event `name` (also looks at events already received)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("event") == name:
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QmpError(f"no {name} event from QEMU within {timeout:.0f} s")
            self.events.append(self._read(timeout=remaining))

    # -- wire ----------------------------------------------------------------------------------------

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise QmpError("QMP client is not connected")
        return self._sock

    def _send(self, data: bytes) -> None:
        try:
            self._require().sendall(data)
        except OSError as exc:
            raise QmpError(f"QMP send failed: {exc}") from exc

    def _reply(self, command: str) -> Any:
        while True:
            message = self._read()
            if "event" in message:
                self.events.append(message)
                continue
            if "error" in message:
                error = message["error"]
                raise QmpError(f"QEMU refused {command}: {error.get('desc', error)}")
            if "return" in message:
                return message["return"]
            raise QmpError(f"unexpected QMP message: {message}")

    def _read(self, timeout: float | None = None) -> dict[str, Any]:
        sock = self._require()
        sock.settimeout(timeout if timeout is not None else self.timeout)
        while b"\n" not in self._buf:
            try:
                chunk = sock.recv(65536)
            except TimeoutError as exc:
                raise QmpError("timed out waiting for QEMU") from exc
            except OSError as exc:
                raise QmpError(f"QMP receive failed: {exc}") from exc
            if not chunk:
                raise QmpError("QEMU closed the QMP connection")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise QmpError(f"QEMU sent invalid JSON: {line[:200]!r}") from exc
        if not isinstance(message, dict):
            raise QmpError(f"unexpected QMP message: {message!r}")
        return message
