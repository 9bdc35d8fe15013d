"""The `qemu` VMM driver: QEMU's `microvm` machine, driven over QMP, supervised on the private tmux server.

KVM is used when it can run an ordinary guest (probed once, see `qemu_args.kvm_usable`), TCG otherwise.
Lifecycle:
* launch: QEMU starts paused (`-S`) with a QMP socket in the VM's run dir; once QMP answers, `cont`.
  A configuration QEMU refuses makes it exit at once; its message becomes the VmmError.
* graceful stop: QMP `send-key` Ctrl-Alt-Del (through the i8042 controller, as Firecracker does); QEMU
  exits when the guest powers off or resets, and is terminated after the grace time otherwise.
* pause/resume: QMP `stop`/`cont`.
* snapshots: QEMU's migration stream written to `<dir>/vmstate` through a file descriptor handed over QMP
  (`getfd` + `migrate fd:`), restored with `-incoming defer` + `migrate-incoming`. The stream holds memory
  and device state only: disks are not part of it (raw disks cannot hold internal snapshots, and
  Firecracker snapshots behave the same), so a restore pairs the state with the disks as they are now.

Options (from the host config): `qemu_bin` (default "qemu-system-x86_64"), `qemu_accel` ("auto", "kvm" or
"tcg"; default "auto"), `initrd` (an initrd used when the launch config names none; default none),
`qemu_extra_args` (a list appended to the command line; default empty).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from switchboard.agent.model import LaunchConfig
from switchboard.agent.vmm.base import Capability, VmmError
from switchboard.agent.vmm.qemu_args import kvm_usable, qemu_argv
from switchboard.agent.vmm.qmp import QmpClient
from switchboard.agent.vmm.supervised import LaunchRecord, SupervisedDriver

__all__ = ["QemuDriver"]

_STATE_FILE = "vmstate"
_CTRL_ALT_DEL = [{"type": "qcode", "data": key} for key in ("ctrl", "alt", "delete")]


class QemuDriver(SupervisedDriver):
    """The VmmDriver for QEMU microvm. See the module docstring for options and behaviour."""

    name = "qemu"
    capabilities = frozenset({Capability.PAUSE, Capability.SNAPSHOT, Capability.GRACEFUL_STOP})

    def __init__(self, options: Mapping[str, Any], *, state_dir: Path) -> None:
        super().__init__(state_dir=state_dir)
        self.binary = str(options.get("qemu_bin") or "qemu-system-x86_64")
        accel = str(options.get("qemu_accel") or "auto")
        if accel not in ("auto", "kvm", "tcg"):
            raise VmmError(f"qemu_accel must be auto, kvm or tcg, not {accel!r}")
        self.accel = accel
        initrd = options.get("initrd")
        self.default_initrd = Path(initrd) if initrd else None
        self.extra_args = tuple(str(a) for a in options.get("qemu_extra_args") or ())

    @property
    def kvm(self) -> bool:
        """Whether guests run under KVM (else TCG)."""
        return self.accel == "kvm" or (self.accel == "auto" and kvm_usable())

    # -- SupervisedDriver hooks ----------------------------------------------------------------------

    def _socket(self, config: LaunchConfig) -> Path:
        return config.run_dir / "qmp.sock"

    def _argv(self, config: LaunchConfig, restore_from: Path | None) -> Sequence[str]:
        return qemu_argv(
            config,
            binary=self.binary,
            kvm=self.kvm,
            qmp_socket=self._socket(config),
            initrd=self.default_initrd,
            incoming=restore_from is not None,
            extra=self.extra_args,
        )

    def _configure(self, config: LaunchConfig, restore_from: Path | None) -> None:
        with self._qmp_path(self._socket(config)) as qmp:
            if restore_from is not None:
                self._incoming(qmp, restore_from)
            qmp.execute("cont")

    def _request_shutdown(self, record: LaunchRecord) -> None:
        with self._qmp_path(Path(record.socket)) as qmp:
            qmp.execute("send-key", keys=_CTRL_ALT_DEL)

    # -- pause, resume, snapshots --------------------------------------------------------------------

    def pause(self, name: str) -> None:
        """Stop the guest's vCPUs (QMP `stop`). VmmError when the VMM is not running."""
        with self._qmp(name) as qmp:
            qmp.execute("stop")
        self._flag(name, "paused").touch()

    def resume(self, name: str) -> None:
        """Continue a paused guest (QMP `cont`). VmmError when the VMM is not running."""
        with self._qmp(name) as qmp:
            qmp.execute("cont")
        self._flag(name, "paused").unlink(missing_ok=True)

    def snapshot_create(self, name: str, directory: Path) -> None:
        """Pause, write memory and device state to `directory/vmstate`, resume (if it was running).

        Disks are not included. VmmError when QEMU refuses or the migration fails."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = directory / _STATE_FILE
        with self._qmp(name) as qmp:
            running = qmp.execute("query-status").get("status") == "running"
            if running:
                qmp.execute("stop")
            try:
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
                try:
                    qmp.send_fd("snapshot", fd)
                finally:
                    os.close(fd)
                qmp.execute("migrate", uri="fd:snapshot")
                _wait_migration(qmp, timeout=300.0)
            finally:
                if running:
                    qmp.execute("cont")
        (directory / "vmm.json").write_text(json.dumps({"vmm": self.name, "state": _STATE_FILE}) + "\n")

    def snapshot_restore(self, config: LaunchConfig, directory: Path) -> None:
        """Kill whatever runs for `config.name`, start QEMU waiting for a migration stream, feed it
        `directory/vmstate` and resume. The devices must match the snapshot's (same config)."""
        if not (directory / _STATE_FILE).is_file():
            raise VmmError(f"no QEMU snapshot in {directory}")
        self.kill(config.name)
        self._start(config, directory)

    def _incoming(self, qmp: QmpClient, directory: Path) -> None:
        fd = os.open(directory / _STATE_FILE, os.O_RDONLY | os.O_CLOEXEC)
        try:
            qmp.send_fd("snapshot", fd)
        finally:
            os.close(fd)
        qmp.execute("migrate-incoming", uri="fd:snapshot")
        deadline = time.monotonic() + 300.0
        while (status := qmp.execute("query-status").get("status")) == "inmigrate":
            if time.monotonic() > deadline:
                raise VmmError("restoring the snapshot timed out")
            time.sleep(0.05)
        if status != "paused":
            raise VmmError(f"restoring the snapshot failed (VM state {status})")

    # -- QMP -----------------------------------------------------------------------------------------

    def _qmp(self, name: str) -> QmpClient:
        record = self.record(name)
        if record is None or self.pid(name) is None:
            raise VmmError(f"the VMM of {name} is not running")
        return self._qmp_path(Path(record.socket))

    @staticmethod
    def _qmp_path(path: Path) -> QmpClient:
        return QmpClient(path, timeout=30.0)


def _wait_migration(qmp: QmpClient, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = qmp.execute("query-migrate")
        status = info.get("status")
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            raise VmmError(f"writing the snapshot failed: {info.get('error-desc', status)}")
        if time.monotonic() > deadline:
            qmp.execute("migrate_cancel")
            raise VmmError("writing the snapshot timed out")
        time.sleep(0.05)
