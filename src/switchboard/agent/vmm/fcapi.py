"""A small client for Firecracker's HTTP API on its Unix socket (httpx with a UDS transport).

Firecracker answers 204 on success for configuration and actions, 200 with JSON for queries, and 400 (or
500) with `{"fault_message": "..."}` on errors; the fault message becomes the FirecrackerApiError's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from switchboard.agent.vmm.base import VmmError

__all__ = ["FirecrackerApi", "FirecrackerApiError"]


class FirecrackerApiError(VmmError):
    """Firecracker refused a call (its fault_message), or its socket could not be reached."""


class FirecrackerApi:
    """Calls on one Firecracker API socket. Use as a context manager (one connection pool per use).

    `timeout` is in seconds per call. Every call raises FirecrackerApiError on failure."""

    def __init__(self, socket: Path, *, timeout: float = 30.0) -> None:
        self.socket = socket
        self._client = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://localhost", timeout=timeout
        )

    def __enter__(self) -> FirecrackerApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """`method path` with a JSON body; the JSON answer, or None for 204."""
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise FirecrackerApiError(f"Firecracker API on {self.socket} unreachable: {exc}") from exc
        if response.status_code == 204 or (response.is_success and not response.content):
            return None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            return data
        fault = data.get("fault_message") if isinstance(data, dict) else None
        raise FirecrackerApiError(fault or f"Firecracker answered {response.status_code} to {method} {path}")

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body)

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def action(self, action_type: str) -> None:
        """PUT /actions: InstanceStart, SendCtrlAltDel or FlushMetrics."""
        self.put("/actions", {"action_type": action_type})
