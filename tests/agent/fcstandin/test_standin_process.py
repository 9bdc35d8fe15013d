"""The stand-in as a process: Firecracker's command line, its API on the Unix socket, Firecracker's rules on
what is allowed when, and its fault messages. Boots are started but not waited for."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.agent.guest import fresh_rootfs, guest_artifacts
from tests.support.eventually import eventually

from switchboard.agent.vmm.fcapi import FirecrackerApi, FirecrackerApiError

from . import FIRECRACKER
from .machine import POST_BOOT_ONLY, PRE_BOOT_ONLY


class StandIn:
    """One stand-in process on a private socket, its console captured to a file."""

    def __init__(self, base: Path, *extra: str) -> None:
        self.base = base
        self.socket = base / "fc.sock"
        self.console = (base / "console.log").open("wb")
        self.proc = subprocess.Popen(
            [str(FIRECRACKER), "--api-sock", str(self.socket), "--id", "sbt-s1", *extra],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
        )  # fmt: skip

        def opened() -> bool:
            assert self.proc.poll() is None, (base / "console.log").read_text()
            return self.socket.exists()

        eventually(opened, what="the stand-in to open its socket", timeout=30, interval=0.02)

    def api(self) -> FirecrackerApi:
        return FirecrackerApi(self.socket)

    def fault(self, method: str, path: str, body: object = None) -> str:
        with self.api() as fc, pytest.raises(FirecrackerApiError) as info:
            fc.request(method, path, body)
        return str(info.value)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.console.close()
        return code


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sbt-s-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def standin(base: Path) -> Iterator[StandIn]:
    process = StandIn(base)
    yield process
    process.stop()


def boot_source() -> dict[str, str]:
    guest = guest_artifacts()
    return {"kernel_image_path": str(guest.kernel), "initrd_path": str(guest.initrd), "boot_args": guest.boot_args}


def test_version_flag_and_instance_id_rule() -> None:
    out = subprocess.run([str(FIRECRACKER), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("Firecracker v1.13.1")
    bad = subprocess.run([str(FIRECRACKER), "--api-sock", "/nonexistent/x.sock", "--id", "a_b"],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode != 0 and "Invalid instance ID" in bad.stderr


def test_raw_http_errors_are_400_with_a_fault_message(standin: StandIn) -> None:
    transport = httpx.HTTPTransport(uds=str(standin.socket))
    with httpx.Client(transport=transport, base_url="http://localhost") as client:
        response = client.put("/boot-source", content=b"{not json")
        assert response.status_code == 400
        assert "An error occurred when deserializing the json body" in response.json()["fault_message"]
        assert client.put("/boot-source", content=b"").status_code == 400
        too_big = client.put("/mmds", content=b'{"k": "' + b"x" * 60000 + b'"}')
        assert too_big.status_code == 400 and "larger than the limit" in too_big.json()["fault_message"]
        assert client.get("/").json() == {"app_name": "Firecracker", "id": "sbt-s1", "state": "Not started",
                                          "vmm_version": "1.13.1"}  # fmt: skip


def test_pre_boot_rules(standin: StandIn, base: Path) -> None:
    assert standin.fault("PATCH", "/vm", {"state": "Paused"}) == POST_BOOT_ONLY
    assert standin.fault("PUT", "/actions", {"action_type": "SendCtrlAltDel"}) == POST_BOOT_ONLY
    snap = {"snapshot_path": str(base / "s"), "mem_file_path": str(base / "m")}
    assert standin.fault("PUT", "/snapshot/create", snap) == POST_BOOT_ONLY
    fault = standin.fault("PUT", "/actions", {"action_type": "InstanceStart"})
    assert fault == "Cannot start microvm without kernel configuration."
    assert "cannot be opened" in standin.fault("PUT", "/boot-source", {"kernel_image_path": str(base / "nope")})
    disk = fresh_rootfs(base / "root.ext4")
    drive = {"drive_id": "rootfs", "path_on_host": str(disk), "is_root_device": True, "is_read_only": False}
    assert "does not match the id from the body" in standin.fault("PUT", "/drives/other", drive)
    missing = {**drive, "path_on_host": str(base / "missing.ext4")}
    assert "No such file or directory" in standin.fault("PUT", "/drives/rootfs", missing)
    with standin.api() as fc:
        fc.put("/drives/rootfs", drive)
        fc.put("/network-interfaces/eth0", {"iface_id": "eth0", "host_dev_name": "sbt-tap0"})
    second_root = {**drive, "drive_id": "data1"}
    assert standin.fault("PUT", "/drives/data1", second_root) == "A root block device already exists!"
    dup_tap = {"iface_id": "eth1", "host_dev_name": "sbt-tap0"}
    assert "already in use" in standin.fault("PUT", "/network-interfaces/eth1", dup_tap)
    odd_smt = {"vcpu_count": 3, "mem_size_mib": 128, "smt": True}
    assert "vCPU number is invalid" in standin.fault("PUT", "/machine-config", odd_smt)
    load = {"snapshot_path": str(base / "s"), "mem_backend": {"backend_type": "File", "backend_path": str(base / "m")}}
    assert "not allowed after configuring boot-specific resources" in standin.fault("PUT", "/snapshot/load", load)


@pytest.mark.slow
def test_post_boot_rules_and_pause(standin: StandIn, base: Path) -> None:
    disk = fresh_rootfs(base / "root.ext4")
    with standin.api() as fc:
        fc.put("/machine-config", {"vcpu_count": 1, "mem_size_mib": 128})
        fc.put("/boot-source", boot_source())
        fc.put("/drives/rootfs", {"drive_id": "rootfs", "path_on_host": str(disk), "is_root_device": True})
        fc.action("InstanceStart")
        assert fc.get("/")["state"] == "Running"
    assert standin.fault("PUT", "/actions", {"action_type": "InstanceStart"}) == PRE_BOOT_ONLY
    assert standin.fault("PUT", "/boot-source", boot_source()) == PRE_BOOT_ONLY
    assert standin.fault("PUT", "/logger", {"log_path": str(base / "log")}) == PRE_BOOT_ONLY
    assert standin.fault("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 256}) == PRE_BOOT_ONLY
    snap = {"snapshot_path": str(base / "s"), "mem_file_path": str(base / "m")}
    assert "not paused" in standin.fault("PUT", "/snapshot/create", snap)
    with standin.api() as fc:
        fc.patch("/vm", {"state": "Paused"})
        assert fc.get("/")["state"] == "Paused"
        diff = {**snap, "snapshot_type": "Diff"}
        assert "dirty page tracking disabled" in standin.fault("PUT", "/snapshot/create", diff)
        fc.patch("/vm", {"state": "Resumed"})
        assert fc.get("/")["state"] == "Running"
    qemu_dir = base / ".fc.sock.qemu"
    assert qemu_dir.is_dir()
    assert standin.stop() == 128 + signal.SIGTERM
    assert not qemu_dir.exists()  # QEMU went with it


@pytest.mark.slow
def test_config_file_mode_refuses_a_bad_file_and_boots_a_good_one(base: Path) -> None:
    disk = fresh_rootfs(base / "root.ext4")
    # Written the way the original agent writes its config file, nulls included.
    drive = {"drive_id": "rootfs", "path_on_host": str(disk), "is_root_device": True, "partuuid": None,
             "cache_type": "Unsafe", "io_engine": "Sync", "rate_limiter": None}  # fmt: skip
    config = {"boot-source": boot_source(), "machine-config": {"vcpu_count": 1, "mem_size_mib": 128}, "drives": [drive]}
    bad = base / "bad.json"
    bad.write_text(json.dumps({**config, "machine-config": {"vcpu_count": 1, "mem_size_mib": 128, "x": 1}}))
    refused = subprocess.run([str(FIRECRACKER), "--no-api", "--config-file", str(bad)], capture_output=True,
                             text=True, timeout=60, check=False)  # fmt: skip
    assert refused.returncode == 152
    assert "unknown field `x`" in refused.stderr
    good = base / "good.json"
    good.write_text(json.dumps(config))
    process = StandIn(base, "--config-file", str(good))
    try:
        with process.api() as fc:
            assert fc.get("/")["state"] == "Running"  # booted without InstanceStart
    finally:
        process.stop()
    assert not os.path.exists(base / ".fc.sock.qemu")
