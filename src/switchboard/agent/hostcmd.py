"""Every host command the agent runs goes through here: one runner, one error and one logging policy.

Storage (`qemu-img`, `e2fsck`, `lvcreate` ...), OVSDB (`ovs-vsctl`), templates (`qemu-img info`), the
VMM supervisor (`tmux`), snapshots (`cp`), config drives (`genisoimage`) and VNC consoles (a detached
launcher script) all call a `CommandRunner`:

* commands are argument lists, never a shell line;
* the environment is the agent's plus `LC_ALL=C` (stable, parseable messages) unless a caller passes its
  own; stdin is /dev/null;
* every command is logged at DEBUG with its exit status and duration; argv is logged, so a secret never
  goes on a command line (secrets travel in 0600 files, e.g. the VNC password);
* a missing executable or a timeout is a result (rc 127 / 124), never an exception, so `check` reports
  all three the same way: `CommandFailed`, whose message names the tool, the exit status and the last
  line of its error output (the rest is kept on the exception, not logged).

`CommandFailed` is a `BackendError`, like the storage, network and VMM errors: the runtime reports it
to the API caller as an operation failure with the tool's own message. Tests replace the runner (the
LVM tests replay recorded outputs, because device-mapper is missing on the development machines).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from switchboard.agent.errors import BackendError

__all__ = ["NOT_FOUND", "TIMED_OUT", "CommandFailed", "CommandResult", "CommandRunner", "SubprocessRunner", "check"]

_log = logging.getLogger(__name__)

NOT_FOUND = 127
TIMED_OUT = 124


class CommandFailed(BackendError):
    """A host command exited non-zero, was not found, or timed out. Carries the argv, rc and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        # The last line is usually the reason; LVM ends with a generic "Run `lvcreate --help'" hint.
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.strip().startswith("Run `")]
        detail = lines[-1] if lines else "no message"
        super().__init__(f"{Path(argv[0]).name} failed (rc {returncode}): {detail[:500]}")


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it exited."""

    returncode: int
    stdout: str
    stderr: str


class CommandRunner(Protocol):
    """Runs one host command to completion and returns its result; never raises for a failed command."""

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult: ...


class SubprocessRunner:
    """The real runner: `subprocess.run` with captured text output, stdin from /dev/null and a C locale.

    `env` adds to (or overrides in) the agent's environment for every command; `default_timeout` applies
    when a call names none."""

    def __init__(self, *, env: Mapping[str, str] | None = None, default_timeout: float = 600.0) -> None:
        self._env = {**os.environ, "LC_ALL": "C", "LVM_SUPPRESS_FD_WARNINGS": "1", **(env or {})}
        self._timeout = default_timeout

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        """Run `argv` (with `env` as the whole environment when given); a missing executable or a timeout
        become a result with rc 127 / 124."""
        limit = timeout or self._timeout
        started = time.monotonic()
        try:
            proc = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                errors="replace",
                env=dict(env) if env is not None else self._env,
                timeout=limit,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            result = CommandResult(proc.returncode, proc.stdout, proc.stderr)
        except FileNotFoundError:
            result = CommandResult(NOT_FOUND, "", f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            result = CommandResult(TIMED_OUT, "", f"{argv[0]}: timed out after {limit:g} s")
        _log.debug("ran %s: rc %d in %.3f s", " ".join(argv), result.returncode, time.monotonic() - started)
        return result

    def spawn(
        self, argv: Sequence[str], *, output: IO[bytes], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `argv` detached from the agent (its own session and process group, so it outlives an agent
        restart and can be stopped as a group), stdout and stderr to `output`. Raises CommandFailed when
        it cannot be started."""
        _log.debug("spawn %s", " ".join(argv))
        try:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
                env=dict(env) if env is not None else self._env,
                close_fds=True,
            )
        except OSError as exc:
            raise CommandFailed(argv, NOT_FOUND, str(exc)) from exc


def check(
    runner: CommandRunner,
    argv: Sequence[str],
    *,
    ok: Sequence[int] = (0,),
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run `argv` and raise CommandFailed unless its exit code is in `ok`."""
    result = runner.run(argv, timeout=timeout, env=env)
    if result.returncode not in ok:
        raise CommandFailed(argv, result.returncode, result.stderr or result.stdout)
    return result
