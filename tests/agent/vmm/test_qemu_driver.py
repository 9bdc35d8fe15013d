"""The qemu driver with real TCG boots of the test guest, supervised on the private tmux server.

One guest is booted for the module and taken through its whole life in order (the tests depend on each
other's order, which pytest keeps): boot, pause/resume, adoption by a second driver instance, snapshot,
graceful stop, relaunch, guest reboot, restore; then a VMM killed from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.agent.guest import guest_artifacts

from switchboard.agent.model import LaunchConfig, NicAttachment, PowerState
from switchboard.agent.vmm import VmmError, create_vmm
from switchboard.agent.vmm.base import VmmDriver
from switchboard.agent.vmm.qemu import QemuDriver
from switchboard.agent.vmm.qmp import QmpClient

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

NAME = "sbt-q1"


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    # Short paths: Unix socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="sbt-q-", dir="/tmp"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.fixture(scope="module")
def driver(base: Path) -> Iterator[QemuDriver]:
    need_tools("qemu-system-x86_64", "tmux")
    vmm = create_vmm("qemu", {"qemu_accel": "auto"}, state_dir=base / "state" / "vmm")
    assert isinstance(vmm, QemuDriver)
    yield vmm
    cleanup(vmm, NAME, "sbt-q2", "sbt-q3")


@pytest.fixture(scope="module")
def tap() -> Iterator[str]:
    with tap_device("sbt-qt0") as name:
        yield name


@pytest.fixture(scope="module")
def config(base: Path, tap: str) -> LaunchConfig:
    # The kernel's own `ip=` format: the guest's init configures eth0 from it.
    args = f"{guest_artifacts().boot_args} ip=10.213.1.2::10.213.1.1:255.255.255.0:sbguest:eth0:off"
    nic = NicAttachment(index=0, iface_id="eth0", tap=tap, mac="02:00:0a:d5:01:02", mtu=1400)
    return make_config(base, NAME, nics=(nic,), boot_args=args)


@pytest.fixture(scope="module")
def booted(driver: QemuDriver, config: LaunchConfig) -> LaunchConfig:
    driver.launch(config)
    wait_console(config, guest_artifacts().marker)
    return config


def test_the_driver_implements_the_interface(driver: QemuDriver) -> None:
    assert isinstance(driver, VmmDriver)
    assert {"pause", "snapshot", "graceful_stop"} <= driver.capabilities
    assert not driver.kvm  # this machine's KVM cannot run stock guests (test-environment.md)


def test_launch_boots_the_guest_into_the_console_log(driver: QemuDriver, booted: LaunchConfig) -> None:
    assert driver.power_state(NAME) is PowerState.RUNNING
    assert driver.running_vms() == {NAME}
    assert driver.exit_reason(NAME) is None
    log = booted.console_log.read_text(errors="replace")
    assert "Linux version" in log  # the kernel's own output, captured from the first byte
    assert "SWITCHBOARD-GUEST-NET eth0 10.213.1.2/24 gw=10.213.1.1" in log  # the NIC reached the guest
    assert "tsc_early_khz=" in log  # the TCG workaround reached the kernel command line


def test_the_vmm_runs_on_the_private_tmux_server_only(driver: QemuDriver, booted: LaunchConfig) -> None:
    assert NAME in driver.tmux.sessions()
    assert driver.tmux.socket.is_relative_to(driver.state_dir)
    default = subprocess.run(["tmux", "has-session", "-t", f"={NAME}"], capture_output=True, check=False)
    assert default.returncode != 0  # not on the admin's default server
    pid = driver.pid(NAME)
    assert pid is not None
    assert b"qemu-system-x86_64" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_pause_stops_the_guest_and_resume_continues_it(driver: QemuDriver, booted: LaunchConfig) -> None:
    driver.pause(NAME)
    assert driver.power_state(NAME) is PowerState.PAUSED
    with QmpClient(booted.run_dir / "qmp.sock") as qmp:
        assert qmp.execute("query-status")["status"] == "paused"
    driver.resume(NAME)
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "resumed")


def test_the_nic_carries_its_mac_and_mtu_into_the_guest(driver: QemuDriver, booted: LaunchConfig) -> None:
    offset = log_size(booted)
    type_line(driver, NAME, "echo nic=$(cat /sys/class/net/eth0/address)/$(cat /sys/class/net/eth0/mtu)")
    wait_console(booted, "nic=02:00:0a:d5:01:02/1400", after=offset, timeout=60)


def test_a_second_driver_instance_adopts_the_running_vm(driver: QemuDriver, booted: LaunchConfig) -> None:
    # What an agent restart looks like to the driver: a new object over the same state directory.
    again = create_vmm("qemu", {}, state_dir=driver.state_dir)
    assert again.running_vms() == {NAME}
    assert again.power_state(NAME) is PowerState.RUNNING
    assert again.exit_reason(NAME) is None


def test_launching_a_running_vm_is_refused(driver: QemuDriver, booted: LaunchConfig) -> None:
    with pytest.raises(VmmError, match="running already"):
        driver.launch(booted)


def test_snapshot_create_leaves_the_vm_running(driver: QemuDriver, booted: LaunchConfig, base: Path) -> None:
    driver.snapshot_create(NAME, base / "snap")
    assert (base / "snap" / "vmstate").stat().st_size > 1024 * 1024
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "after-snapshot")


def test_graceful_shutdown_of_a_paused_vm_runs_the_guest_shutdown(driver: QemuDriver, booted: LaunchConfig) -> None:
    offset = log_size(booted)
    driver.pause(NAME)  # a paused guest cannot see Ctrl-Alt-Del: shutdown resumes it first
    driver.shutdown(NAME, grace_seconds=60)
    assert driver.power_state(NAME) is PowerState.STOPPED
    assert driver.exit_reason(NAME) == "poweroff"
    out = console_since(booted, offset)
    assert "SWITCHBOARD-GUEST-SHUTDOWN" in out  # busybox init ran its shutdown actions: a clean stop
    assert "reboot: Power down" in out
    assert NAME not in driver.tmux.sessions()
    driver.shutdown(NAME, grace_seconds=1)  # stopping a stopped VM is fine
    driver.kill(NAME)


def test_relaunch_appends_to_the_console_log_and_a_guest_reboot_is_noticed(
    driver: QemuDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    driver.launch(booted)
    wait_console(booted, guest_artifacts().marker, after=offset)
    assert booted.console_log.read_text(errors="replace").count(guest_artifacts().marker) >= 2
    type_line(driver, NAME, "reboot")
    wait_state(driver, NAME, PowerState.STOPPED)
    assert driver.exit_reason(NAME) == "reset"


def test_snapshot_restore_resumes_the_saved_guest_without_booting(
    driver: QemuDriver, booted: LaunchConfig, base: Path
) -> None:
    offset = log_size(booted)
    driver.snapshot_restore(booted, base / "snap")
    assert driver.power_state(NAME) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "restored")
    assert "Linux version" not in console_since(booted, offset)  # resumed, not booted
    driver.kill(NAME)
    assert driver.power_state(NAME) is PowerState.STOPPED


def test_a_vmm_killed_from_outside_is_a_crash(driver: QemuDriver, base: Path) -> None:
    config = make_config(base, "sbt-q2")
    driver.launch(config)  # returns once QEMU runs the guest; no need to wait for the boot
    pid = driver.pid("sbt-q2")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_state(driver, "sbt-q2", PowerState.STOPPED, timeout=10)
    assert driver.exit_reason("sbt-q2") == "crash"
    assert "sbt-q2" not in driver.running_vms()


def test_a_refused_configuration_raises_with_qemus_message_and_leaves_nothing(driver: QemuDriver, base: Path) -> None:
    config = make_config(base, "sbt-q3")
    bad = LaunchConfig(**{**config.__dict__, "kernel": base / "no-such-kernel"})
    with pytest.raises(VmmError, match="no-such-kernel"):
        driver.launch(bad)
    assert driver.power_state("sbt-q3") is PowerState.STOPPED
    assert "sbt-q3" not in driver.tmux.sessions()


def test_concurrent_launches_start_one_private_server(base: Path) -> None:
    fresh = create_vmm("qemu", {}, state_dir=base / "state2" / "vmm")
    assert isinstance(fresh, QemuDriver)
    names = [f"sbt-qc{i}" for i in range(3)]
    configs = [make_config(base, name) for name in names]
    try:
        with ThreadPoolExecutor(len(configs)) as pool:
            list(pool.map(fresh.launch, configs))  # no server runs yet: all three race to start it
        assert fresh.running_vms() == set(names)
        assert fresh.tmux.sessions() == set(names)
    finally:
        cleanup(fresh, *names)
    assert fresh.running_vms() == set()
