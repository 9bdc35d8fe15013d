"""The firecracker driver against the Firecracker stand-in (tests/agent/fcstandin), with real TCG boots.

One guest is taken through its life in order: boot, configuration as Firecracker saw it, metrics,
pause/resume, adoption, snapshot, graceful stop (the guest powers off and Firecracker lingers, as on x86),
relaunch, guest reboot (Firecracker exits), restore, a guest powering itself off; then a VMM killed from
outside and a configuration Firecracker refuses."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.fcstandin import FIRECRACKER
from tests.agent.guest import guest_artifacts

from switchboard.agent.model import LaunchConfig, NicAttachment, PowerState
from switchboard.agent.vmm import VmmError, create_vmm
from switchboard.agent.vmm.base import VmmDriver
from switchboard.agent.vmm.fcapi import FirecrackerApi
from switchboard.agent.vmm.firecracker import FirecrackerDriver

from .helpers import (
    cleanup,
    console_since,
    echo_roundtrip,
    log_size,
    make_config,
    need_tools,
    tap_device,
    type_line,
    wait_console,
    wait_state,
)

pytestmark = [pytest.mark.slow, pytest.mark.root]  # root: a TAP device

NAME = "sbt-f1"


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sbt-f-", dir="/tmp"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.fixture(scope="module")
def driver(base: Path) -> Iterator[FirecrackerDriver]:
    need_tools("qemu-system-x86_64", "tmux")
    options = {"firecracker_bin": str(FIRECRACKER), "initrd": str(guest_artifacts().initrd)}
    vmm = create_vmm("firecracker", options, state_dir=base / "state" / "vmm")
    assert isinstance(vmm, FirecrackerDriver)
    yield vmm
    cleanup(vmm, NAME, "sbt-f2", "sbt-f3")


@pytest.fixture(scope="module")
def tap() -> Iterator[str]:
    with tap_device("sbt-ft0") as name:
        yield name


@pytest.fixture(scope="module")
def config(base: Path, tap: str) -> LaunchConfig:
    args = f"{guest_artifacts().boot_args} sb.ip=10.213.2.2/24 sb.gw=10.213.2.1"
    nic = NicAttachment(index=0, iface_id="eth0", tap=tap, mac="02:00:0a:d5:02:02")
    # No initrd in the launch config: the driver's `initrd` option supplies it.
    return make_config(base, NAME, nics=(nic,), boot_args=args, with_initrd=False)


@pytest.fixture(scope="module")
def booted(driver: FirecrackerDriver, config: LaunchConfig) -> LaunchConfig:
    driver.launch(config)
    wait_console(config, guest_artifacts().marker)
    return config


def api(config: LaunchConfig) -> FirecrackerApi:
    return FirecrackerApi(config.run_dir / "firecracker.sock")


def test_the_driver_implements_the_interface(driver: FirecrackerDriver) -> None:
    assert isinstance(driver, VmmDriver)
    assert {"pause", "snapshot", "graceful_stop"} <= driver.capabilities


def test_launch_configures_firecracker_through_its_api(driver: FirecrackerDriver, booted: LaunchConfig) -> None:
    assert driver.power_state(NAME) is PowerState.RUNNING
    assert driver.exit_reason(NAME) is None
    with api(booted) as fc:
        vm = fc.get("/vm/config")
        assert fc.get("/")["state"] == "Running"
    assert vm["machine-config"]["vcpu_count"] == 1 and vm["machine-config"]["mem_size_mib"] == 192
    assert vm["boot-source"]["initrd_path"] == str(guest_artifacts().initrd)
    (drive,) = vm["drives"]
    assert drive["cache_type"] == "Writeback" and drive["is_root_device"] is True
    assert vm["network-interfaces"] == [
        {"iface_id": "eth0", "host_dev_name": "sbt-ft0", "guest_mac": "02:00:0a:d5:02:02"}
    ]
    assert "SWITCHBOARD-GUEST-NET eth0 10.213.2.2/24 gw=10.213.2.1" in booted.console_log.read_text(errors="replace")
    assert (booted.run_dir / "firecracker.log").read_text()  # the logger was set up through the API
    assert NAME in driver.tmux.sessions()


def test_metrics_come_from_the_fifo(driver: FirecrackerDriver, booted: LaunchConfig) -> None:
    metrics = driver.metrics(NAME)
    assert metrics is not None and metrics["utc_timestamp_ms"] > 0


def test_pause_and_resume(driver: FirecrackerDriver, booted: LaunchConfig) -> None:
    driver.pause(NAME)
    assert driver.power_state(NAME) is PowerState.PAUSED
    with api(booted) as fc:
        assert fc.get("/")["state"] == "Paused"
    driver.resume(NAME)
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "resumed")


def test_a_second_driver_instance_adopts_the_running_vm(driver: FirecrackerDriver, booted: LaunchConfig) -> None:
    again = create_vmm("firecracker", {"firecracker_bin": str(FIRECRACKER)}, state_dir=driver.state_dir)
    assert again.running_vms() == {NAME}
    assert again.power_state(NAME) is PowerState.RUNNING


def test_snapshot_create_leaves_the_vm_running(driver: FirecrackerDriver, booted: LaunchConfig, base: Path) -> None:
    driver.snapshot_create(NAME, base / "snap")
    assert {"vmstate", "memory", "vmm.json"} <= {p.name for p in (base / "snap").iterdir()}
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "after-snapshot")


def test_graceful_shutdown_sends_ctrl_alt_del_and_reaps_the_lingering_vmm(
    driver: FirecrackerDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    driver.shutdown(NAME, grace_seconds=60)
    out = console_since(booted, offset)
    assert "SWITCHBOARD-GUEST-SHUTDOWN" in out and "reboot: Power down" in out
    assert driver.power_state(NAME) is PowerState.STOPPED
    assert driver.pid(NAME) is None and NAME not in driver.tmux.sessions()
    assert driver.exit_reason(NAME) == "poweroff"
    driver.shutdown(NAME, grace_seconds=1)  # idempotent


def test_a_guest_reboot_ends_firecracker_and_is_reported_as_reset(
    driver: FirecrackerDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    driver.launch(booted)
    wait_console(booted, guest_artifacts().marker, after=offset)
    type_line(driver, NAME, "reboot")
    wait_state(driver, NAME, PowerState.STOPPED)
    assert driver.exit_reason(NAME) == "reset"
    assert "reboot: Restarting system" in console_since(booted, offset)


def test_snapshot_restore_then_a_guest_poweroff_is_noticed(
    driver: FirecrackerDriver, booted: LaunchConfig, base: Path
) -> None:
    offset = log_size(booted)
    driver.snapshot_restore(booted, base / "snap")
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "restored")
    assert "Linux version" not in console_since(booted, offset)  # resumed, not booted
    pid = driver.pid(NAME)
    assert pid is not None
    type_line(driver, NAME, "poweroff")
    wait_console(booted, "reboot: Power down", after=offset)
    # Firecracker on x86 outlives its guest's poweroff; the driver reports the VM stopped all the same.
    assert driver.power_state(NAME) is PowerState.STOPPED
    assert driver.exit_reason(NAME) == "poweroff"
    assert not Path(f"/proc/{pid}").exists()


def test_a_vmm_killed_from_outside_is_a_crash(driver: FirecrackerDriver, base: Path) -> None:
    config = make_config(base, "sbt-f2")
    driver.launch(config)
    pid = driver.pid("sbt-f2")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_state(driver, "sbt-f2", PowerState.STOPPED, timeout=10)
    assert driver.exit_reason("sbt-f2") == "crash"


def test_a_refused_configuration_raises_firecrackers_fault_message(driver: FirecrackerDriver, base: Path) -> None:
    config = make_config(base, "sbt-f3")
    bad = LaunchConfig(**{**config.__dict__, "kernel": base / "no-such-kernel"})
    with pytest.raises(VmmError, match="PUT /boot-source: The kernel file cannot be opened"):
        driver.launch(bad)
    assert driver.power_state("sbt-f3") is PowerState.STOPPED
    assert "sbt-f3" not in driver.tmux.sessions()
    assert driver.pid("sbt-f3") is None
