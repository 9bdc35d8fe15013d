"""What both VMM drivers share: per-VM records, liveness, the console log's verdicts, stop sequences.

A driver owns `state_dir` (the agent passes `<state>/vmm`). Layout:

    state_dir/tmux/server.sock        the private tmux server
    state_dir/vms/<name>/record.json  the current launch: run dir, console log and where this boot's output
                                      starts in it, the token that identifies the VMM's command line
    state_dir/vms/<name>/vmm.pid      written by the session wrapper (see tmux.py)
    state_dir/vms/<name>/vmm.status   the VMM's exit status, written when it exits
    state_dir/vms/<name>/paused       present while the agent has the VM paused
    state_dir/vms/<name>/stopped      present when the agent shut the VM down (`shutdown`)

Why a VMM exited is read from the guest console: Linux prints `reboot: Restarting system` before a reset
and `reboot: Power down` (or `System halted`) before powering off; a VMM that went away with neither line
since the boot started crashed or was killed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket as socketlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

from switchboard.agent.model import LaunchConfig, PowerState
from switchboard.agent.vmm.base import VmmError
from switchboard.agent.vmm.tmux import SessionFiles, TmuxSupervisor, pid_alive, read_pid

__all__ = ["LaunchRecord", "SupervisedDriver", "console_outcome"]

_log = logging.getLogger(__name__)

_RESET = b"reboot: Restarting system"
_POWEROFF = (b"reboot: Power down", b"reboot: System halted")
# A guest still booting has no keyboard driver yet and never sees a Ctrl-Alt-Del: a stop asks again this
# often until the grace ends. A guest already shutting down takes a repeat as the request it is carrying
# out (and far below systemd's seven-presses-in-two-seconds burst that forces a reboot).
_ASK_AGAIN_SECONDS = 5.0
# Unix socket paths are limited to 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


@dataclass(frozen=True)
class LaunchRecord:
    """What a driver remembers about the current launch of one VM (JSON in record.json)."""

    name: str
    run_dir: str
    console_log: str
    log_offset: int  # console log size when this boot started: its output begins there
    socket: str  # the VMM's control socket (Firecracker API, QMP) as the host sees it
    token: str  # a string unique to this VM in the VMM's command line (guards against pid reuse)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LaunchRecord | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None


def console_outcome(console_log: Path, offset: int, *, window: int = 65536) -> str | None:
    """Return "reset" or "poweroff" from the last kernel reboot line after `offset` in the console log, looking
    at no more than the last `window` bytes; None when there is none."""
    try:
        with console_log.open("rb") as fh:
            size = fh.seek(0, 2)
            start = max(offset, size - window)
            if size <= start:
                return None
            fh.seek(start)
            tail = fh.read()
    except FileNotFoundError:
        return None
    reset_at = tail.rfind(_RESET)
    poweroff_at = max(tail.rfind(marker) for marker in _POWEROFF)
    if reset_at < 0 and poweroff_at < 0:
        return None
    return "reset" if reset_at > poweroff_at else "poweroff"


class SupervisedDriver:
    """Base of the VMM drivers: everything except talking to the VMM itself.

    Subclasses set `name`, `capabilities` and `lingers_after_poweroff`, and implement `_argv` (the VMM's
    command line), `_socket` (its control socket), `_configure` (drive the started VMM to a running guest)
    and `_request_shutdown` (ask the guest to shut down). Every public method may raise VmmError."""

    name: str
    capabilities: frozenset[str]
    # Firecracker on x86 keeps running after the guest powers off; the driver then reaps it.
    lingers_after_poweroff: ClassVar[bool] = False
    # Seconds for the VMM to open its control socket; generous because a loaded host is slow, and only
    # a broken VMM ever takes that long.
    start_timeout: float = 60.0

    def __init__(self, *, state_dir: Path) -> None:
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.tmux = TmuxSupervisor(state_dir / "tmux" / "server.sock")
        self._dirs: dict[str, Path] = {}
        self._records: dict[str, tuple[tuple[int, int], LaunchRecord]] = {}
        self._tails: dict[str, tuple[tuple[str, int, int], bool]] = {}

    # -- hooks ---------------------------------------------------------------------------------------

    def _argv(self, config: LaunchConfig, restore_from: Path | None) -> Sequence[str]:
        raise NotImplementedError

    def _env(self, config: LaunchConfig) -> Mapping[str, str]:
        return {}

    def _socket(self, config: LaunchConfig) -> Path:
        raise NotImplementedError

    def _cmdline_token(self, config: LaunchConfig) -> str:
        return str(self._socket(config))

    def _configure(self, config: LaunchConfig, restore_from: Path | None) -> None:
        raise NotImplementedError

    def _request_shutdown(self, record: LaunchRecord) -> None:
        raise NotImplementedError

    def pause(self, name: str) -> None:
        raise NotImplementedError

    def resume(self, name: str) -> None:
        raise NotImplementedError

    # -- records -------------------------------------------------------------------------------------

    def _dir(self, name: str) -> Path:
        directory = self._dirs.get(name)
        if directory is None:
            directory = self._dirs[name] = self.state_dir / "vms" / TmuxSupervisor.check_name(name)
        return directory

    def _files(self, name: str) -> SessionFiles:
        return SessionFiles(self._dir(name))

    def record(self, name: str) -> LaunchRecord | None:
        """The current launch record of `name`, or None if the driver never launched it.

        Parsed records are cached by the file's modification time: status queries stay cheap."""
        path = self._dir(name) / "record.json"
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns)  # records are replaced, never rewritten in place
        except FileNotFoundError:
            self._records.pop(name, None)
            return None
        cached = self._records.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        record = LaunchRecord.load(path)
        if record is not None:
            self._records[name] = (stamp, record)
        return record

    def _flag(self, name: str, flag: str) -> Path:
        return self._dir(name) / flag

    def pid(self, name: str) -> int | None:
        """The pid of `name`'s VMM if that process is alive, else None."""
        record = self.record(name)
        if record is None:
            return None
        pid = read_pid(self._files(name).pid)
        return pid if pid is not None and pid_alive(pid, record.token) else None

    # -- the VmmDriver interface ---------------------------------------------------------------------

    def launch(self, config: LaunchConfig) -> None:
        """Boot `config` in a new VMM session (see VmmDriver.launch). VmmError with the VMM's message when it
        refuses the configuration or exits; nothing is left running then."""
        self._start(config, None)

    def _start(self, config: LaunchConfig, restore_from: Path | None) -> None:
        """Start the VMM in its session and drive it to a running guest, booted or restored from the
        snapshot in `restore_from`. On failure nothing is left running."""
        name = TmuxSupervisor.check_name(config.name)
        if self.pid(name) is not None:
            raise VmmError(f"the VMM of {name} is running already")
        socket = self._socket(config)
        if len(str(socket).encode()) > _MAX_SOCKET_PATH:
            raise VmmError(f"socket path too long for a Unix socket: {socket}")
        self.tmux.kill_session(name)  # a wrapper left behind by a VMM that died
        socket.unlink(missing_ok=True)
        directory = self._dir(name)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for flag in ("paused", "stopped"):
            self._flag(name, flag).unlink(missing_ok=True)
        offset = config.console_log.stat().st_size if config.console_log.exists() else 0
        record = LaunchRecord(
            name, str(config.run_dir), str(config.console_log), offset, str(socket), self._cmdline_token(config)
        )
        record.save(directory / "record.json")
        files = self._files(name)
        self.tmux.start(name, self._argv(config, restore_from), files=files, console_log=config.console_log,
                        env=self._env(config), cwd=config.run_dir)  # fmt: skip
        try:
            self._wait_started(record, files)
            self._configure(config, restore_from)
        except VmmError as exc:
            # A VMM that refuses its configuration may exit while we talk to it: its own message on the
            # console is then the better error.
            exited = _wait_for(files.status.exists, 1.0)
            self.kill(name)
            if exited:
                raise VmmError(f"{self.name} exited: {self.boot_output(record) or exc}") from exc
            raise

    def power_state(self, name: str) -> PowerState:
        """RUNNING, PAUSED or STOPPED from the pid file, one /proc lookup and (for a VMM that outlives its
        guest) the console tail. A lingering VMM whose guest powered off is terminated here."""
        record = self.record(name)
        if record is None:
            return PowerState.STOPPED
        files = self._files(name)
        pid = read_pid(files.pid)
        if pid is None:
            # Between the session starting and the wrapper writing the pid: the VMM is starting.
            return PowerState.RUNNING if self.tmux.has_session(name) else PowerState.STOPPED
        if not pid_alive(pid, record.token):
            return PowerState.STOPPED
        if self.lingers_after_poweroff and self._guest_powered_off(record):
            # The guest is gone; its VMM cannot boot it again, so it is reaped here.
            _log.info("%s: guest powered off, stopping its VMM", name)
            self._terminate(name, record, pid)
            return PowerState.STOPPED
        return PowerState.PAUSED if self._flag(name, "paused").exists() else PowerState.RUNNING

    def shutdown(self, name: str, *, grace_seconds: float) -> None:
        """Ask the guest to shut down (again every few seconds: one still booting misses the request),
        wait up to `grace_seconds` for it to power off or reset, then terminate the VMM. Returns once no
        VMM process is left; a stopped VM is fine."""
        record = self.record(name)
        pid = self.pid(name)
        if record is None or pid is None:
            self._cleanup(name, record)
            return
        self._flag(name, "stopped").touch()
        try:
            if self._flag(name, "paused").exists():
                self.resume(name)  # a paused guest cannot act on Ctrl-Alt-Del
            self._request_shutdown(record)
        except VmmError as exc:
            _log.warning("%s: graceful shutdown request failed (%s); terminating", name, exc)
        else:
            self._wait_for_guest_shutdown(record, pid, grace_seconds)
        self._terminate(name, record, pid)

    def _wait_for_guest_shutdown(self, record: LaunchRecord, pid: int, grace_seconds: float) -> None:
        """Until the VMM exits, the console says the guest powered off, or the grace ends; asking again
        every `_ASK_AGAIN_SECONDS`."""
        now = time.monotonic()
        deadline, ask_again = now + grace_seconds, now + _ASK_AGAIN_SECONDS
        while pid_alive(pid, record.token) and not self._guest_powered_off(record):
            now = time.monotonic()
            if now >= deadline:
                return
            if now >= ask_again:
                ask_again = now + _ASK_AGAIN_SECONDS
                try:
                    self._request_shutdown(record)
                except VmmError as exc:  # the VMM may be going away: its exit ends the wait
                    _log.debug("%s: asking the guest again failed (%s)", record.name, exc)
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        """Terminate the VMM at once and forget the launch (the VM's driver directory is removed, so a
        deleted VM leaves nothing here; `exit_reason` is None afterwards)."""
        record = self.record(name)
        pid = self.pid(name)
        if record is not None and pid is not None:
            self._terminate(name, record, pid, timeout=3.0)
        else:
            self._cleanup(name, record)
        shutil.rmtree(self._dir(name), ignore_errors=True)

    def running_vms(self) -> set[str]:
        """Names of the VMs whose VMM process is alive (pid files; no process-table scan)."""
        names = set()
        for directory in (self.state_dir / "vms").glob("*"):
            if directory.is_dir() and self.pid(directory.name) is not None:
                names.add(directory.name)
        return names

    def exit_reason(self, name: str) -> str | None:
        """Why the current launch ended: "poweroff" (the guest powered off, or the agent shut it down),
        "reset" (the guest rebooted) or "crash" (the VMM died without either); None while it runs or
        when the driver knows nothing of `name` (never launched, or killed)."""
        record = self.record(name)
        if record is None:
            return None
        alive = self.pid(name) is not None
        if not alive:
            # The VMM's last words (the kernel's reboot line) may still be in the pipe to the log: the
            # status file appears once they are written.
            files = self._files(name)
            if not files.status.exists() and self.tmux.has_session(name):
                _wait_for(files.status.exists, 3.0)
        outcome = self._outcome(record)
        if alive and not (self.lingers_after_poweroff and outcome == "poweroff"):
            return None
        if self._flag(name, "stopped").exists():
            # The agent shut it down; a guest that answers Ctrl-Alt-Del with a reboot still counts as off.
            return "poweroff"
        return outcome or "crash"

    # -- helpers -------------------------------------------------------------------------------------

    def _outcome(self, record: LaunchRecord, *, window: int = 65536) -> str | None:
        return console_outcome(Path(record.console_log), record.log_offset, window=window)

    def _guest_powered_off(self, record: LaunchRecord) -> bool:
        """Whether the console's tail says the guest powered off; re-read only when the log has grown."""
        try:
            size = os.stat(record.console_log).st_size
        except FileNotFoundError:
            return False
        key = (record.console_log, record.log_offset, size)
        cached = self._tails.get(record.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        off = self._outcome(record, window=4096) == "poweroff"
        self._tails[record.name] = (key, off)
        return off

    def _wait_started(self, record: LaunchRecord, files: SessionFiles) -> int:
        """Wait for the VMM's pid and for its control socket to accept connections (a socket file appears
        at bind(), before listen()); VmmError with the VMM's output if it exits."""
        deadline = time.monotonic() + self.start_timeout
        socket = Path(record.socket)
        while time.monotonic() < deadline:
            pid = read_pid(files.pid)
            if pid is not None and socket.exists() and _accepts(socket):
                return pid
            if files.status.exists() or (pid is None and not self.tmux.has_session(record.name)):
                raise VmmError(f"{self.name} exited at start: {self.boot_output(record) or 'no output'}")
            time.sleep(0.02)
        raise VmmError(f"{self.name} did not open {socket} within {self.start_timeout:.0f} s")

    def boot_output(self, record: LaunchRecord, limit: int = 2000) -> str:
        """The console output of the current boot (its last `limit` characters)."""
        try:
            with Path(record.console_log).open("rb") as fh:
                fh.seek(record.log_offset)
                data = fh.read()
        except FileNotFoundError:
            return ""
        return data.decode(errors="replace").strip()[-limit:]

    def _terminate(self, name: str, record: LaunchRecord, pid: int, timeout: float = 10.0) -> None:
        TmuxSupervisor.terminate(pid, record.token, timeout=timeout)
        self._cleanup(name, record)

    def _cleanup(self, name: str, record: LaunchRecord | None) -> None:
        # The wrapper writes the exit status right after the VMM exits; give it a moment, then make sure
        # no session is left (kill-session is a no-op when the wrapper is gone already).
        files = self._files(name)
        if record is not None and read_pid(files.pid) is not None and not files.status.exists():
            _wait_for(files.status.exists, 2.0)
        self.tmux.kill_session(name)
        self._flag(name, "paused").unlink(missing_ok=True)
        if record is not None:
            Path(record.socket).unlink(missing_ok=True)


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _accepts(path: Path) -> bool:
    sock = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(str(path))
    except OSError:
        return False
    finally:
        sock.close()
    return True
