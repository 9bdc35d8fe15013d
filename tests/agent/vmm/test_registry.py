"""The VMM registry: names, options checked at construction, unknown names refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from switchboard.agent.vmm import VmmDriver, VmmError, create_vmm, names
from switchboard.agent.vmm.firecracker import FirecrackerDriver
from switchboard.agent.vmm.qemu import QemuDriver


def test_both_drivers_are_registered_and_implement_the_interface(tmp_path: Path) -> None:
    assert set(names()) == {"firecracker", "qemu"}
    fc = create_vmm("firecracker", {}, state_dir=tmp_path / "fc")
    qemu = create_vmm("qemu", {"qemu_accel": "tcg"}, state_dir=tmp_path / "qemu")
    assert isinstance(fc, FirecrackerDriver) and isinstance(fc, VmmDriver)
    assert fc.binary == "/usr/local/bin/firecracker" and fc.jailer is None
    assert isinstance(qemu, QemuDriver) and isinstance(qemu, VmmDriver) and not qemu.kvm
    assert (tmp_path / "fc").stat().st_mode & 0o777 == 0o700


def test_unknown_names_and_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VmmError, match="unknown VMM 'xen'"):
        create_vmm("xen", {}, state_dir=tmp_path)
    with pytest.raises(VmmError, match="qemu_accel"):
        create_vmm("qemu", {"qemu_accel": "hvf"}, state_dir=tmp_path)
    with pytest.raises(VmmError, match="jailer"):
        create_vmm("firecracker", {"jailer": "yes please"}, state_dir=tmp_path)


def test_a_vm_the_driver_never_launched_is_stopped_and_stopping_it_is_fine(tmp_path: Path) -> None:
    for name in names():
        driver = create_vmm(name, {}, state_dir=tmp_path / name)
        assert driver.power_state("sbt-none").value == "stopped"
        assert driver.exit_reason("sbt-none") is None
        assert driver.running_vms() == set()
        driver.shutdown("sbt-none", grace_seconds=1)
        driver.kill("sbt-none")
        with pytest.raises(VmmError, match="not running"):
            driver.pause("sbt-none")


def test_the_public_surface_is_pinned() -> None:
    import switchboard.agent.vmm as vmm

    assert sorted(vmm.__all__) == ["Capability", "VmmDriver", "VmmError", "create_vmm", "names"]


def test_a_missing_vmm_binary_is_reported_and_leaves_nothing(tmp_path: Path) -> None:
    import tempfile

    from .helpers import cleanup, make_config

    base = Path(tempfile.mkdtemp(prefix="sbt-r-", dir="/tmp"))
    driver = create_vmm("firecracker", {"firecracker_bin": "/nonexistent/firecracker"}, state_dir=base / "vmm")
    try:
        with pytest.raises(VmmError, match="exited: switchboard-vmm: 1: exec: /nonexistent/firecracker: not found"):
            driver.launch(make_config(base, "sbt-r1"))
        assert driver.power_state("sbt-r1").value == "stopped"
        assert driver.running_vms() == set()
    finally:
        assert isinstance(driver, FirecrackerDriver)
        cleanup(driver, "sbt-r1")
        subprocess.run(["rm", "-rf", str(base)], check=False)
