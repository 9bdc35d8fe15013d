"""createConsoleEndpoint (CloudStack 4.18+): a way to the console of an instance.

The answer is CloudStack's CreateConsoleEndpointResponse under `consoleendpoint`: `success`, `details` (why
not), `url` (the page to open) and `websocket` (`host`, `port`, `path`, `token`: the proxy's WebSocket, for
clients that bring their own viewer). For a VNC console `url` is this server's console page
(`/console#token=…`, the ticket in the fragment, so the page load never sends it) and `websocket.path` is
the proxy; the ticket opens the console once, within two minutes. A console the extension serves itself
(`protocol: direct`) is answered with its own URL.

As in CloudStack, refusals after the instance is found are answers with `success: false` and the reason in
`details` ("Permission denied" for an instance of an account the caller may not act on).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchboard.api.call import Call, RequestMeta
from switchboard.api.params import Param, ParamType
from switchboard.api.registry import api_command
from switchboard.api.responses import ObjectResponse
from switchboard.api.shapes import Field, Shape, T
from switchboard.compute.console import ConsoleUnavailable
from switchboard.errors import PermissionDenied
from switchboard.roles import ALL_ROLES

__all__ = ["CONSOLE_ENDPOINT", "CONSOLE_PAGE_PATH", "CONSOLE_SOCKET_PATH"]

CONSOLE_PAGE_PATH = "/console"  # served by the web UI (switchboard.ui.routes)
CONSOLE_SOCKET_PATH = "/console/websocket"  # served by switchboard.api.console_socket

# CloudStack's CreateConsoleEndpointResponse and ConsoleEndpointWebsocketResponse (without `extra`: the
# extra-validation token is never used here).
_WEBSOCKET = Shape("websocket", [
    Field("token", T.STRING, "the console websocket token"),
    Field("host", T.STRING, "the console websocket host"),
    Field("port", T.STRING, "the console websocket port"),
    Field("path", T.STRING, "the console websocket path"),
])
CONSOLE_ENDPOINT = Shape("consoleendpoint", [
    Field("success", T.BOOLEAN, "true if the console endpoint is generated properly"),
    Field("details", T.STRING, "details in case of an error"),
    Field("url", T.STRING, "the console url"),
    Field("websocket", T.OBJECT, "the console websocket options", shape=_WEBSOCKET),
])


def _origin(meta: RequestMeta) -> tuple[str, str, str]:
    """(scheme, host, port) the caller reached this server at (behind a proxy: X-Forwarded-Proto/-Host)."""
    headers = meta.headers
    scheme = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower() or "http"
    if scheme not in ("http", "https"):
        scheme = "http"
    host = (headers.get("x-forwarded-host") or headers.get("host") or "127.0.0.1").split(",")[0].strip()
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not name or not port.isdigit():
        name, port = host, "443" if scheme == "https" else "80"
    return scheme, name, port


@api_command(
    "createConsoleEndpoint",
    params=[
        Param("virtualmachineid", ParamType.UUID, required=True, description="ID of the VM"),
        Param("token", description="(optional) extra security token, valid when the extra validation is "
              "enabled (accepted and ignored: the console ticket is single-use and short-lived)"),
    ],
    roles=ALL_ROLES,
    description="Create a console endpoint to connect to a VM console",
    response=CONSOLE_ENDPOINT,
    since="4.18.0",
)
def create_console_endpoint(call: Call) -> ObjectResponse:
    try:
        endpoint = call.services.consoles.open(call.who, call.get("virtualmachineid"),
                                               creator_address=call.meta.client_ip)
    except PermissionDenied:
        return ObjectResponse("consoleendpoint", {"success": False, "details": "Permission denied"})
    except ConsoleUnavailable as exc:
        return ObjectResponse("consoleendpoint", {"success": False, "details": exc.message})
    if endpoint.token is None:
        return ObjectResponse("consoleendpoint", {"success": True, "url": endpoint.url})
    scheme, host, port = _origin(call.meta)
    authority = host if port == ("443" if scheme == "https" else "80") else f"{host}:{port}"
    fragment = f"token={endpoint.token}&name={quote(endpoint.instance_name, safe='')}"
    body: dict[str, Any] = {
        "success": True,
        "url": f"{scheme}://{authority}{CONSOLE_PAGE_PATH}#{fragment}",
        "websocket": {"host": host, "port": port, "path": CONSOLE_SOCKET_PATH, "token": endpoint.token},
    }
    return ObjectResponse("consoleendpoint", body)
