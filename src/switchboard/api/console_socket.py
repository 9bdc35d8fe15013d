"""The console proxy's WebSocket: `/console/websocket?token=<ticket>`, RFB over binary WebSocket messages
(the `binary` subprotocol noVNC asks for, or none).

The ticket createConsoleEndpoint handed out is spent before anything else happens; an unknown, spent or
expired ticket gets the connection closed with code 1008 and a reason the console page shows. A spent
ticket's console is proxied by `switchboard.compute.console_proxy` until either side closes. uvicorn logs
each WebSocket's path with its query: `hide_tickets` keeps tickets out of those lines.
"""

from __future__ import annotations

import contextlib
import logging
import re

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard.api.commands.console import CONSOLE_SOCKET_PATH
from switchboard.compute.console import ConsoleAccess
from switchboard.compute.console_proxy import ConsoleProxyError, proxy_console

__all__ = ["REFUSED", "console_routes", "hide_tickets"]

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
REFUSED = "This console link has expired or was already used: open the console again from the instance page"


_TICKET = re.compile(r"(?<=[?&]token=)[^&\s\"]+")


class _HideTickets(logging.Filter):
    """Masks `token=` values in the arguments of uvicorn's log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TICKET.sub("…", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def hide_tickets() -> None:
    """Keep console tickets out of uvicorn's logs (its connection lines name the path with its query)."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideTickets) for f in logger.filters):
            logger.addFilter(_HideTickets())


class _SocketViewer:
    """The viewer behind a Starlette WebSocket, as `console_proxy.Viewer`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive(self) -> bytes:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise ConnectionError("the viewer closed the console")
        data = message.get("bytes")
        if data is None:  # text frames are not RFB
            raise ConnectionError("the viewer sent text, not binary RFB")
        return bytes(data)

    async def send(self, data: bytes) -> None:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            raise ConnectionError("the viewer closed the console")
        try:
            await self.websocket.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise ConnectionError("the viewer closed the console") from exc


def console_routes(consoles: ConsoleAccess) -> list[BaseRoute]:
    """The proxy's route (before the web UI's catch-all); installs `hide_tickets`."""
    hide_tickets()

    async def console_socket(websocket: WebSocket) -> None:
        token = websocket.query_params.get("token", "")
        client = websocket.client.host if websocket.client else ""
        target = await run_in_threadpool(consoles.claim, token, client_address=client)
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(subprotocol="binary" if "binary" in offered else None)
        if target is None:
            await websocket.close(code=POLICY_VIOLATION, reason=REFUSED)
            return
        try:
            await proxy_console(_SocketViewer(websocket), target)
        except (ConnectionError, ConsoleProxyError, TimeoutError) as exc:
            log.info("console session %s ended: %s", target.session_uuid, exc or type(exc).__name__)
        finally:
            if websocket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):  # the viewer left first
                    await websocket.close()

    return [WebSocketRoute(CONSOLE_SOCKET_PATH, console_socket)]
