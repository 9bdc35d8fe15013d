"""Frame-level endpoints for the dataplane tests: run inside a namespace with `ip netns exec`.

    python tapio.py SENDER RECEIVER... [--uplink-peer DEV]

Opens each named (persistent) TAP as the VMM would (/dev/net/tun, IFF_TAP | IFF_NO_PI), writes one
broadcast Ethernet frame with a random payload into SENDER, i.e. as if SENDER's guest had sent it, then
reads every TAP until the first receiver got it (at most 10 s) plus a short grace, and prints JSON:
{"received": [names that saw the payload], "uplink_vlan": vid seen on DEV or null}. With
`--uplink-peer DEV` it also listens on DEV (the far end of the uplink veth) with a packet socket and
reports the 802.1Q VLAN id the frame carried there.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_AUXDATA = 263, 8
TP_STATUS_VLAN_VALID = 1 << 4


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def uplink_vlan(data: bytes, ancdata: list[tuple[int, int, bytes]]) -> int | None:
    if data[12:14] == b"\x81\x00":
        return struct.unpack("!H", data[14:16])[0] & 0x0FFF
    for level, kind, blob in ancdata:
        if level == SOL_PACKET and kind == PACKET_AUXDATA:
            status, _len, _snap, _mac, _net, tci, _tpid = struct.unpack("IIIHHHH", blob[:20])
            if status & TP_STATUS_VLAN_VALID:
                return tci & 0x0FFF
            return 0
    return 0


def main(argv: list[str]) -> None:
    peer = None
    if "--uplink-peer" in argv:
        i = argv.index("--uplink-peer")
        peer = argv[i + 1]
        del argv[i : i + 2]
    sender, receivers = argv[0], argv[1:]
    fds = {name: open_tap(name) for name in [sender, *receivers]}
    sock = None
    if peer:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        sock.bind((peer, 0))
        sock.setblocking(False)
    payload = os.urandom(16)
    src = bytes.fromhex("020000" + payload[:3].hex())
    frame = b"\xff" * 6 + src + b"\x88\xb5" + payload + bytes(30)
    time.sleep(0.2)  # let OVS notice the TAPs are open (carrier up)
    os.write(fds[sender], frame)
    received: set[str] = set()
    vlan = None
    deadline = time.monotonic() + 10
    grace_until = None
    while time.monotonic() < (grace_until or deadline):
        readable = [fds[r] for r in receivers] + ([sock] if sock else [])
        ready, _, _ = select.select(readable, [], [], 0.1)
        for item in ready:
            if item is sock:
                data, anc, _flags, _addr = sock.recvmsg(65535, socket.CMSG_SPACE(64))
                if payload in data:
                    vlan = uplink_vlan(data, anc)
                continue
            name = next(n for n, f in fds.items() if f == item)
            try:
                while True:
                    if payload in os.read(item, 65535):
                        received.add(name)
            except BlockingIOError:
                pass
        if received and grace_until is None:
            grace_until = time.monotonic() + 1.0  # frames flooded elsewhere arrive together
    print(json.dumps({"received": sorted(received), "uplink_vlan": vlan}))


if __name__ == "__main__":
    main(sys.argv[1:])
