"""Idle keep-alive connections stay open well past common polling intervals: a client that polls every few
seconds reuses its connection rather than racing the server's close ("connection reset")."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlencode

from switchboard.server import KEEP_ALIVE_SECONDS
from tests.support.fixtures import signed_params
from tests.support.server import ServerProcess

# Twice the 5 s after which the server used to close an idle connection (uvicorn's default).
IDLE_PAUSE = 10.0


def test_a_connection_is_reused_after_an_idle_pause(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    assert KEEP_ALIVE_SECONDS > 60  # past the pollers' intervals and the proxies' idle timeouts
    connection = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=30)

    def list_zones() -> int:
        query = urlencode(signed_params({"command": "listZones", "response": "json"}, admin_keys))
        connection.request("GET", f"/client/api?{query}")
        reply = connection.getresponse()
        reply.read()
        assert reply.getheader("connection", "keep-alive").lower() != "close"
        return reply.status

    try:
        assert list_zones() == 200
        socket = connection.sock
        assert socket is not None
        local_address = socket.getsockname()
        time.sleep(IDLE_PAUSE)  # the client idles between two polls
        # http.client does not reconnect on its own: a closed connection fails here (RemoteDisconnected).
        assert list_zones() == 200
        assert connection.sock is socket and socket.getsockname() == local_address
    finally:
        connection.close()
