"""createConsoleEndpoint on the pretend demo cloud (no root, no agent): what an extension without a console
answers, a console the extension serves itself (`protocol: direct`), and a VNC console proxied to a small
RFB server, whose ticket opens it once. The real agent's console: tests/builtin_extensions/firecracker/
test_console.py."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from switchboard.api.console_socket import REFUSED
from tests.support.eventually import eventually
from tests.support.fixtures import ADMIN_PASSWORD, api_keys_of, cs_client, start_server
from tests.support.rfb import RfbViewer
from tests.support.server import ServerProcess

ENV = {"SWITCHBOARD_DEMO": "1", "SWITCHBOARD_DEMO_MICROVMS": "0", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
NO_CONSOLE = '"getconsole": lambda _p: reply({"status": "error", "error": "The demo has no console"}, 1),'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, CloudStack, str]]:
    with start_server(tmp_path_factory.mktemp("console-endpoint"), env=ENV) as server:
        admin = cs_client(server, api_keys_of(server))
        zone = admin.listZones()["zone"][0]
        template = admin.listTemplates(templatefilter="executable")["template"][0]
        offering = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
        answer = admin.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"],
                                            serviceofferingid=offering["id"], name="pretend-1")
        eventually(lambda: admin.queryAsyncJobResult(jobid=answer["jobid"])["jobstatus"] == 1,
                   what="the deploy", timeout=60)
        yield server, admin, answer["id"]


def answer_getconsole(server: ServerProcess, line: str) -> None:
    """Make the demo extension answer getconsole with `line` (Python, in its ACTIONS table)."""
    entry = server.data_dir / "extensions" / "demo" / "demo.py"
    text = entry.read_text()
    current = next(row for row in text.splitlines() if row.strip().startswith('"getconsole":'))
    entry.write_text(text.replace(current, "    " + line))


class RfbServer:
    """A VNC server speaking RFB 3.8 with security None, answering ClientInit with a 640x480 ServerInit."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"RFB 003.008\n")
                conn.recv(12)
                conn.sendall(b"\x01\x01")
                conn.recv(1)
                conn.sendall(struct.pack(">I", 0))
                conn.recv(1)
                conn.sendall(struct.pack(">HH", 640, 480) + bytes(16) + struct.pack(">I", 6) + b"pretty")


def test_an_extension_without_a_console_says_so(demo: tuple[ServerProcess, CloudStack, str]) -> None:
    server, admin, vm_id = demo
    answer_getconsole(server, NO_CONSOLE)
    assert admin.createConsoleEndpoint(virtualmachineid=vm_id)["consoleendpoint"] == {
        "success": False, "details": "Console access to this instance cannot be provided: The demo has no console"}


def test_a_direct_console_is_answered_with_its_url(demo: tuple[ServerProcess, CloudStack, str]) -> None:
    server, admin, vm_id = demo
    answer_getconsole(server, '"getconsole": lambda _p: reply({"status": "success", "console": {'
                              '"url": "https://kvm.example/console/7", "protocol": "direct"}}),')
    try:
        assert admin.createConsoleEndpoint(virtualmachineid=vm_id)["consoleendpoint"] == {
            "success": True, "url": "https://kvm.example/console/7"}
    finally:
        answer_getconsole(server, NO_CONSOLE)


def test_a_vnc_console_opens_once_through_the_proxy(demo: tuple[ServerProcess, CloudStack, str]) -> None:
    server, admin, vm_id = demo
    rfb = RfbServer()
    answer_getconsole(server, '"getconsole": lambda _p: reply({"status": "success", "console": {'
                              f'"host": "127.0.0.1", "port": "{rfb.port}", "protocol": "vnc"}}}}),')
    try:
        endpoint: dict[str, Any] = admin.createConsoleEndpoint(virtualmachineid=vm_id)["consoleendpoint"]
    finally:
        answer_getconsole(server, NO_CONSOLE)
    ws = endpoint["websocket"]
    url = f"ws://127.0.0.1:{server.port}{ws['path']}?token={ws['token']}"
    with connect(url, subprotocols=["binary"], open_timeout=30) as viewer:
        assert RfbViewer(viewer).handshake() == (640, 480, "pretty")
    with connect(url, subprotocols=["binary"], open_timeout=30) as again, pytest.raises(ConnectionClosed) as closed:
        again.recv(timeout=30)
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, REFUSED)
    rfb.sock.close()
