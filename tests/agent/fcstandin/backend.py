"""The stand-in's VMM: QEMU `microvm` under TCG, so that the guest a test configures really boots.

Firecracker semantics kept: the guest console is this process's stdout; a guest reset ends the process (exit
status 0, as Firecracker's); a guest poweroff leaves it running (`-no-shutdown`), as Firecracker on x86 does;
Ctrl-Alt-Del goes through an i8042 controller. QEMU dies with this process (PR_SET_PDEATHSIG), so killing
the "Firecracker" pid from outside leaves nothing behind.

Snapshots use QEMU's migration stream as the memory file; the state file is JSON with the configuration
needed to rebuild the same devices.
"""

from __future__ import annotations

import collections
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from switchboard.agent.model import LaunchConfig
from switchboard.agent.vmm.qemu_args import qemu_argv
from switchboard.agent.vmm.qmp import QmpClient, QmpError

_PR_SET_PDEATHSIG = 1
_CTRL_ALT_DEL = [{"type": "qcode", "data": key} for key in ("ctrl", "alt", "delete")]


class BackendError(Exception):
    """QEMU could not be started or refused an operation."""


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class QemuBackend:
    """One QEMU process running the configured guest. Methods raise BackendError."""

    def __init__(self, on_exit: Callable[[int], None], *, sock_dir: Path | None = None) -> None:
        self._on_exit = on_exit
        self._sock_dir = sock_dir  # where QEMU's QMP sockets go (next to the API socket if given)
        self._dir = Path()
        self._qmp_path = self._events_path = Path()
        self._proc: subprocess.Popen[bytes] | None = None
        self._qmp: QmpClient | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._status: int | None = None

    def start(self, config: LaunchConfig, *, incoming: Path | None = None) -> None:
        """Start QEMU paused; with `incoming`, load that migration stream first. Leaves the VM paused."""
        binary = os.environ.get("FCSTANDIN_QEMU", "qemu-system-x86_64")
        if self._sock_dir is not None and len(str(self._sock_dir / "events.sock")) < 100:
            self._sock_dir.mkdir(mode=0o700, exist_ok=True)
            self._dir = self._sock_dir
        else:  # Unix socket paths are limited to 107 bytes
            self._dir = Path(tempfile.mkdtemp(prefix="fcsi-"))
        self._qmp_path = self._dir / "qmp.sock"
        self._events_path = self._dir / "events.sock"
        for stale in (self._qmp_path, self._events_path):  # left by a predecessor that was killed
            stale.unlink(missing_ok=True)
        # -no-reboot turns a reset into a shutdown and -no-shutdown turns that into a pause: the events
        # connection tells a reset (this process then exits) from a poweroff (it stays, like Firecracker).
        events = ("-qmp", f"unix:{self._events_path},server=on,wait=off")
        argv = qemu_argv(config, binary=binary, kvm=False, qmp_socket=self._qmp_path, no_shutdown=True,
                         incoming=incoming is not None, extra=events)  # fmt: skip
        try:
            # Spawned from the main thread: PDEATHSIG fires when the spawning thread exits.
            self._proc = subprocess.Popen(argv, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        except OSError as exc:
            raise BackendError(f"cannot run {binary}: {exc}") from exc
        threading.Thread(target=self._copy_stderr, daemon=True).start()
        deadline = time.monotonic() + 30
        while not (self._qmp_path.exists() and self._events_path.exists()):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._proc.wait(timeout=5)  # let the stderr copier catch up
                time.sleep(0.05)
                raise BackendError("; ".join(self._stderr) or f"QEMU exited ({self._proc.returncode})")
            time.sleep(0.01)
        try:
            self._qmp = QmpClient(self._qmp_path, timeout=60)
            self._qmp.connect()
            events = QmpClient(self._events_path, timeout=60)
            events.connect()
            if incoming is not None:
                self._load(incoming)
        except QmpError as exc:
            self.kill()
            time.sleep(0.05)  # let the stderr copier catch QEMU's last words
            raise BackendError("; ".join(self._stderr) or str(exc)) from exc
        threading.Thread(target=self._watch, daemon=True).start()
        threading.Thread(target=self._watch_events, args=(events,), daemon=True).start()

    def _load(self, stream: Path) -> None:
        assert self._qmp is not None
        fd = os.open(stream, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._qmp.send_fd("incoming", fd)
        finally:
            os.close(fd)
        self._qmp.execute("migrate-incoming", uri="fd:incoming")
        while (status := self._qmp.execute("query-status")["status"]) == "inmigrate":
            time.sleep(0.05)
        if status != "paused":
            raise BackendError(f"the snapshot could not be loaded (VM state {status})")

    def _copy_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def _watch(self) -> None:
        assert self._proc is not None
        code = self._proc.wait()
        self._remove_dir()
        if self._status is not None:
            code = self._status
        self._on_exit(code if code >= 0 else 128 - code)

    def _watch_events(self, events: QmpClient) -> None:
        while True:
            try:
                event = events.wait_event("SHUTDOWN", timeout=365 * 86400)
            except QmpError:
                return  # QEMU is gone; _watch reports its exit
            if event.get("data", {}).get("reason") == "guest-reset":
                self.kill(status=0)

    def command(self, name: str, **arguments: object) -> object:
        if self._qmp is None:
            raise BackendError("the microVM is not running")
        try:
            return self._qmp.execute(name, **arguments)
        except QmpError as exc:
            raise BackendError(str(exc)) from exc

    def pause(self) -> None:
        self.command("stop")

    def resume(self) -> None:
        self.command("cont")

    def ctrl_alt_del(self) -> None:
        self.command("send-key", keys=_CTRL_ALT_DEL)

    def save(self, target: Path) -> None:
        """Write the paused VM's memory and device state to `target` (created or truncated)."""
        if self._qmp is None:
            raise BackendError("the microVM is not running")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            self._qmp.send_fd("snapshot", fd)
        finally:
            os.close(fd)
        self.command("migrate", uri="fd:snapshot")
        while True:
            info = self.command("query-migrate")
            status = info.get("status") if isinstance(info, dict) else None
            if status == "completed":
                return
            if status in ("failed", "cancelled"):
                raise BackendError(f"saving the microVM state failed: {info}")
            time.sleep(0.05)

    def kill(self, status: int | None = None) -> None:
        """Stop QEMU now (SIGTERM, then SIGKILL); with `status`, report that as its exit status."""
        if status is not None:
            self._status = status
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._remove_dir()

    def _remove_dir(self) -> None:
        if self._dir != Path():
            shutil.rmtree(self._dir, ignore_errors=True)
