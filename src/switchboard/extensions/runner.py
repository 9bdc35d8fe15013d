"""The only code that starts extension processes (protocol notes §1.1 to §1.5).

One run:

1. The entry point is validated (regular, readable, executable, inside its extension directory); a bad one
   gives a failed result with CloudStack's text ("Extension not configured" / "File is not executable")
   without starting anything.
2. The payload is written as compact JSON to `<payload root>/<extension name>/<uuid>.json`, file 0600 in
   directories 0700 (the payload holds secrets: passwords, tokens, the VNC password).
3. The executable is started directly (never through a shell) with
   `argv = [entry, action, payload_file, str(timeout)]`, stdin `/dev/null`, in a new session (its own process
   group), working directory = the extension's directory, and this environment and nothing else — none of the
   server's variables (database URLs, keys) reach the extension:

       PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
       LANG=C.UTF-8
       LC_ALL=C.UTF-8
       HOME=<the extension's directory>
       TMPDIR=/tmp

   plus any variables the operator configured explicitly (`extra_env`).
4. stdout and stderr are merged and read as the process runs, keeping the first `output_limit` bytes (1 MiB);
   beyond that the output is drained and dropped and a marker line says how much was cut.
5. At the deadline the whole process group gets SIGKILL and the result is a failure with details "Timeout".
   When the executable exits, output that daemonised children still write is read for at most
   `_EOF_GRACE` seconds; those children are left alone (an extension may legitimately start a daemon).
6. Success is the exit code alone. Details: the trimmed output on success,
   `Exit code: <n>, Output: <trimmed output>` on failure.
7. `status`/`statuses` payloads are removed at once; others stay for debugging and are garbage-collected
   after a day by a background sweep started when a payload is written (bounded to `_GC_BUDGET` seconds, at
   most one sweep per extension per `_GC_INTERVAL`).

Concurrency: at most `limit` processes per extension at a time (settable per extension); further runs wait
in line — they never fail for being over the limit. Queueing time does not count against the timeout.
All processes are started and watched from the runner's own event-loop thread, for async and thread callers
alike; `close()` cancels what still runs (killing those process groups) and stops the thread.

Lifecycle actions, which change the backend, run durably instead (`switchboard.extensions.durable`): the
same steps, but through a wrapper that records the exit status in a file, with the output in a file, and
never killed because the server stops, so that a successor can settle them.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.errors import OperationFailed
from switchboard.extensions.paths import EntryPoint, EntryPointError, ExtensionRoots

__all__ = [
    "CHILD_PATH",
    "DEFAULT_OUTPUT_LIMIT",
    "TRUNCATION_MARKER",
    "CappedOutput",
    "ExtensionRunner",
    "RunResult",
    "collect_old_payloads",
    "run_result",
]

log = logging.getLogger(__name__)

CHILD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_OUTPUT_LIMIT = 1 << 20
TRUNCATION_MARKER = "[output truncated: {dropped} more bytes not shown]"
_REMOVED_AT_ONCE = frozenset({"status", "statuses"})
_PAYLOAD_MAX_AGE = 24 * 3600.0
_GC_BUDGET = 3.0
_GC_INTERVAL = 60.0
_EOF_GRACE = 1.0
_CHUNK = 1 << 16


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What one run of an extension executable produced.

    `success`: exit code 0 (and no timeout). `exit_code`: None when the process never started or was killed
    at the timeout. `details`: what CloudStack reports — trimmed output on success, `Exit code: N, Output: …`
    on failure, "Timeout", or the entry-point error text. `output`: the trimmed, possibly truncated output
    (decoded as UTF-8 with replacement, NUL characters removed). `duration`: seconds the process ran.
    """

    success: bool
    exit_code: int | None
    details: str
    output: str
    timed_out: bool = False
    truncated: bool = False
    duration: float = 0.0
    payload_file: Path | None = None


class _Gate:
    """A counting limiter whose limit can change while runs wait (asyncio.Semaphore's cannot)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the releaser has already counted us in
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # we were admitted just as we were cancelled: pass the slot on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._release()

    def leave(self) -> None:
        """Give a slot back (from the loop's thread)."""
        self._release()

    def _release(self) -> None:
        self.active -= 1
        self.wake()

    def wake(self) -> None:
        while self._waiters and self.active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.active += 1
                waiter.set_result(None)


class ExtensionRunner:
    """Runs extension executables for the whole process. Create one per server, share it, `close()` it.

    Every process is started from the runner's own event-loop thread, whoever asks: `await run()` from any
    event loop and `run_blocking()` from any worker thread hand the work to it. So the per-extension limits
    hold for all callers, and no caller's loop has to outlive the processes it started.
    """

    def __init__(
        self,
        *,
        roots: ExtensionRoots,
        default_limit: int = 16,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        extra_env: Mapping[str, str] | None = None,
        interpreter: str | None = None,
    ) -> None:
        """`interpreter`: run every entry point as `interpreter entry action …` instead of by its #! line
        (the author's kit checks a Python extension with a chosen Python this way)."""
        if default_limit < 1 or output_limit < 1:
            raise ValueError("limits must be positive")
        self.roots = roots
        self.interpreter = interpreter
        self.default_limit = default_limit
        self.output_limit = output_limit
        self.extra_env = dict(extra_env or {})
        self._gates: dict[str, _Gate] = {}
        self._limits: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_lock = threading.Lock()
        self._background: set[asyncio.Future[Any]] = set()
        self._stopping: set[asyncio.Future[None]] = set()  # exits of killed groups not yet reaped
        self._spawns: set[asyncio.Future[Any]] = set()  # process starts under way (never cancelled)
        self._last_gc: dict[Path, float] = {}

    # -- limits -------------------------------------------------------------------------------------------

    def set_limit(self, extension_name: str, limit: int) -> None:
        """At most `limit` (≥ 1) concurrent processes of this extension; raising it admits waiting runs."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self._loop_lock:
            self._limits[extension_name] = limit
            loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._apply_limit, extension_name, limit)

    def _apply_limit(self, extension_name: str, limit: int) -> None:
        gate = self._gates.get(extension_name)
        if gate is not None:
            gate.limit = limit
            gate.wake()

    def limit(self, extension_name: str) -> int:
        return self._limits.get(extension_name, self.default_limit)

    # -- running ------------------------------------------------------------------------------------------

    async def run(
        self,
        *,
        extension_name: str,
        entry: EntryPoint,
        action: str,
        payload: Mapping[str, Any],
        timeout: int,
        kill_after: float | None = None,
    ) -> RunResult:
        """Run `entry action payload_file timeout` and wait for it (queueing first if the extension is busy).

        `timeout`: whole seconds, passed as argv[3] and, unless `kill_after` (seconds) is given, the deadline
        after which the process group is killed. Cancelling the call kills the process group. Never raises
        for anything the executable does; raises OSError when the payload cannot be written.
        """
        coro = self._run(extension_name, entry, action, payload, timeout, kill_after)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._home_loop()))

    def run_blocking(
        self,
        *,
        extension_name: str,
        entry: EntryPoint,
        action: str,
        payload: Mapping[str, Any],
        timeout: int,
        kill_after: float | None = None,
    ) -> RunResult:
        """`run` for worker threads. Raises RuntimeError when called from a thread running an event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop in this thread: blocking is fine
        else:
            raise RuntimeError("run_blocking called from an event loop; await run() instead")
        coro = self._run(extension_name, entry, action, payload, timeout, kill_after)
        return asyncio.run_coroutine_threadsafe(coro, self._home_loop()).result()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what is still running (killing those process groups) and stop the runner's thread."""
        with self._loop_lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(timeout / 2), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()
        self._gates.clear()

    async def _shutdown(self, grace: float) -> None:
        current = asyncio.current_task()
        # A start under way is not cancelled (asyncio would kill only the leader and wait for a pipe a child
        # still holds): the cancelled run takes the group down once its start completes (_kill_spawned).
        tasks = [task for task in asyncio.all_tasks() if task is not current and task not in self._spawns]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._spawns:
            await asyncio.wait(list(self._spawns), timeout=grace)
        if self._stopping:  # let the killed leaders be reaped so their transports close cleanly
            await asyncio.wait(list(self._stopping), timeout=grace)

    def _kill_spawned(self, spawn: asyncio.Future[tuple[asyncio.SubprocessTransport, _Collector]]) -> None:
        if not spawn.cancelled() and spawn.exception() is None:
            self._stop(*spawn.result())

    def _stop(self, transport: asyncio.SubprocessTransport, proto: _Collector) -> None:
        """Kill the process group; close the transport once the leader is reaped (closing earlier races
        asyncio's child watcher)."""
        _kill_group(transport.get_pid())
        self._stopping.add(proto.exited)

        def reaped(done: asyncio.Future[None]) -> None:
            self._stopping.discard(done)
            transport.close()

        proto.exited.add_done_callback(reaped)

    def _home_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="extension-runner", daemon=True)
                self._thread.start()
            return self._loop

    @contextlib.contextmanager
    def admitted(self, extension_name: str) -> Iterator[None]:
        """Hold one of the extension's process slots while the block runs (blocking: for worker threads
        that start a process themselves, see `switchboard.extensions.durable`). Waits in line like `run`;
        raises OperationFailed when the runner closes meanwhile (nothing was started)."""
        loop = self._home_loop()
        try:
            gate = asyncio.run_coroutine_threadsafe(self._enter(extension_name), loop).result()
        except concurrent.futures.CancelledError:
            raise OperationFailed("the management server stopped before the extension could be run") from None
        try:
            yield
        finally:
            with contextlib.suppress(RuntimeError):  # the runner closed meanwhile: nobody waits any more
                loop.call_soon_threadsafe(gate.leave)

    async def _enter(self, extension_name: str) -> _Gate:
        gate = self._gate(extension_name)
        await gate.__aenter__()
        return gate

    def _gate(self, extension_name: str) -> _Gate:
        gate = self._gates.get(extension_name)
        if gate is None:
            gate = self._gates[extension_name] = _Gate(self.limit(extension_name))
        return gate

    async def _run(
        self,
        extension_name: str,
        entry: EntryPoint,
        action: str,
        payload: Mapping[str, Any],
        timeout: int,
        kill_after: float | None,
    ) -> RunResult:
        async with self._gate(extension_name):
            prepared = self.prepare(extension_name, entry, action, payload)
            if isinstance(prepared, RunResult):
                return prepared
            executable, payload_file = prepared
            try:
                return await self._execute(executable, entry.directory, action, payload_file, timeout, kill_after)
            finally:
                if action in _REMOVED_AT_ONCE:
                    with contextlib.suppress(FileNotFoundError):
                        payload_file.unlink()

    async def _execute(
        self,
        executable: Path,
        directory: Path,
        action: str,
        payload_file: Path,
        timeout: int,
        kill_after: float | None,
    ) -> RunResult:
        argv = [str(executable), action, str(payload_file), str(int(timeout))]
        if self.interpreter:
            argv.insert(0, self.interpreter)
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        spawn = asyncio.ensure_future(
            loop.subprocess_exec(
                lambda: _Collector(loop, self.output_limit),
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.child_env(directory),
                cwd=str(directory),
                start_new_session=True,
                close_fds=True,
            )
        )
        self._spawns.add(spawn)
        spawn.add_done_callback(self._spawns.discard)
        try:
            # Shielded: cancelled mid-spawn, asyncio would kill only the leader and then wait for the pipe,
            # which a child still holds. Let the spawn finish and take the whole group down instead.
            transport, proto = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            spawn.add_done_callback(self._kill_spawned)
            raise
        except OSError as exc:  # e.g. a bad interpreter line (ENOEXEC / ENOENT)
            details = f"Exit code: 127, Output: cannot execute {executable.name}: {exc.strerror}"
            return RunResult(success=False, exit_code=127, details=details, output="", payload_file=payload_file)
        deadline = float(timeout) if kill_after is None else kill_after
        timed_out = False
        try:
            try:
                await asyncio.wait_for(asyncio.shield(proto.exited), timeout=max(deadline, 0.0))
            except TimeoutError:
                timed_out = True
                _kill_group(transport.get_pid())
                await proto.exited
            # The leader is gone; a daemonised child may still hold the pipe open: do not wait for it long.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(proto.closed), timeout=_EOF_GRACE)
            code = transport.get_returncode()
        finally:
            if proto.exited.done():
                transport.close()
            else:  # cancelled while running: take the whole group down with us
                self._stop(transport, proto)
        duration = time.monotonic() - started
        # Never the payload or the output here: both may hold secrets.
        log.debug("extension run %s %s: exit=%s timed_out=%s %.3f s", executable, action, code, timed_out, duration)
        # Like Java's Process.exitValue(): a process killed by signal N reports 128 + N.
        code = None if timed_out else (-1 if code is None else (128 - code if code < 0 else code))
        return run_result(code, proto.sink, duration=duration, payload_file=payload_file)

    def child_env(self, extension_dir: Path) -> dict[str, str]:
        """The complete environment of an extension process (see the module docstring)."""
        env = {
            "PATH": CHILD_PATH,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(extension_dir),
            "TMPDIR": "/tmp",
        }
        env.update(self.extra_env)
        return env

    def prepare(self, extension_name: str, entry: EntryPoint, action: str,
                payload: Mapping[str, Any]) -> tuple[Path, Path] | RunResult:
        """Validate the entry point and write the payload file: (the executable's real path, the payload
        file), or the failed result of a run that cannot start (CloudStack's entry-point texts, or
        "Unable to write the payload file: …")."""
        try:
            executable = entry.validate()
        except EntryPointError as exc:
            log.warning("extension %s: %s", extension_name, exc.reason)
            return RunResult(success=False, exit_code=None, details=str(exc), output="")
        try:
            return executable, self._write_payload(extension_name, payload)
        except OSError as exc:  # e.g. a full disk: the run cannot happen, and says why
            reason = exc.strerror or str(exc)
            log.warning("extension %s: cannot write the payload file for %s: %s", extension_name, action, reason)
            return RunResult(success=False, exit_code=None, details=f"Unable to write the payload file: {reason}",
                             output="")

    # -- payload files ------------------------------------------------------------------------------------

    def _write_payload(self, extension_name: str, payload: Mapping[str, Any]) -> Path:
        directory = self.roots.payload_dir(extension_name)
        existed = directory.is_dir()
        if not existed:
            _private_dir(self.roots.payloads)
            _private_dir(directory)
        path = directory / f"{uuid.uuid4()}.json"
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:  # the directory was removed meanwhile (deleteExtension cleanup=true)
            _private_dir(self.roots.payloads)
            _private_dir(directory)
            existed = False
            fd = os.open(path, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()  # no half-written payload is left behind
            raise
        if existed:
            self._schedule_gc(directory)
        return path

    def _schedule_gc(self, directory: Path) -> None:
        now = time.monotonic()
        if now - self._last_gc.get(directory, -_GC_INTERVAL) < _GC_INTERVAL:
            return
        self._last_gc[directory] = now
        loop = self._home_loop()  # payloads are also written from worker threads (durable runs)

        def sweep() -> None:
            task = loop.run_in_executor(None, collect_old_payloads, directory, _PAYLOAD_MAX_AGE, _GC_BUDGET)
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        loop.call_soon_threadsafe(sweep)


def run_result(exit_code: int | None, sink: CappedOutput, *, duration: float = 0.0,
               payload_file: Path | None = None) -> RunResult:
    """The result of a run that ended with `exit_code` (None: killed at its timeout) and wrote `sink`."""
    output = sink.text()
    if exit_code is None:
        return RunResult(success=False, exit_code=None, details="Timeout", output=output, timed_out=True,
                         truncated=sink.truncated, duration=duration, payload_file=payload_file)
    details = output if exit_code == 0 else f"Exit code: {exit_code}, Output: {output}"
    return RunResult(success=exit_code == 0, exit_code=exit_code, details=details, output=output,
                     truncated=sink.truncated, duration=duration, payload_file=payload_file)


def collect_old_payloads(directory: Path, max_age: float, budget: float) -> int:
    """Delete `*.json` payload files older than `max_age` seconds; stop after `budget` seconds.

    Returns the number of files deleted. Errors on single files are ignored (another server may race us).
    """
    started = time.monotonic()
    cutoff = time.time() - max_age
    deleted = 0
    try:
        entries = os.scandir(directory)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if time.monotonic() - started > budget:
                log.info("payload cleanup of %s stopped after %.1f s", directory, budget)
                break
            if not entry.name.endswith(".json"):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    deleted += 1
    return deleted


class CappedOutput:
    """Keeps the first `limit` bytes of a stream, counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    @classmethod
    def of(cls, kept: bytes, dropped: int) -> CappedOutput:
        """Output already cut: the bytes kept and how many more were written."""
        sink = cls(max(len(kept), 1))
        sink.kept += kept
        sink.dropped = dropped
        return sink

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        # Java reads lines and joins them with "\n", then trim(): normalise line ends the same way. NUL cannot
        # be stored in PostgreSQL text columns, so it goes.
        text = self.kept.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\x00", "").strip()
        if self.truncated:
            text = f"{text}\n{TRUNCATION_MARKER.format(dropped=self.dropped)}"
        return text


class _Collector(asyncio.SubprocessProtocol):
    """Collects the merged output and tells apart "the process exited" from "the pipe closed".

    (asyncio's Process.wait() waits for both, so a daemonised child holding stdout would stall it.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.sink = CappedOutput(limit)
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.sink.feed(data if isinstance(data, bytes) else data.encode())

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


def _kill_group(pid: int) -> None:
    # start_new_session made the child a session and group leader: its pgid is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
