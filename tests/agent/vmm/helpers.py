"""Helpers for tests that boot the test guest under a VMM driver."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.agent.guest import fresh_rootfs, guest_artifacts
from tests.support.eventually import eventually

from switchboard.agent.model import DiskAttachment, LaunchConfig, NicAttachment, PowerState
from switchboard.agent.vmm.supervised import SupervisedDriver

# TCG boots take 3-15 s on a loaded 2-core machine; the bound only matters when something is broken.
BOOT_TIMEOUT = 120.0


def need_tools(*tools: str) -> None:
    """Fail (not skip) naming the package to install when a tool is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise AssertionError(f"missing {', '.join(missing)}: run scripts/ci-deps.sh")


def make_config(
    base: Path,
    name: str,
    *,
    nics: tuple[NicAttachment, ...] = (),
    boot_args: str | None = None,
    with_initrd: bool = True,
) -> LaunchConfig:
    """A launch config for the test guest with a private copy of its root disk under `base`. Without
    `with_initrd` the driver must supply the initrd (its `initrd` option)."""
    guest = guest_artifacts()
    run_dir = base / "run" / name
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return LaunchConfig(
        name=name,
        vcpus=1,
        memory_mib=192,
        kernel=guest.kernel,
        initrd=guest.initrd if with_initrd else None,
        boot_args=boot_args or guest.boot_args,
        disks=(DiskAttachment("rootfs", fresh_rootfs(base / "disks" / f"{name}.ext4"), is_root=True),),
        nics=nics,
        run_dir=run_dir,
        console_log=base / "logs" / f"{name}.log",
    )


def log_size(config: LaunchConfig) -> int:
    return config.console_log.stat().st_size if config.console_log.exists() else 0


def console_since(config: LaunchConfig, offset: int) -> str:
    with config.console_log.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


def wait_console(config: LaunchConfig, text: str, *, after: int = 0, timeout: float = BOOT_TIMEOUT) -> str:
    """Wait until `text` appears in the console log after byte `after`; return the output since then."""

    def output() -> str:
        out = console_since(config, after) if config.console_log.exists() else ""
        return out if text in out else ""

    return eventually(output, what=f"{text!r} in the console of {config.name}", timeout=timeout, interval=0.1)


def wait_state(driver: SupervisedDriver, name: str, state: PowerState, timeout: float = BOOT_TIMEOUT) -> None:
    eventually(lambda: driver.power_state(name) is state, what=f"{name} to be {state}", timeout=timeout, interval=0.1)


def type_line(driver: SupervisedDriver, name: str, line: str) -> None:
    """Type a command into the guest's serial console (its shell) through the tmux pane."""
    driver.tmux.send_keys(name, "-l", line)
    driver.tmux.send_keys(name, "Enter")


def echo_roundtrip(driver: SupervisedDriver, config: LaunchConfig, word: str, timeout: float = 60.0) -> None:
    """Prove the guest runs: have its shell print a word computed in the guest (so not the echo of input)."""
    offset = log_size(config)
    type_line(driver, config.name, f"echo {word}-$((6*7))")
    wait_console(config, f"{word}-42", after=offset, timeout=timeout)


def cleanup(driver: SupervisedDriver, *names: str) -> None:
    """Kill the VMs and the private tmux server; nothing may outlive a test module."""
    for name in names:
        pid = driver.pid(name)
        driver.kill(name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    driver.tmux.kill_server()


@contextlib.contextmanager
def tap_device(name: str) -> Iterator[str]:
    """A persistent TAP device `name` (left down: the guest's packets go nowhere), removed afterwards."""
    need_tools("ip")
    subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
    made = subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"], capture_output=True, text=True)
    if made.returncode != 0:
        raise AssertionError(f"cannot create TAP {name} (needs root and /dev/net/tun): {made.stderr.strip()}")
    try:
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
