#!/usr/bin/env python3
"""Benchmark of the console proxy: a VNC viewer reaching a Firecracker instance's console through the
management server (createConsoleEndpoint, the WebSocket proxy logging in to the agent's x11vnc) against the
same viewer connecting to that x11vnc directly with the password, measured in the same run.

Per connection: connect → RFB handshake → the first full framebuffer (1280x800, raw encoding, 32 bits per
pixel: 4 MB); then full framebuffers requested one after the other (throughput). The proxy's connections
include createConsoleEndpoint (the extension's getconsole through the agent), reported on its own too.
Prints p50/p95 of each, and the ratios proxy/direct.

Needs root (temporary PAM users), qemu-system-x86, tmux, xvfb, xterm, x11vnc and the guest builder's tools.
Usage: `.venv/bin/python bench/console.py [--connections 10] [--frames 20]`
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cs import CloudStack  # noqa: E402
from tests.builtin_extensions.firecracker.agenthost import pam_users  # noqa: E402
from tests.builtin_extensions.firecracker.site import bench_site, succeeded  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from switchboard.compute.console_proxy import vnc_response  # noqa: E402

Recv = Callable[[int], bytes]
Send = Callable[[bytes], None]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Stream:
    """Exact reads over a socket or a WebSocket's messages."""

    def __init__(self, receive: Callable[[], bytes], send: Send) -> None:
        self.receive, self.send, self.buffer = receive, send, bytearray()

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self.receive()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def handshake(stream: Stream, password: str | None) -> tuple[int, int, int]:
    """RFB 3.8 as a viewer (VNC authentication when `password`, else None); raw encoding only. Returns
    (width, height, bytes per pixel)."""
    stream.read(12)
    stream.send(b"RFB 003.008\n")
    (count,) = stream.read(1)
    types = stream.read(count)
    if password is not None:
        assert 2 in types, types
        stream.send(b"\x02")
        stream.send(vnc_response(password, stream.read(16)))
    else:
        assert types == b"\x01", types
        stream.send(b"\x01")
    assert struct.unpack(">I", stream.read(4)) == (0,), "login refused"
    stream.send(b"\x01")
    width, height = struct.unpack(">HH", stream.read(4))
    pixel_format = stream.read(16)
    (length,) = struct.unpack(">I", stream.read(4))
    stream.read(length)
    stream.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
    return width, height, pixel_format[0] // 8


def full_frame(stream: Stream, width: int, height: int, depth: int) -> int:
    """Ask for the whole framebuffer and read the update; the bytes of pixels received."""
    stream.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
    while True:
        (kind,) = stream.read(1)
        if kind == 2:  # Bell
            continue
        if kind == 3:  # ServerCutText
            stream.read(3)
            stream.read(struct.unpack(">I", stream.read(4))[0])
            continue
        assert kind == 0, kind
        stream.read(1)
        (rects,) = struct.unpack(">H", stream.read(2))
        received = 0
        for _ in range(rects):
            _x, _y, w, h, encoding = struct.unpack(">HHHHi", stream.read(12))
            assert encoding == 0, encoding
            stream.read(w * h * depth)
            received += w * h * depth
        return received


def session(stream: Stream, password: str | None, frames: int, began: float) -> tuple[float, list[float], int]:
    """(connect→first frame, seconds per further frame, bytes per frame)."""
    width, height, depth = handshake(stream, password)
    size = full_frame(stream, width, height, depth)
    first = time.monotonic() - began
    times = []
    for _ in range(frames):
        start = time.monotonic()
        full_frame(stream, width, height, depth)
        times.append(time.monotonic() - start)
    return first, times, size


def direct(port: int, password: str, frames: int) -> tuple[float, list[float], int]:
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        return session(Stream(lambda: sock.recv(1 << 20), sock.sendall), password, frames, began)


def proxied(server: ServerProcess, admin: CloudStack, vm_id: str, frames: int) -> tuple[float, float, list[float], int]:
    """(createConsoleEndpoint, connect→first frame including it, per-frame times, bytes per frame)."""
    began = time.monotonic()
    endpoint = admin.createConsoleEndpoint(virtualmachineid=vm_id)["consoleendpoint"]
    asked = time.monotonic() - began
    ws = endpoint["websocket"]
    with connect(f"ws://127.0.0.1:{server.port}{ws['path']}?token={ws['token']}", subprotocols=["binary"],
                 max_size=None) as socket_:
        def receive() -> bytes:
            data = socket_.recv(timeout=30)
            assert isinstance(data, bytes)
            return data

        first, times, size = session(Stream(receive, socket_.send), None, frames, began)
    return asked, first, times, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10, help="connections each way (default 10)")
    parser.add_argument("--frames", type=int, default=20, help="full frames per connection (default 20)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the agent's PAM users are created for the run")
    env = {"SWITCHBOARD_ADMIN_PASSWORD": "sbt-bench-admin", "SWITCHBOARD_EXTENSION_WAIT": "600"}
    results: dict[str, Any] = {"direct_first": [], "direct_frames": [], "proxy_first": [], "proxy_frames": [],
                               "endpoint": []}
    with tempfile.TemporaryDirectory(prefix="sb-bench-console-") as tmp, pam_users(), \
            bench_site(Path(tmp), env) as site:
        agent, server, admin, cloud = site.agent, site.server, site.admin, site.cloud
        vm = succeeded(admin, admin.deployVirtualMachine(
            zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"],
            serviceofferingid=cloud["offering"]["id"], networkids=cloud["network"]["id"]))["virtualmachine"]
        proxied(server, admin, vm["id"], 2)  # warm-up: starts the agent's console
        with agent.http() as http:
            port = int(http.post(f"/v1/vms/{vm['instancename']}/console").json()["port"])
        password = (agent.root / "run" / vm["instancename"] / "console" / "password").read_text().strip()
        direct(port, password, 2)
        size = 0
        for _ in range(args.connections):  # interleaved, so both see the same machine
            first, times, size = direct(port, password, args.frames)
            results["direct_first"].append(first)
            results["direct_frames"] += times
            asked, first, times, _ = proxied(server, admin, vm["id"], args.frames)
            results["endpoint"].append(asked)
            results["proxy_first"].append(first)
            results["proxy_frames"] += times
        load = os.getloadavg()[0]
        succeeded(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    report(args, results, size, load)
    return 0


def report(args: argparse.Namespace, results: dict[str, Any], size: int, load: float) -> None:
    print(f"console of one instance (x11vnc, {size / 1e6:.1f} MB per full frame, raw encoding), "
          f"{args.connections} connections each way, {args.frames} frames each; {os.cpu_count()} cores, "
          f"load average {load:.1f}")

    def row(label: str, values: list[float], unit: str = "s") -> str:
        return f"  {label:<46} p50 {percentile(values, 0.5):7.3f} {unit}   p95 {percentile(values, 0.95):7.3f} {unit}"

    print("baseline, straight to the agent's VNC server (with its password):")
    print(row("connect → first full frame", results["direct_first"]))
    print(row("one full frame", results["direct_frames"]))
    print("through the server (createConsoleEndpoint, WebSocket proxy):")
    print(row("createConsoleEndpoint (getconsole via the agent)", results["endpoint"]))
    print(row("createConsoleEndpoint → first full frame", results["proxy_first"]))
    print(row("one full frame", results["proxy_frames"]))
    direct_rate = size / percentile(results["direct_frames"], 0.5) / 1e6
    proxy_rate = size / percentile(results["proxy_frames"], 0.5) / 1e6
    print(f"throughput p50: direct {direct_rate:.0f} MB/s, proxy {proxy_rate:.0f} MB/s")
    first = percentile(results["proxy_first"], 0.5) / percentile(results["direct_first"], 0.5)
    frame = percentile(results["proxy_frames"], 0.5) / percentile(results["direct_frames"], 0.5)
    print(f"ratio proxy/direct: first frame p50 {first:.2f}, full frame p50 {frame:.2f}")


if __name__ == "__main__":
    sys.exit(main())
