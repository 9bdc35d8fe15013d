"""Supervision of VMM processes on the agent's private tmux server.

Each VMM runs in its own tmux session on a server with its own socket (never the admin's default server)
started with `-f /dev/null`, so no user configuration applies. The session runs a small generated shell
script that

* writes the VMM's pid to a pid file (the VMM is `exec`'d, so the pid is the VMM's own),
* copies the VMM's stdout and stderr (the guest serial console) into the per-VM console log, appended
  across boots, and to the pane, so `tmux -S <socket> attach -t <vm>` still gives an interactive console,
* records the VMM's exit status in a status file when it exits.

The tmux server is a daemon of its own: sessions outlive the agent process, and a restarted agent finds them
through the pid files. Liveness checks read one pid file and one /proc entry; nothing scans the process
table.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from switchboard.agent.hostcmd import NOT_FOUND, TIMED_OUT, CommandResult, CommandRunner, SubprocessRunner
from switchboard.agent.vmm.base import VmmError

__all__ = ["SessionFiles", "TmuxError", "TmuxSupervisor", "pid_alive", "read_pid"]

# tmux target syntax gives ':' and '.' a meaning; VM names reaching here are validated already, this is
# the last line of defence before a name becomes a tmux target, a path or a Firecracker --id (which allows
# letters, digits and dashes, at most 64).
_SESSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


class TmuxError(VmmError):
    """tmux is missing or refused a command."""


class SessionFiles:
    """The files one supervised VMM uses: its wrapper script, pid file and exit-status file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.script = directory / "launch.sh"
        self.pid = directory / "vmm.pid"
        self.status = directory / "vmm.status"

    def clear(self) -> None:
        """Forget the previous run (pid and exit status)."""
        self.pid.unlink(missing_ok=True)
        self.status.unlink(missing_ok=True)
        self.status.with_suffix(".status.tmp").unlink(missing_ok=True)


def read_pid(pid_file: Path) -> int | None:
    """The pid in `pid_file`, or None when it is missing, empty or not a number."""
    try:
        text = pid_file.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def pid_alive(pid: int, token: str) -> bool:
    """Whether process `pid` exists, is not a zombie, and has `token` in its command line (one read).

    The token (a path or id unique to the VM) guards against a recycled pid; a zombie's cmdline is empty."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return token.encode() in cmdline


class TmuxSupervisor:
    """Starts, lists and stops VMM sessions on one private tmux server, through the agent's command runner.

    `socket` is the server's socket path (its directory is created 0700). Raises TmuxError when tmux is
    missing or fails; methods that stop things succeed when there is nothing to stop."""

    def __init__(self, socket: Path, *, tmux: str = "tmux", runner: CommandRunner | None = None) -> None:
        self.socket = socket
        self.tmux = tmux
        self.runner = runner or SubprocessRunner()
        self._start_lock = threading.Lock()
        socket.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- tmux commands -------------------------------------------------------------------------------

    def _tmux(self, *args: str, check: bool = True) -> CommandResult:
        # The agent's own TMUX variables (when it runs inside tmux) must not redirect these commands.
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        result = self.runner.run([self.tmux, "-S", str(self.socket), "-f", "/dev/null", *args], timeout=30, env=env)
        if result.returncode == NOT_FOUND and shutil.which(self.tmux) is None:
            raise TmuxError(f"{self.tmux} not found: install tmux")
        if result.returncode == TIMED_OUT:
            raise TmuxError(f"tmux {args[0]} timed out")
        if check and result.returncode != 0:
            raise TmuxError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result

    @staticmethod
    def check_name(session: str) -> str:
        """`session` if it is a safe tmux session name, else VmmError."""
        if not _SESSION_RE.match(session):
            raise VmmError(f"invalid VM name for a VMM session: {session!r}")
        return session

    def start(
        self,
        session: str,
        argv: Sequence[str],
        *,
        files: SessionFiles,
        console_log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Run `argv` in a new detached session named `session`, supervised as described above.

        Raises TmuxError when a session of that name exists or tmux fails."""
        self.check_name(session)
        if self.has_session(session):
            raise TmuxError(f"a VMM session for {session} exists already")
        files.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        files.clear()
        console_log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        console_log.touch(mode=0o600, exist_ok=True)
        console_log.chmod(0o600)  # guest output may hold secrets (passwords typed at a console)
        files.script.write_text(_wrapper_script(argv, files, console_log, env or {}, cwd))
        files.script.chmod(0o700)
        # -x/-y: a wide pane, so the guest's console lines are not wrapped for an attached operator.
        # The lock: when no server runs, concurrent new-session calls would each try to start one.
        with self._start_lock:
            self._tmux(
                "new-session", "-d", "-s", session, "-x", "200", "-y", "50", "/bin/sh", str(files.script),
                ";", "set-option", "-t", session, "status", "off",
            )  # fmt: skip

    def has_session(self, session: str) -> bool:
        """Whether a session named `session` exists (one tmux call)."""
        self.check_name(session)
        if not self.socket.exists():
            return False
        return self._tmux("has-session", "-t", f"={session}", check=False).returncode == 0

    def sessions(self) -> set[str]:
        """Names of all sessions on the private server (empty when the server is not running)."""
        if not self.socket.exists():
            return set()
        proc = self._tmux("list-sessions", "-F", "#{session_name}", check=False)
        if proc.returncode != 0:
            return set()  # "no server running": the socket is stale
        return {line for line in proc.stdout.splitlines() if line}

    def kill_session(self, session: str) -> None:
        """Remove the session (its processes get SIGHUP). No error when it does not exist."""
        self.check_name(session)
        if self.socket.exists():
            self._tmux("kill-session", "-t", f"={session}", check=False)

    def kill_server(self) -> None:
        """Stop the private server and every session on it (for tests and uninstall). No error when it is
        not running."""
        if self.socket.exists():
            self._tmux("kill-server", check=False)

    def send_keys(self, session: str, *keys: str) -> None:
        """Type `keys` (tmux key names, e.g. "reboot", "Enter") into the session's console."""
        self.check_name(session)
        self._tmux("send-keys", "-t", f"={session}:", *keys)

    # -- processes -----------------------------------------------------------------------------------

    @staticmethod
    def terminate(pid: int, token: str, *, timeout: float = 10.0) -> None:
        """SIGTERM the VMM, SIGKILL it after `timeout` seconds; return once it is gone."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            if not pid_alive(pid, token):
                return
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if wait_gone(pid, token, wait):
                return
        raise TmuxError(f"VMM process {pid} did not exit after SIGKILL")


def wait_gone(pid: int, token: str, timeout: float) -> bool:
    """Poll until process `pid` is gone (or a zombie); True if it went within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid, token):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _wrapper_script(
    argv: Sequence[str], files: SessionFiles, console_log: Path, env: Mapping[str, str], cwd: Path | None
) -> str:
    q = shlex.quote
    exports = "".join(f"export {k}={q(v)}\n" for k, v in env.items())
    cd = f"cd {q(str(cwd))}\n" if cwd else ""
    vmm = " ".join(q(a) for a in argv)
    status = q(str(files.status))
    # The inner `sh -c` writes its own pid and then becomes the VMM, so the pid file names the VMM.
    # The status is noted when the VMM exits but published only after `tee` has drained the pipe: once
    # the status file exists, the console log holds everything the VMM wrote.
    return (
        "#!/bin/sh\n"
        "# Generated by switchboard: runs one VMM, records its pid and exit status, keeps its console.\n"
        f"{exports}{cd}"
        f'{{ SB_PID_FILE={q(str(files.pid))} sh -c \'echo $$ > "$SB_PID_FILE"; exec "$@"\' switchboard-vmm {vmm}; '
        f"echo $? > {status}.tmp; }} 2>&1 | tee -a {q(str(console_log))}\n"
        f"mv {status}.tmp {status}\n"
    )
