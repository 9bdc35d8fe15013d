"""The console of a Firecracker instance through the management server: createConsoleEndpoint runs the
extension's getconsole against the real agent (HTTPS, mTLS, PAM), whose VNC console (Xvfb, xterm on the
guest's serial console, x11vnc) the server's WebSocket proxy logs in to; a VNC viewer speaking RFB over the
WebSocket gets the screen without ever knowing the password. Refusals: a spent ticket, a wrong one, an
instance of another account, a stopped instance. The VNC password appears in no answer, log or database."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cs import CloudStack
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from switchboard.api.console_socket import REFUSED
from tests.builtin_extensions.firecracker.agenthost import AgentHost, Pki
from tests.builtin_extensions.firecracker.site import build_cloud, succeeded
from tests.support.fixtures import api_keys_of, create_account_with_keys, cs_client, start_server
from tests.support.rfb import RfbViewer
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.root, pytest.mark.slow]

ENV = {"SWITCHBOARD_EXTENSION_WAIT": "180", "SWITCHBOARD_ADMIN_PASSWORD": "sbt-fc-console-admin"}


@dataclass
class Site:
    server: ServerProcess
    admin: CloudStack
    cloud: dict[str, Any]
    vm: dict[str, Any]


@pytest.fixture(scope="module")
def site(agent: AgentHost, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with start_server(tmp_path_factory.mktemp("fc-console"), env=ENV) as server:
        admin = cs_client(server, api_keys_of(server))
        cloud = build_cloud(admin, agent, pki)
        vm = succeeded(admin, admin.deployVirtualMachine(
            zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"],
            serviceofferingid=cloud["offering"]["id"], networkids=cloud["network"]["id"]))["virtualmachine"]
        try:
            yield Site(server, admin, cloud, vm)
        finally:
            succeeded(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
        assert "Traceback" not in server.log()


def socket_url(server: ServerProcess, endpoint: dict[str, Any], token: str | None = None) -> str:
    websocket = endpoint["websocket"]
    return f"ws://127.0.0.1:{server.port}{websocket['path']}?token={token or websocket['token']}"


def endpoint_of(client: CloudStack, vm_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.createConsoleEndpoint(virtualmachineid=vm_id)["consoleendpoint"]
    return answer


def assert_refused(url: str) -> None:
    with connect(url, subprotocols=["binary"], open_timeout=30) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=30)
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, REFUSED)


def test_a_vnc_viewer_reaches_the_instance_console_through_the_server(site: Site, agent: AgentHost) -> None:
    endpoint = endpoint_of(site.admin, site.vm["id"])
    assert endpoint["success"] is True, endpoint
    token = endpoint["websocket"]["token"]
    assert endpoint["url"] == (f"http://127.0.0.1:{site.server.port}/console#token={token}"
                               f"&name={site.vm['name']}")
    assert endpoint["websocket"]["path"] == "/console/websocket"

    with connect(socket_url(site.server, endpoint), subprotocols=["binary"], open_timeout=30) as socket:
        assert socket.subprotocol == "binary"
        rfb = RfbViewer(socket)
        width, height, _name = rfb.handshake()
        assert (width, height) == (1280, 800)  # the agent's console geometry: x11vnc's real screen
        # A full framebuffer update request is answered with pixels (FramebufferUpdate, message type 0).
        socket.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        assert rfb.read(1) == b"\x00"

    # The ticket was spent: the same link again, and a made-up one, are refused with the reason.
    assert_refused(socket_url(site.server, endpoint))
    assert_refused(socket_url(site.server, endpoint, token="x" * 43))

    # The password the agent's console uses never left the server.
    password = (agent.root / "run" / site.vm["instancename"] / "console" / "password").read_text().strip()
    assert len(password) == 8
    answers = [endpoint, site.admin.listVirtualMachines(id=site.vm["id"]), site.admin.listEvents(pagesize=200)]
    assert password not in json.dumps(answers)
    assert password not in site.server.log() and token not in site.server.log()
    for database in site.server.data_dir.parent.glob("switchboard.db*"):  # SQLite (and its WAL), sealed only
        assert password.encode() not in database.read_bytes()


def test_each_endpoint_opens_once_and_a_second_one_works(site: Site) -> None:
    first, second = (endpoint_of(site.admin, site.vm["id"]) for _ in range(2))
    assert first["websocket"]["token"] != second["websocket"]["token"]
    with connect(socket_url(site.server, second), subprotocols=["binary"], open_timeout=30) as socket:
        assert RfbViewer(socket).handshake()[:2] == (1280, 800)
    assert_refused(socket_url(site.server, second))


def test_other_accounts_get_no_console_and_stopped_instances_none(site: Site) -> None:
    _account, keys = create_account_with_keys(site.admin, prefix="sbt-console")
    stranger = cs_client(site.server, keys)
    assert endpoint_of(stranger, site.vm["id"]) == {"success": False, "details": "Permission denied"}

    vm_id = site.vm["id"]
    succeeded(site.admin, site.admin.stopVirtualMachine(id=vm_id))
    try:
        refused = endpoint_of(site.admin, vm_id)
        assert refused == {"success": False,
                           "details": f"Instance {site.vm['name']} is Stopped: its console is there while it runs"}
    finally:
        succeeded(site.admin, site.admin.startVirtualMachine(id=vm_id))
