"""The firecracker driver under a jailer: files staged in the jail, jail paths given to Firecracker, the API
socket inside the jail, snapshots collected out of it, the jail removed afterwards. The fake jailer
(tests/agent/fcstandin/jailer.py) checks the jailer's command line and runs the stand-in as if chrooted."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.fcstandin import FIRECRACKER, JAILER
from tests.agent.guest import guest_artifacts

from switchboard.agent.model import PowerState
from switchboard.agent.vmm import create_vmm
from switchboard.agent.vmm.fcapi import FirecrackerApi
from switchboard.agent.vmm.firecracker import FirecrackerDriver

from .helpers import cleanup, echo_roundtrip, make_config, need_tools, wait_console

pytestmark = pytest.mark.slow

NAME = "sbt-j1"


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sbt-j-", dir="/tmp"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.fixture(scope="module")
def driver(base: Path) -> Iterator[FirecrackerDriver]:
    need_tools("qemu-system-x86_64", "tmux")
    jailer = {"binary": str(JAILER), "uid": os.getuid(), "gid": os.getgid(), "chroot_base": str(base / "jail")}
    vmm = create_vmm("firecracker", {"firecracker_bin": str(FIRECRACKER), "jailer": jailer},
                     state_dir=base / "state" / "vmm")  # fmt: skip
    assert isinstance(vmm, FirecrackerDriver)
    yield vmm
    cleanup(vmm, NAME)


def test_a_jailed_vm_boots_from_files_staged_in_the_jail(driver: FirecrackerDriver, base: Path) -> None:
    config = make_config(base, NAME)
    root = base / "jail" / "firecracker" / NAME / "root"
    driver.launch(config)
    wait_console(config, guest_artifacts().marker)
    # Hard links, not copies: a jail costs no disk space and the guest writes to its real disk.
    assert os.path.samefile(root / "vmlinux", guest_artifacts().kernel)
    assert os.path.samefile(root / f"{NAME}.ext4", config.disks[0].path)
    socket = root / "run" / "firecracker.socket"
    with FirecrackerApi(socket) as fc:
        vm = fc.get("/vm/config")
    assert vm["boot-source"]["kernel_image_path"] == "/vmlinux"  # what Firecracker sees inside the jail
    assert vm["drives"][0]["path_on_host"] == f"/{NAME}.ext4"
    pid = driver.pid(NAME)
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"/run/firecracker.socket" in cmdline and cmdline[cmdline.index(b"--id") + 1] == NAME.encode()

    driver.snapshot_create(NAME, base / "snap")
    assert (base / "snap" / "memory").is_file() and (base / "snap" / "vmstate").is_file()
    assert not (root / "memory").exists()  # moved out of the jail
    echo_roundtrip(driver, config, "jailed")

    driver.shutdown(NAME, grace_seconds=60)
    assert driver.power_state(NAME) is PowerState.STOPPED
    assert driver.exit_reason(NAME) == "poweroff"
    assert not root.parent.exists()  # the jail is gone, the originals stay
    assert guest_artifacts().kernel.exists() and config.disks[0].path.exists()

    driver.snapshot_restore(config, base / "snap")  # the snapshot files are staged into a new jail
    assert os.path.samefile(root / "memory", base / "snap" / "memory")
    echo_roundtrip(driver, config, "restored-in-jail")
    driver.kill(NAME)
    assert not root.parent.exists()
