"""Running host commands for the storage backends, behind a small interface tests can replace.

Every external tool (`qemu-img`, `e2fsck`, `resize2fs`, `lvcreate` ...) is called through a
`CommandRunner`, with an argument list (never a shell). The real runner is `SubprocessRunner`; the LVM
tests hand the backends a runner that replays recorded outputs, because device-mapper is missing on the
development machines.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from switchboard.agent.storage.base import StorageError

log = logging.getLogger(__name__)


class CommandFailed(StorageError):
    """A host command exited non-zero (or could not be started). Carries the argv, rc and stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        # The last line is usually the reason; LVM ends with a generic "Run `lvcreate --help'" hint.
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.strip().startswith("Run `")]
        detail = lines[-1] if lines else "no message"
        super().__init__(f"{argv[0]} failed (rc {returncode}): {detail}")


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it exited."""

    returncode: int
    stdout: str
    stderr: str


class CommandRunner(Protocol):
    """Runs one host command and returns its result; never raises for a non-zero exit."""

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult: ...


class SubprocessRunner:
    """The real runner: `subprocess.run` with captured output and a C locale (stable messages)."""

    def __init__(self, *, env: Mapping[str, str] | None = None, default_timeout: float = 600.0) -> None:
        self._env = {**os.environ, "LC_ALL": "C", "LVM_SUPPRESS_FD_WARNINGS": "1", **(env or {})}
        self._timeout = default_timeout

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Run `argv`; a missing executable or a timeout become a result with rc 127 / 124."""
        log.debug("run %s", " ".join(argv))
        try:
            proc = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                env=self._env,
                timeout=timeout or self._timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            return CommandResult(127, "", f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            return CommandResult(124, "", f"{argv[0]}: timed out after {timeout or self._timeout} s")
        return CommandResult(proc.returncode, proc.stdout, proc.stderr)


def check(
    runner: CommandRunner, argv: Sequence[str], *, ok: Sequence[int] = (0,), timeout: float | None = None
) -> CommandResult:
    """Run `argv` and raise CommandFailed unless its exit code is in `ok`."""
    result = runner.run(argv, timeout=timeout)
    if result.returncode not in ok:
        raise CommandFailed(argv, result.returncode, result.stderr or result.stdout)
    return result
