"""Runs that outlive the server that started them: how they are started, recognised and read afterwards.

A lifecycle run (prepare, create, start, stop, reboot, delete) changes the backend, so its outcome must
not die with the server process. Such a run is started through a tiny `/bin/sh` wrapper that runs the
executable exactly as the runner would, then writes its exit status to a file; the executable's output
(stdout and stderr, merged) goes to a second file rather than a pipe, so a dead reader never kills it with
SIGPIPE. Both files live in the extension's payload directory (0700), the output file is 0600. A run is
identified by the wrapper's pid (also its process group and session), the process's start time in clock
ticks since boot (so a recycled pid is never taken for it), the kernel's boot id and the machine's id.

Whoever knows those values - the server that started the run, the same server after a restart, or
another server on the same machine - can tell whether the run is still alive (`alive`), wait for it, kill
its process group at its deadline, and read its outcome (`read_outcome`) once it has ended. A run whose
process is gone without a status file (killed with its group, the machine rebooted) is lost: its outcome
must be asked of the backend.

Nothing here touches the database; `switchboard.compute.runs` records these values.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WRAPPER",
    "ProcessIdentity",
    "RunFiles",
    "alive",
    "find_process",
    "identify",
    "kill_group",
    "machine",
    "read_output",
    "read_status",
    "remove_files",
    "trim_output",
    "wrapped_argv",
]

# $1: the status file; the rest: the executable's argv. `unset PWD`: dash exports it, the runner's
# environment is exact. A status file is complete once the wrapper has exited (one short write).
WRAPPER = 'status=$1; shift; unset PWD; "$@"; code=$?; printf "%s\\n" "$code" > "$status"'
_SHELL = "/bin/sh"
_WRAPPER_NAME = "switchboard-run"  # the wrapper's $0, shown by `ps`


@dataclass(frozen=True)
class RunFiles:
    """Where a run's merged output and its exit status go. The names carry the run's id, so that a run
    whose pid was never recorded can still be found among the machine's processes (`find_process`)."""

    output: Path
    status: Path

    @classmethod
    def in_directory(cls, directory: Path, run_id: str) -> RunFiles:
        return cls(output=directory / f"{run_id}.output", status=directory / f"{run_id}.status")


@dataclass(frozen=True)
class ProcessIdentity:
    """The wrapper process of a run: pid (= process group = session), start time in clock ticks since
    boot, and the boot it belongs to."""

    pid: int
    start_ticks: int
    boot_id: str


@dataclass(frozen=True)
class Machine:
    """This machine: a stable id (`/etc/machine-id`, else the host name) and the current boot's id."""

    machine_id: str
    boot_id: str


@functools.cache
def machine() -> Machine:
    """This machine's identity (read once per process)."""
    machine_id = _read_first_line(Path("/etc/machine-id")) or f"host:{socket.gethostname()}"
    boot_id = _read_first_line(Path("/proc/sys/kernel/random/boot_id")) or "unknown"
    return Machine(machine_id=machine_id, boot_id=boot_id)


def _read_first_line(path: Path) -> str:
    try:
        return path.read_text().strip().splitlines()[0].strip()
    except (OSError, IndexError):
        return ""


def wrapped_argv(argv: list[str], files: RunFiles) -> list[str]:
    """The command line that runs `argv` and records its exit status in `files.status`."""
    return [_SHELL, "-c", WRAPPER, _WRAPPER_NAME, str(files.status), *argv]


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3… of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def identify(pid: int) -> ProcessIdentity | None:
    """The identity of live process `pid`; None when it is already gone."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":
        return None
    return ProcessIdentity(pid=pid, start_ticks=int(fields[19]), boot_id=machine().boot_id)


def alive(identity: ProcessIdentity) -> bool:
    """Whether the process is still running: same boot, same pid with the same start time, not a zombie."""
    if identity.boot_id != machine().boot_id:
        return False
    fields = _stat_fields(identity.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == identity.start_ticks


def find_process(files: RunFiles) -> ProcessIdentity | None:
    """The live wrapper of the run whose status file is `files.status`, found by its command line (for a
    run whose pid was never recorded: its server died right after starting it)."""
    token = os.fsencode(str(files.status))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [os.fsencode(_SHELL), b"-c"] and token in argv[3:5]:
            found = identify(int(entry.name))
            if found is not None:
                return found
    return None


def kill_group(pid: int) -> None:
    """SIGKILL the run's whole process group (the wrapper leads its own session and group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def read_status(files: RunFiles) -> int | None:
    """The exit status the wrapper recorded (128 + N for a signal N, as Java reports it); None when there
    is none (the run has not ended, or ended without the wrapper writing it)."""
    try:
        text = files.status.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def read_output(files: RunFiles, limit: int) -> tuple[bytes, int]:
    """The first `limit` bytes of the output and how many more were written (0 when it all fits)."""
    try:
        with files.output.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            kept = handle.read(limit)
    except OSError:
        return b"", 0
    return kept, max(0, size - len(kept))


def trim_output(files: RunFiles, limit: int) -> None:
    """Free the space of output beyond `limit` bytes while the run still writes.

    The run writes through a descriptor without O_APPEND, so after the cut its writes land beyond the end
    (a sparse file): the size still counts every byte written, while only the first `limit` bytes and what
    came since the last cut use disk space."""
    with contextlib.suppress(OSError):
        if files.output.stat().st_size > 2 * limit:
            os.truncate(files.output, limit)


def remove_files(files: RunFiles) -> None:
    """Remove the run's files (once its outcome is recorded)."""
    for path in (files.output, files.status):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
