"""The console proxy's RFB handshake against small VNC servers of each protocol version (real TCP), with a
viewer that speaks RFB as noVNC does; and reading getconsole answers."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable

import pytest

from switchboard.compute.console import ConsoleTarget
from switchboard.compute.console_proxy import proxy_console, vnc_response
from switchboard.extensions.console_output import NoConsole, parse_console

PASSWORD = "s3cret12"
CHALLENGE = bytes(range(16))
SERVER_INIT = struct.pack(">HH", 640, 480) + bytes(16) + struct.pack(">I", 4) + b"test"

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def rfb_server(version: bytes, *, types: bytes = b"\x02", password: str = PASSWORD) -> tuple[Serve, list[bytes]]:
    """A VNC server speaking `version` (b"003.008", b"003.007", b"003.003") that offers `types` and, after
    the handshake, answers ClientInit with SERVER_INIT and echoes what follows."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB " + version + b"\n")
        seen.append(await reader.readexactly(12))
        if version == b"003.003":
            chosen = types[0]
            writer.write(struct.pack(">I", chosen))
        else:
            writer.write(bytes([len(types)]) + types)
            (chosen,) = await reader.readexactly(1)
        if chosen == 2:
            writer.write(CHALLENGE)
            answer = await reader.readexactly(16)
            ok = answer == vnc_response(password, CHALLENGE)
            writer.write(struct.pack(">I", 0 if ok else 1))
            if not ok:
                if version == b"003.008":
                    writer.write(struct.pack(">I", 20) + b"Authentication fail!")
                writer.close()
                return
        elif version == b"003.008":
            writer.write(struct.pack(">I", 0))
        seen.append(await reader.readexactly(1))  # ClientInit
        writer.write(SERVER_INIT)
        seen.append(await reader.read(100))
        writer.write(b"echo:" + seen[-1])
        await writer.drain()
        writer.close()

    return serve, seen


class Viewer:
    """A viewer that sends its messages one by one and keeps what the proxy sent it."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.outbox = bytearray()

    async def receive(self) -> bytes:
        data = await self.inbox.get()
        if not data:
            raise ConnectionError("viewer left")
        return data

    async def send(self, data: bytes) -> None:
        self.outbox += data

    async def take(self, size: int) -> bytes:
        for _ in range(500):
            if len(self.outbox) >= size:
                data = bytes(self.outbox[:size])
                del self.outbox[:size]
                return data
            await asyncio.sleep(0.01)
        raise AssertionError(f"the proxy sent {bytes(self.outbox)!r}, not {size} bytes")


async def _run(serve: Serve, viewer_version: bytes, talk: Callable[[Viewer], Awaitable[None]], *,
               password: str | None = PASSWORD) -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    viewer = Viewer()
    target = ConsoleTarget(session_uuid="s1", instance_uuid="i1", host="127.0.0.1", port=port, password=password)
    proxy = asyncio.create_task(proxy_console(viewer, target))
    try:
        assert await viewer.take(12) == b"RFB 003.008\n"
        viewer.inbox.put_nowait(b"RFB " + viewer_version + b"\n")
        await talk(viewer)
        viewer.inbox.put_nowait(b"")
        await asyncio.wait_for(proxy, 10)
    finally:
        proxy.cancel()
        server.close()


async def _after_security(viewer: Viewer) -> None:
    viewer.inbox.put_nowait(b"\x01")  # ClientInit, shared
    assert await viewer.take(len(SERVER_INIT)) == SERVER_INIT
    viewer.inbox.put_nowait(b"hello")
    assert await viewer.take(10) == b"echo:hello"


@pytest.mark.parametrize("server_version", [b"003.008", b"003.007", b"003.003"])
def test_the_proxy_logs_in_with_the_password_and_offers_the_viewer_none(server_version: bytes) -> None:
    serve, seen = rfb_server(server_version)

    async def talk(viewer: Viewer) -> None:
        assert await viewer.take(2) == b"\x01\x01"  # one security type: None
        viewer.inbox.put_nowait(b"\x01")
        assert await viewer.take(4) == b"\x00\x00\x00\x00"  # SecurityResult OK (3.8)
        await _after_security(viewer)

    asyncio.run(_run(serve, b"003.008", talk))
    assert seen[0] == b"RFB " + server_version + b"\n"  # the proxy speaks the server's version
    assert seen[1:] == [b"\x01", b"hello"]


@pytest.mark.parametrize("viewer_version", [b"003.007", b"003.003"])
def test_older_viewers_get_their_own_dialect(viewer_version: bytes) -> None:
    serve, _seen = rfb_server(b"003.008", types=b"\x01")

    async def talk(viewer: Viewer) -> None:
        if viewer_version == b"003.003":
            assert await viewer.take(4) == struct.pack(">I", 1)  # the server decides: None
        else:
            assert await viewer.take(2) == b"\x01\x01"
            viewer.inbox.put_nowait(b"\x01")  # 3.7: no SecurityResult after None
        await _after_security(viewer)

    asyncio.run(_run(serve, viewer_version, talk, password=None))


def test_a_refused_password_reaches_the_viewer_as_an_rfb_failure() -> None:
    serve, _seen = rfb_server(b"003.008", password="another1")

    async def talk(viewer: Viewer) -> None:
        assert await viewer.take(1) == b"\x00"  # no security types: a failure, and the reason
        (length,) = struct.unpack(">I", await viewer.take(4))
        reason = (await viewer.take(length)).decode()
        assert reason == "The console is not available: the VNC server refused the proxy's login: " \
                         "Authentication fail!"

    asyncio.run(_run(serve, b"003.008", talk))


def test_an_unreachable_console_is_explained_to_the_viewer() -> None:
    async def closed(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def talk(viewer: Viewer) -> None:
        assert await viewer.take(1) == b"\x00"
        (length,) = struct.unpack(">I", await viewer.take(4))
        assert (await viewer.take(length)).decode() == (
            "The console is not available: the VNC server closed the connection during the handshake")

    asyncio.run(_run(closed, b"003.008", talk))


def test_a_server_that_wants_a_password_nobody_knows() -> None:
    serve, _seen = rfb_server(b"003.008", types=b"\x02")

    async def talk(viewer: Viewer) -> None:
        assert await viewer.take(1) == b"\x00"
        (length,) = struct.unpack(">I", await viewer.take(4))
        assert b"wants a password" in await viewer.take(length)

    asyncio.run(_run(serve, b"003.008", talk, password=None))


def test_getconsole_answers_are_read_as_cloudstack_reads_them() -> None:
    vnc = parse_console(True, '{"status":"success","console":{"host":"10.0.0.5","port":"5901","password":"pw",'
                              '"passwordonetimeuseonly":true,"protocol":"vnc"}}', "")
    assert (vnc.host, vnc.port, vnc.password, vnc.password_one_time, vnc.direct) == ("10.0.0.5", 5901, "pw", True,
                                                                                     False)
    assert "pw" not in repr(vnc)
    direct = parse_console(True, '{"console":{"url":"https://kvm.example/c/1","protocol":"direct"}}', "")
    assert (direct.direct, direct.url) == (True, "https://kvm.example/c/1")
    for success, output, details, why in [
        (False, "no", "Exit code: 1, Output: no", "Exit code: 1, Output: no"),
        (False, '{"status":"error","error":"The demo has no console"}', "Exit code: 1, Output: …",
         "The demo has no console"),
        (True, "not json", "", "Failed to parse output"),
        (True, '{"status":"success"}', "", "Missing console object in output"),
        (True, '{"console":{"host":"h"}}', "", "Missing required fields in output"),
        (True, '{"console":{"host":"h","port":"x"}}', "", "Failed to parse output"),
        (True, '{"console":{"url":"https://x","protocol":"vnc"}}', "", "Missing required fields in output"),
    ]:
        with pytest.raises(NoConsole) as raised:
            parse_console(success, output, details)
        assert str(raised.value) == why
