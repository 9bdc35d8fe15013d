"""Both VMM drivers — `qemu` (TCG) and `firecracker` on the Firecracker stand-in (tests/agent/fcstandin) —
against the same contract, with real boots of the test guest supervised on the private tmux server.

Per driver, one guest is taken through its life in order (the tests depend on each other's order, which
pytest keeps within each driver): boot, the VMM's own view of the configuration, pause/resume, adoption
by a second driver instance, snapshot, graceful stop of a paused guest, relaunch, guest reboot, restore,
a guest powering itself off; then a VMM killed from outside, a configuration the VMM refuses, and
concurrent launches on a fresh private server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.agent.fcstandin import FIRECRACKER
from tests.agent.guest import guest_artifacts

from switchboard.agent.model import LaunchConfig, NicAttachment, PowerState
from switchboard.agent.vmm import VmmError, create_vmm
from switchboard.agent.vmm.base import VmmDriver
from switchboard.agent.vmm.fcapi import FirecrackerApi
from switchboard.agent.vmm.firecracker import FirecrackerDriver
from switchboard.agent.vmm.qemu import QemuDriver
from switchboard.agent.vmm.qmp import QmpClient
from switchboard.agent.vmm.supervised import SupervisedDriver

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


def _qemu_checks(driver: SupervisedDriver, booted: LaunchConfig) -> None:
    assert isinstance(driver, QemuDriver)
    assert not driver.kvm  # this machine's KVM cannot run stock guests (TCG it is)
    assert "tsc_early_khz=" in booted.console_log.read_text(errors="replace")  # the TCG workaround is on


def _firecracker_checks(driver: SupervisedDriver, booted: LaunchConfig) -> None:
    assert isinstance(driver, FirecrackerDriver)
    with FirecrackerApi(booted.run_dir / "firecracker.sock") as fc:
        vm = fc.get("/vm/config")
        assert fc.get("/")["state"] == "Running"
    assert vm["machine-config"]["vcpu_count"] == 1 and vm["machine-config"]["mem_size_mib"] == 192
    assert vm["boot-source"]["initrd_path"] == str(guest_artifacts().initrd)  # from the driver's option
    (drive,) = vm["drives"]
    assert drive["cache_type"] == "Writeback" and drive["is_root_device"] is True
    assert vm["network-interfaces"] == [{"iface_id": "eth0", "host_dev_name": "sbt-ft0",
                                         "guest_mac": "02:00:0a:d5:02:02"}]
    assert (booted.run_dir / "firecracker.log").read_text()  # the logger was set up through the API
    metrics = driver.metrics(booted.name)  # from Firecracker's metrics FIFO
    assert metrics is not None and metrics["utc_timestamp_ms"] > 0


def _qemu_paused(config: LaunchConfig) -> bool:
    with QmpClient(config.run_dir / "qmp.sock") as qmp:
        return bool(qmp.execute("query-status")["status"] == "paused")


def _firecracker_paused(config: LaunchConfig) -> bool:
    with FirecrackerApi(config.run_dir / "firecracker.sock") as fc:
        return bool(fc.get("/")["state"] == "Paused")


@dataclass(frozen=True)
class Case:
    """What differs between the drivers: options, how the guest's network is configured, the VMM's own
    view of the VM, and its words for a refused configuration."""

    kind: str
    prefix: str
    options: Callable[[], dict[str, Any]]
    net_args: str
    mtu: int
    with_initrd: bool  # in the launch config; otherwise the driver's `initrd` option supplies it
    vmm_binary: bytes
    refusal: str
    extra_checks: Callable[[SupervisedDriver, LaunchConfig], None]
    paused_in_vmm: Callable[[LaunchConfig], bool]
    snapshot_files: set[str] = field(default_factory=set)

    def name(self, n: int) -> str:
        return f"{self.prefix}{n}"


CASES = {
    "qemu": Case(
        kind="qemu", prefix="sbt-q", options=lambda: {"qemu_accel": "auto"},
        # The kernel's own `ip=` format: the guest's init configures eth0 from it.
        net_args="ip=10.213.1.2::10.213.1.1:255.255.255.0:sbguest:eth0:off", mtu=1400, with_initrd=True,
        vmm_binary=b"qemu-system-x86_64", refusal="no-such-kernel", extra_checks=_qemu_checks,
        paused_in_vmm=_qemu_paused, snapshot_files={"vmstate"},
    ),
    "firecracker": Case(
        kind="firecracker", prefix="sbt-f",
        options=lambda: {"firecracker_bin": str(FIRECRACKER), "initrd": str(guest_artifacts().initrd)},
        net_args="sb.ip=10.213.1.2/24 sb.gw=10.213.1.1", mtu=1500, with_initrd=False,
        vmm_binary=b"fcstandin", refusal="PUT /boot-source: The kernel file cannot be opened",
        extra_checks=_firecracker_checks, paused_in_vmm=_firecracker_paused,
        snapshot_files={"vmstate", "memory", "vmm.json"},
    ),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


@pytest.fixture(scope="module")
def base(case: Case) -> Iterator[Path]:
    # Short paths: Unix socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix=f"{case.prefix}-", dir="/tmp"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


@pytest.fixture(scope="module")
def driver(case: Case, base: Path) -> Iterator[SupervisedDriver]:
    need_tools("qemu-system-x86_64", "tmux")
    vmm = create_vmm(case.kind, case.options(), state_dir=base / "state" / "vmm")
    assert isinstance(vmm, SupervisedDriver)
    yield vmm
    cleanup(vmm, *(case.name(n) for n in range(1, 5)))


@pytest.fixture(scope="module")
def tap(case: Case) -> Iterator[str]:
    with tap_device(f"{case.prefix}t0") as name:
        yield name


@pytest.fixture(scope="module")
def booted(case: Case, driver: SupervisedDriver, base: Path, tap: str) -> LaunchConfig:
    nic = NicAttachment(index=0, iface_id="eth0", tap=tap, mac="02:00:0a:d5:02:02", mtu=case.mtu)
    config = make_config(base, case.name(1), nics=(nic,), boot_args=f"{guest_artifacts().boot_args} {case.net_args}",
                         with_initrd=case.with_initrd)
    driver.launch(config)
    wait_console(config, guest_artifacts().marker)
    return config


def test_the_driver_implements_the_interface(driver: SupervisedDriver) -> None:
    assert isinstance(driver, VmmDriver)
    assert {"pause", "snapshot", "graceful_stop"} <= driver.capabilities


def test_launch_boots_the_guest_into_the_console_log(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    assert driver.power_state(booted.name) is PowerState.RUNNING
    assert driver.running_vms() == {booted.name}
    assert driver.exit_reason(booted.name) is None
    log = booted.console_log.read_text(errors="replace")
    assert "Linux version" in log  # the kernel's own output, captured from the first byte
    assert "SWITCHBOARD-GUEST-NET eth0 10.213.1.2/24 gw=10.213.1.1" in log  # the NIC reached the guest
    case.extra_checks(driver, booted)


def test_the_vmm_runs_on_the_private_tmux_server_only(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    assert booted.name in driver.tmux.sessions()
    assert driver.tmux.socket.is_relative_to(driver.state_dir)
    default = subprocess.run(["tmux", "has-session", "-t", f"={booted.name}"], capture_output=True, check=False)
    assert default.returncode != 0  # not on the admin's default server
    pid = driver.pid(booted.name)
    assert pid is not None
    assert case.vmm_binary in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_pause_stops_the_guest_and_resume_continues_it(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    driver.pause(booted.name)
    assert driver.power_state(booted.name) is PowerState.PAUSED
    assert case.paused_in_vmm(booted)
    driver.resume(booted.name)
    assert driver.power_state(booted.name) is PowerState.RUNNING
    assert not case.paused_in_vmm(booted)
    echo_roundtrip(driver, booted, "resumed")


def test_the_nic_carries_its_mac_and_mtu_into_the_guest(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    type_line(driver, booted.name, "echo nic=$(cat /sys/class/net/eth0/address)/$(cat /sys/class/net/eth0/mtu)")
    wait_console(booted, f"nic=02:00:0a:d5:02:02/{case.mtu}", after=offset, timeout=60)


def test_a_second_driver_instance_adopts_the_running_vm(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    # What an agent restart looks like to the driver: a new object over the same state directory.
    again = create_vmm(case.kind, case.options(), state_dir=driver.state_dir)
    assert again.running_vms() == {booted.name}
    assert again.power_state(booted.name) is PowerState.RUNNING
    assert again.exit_reason(booted.name) is None


def test_launching_a_running_vm_is_refused(driver: SupervisedDriver, booted: LaunchConfig) -> None:
    with pytest.raises(VmmError, match="running already"):
        driver.launch(booted)


def test_snapshot_create_leaves_the_vm_running(
    case: Case, driver: SupervisedDriver, booted: LaunchConfig, base: Path
) -> None:
    driver.snapshot_create(booted.name, base / "snap")
    assert case.snapshot_files <= {p.name for p in (base / "snap").iterdir()}
    assert (base / "snap" / "vmstate").stat().st_size > 0
    assert driver.power_state(booted.name) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "after-snapshot")


def test_graceful_shutdown_of_a_paused_vm_runs_the_guest_shutdown(
    driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    driver.pause(booted.name)  # a paused guest cannot see Ctrl-Alt-Del: shutdown resumes it first
    driver.shutdown(booted.name, grace_seconds=60)
    assert driver.power_state(booted.name) is PowerState.STOPPED
    assert driver.exit_reason(booted.name) == "poweroff"
    out = console_since(booted, offset)
    assert "SWITCHBOARD-GUEST-SHUTDOWN" in out  # busybox init ran its shutdown actions: a clean stop
    assert "reboot: Power down" in out
    assert driver.pid(booted.name) is None and booted.name not in driver.tmux.sessions()
    driver.shutdown(booted.name, grace_seconds=1)  # stopping a stopped VM is fine
    driver.kill(booted.name)


def test_relaunch_appends_to_the_console_log_and_a_guest_reboot_is_noticed(
    driver: SupervisedDriver, booted: LaunchConfig
) -> None:
    offset = log_size(booted)
    driver.launch(booted)
    wait_console(booted, guest_artifacts().marker, after=offset)
    assert booted.console_log.read_text(errors="replace").count(guest_artifacts().marker) >= 2
    type_line(driver, booted.name, "reboot")
    wait_state(driver, booted.name, PowerState.STOPPED)
    assert driver.exit_reason(booted.name) == "reset"
    assert "reboot: Restarting system" in console_since(booted, offset)


def test_snapshot_restore_resumes_the_saved_guest_and_its_poweroff_is_noticed(
    driver: SupervisedDriver, booted: LaunchConfig, base: Path
) -> None:
    offset = log_size(booted)
    driver.snapshot_restore(booted, base / "snap")
    assert driver.power_state(booted.name) is PowerState.RUNNING
    echo_roundtrip(driver, booted, "restored")
    assert "Linux version" not in console_since(booted, offset)  # resumed, not booted
    pid = driver.pid(booted.name)
    assert pid is not None
    type_line(driver, booted.name, "poweroff")
    wait_console(booted, "reboot: Power down", after=offset)
    # Firecracker on x86 outlives its guest's poweroff; either way the VM is reported stopped, VMM gone.
    wait_state(driver, booted.name, PowerState.STOPPED, timeout=30)
    assert driver.exit_reason(booted.name) == "poweroff"
    assert not Path(f"/proc/{pid}").exists()


def test_a_vmm_killed_from_outside_is_a_crash(case: Case, driver: SupervisedDriver, base: Path) -> None:
    config = make_config(base, case.name(2), with_initrd=case.with_initrd)
    driver.launch(config)  # returns once the VMM runs the guest; no need to wait for the boot
    pid = driver.pid(config.name)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_state(driver, config.name, PowerState.STOPPED, timeout=10)
    assert driver.exit_reason(config.name) == "crash"
    assert config.name not in driver.running_vms()


def test_a_stop_sent_while_the_guest_still_boots_is_not_lost(case: Case, driver: SupervisedDriver,
                                                             base: Path) -> None:
    """Ctrl-Alt-Del reaches no guest before its keyboard driver is up. The driver asks again during the
    grace, so the guest's kernel still ends it (a shutdown, or a reset while no init handles the keys yet)
    instead of the VMM being terminated when the grace runs out."""
    config = make_config(base, case.name(4), with_initrd=case.with_initrd)
    driver.launch(config)  # returns once the VMM runs the guest: it is still booting
    driver.shutdown(config.name, grace_seconds=45)
    assert driver.power_state(config.name) is PowerState.STOPPED
    out = config.console_log.read_text(errors="replace")
    assert "reboot: Power down" in out or "reboot: Restarting system" in out, out[-2000:]


def test_a_refused_configuration_raises_with_the_vmms_message_and_leaves_nothing(
    case: Case, driver: SupervisedDriver, base: Path
) -> None:
    config = make_config(base, case.name(3), with_initrd=case.with_initrd)
    bad = LaunchConfig(**{**config.__dict__, "kernel": base / "no-such-kernel"})
    with pytest.raises(VmmError, match=re.escape(case.refusal)):
        driver.launch(bad)
    assert driver.power_state(config.name) is PowerState.STOPPED
    assert config.name not in driver.tmux.sessions()
    assert driver.pid(config.name) is None


def test_concurrent_launches_start_one_private_server(case: Case, base: Path) -> None:
    fresh = create_vmm(case.kind, case.options(), state_dir=base / "state2" / "vmm")
    assert isinstance(fresh, SupervisedDriver)
    names = [f"{case.prefix}c{i}" for i in range(3)]
    configs = [make_config(base, name, with_initrd=case.with_initrd) for name in names]
    try:
        with ThreadPoolExecutor(len(configs)) as pool:
            list(pool.map(fresh.launch, configs))  # no server runs yet: all three race to start it
        assert fresh.running_vms() == set(names)
        assert fresh.tmux.sessions() == set(names)
    finally:
        cleanup(fresh, *names)
    assert fresh.running_vms() == set()
