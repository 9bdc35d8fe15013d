"""Durable runs: lifecycle actions whose process outlives the server that started it.

`run_durable` runs an extension like `ExtensionRunner.run` (same entry-point checks, payload file,
argv, environment, working directory, own session, per-extension limit, timeout, output rules and
result), with three differences that let a successor settle the run (switchboard.extensions.detached):

* the executable runs under the `/bin/sh` wrapper that records its exit status in `files.status`;
* its output goes to `files.output` (0600), not a pipe: a server that dies no longer breaks its pipe;
* `started(identity)` is called as soon as the process exists, so the caller can record it, and the
  process is never killed because the server stops: only its deadline kills it.

The calling (worker) thread waits for the process itself, on a pidfd where the kernel has them; while it
waits, output beyond the limit is cut every few seconds so a chatty run cannot fill the disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from switchboard.extensions.detached import (
    ProcessIdentity,
    RunFiles,
    identify,
    kill_group,
    machine,
    read_output,
    read_status,
    trim_output,
    wrapped_argv,
)
from switchboard.extensions.paths import EntryPoint
from switchboard.extensions.runner import CappedOutput, ExtensionRunner, RunResult, run_result

__all__ = ["result_from_files", "run_durable"]

log = logging.getLogger(__name__)

_TRIM_EVERY = 2.0  # seconds between output-size checks while a run is waited for


def run_durable(
    runner: ExtensionRunner,
    *,
    extension_name: str,
    entry: EntryPoint,
    action: str,
    payload: Mapping[str, Any],
    timeout: int,
    files: RunFiles,
    started: Callable[[ProcessIdentity], None],
) -> RunResult:
    """Run `entry action payload_file timeout` durably and wait for it (blocking: call from a worker
    thread). `started` is called once with the process's identity; an exception it raises is logged and
    the run goes on (a successor finds the process by its files). Never raises for what the executable
    does; a run that cannot start returns a failed result and calls `started` never."""
    with runner.admitted(extension_name):
        prepared = runner.prepare(extension_name, entry, action, payload)
        if isinstance(prepared, RunResult):
            return prepared
        executable, payload_file = prepared
        argv = [str(executable), action, str(payload_file), str(int(timeout))]
        begun = time.monotonic()
        try:
            output = os.open(files.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # e.g. a full disk, as for the payload file
            return RunResult(success=False, exit_code=None, output="", payload_file=payload_file,
                             details=f"Unable to write the output file: {exc.strerror or exc}")
        try:
            process = _spawn(runner, entry, argv, files, output)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return RunResult(success=False, exit_code=127, output="", payload_file=payload_file,
                             details=f"Exit code: 127, Output: cannot execute {executable.name}: {reason}")
        finally:
            os.close(output)
        identity = identify(process.pid) or ProcessIdentity(process.pid, 0, machine().boot_id)
        try:
            started(identity)
        except Exception:  # the run is under way whatever happens to its record
            log.exception("extension %s: could not record the %s run (pid %s)", extension_name, action,
                          process.pid)
        timed_out = _wait(process, files, deadline=begun + timeout, limit=runner.output_limit)
        duration = time.monotonic() - begun
    log.debug("extension run %s %s (durable): timed_out=%s %.3f s", executable, action, timed_out, duration)
    wrapper = process.returncode
    recorded = read_status(files)  # the executable's own status; the wrapper's is printf's
    code = None if timed_out else (recorded if recorded is not None else (128 - wrapper if wrapper < 0 else wrapper))
    return result_from_files(files, code, limit=runner.output_limit, duration=duration, payload_file=payload_file)


def result_from_files(files: RunFiles, exit_code: int | None, *, limit: int, duration: float = 0.0,
                      payload_file: Path | None = None) -> RunResult:
    """The result of a durable run that ended with `exit_code` (None: killed at its deadline, a timeout),
    with the output it wrote to its file."""
    kept, dropped = read_output(files, limit)
    return run_result(exit_code, CappedOutput.of(kept, dropped), duration=duration, payload_file=payload_file)


def _spawn(runner: ExtensionRunner, entry: EntryPoint, argv: list[str], files: RunFiles,
           output: int) -> subprocess.Popen[bytes]:
    # argv is ours: the wrapper, then the validated entry point and its three arguments.
    return subprocess.Popen(wrapped_argv(argv, files), stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                            env=runner.child_env(entry.directory), cwd=str(entry.directory),
                            start_new_session=True, close_fds=True)


def _wait(process: subprocess.Popen[bytes], files: RunFiles, *, deadline: float, limit: int) -> bool:
    """Wait for the wrapper to end; kill its group at `deadline`. True when it was killed (a timeout)."""
    try:
        pidfd: int | None = os.pidfd_open(process.pid)
    except (OSError, AttributeError):  # an old kernel: poll instead
        pidfd = None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_group(process.pid)
                process.wait()
                return True
            step = min(remaining, _TRIM_EVERY)
            if pidfd is not None:
                readable, _, _ = select.select([pidfd], [], [], step)
                if readable:
                    process.wait()
                    return False
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=step)
                    return False
            trim_output(files, limit)
    finally:
        if pidfd is not None:
            os.close(pidfd)
