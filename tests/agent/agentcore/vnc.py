"""Test helpers for VNC consoles: find a console's processes, speak enough RFB to check its banner,
security types and VNC authentication."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes


def console_processes(console_dir: Path, port: int, vm: str) -> list[str]:
    """Command lines of every process that belongs to the console on `port` (Xvfb, xterm, x11vnc, the
    launcher, the tmux client)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(console_dir) in cmdline or f":{port} " in cmdline or (f"={vm}" in cmdline and " attach " in cmdline):
            found.append(cmdline)
    return found


def rfb_handshake(port: int) -> tuple[bytes, bytes]:
    """Read the RFB banner, answer with version 3.8, return (banner, security-types message)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        banner = sock.recv(12)
        sock.sendall(b"RFB 003.008\n")
        count = sock.recv(1)
        types = sock.recv(count[0]) if count and count[0] else b""
    return banner, types


def vnc_login(port: int, password: str) -> bool:
    """Full RFB 3.8 handshake with VNC authentication (DES of the server's challenge, key bits reversed as
    the protocol wants); on success also the ClientInit/ServerInit exchange. True if the server accepted."""
    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.recv(12)
        sock.sendall(b"RFB 003.008\n")
        count = sock.recv(1)[0]
        sock.recv(count)
        sock.sendall(b"\x02")
        challenge = _recv_exact(sock, 16)
        encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
        sock.sendall(encryptor.update(challenge) + encryptor.finalize())
        if struct.unpack(">I", _recv_exact(sock, 4))[0] != 0:
            return False
        sock.sendall(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", _recv_exact(sock, 4))
        return width > 0 and height > 0


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("VNC server closed the connection")
        data += chunk
    return data


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket that process `pid` listens on (IPv4 and IPv6), from /proc."""
    inodes = set()
    for fd in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(fd.path)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:  # 0A: LISTEN
                    continue
                addr_hex, port_hex = local.split(":")
                raw = bytes.fromhex(addr_hex)
                # /proc prints the address as 32-bit words in host (little-endian) order.
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add((socket.inet_ntop(family, raw), int(port_hex, 16)))
    return found


def pid_of(console_dir: Path, tool: str) -> int:
    """The pid of the console's `tool` process (its command line names the console directory)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if tool.encode() in argv[0] and str(console_dir).encode() in b" ".join(argv):
            return int(entry.name)
    raise LookupError(f"no {tool} process for {console_dir}")
