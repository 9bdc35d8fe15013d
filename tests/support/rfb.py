"""A VNC viewer's side of RFB over a WebSocket (what noVNC does), for the console proxy's tests."""

from __future__ import annotations

import struct

from websockets.sync.client import ClientConnection


class RfbViewer:
    """RFB 3.8 over the console proxy's WebSocket: exact reads across messages, and the handshake."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.buffer = b""

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            message = self.socket.recv(timeout=30)
            assert isinstance(message, bytes), message
            self.buffer += message
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def handshake(self) -> tuple[int, int, str]:
        """Version 3.8, security None (the only type the proxy offers), ClientInit; ServerInit's size, name."""
        assert self.read(12) == b"RFB 003.008\n"
        self.socket.send(b"RFB 003.008\n")
        assert self.read(2) == b"\x01\x01", "the proxy offers exactly one security type: None"
        self.socket.send(b"\x01")
        assert struct.unpack(">I", self.read(4)) == (0,)
        self.socket.send(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", self.read(4))
        self.read(16)  # pixel format
        (length,) = struct.unpack(">I", self.read(4))
        return width, height, self.read(length).decode()
