"""End to end on the data plane: three QEMU TCG guests on the `ovs` backend, disks from `file` storage.

Guests a and b are on VLAN 100, guest c on VLAN 200, all in 10.77.0.0/24. a pings b (same tag: replies)
and c (other tag: none). The guests are the project's test guest (tests/agent/guest.py), their root disks
provisioned by FileStorage from it, their NICs plugged by OvsNetwork into the userspace OVS the session
started, and QEMU opens the backend's TAPs by name inside the OVS namespace.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.guest import guest_artifacts
from tests.support.eventually import eventually

from switchboard.agent.model import NicRequest, TemplateRef
from switchboard.agent.network.netlink import Netlink
from switchboard.agent.network.ovs import OvsNetwork
from switchboard.agent.network.ovsdb import OvsVsctl
from switchboard.agent.storage.file import FileStorage
from switchboard.agent.templates import TemplateStore

from .conftest import Ovs, need

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _tsc_args() -> list[str]:
    # Under TCG the kernel's own TSC calibration fails now and then on a busy host; give it the rate.
    info = Path("/proc/cpuinfo").read_text()
    mhz = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", info, re.MULTILINE)
    if mhz and re.search(r"^flags\s*:.*\bconstant_tsc\b", info, re.MULTILINE):
        return [f"tsc_early_khz={round(float(mhz.group(1)) * 1000)}"]
    return []


class Guest:
    """A QEMU TCG microvm in namespace `netns`, its serial console on stdin/stdout."""

    def __init__(self, netns: str, name: str, kernel: Path, initrd: Path, disk: Path, tap: str, mac: str, ip: str):
        boot = " ".join([guest_artifacts().boot_args, "root=/dev/vda", "rw", f"sb.ip={ip}/24", *_tsc_args()])
        argv = [
            "ip", "netns", "exec", netns, "qemu-system-x86_64", "-name", name,
            "-machine", "microvm,pit=on,pic=on,rtc=on", "-accel", "tcg", "-cpu", "max", "-m", "160M", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", boot,
            "-drive", f"id=root,file={disk},format=raw,if=none", "-device", "virtio-blk-device,drive=root",
            "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
            "-device", f"virtio-net-device,netdev=n0,mac={mac}",
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = ""
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
            with self._cond:
                self.output += chunk.decode(errors="replace")
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            with self._cond:
                match = re.search(pattern, self.output)
                if match is None and self.proc.poll() is not None:
                    pytest.fail(f"the guest exited without {pattern!r}; console:\n{self.output[-3000:]}")
                return match

        return eventually(found, what=f"{pattern!r} from the guest", timeout=timeout, interval=0.1)

    def run(self, command: str, tag: str) -> int:
        """Run `command` in the guest shell; its exit code."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}; echo {tag}-RC=$?\n".encode())
        self.proc.stdin.flush()
        return int(self.wait_for(rf"{tag}-RC=(\d+)").group(1))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)


@pytest.fixture
def guests_env(ovs: Ovs, tmp_path: Path) -> Iterator[tuple[FileStorage, OvsNetwork, Ovs]]:
    need("qemu-system-x86_64")
    art = guest_artifacts()
    templates = TemplateStore(art.kernel.parent, art.rootfs.parent, tmp_path / "cache")
    storage = FileStorage(tmp_path / "volumes", templates=templates)
    net = OvsNetwork("sbtgbr", vsctl=OvsVsctl(ovs.db), netns=ovs.netns, datapath_type="netdev")
    try:
        yield storage, net, ovs
    finally:
        for vm in sorted(net.owners()):
            net.unplug(vm, [])
        ovs.vsctl("--if-exists", "del-br", "sbtgbr")
        net.nl.close()


def test_guests_on_the_same_tag_reach_each_other_and_not_other_tags(
    guests_env: tuple[FileStorage, OvsNetwork, Ovs],
) -> None:
    storage, net, ovs = guests_env
    art = guest_artifacts()
    ref = TemplateRef(kernel=art.kernel.name, image=art.rootfs.name)
    plan = {"a": ("100", "10.77.0.1"), "b": ("100", "10.77.0.2"), "c": ("200", "10.77.0.3")}
    guests: dict[str, Guest] = {}
    try:
        for i, (vm, (vlan, ip)) in enumerate(plan.items()):
            disk = storage.provision_root(vm, ref, size_bytes=None).path
            mac = f"02:00:00:77:00:{i + 1:02x}"
            (att,) = net.plug(vm, [NicRequest(index=0, mac=mac, vlan=vlan)])
            guests[vm] = Guest(ovs.netns, vm, art.kernel, art.initrd, disk, att.tap, mac, ip)
        for g in guests.values():
            g.wait_for(art.marker)
        assert guests["a"].run("ping -c 3 -W 2 10.77.0.2 >/dev/null 2>&1", "PINGB") == 0
        assert guests["b"].run("ping -c 3 -W 2 10.77.0.1 >/dev/null 2>&1", "PINGA") == 0
        assert guests["a"].run("ping -c 2 -W 1 10.77.0.3 >/dev/null 2>&1", "PINGC") != 0
    finally:
        for g in guests.values():
            g.stop()
    for vm in plan:
        net.unplug(vm, [])
        storage.delete(vm)
    nl = Netlink(ovs.netns)
    assert not [link.name for link in nl.links() if (link.alias or "").startswith("switchboard:")]
    nl.close()
    assert storage.owners() == set() and net.owners() == set()
