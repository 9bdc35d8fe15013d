"""The console proxy's RFB part: the server logs in to the instance's VNC server itself and offers the
viewer (noVNC in the browser) a connection that needs no password, then relays the two byte streams.

So the VNC password never leaves the server, as with CloudStack's console proxy. The RFB handshake
(RFC 6143 §7.1) is done on both sides: the viewer first learns the protocol version (3.8, or what it asks
for: 3.7, 3.3), then the server connects to the VNC server, agrees a version and authenticates (security
type 2, VNC authentication: the challenge DES-encrypted with the password; or 1, None), and only then
offers the viewer security type None — or, when the VNC server could not be reached or refused, the RFB
failure message with the reason, which viewers show. Everything after the handshake (ClientInit,
ServerInit, updates, input) is the same in every version and is relayed unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import Protocol

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from switchboard.compute.console import ConsoleTarget

__all__ = ["ConsoleProxyError", "Viewer", "proxy_console", "vnc_response"]

log = logging.getLogger(__name__)

_HANDSHAKE_TIMEOUT = 20.0
_CHUNK = 1 << 20  # at most this much per WebSocket message to the viewer
_NONE, _VNC_AUTH = 1, 2


class Viewer(Protocol):
    """The viewer's side of the proxy (a WebSocket): whole binary messages in and out."""

    async def receive(self) -> bytes:
        """The next message; raises ConnectionError when the viewer has gone."""

    async def send(self, data: bytes) -> None:
        """Send one message; raises ConnectionError when the viewer has gone."""


class ConsoleProxyError(Exception):
    """The VNC server could not be reached or refused; the message is for the viewer."""


class _ViewerReader:
    """Exact reads from the viewer's messages (RFB does not follow message boundaries)."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.buffer = bytearray()

    async def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += await self.viewer.receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def rest(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def vnc_response(password: str, challenge: bytes) -> bytes:
    """VNC authentication's answer: the 16-byte challenge DES-encrypted with the password (its first 8 bytes,
    NUL-padded, each byte's bits reversed, as the protocol wants). DES is TripleDES with the key thrice."""
    key = bytes(int(f"{byte:08b}"[::-1], 2) for byte in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


def _version(banner: bytes) -> int:
    """The minor version of an RFB ProtocolVersion message (3.3 for anything below 3.7, as RFC 6143 says)."""
    if len(banner) != 12 or not banner.startswith(b"RFB 003.") or not banner.endswith(b"\n"):
        raise ConsoleProxyError("the console did not answer as a VNC server")
    try:
        minor = int(banner[8:11])
    except ValueError:
        raise ConsoleProxyError("the console did not answer as a VNC server") from None
    return 8 if minor >= 8 else 7 if minor == 7 else 3


async def _reason(reader: asyncio.StreamReader) -> str:
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    return (await reader.readexactly(min(length, 4096))).decode("utf-8", "replace")


async def _log_in(target: ConsoleTarget) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the VNC server and authenticate; the streams, positioned before ClientInit."""
    try:
        reader, writer = await asyncio.open_connection(target.host, target.port)
    except OSError as exc:
        raise ConsoleProxyError(f"the console at {target.host}:{target.port} cannot be reached "
                                f"({exc.strerror or exc})") from None
    try:
        minor = _version(await reader.readexactly(12))
        writer.write(b"RFB 003.%03d\n" % minor)
        if minor == 3:
            (chosen,) = struct.unpack(">I", await reader.readexactly(4))
            if chosen == 0:
                raise ConsoleProxyError(f"the VNC server refused: {await _reason(reader)}")
        else:
            (count,) = await reader.readexactly(1)
            if count == 0:
                raise ConsoleProxyError(f"the VNC server refused: {await _reason(reader)}")
            offered = set(await reader.readexactly(count))
            if _VNC_AUTH in offered and target.password:
                chosen = _VNC_AUTH
            elif _NONE in offered:
                chosen = _NONE
            elif _VNC_AUTH in offered:
                raise ConsoleProxyError("the VNC server wants a password, and the extension gave none")
            else:
                raise ConsoleProxyError("the VNC server offers no security type the proxy knows "
                                        f"({', '.join(map(str, sorted(offered)))})")
            writer.write(bytes([chosen]))
        if chosen == _VNC_AUTH:
            if not target.password:
                raise ConsoleProxyError("the VNC server wants a password, and the extension gave none")
            writer.write(vnc_response(target.password, await reader.readexactly(16)))
        elif chosen != _NONE:
            raise ConsoleProxyError(f"the VNC server chose security type {chosen}, which the proxy does not know")
        if chosen == _VNC_AUTH or minor == 8:
            (result,) = struct.unpack(">I", await reader.readexactly(4))
            if result != 0:
                why = await _reason(reader) if minor == 8 else "authentication failed"
                raise ConsoleProxyError(f"the VNC server refused the proxy's login: {why}")
        await writer.drain()
        return reader, writer
    except asyncio.IncompleteReadError:
        writer.close()
        raise ConsoleProxyError("the VNC server closed the connection during the handshake") from None
    except BaseException:
        writer.close()
        raise


async def _refuse(viewer: Viewer, minor: int, reason: str) -> None:
    """RFB's failure message: no security types (3.7, 3.8) or type 0 (3.3), then the reason."""
    text = reason.encode()
    head = b"\x00" if minor >= 7 else struct.pack(">I", 0)
    with contextlib.suppress(ConnectionError):
        await viewer.send(head + struct.pack(">I", len(text)) + text)


async def proxy_console(viewer: Viewer, target: ConsoleTarget) -> None:
    """Relay the viewer to the console until either side closes. Raises ConnectionError when the viewer
    leaves during the handshake; failures of the VNC server are told to the viewer in RFB's words."""
    incoming = _ViewerReader(viewer)
    async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
        await viewer.send(b"RFB 003.008\n")
        minor = _version(await incoming.read(12))
    try:
        async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
            reader, writer = await _log_in(target)
    except (ConsoleProxyError, TimeoutError) as exc:
        reason = str(exc) if isinstance(exc, ConsoleProxyError) else "the VNC server did not answer in time"
        log.info("console session %s: %s", target.session_uuid, reason)
        await _refuse(viewer, minor, f"The console is not available: {reason}")
        return
    try:
        async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
            if minor >= 7:
                await viewer.send(bytes([1, _NONE]))
                if (await incoming.read(1)) != bytes([_NONE]):
                    return
                if minor == 8:
                    await viewer.send(struct.pack(">I", 0))
            else:
                await viewer.send(struct.pack(">I", _NONE))
        await _relay(incoming, viewer, reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _relay(incoming: _ViewerReader, viewer: Viewer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
    async def upstream() -> None:
        rest = incoming.rest()
        if rest:
            writer.write(rest)
        while True:
            writer.write(await viewer.receive())
            await writer.drain()

    async def downstream() -> None:
        while data := await reader.read(_CHUNK):
            await viewer.send(data)

    tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await task
