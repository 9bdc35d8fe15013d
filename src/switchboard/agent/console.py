"""VNC consoles: a real VNC server on a VM's serial console, wire-compatible with the original agent.

One console per VM is three processes in one process group, started by a small generated bash script:
`Xvfb` (a virtual X display, reachable only through its Unix socket and only with a random X cookie),
`xterm` running `tmux -S <private socket> attach -t <vm>` (`-r` read-only when configured), and `x11vnc`
serving that display with VNC authentication. When any of the three exits (the viewer left under
`once`, the VM's tmux session ended, a crash), the script kills the whole group, so nothing lingers.

Files, in `<run_dir>/<vm>/console/` (0700, removed on teardown):

    password      the 8-character VNC password, 0600 (VNC authentication uses exactly 8 characters)
    xauth         the X cookie that Xvfb and its clients share, 0600
    console.sh    the launcher script
    console.json  host, port, display, process group id and creation time of the running console

The password never leaves this directory except in the API reply; it is not logged and never appears on a
command line (`x11vnc -passwdfile`), so `ps` does not show it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shlex
import shutil
import signal
import socket
import string
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from switchboard.agent.config import ConsoleDefaults
from switchboard.agent.errors import Conflict, OperationFailed
from switchboard.agent.hostcmd import CommandFailed, SubprocessRunner

__all__ = ["ConsoleInfo", "ConsoleManager", "new_password"]

_log = logging.getLogger(__name__)
_PASSWORD_CHARS = string.ascii_letters + string.digits
# VNC authentication (RFB security type 2) DES-encrypts the challenge with at most 8 password bytes.
PASSWORD_LENGTH = 8
_FAMILY_WILD = 0xFFFF  # Xauthority family that matches any address


def new_password() -> str:
    """A random 8-character alphanumeric VNC password (about 47 bits)."""
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(PASSWORD_LENGTH))


@dataclass(frozen=True)
class ConsoleInfo:
    """A running console as recorded in console.json (the password is kept apart, in its own file)."""

    vm_name: str
    host: str
    port: int
    display: int
    pgid: int
    created_at: str


def _xauth_entry(display: int, cookie: bytes) -> bytes:
    """One Xauthority record (FamilyWild, any address) granting MIT-MAGIC-COOKIE-1 `cookie` on `display`."""

    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    return (
        struct.pack(">H", _FAMILY_WILD)
        + field(b"")
        + field(str(display).encode())
        + field(b"MIT-MAGIC-COOKIE-1")
        + field(cookie)
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` 0600 before any byte is written (no window in which it is readable by others)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class ConsoleManager:
    """Opens, reuses and closes VNC consoles for VMs whose VMM runs in a session on `tmux_socket`.

    `run_dir_of(name)` is the VM's run directory; the launcher is started through `runner`. Methods are
    safe to call from worker threads; the caller holds the VM's lock, and starts are serialised here (two
    consoles never pick one port). Raises Conflict (no port free) and OperationFailed (a tool is missing or
    the console did not come up)."""

    def __init__(
        self,
        config: ConsoleDefaults,
        *,
        tmux_socket: Path,
        run_dir_of: Callable[[str], Path],
        tmux: str = "tmux",
        runner: SubprocessRunner | None = None,
    ) -> None:
        self.config = config
        self.runner = runner or SubprocessRunner()
        self.tmux_socket = tmux_socket
        self.tmux = tmux
        self._run_dir_of = run_dir_of
        self._lock = threading.Lock()

    def directory(self, name: str) -> Path:
        return self._run_dir_of(name) / "console"

    # -- queries -------------------------------------------------------------------------------------

    def running(self, name: str) -> tuple[ConsoleInfo, str] | None:
        """The VM's live console and its password, or None (a dead console's files are removed)."""
        directory = self.directory(name)
        try:
            info = ConsoleInfo(**json.loads((directory / "console.json").read_text()))
            password = (directory / "password").read_text().strip()
        except (FileNotFoundError, ValueError, TypeError):
            return None
        if not _group_alive(info.pgid, directory):
            self._remove_files(directory)
            return None
        return info, password

    def names(self, run_root: Path) -> set[str]:
        """VM names under `run_root` that have console files (live or not), for the reconcile pass."""
        return {p.parent.parent.name for p in run_root.glob("*/console/console.json")}

    # -- open / close --------------------------------------------------------------------------------

    def open(self, name: str, *, session: str) -> tuple[ConsoleInfo, str]:
        """Return the VM's running console, or start one attached to tmux session `session`."""
        with self._lock:
            current = self.running(name)
            if current is not None:
                return current
            self.close(name)  # leftovers of a console that died half-way
            return self._start(name, session)

    def close(self, name: str) -> bool:
        """Stop the VM's console (the whole process group) and remove its files. True if one ran."""
        directory = self.directory(name)
        try:
            info = ConsoleInfo(**json.loads((directory / "console.json").read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            info = None
        was_running = info is not None and _group_alive(info.pgid, directory)
        if info is not None:
            _kill_group(info.pgid, directory)
            # Xvfb removes its socket and lock file on SIGTERM, not when it had to be SIGKILLed; a stale
            # socket would keep the port (= display number) out of use.
            Path(f"/tmp/.X11-unix/X{info.display}").unlink(missing_ok=True)
            Path(f"/tmp/.X{info.display}-lock").unlink(missing_ok=True)
        self._remove_files(directory)
        if was_running:
            _log.info("VNC console of %s stopped", name)
        return was_running

    @staticmethod
    def _remove_files(directory: Path) -> None:
        shutil.rmtree(directory, ignore_errors=True)

    def _start(self, name: str, session: str) -> tuple[ConsoleInfo, str]:
        tools = self._tools()
        directory = self.directory(name)
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.mkdir(mode=0o700, exist_ok=True)
        directory.chmod(0o700)
        port = self._free_port()
        display = port  # the display number follows the port: unique per console, no -displayfd dance
        password = new_password()
        _write_private(directory / "password", password.encode() + b"\n")
        _write_private(directory / "xauth", _xauth_entry(display, secrets.token_bytes(16)))
        script = directory / "console.sh"
        script.write_text(self._script(tools, directory, display, port, session))
        script.chmod(0o700)
        # The script leads its own process group (spawn starts a new session), which teardown kills whole,
        # and it survives an agent restart like the VMM sessions do.
        with open(directory / "console.log", "ab") as log:
            try:
                proc = self.runner.spawn(["/bin/bash", str(script)], output=log, env=self._env(directory))
            except CommandFailed as exc:
                raise OperationFailed(f"the VNC console of {name} could not be started: {exc}") from exc
        created = datetime.now(UTC).isoformat(timespec="seconds")
        info = ConsoleInfo(name, self.config.bind_host, port, display, proc.pid, created)
        (directory / "console.json").write_text(json.dumps(asdict(info)))
        if not self._wait_listening(proc, port):
            self.close(name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            raise OperationFailed(f"the VNC console of {name} did not start (see {directory}/console.log)")
        # Reap the script when it exits, so no zombie stays behind in the agent process.
        threading.Thread(target=proc.wait, name=f"console-{name}", daemon=True).start()
        _log.info("VNC console of %s listening on %s:%d", name, info.host, port)
        return info, password

    def _tools(self) -> dict[str, str]:
        tools = {}
        for key, binary in (("xvfb", self.config.xvfb_bin), ("xterm", self.config.xterm_bin),
                            ("x11vnc", self.config.x11vnc_bin), ("tmux", self.tmux)):  # fmt: skip
            found = shutil.which(binary)
            if found is None:
                raise OperationFailed(f"{binary} not found: install xvfb, xterm and x11vnc for VNC consoles")
            tools[key] = found
        return tools

    def _env(self, directory: Path) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=str(directory), XAUTHORITY=str(directory / "xauth"), TERM="xterm")
        return env

    def _script(self, tools: dict[str, str], directory: Path, display: int, port: int, session: str) -> str:
        q = shlex.quote
        cfg = self.config
        d = f":{display}"
        attach = [tools["tmux"], "-S", str(self.tmux_socket), "attach", *(["-r"] if cfg.read_only else []),
                  "-t", f"={session}"]  # fmt: skip
        # Besides -listen's address, x11vnc listens on IPv6 [::] and libvncserver on [::]:5900 unless told
        # not to (-noipv6 / -rfbportv6 -1): only the configured address may listen.
        if ":" in cfg.bind_host:
            listen = ["-6", "-listen6", cfg.bind_host, "-noipv4", "-rfbportv6", "-1"]
        else:
            listen = ["-listen", cfg.bind_host, "-noipv6", "-rfbportv6", "-1"]
        x11vnc = [tools["x11vnc"], "-display", d, "-rfbport", str(port), *listen,
                  "-passwdfile", str(directory / "password"), "-nopw", "-norc", "-noxdamage", "-nolookup",
                  "-shared", "-once" if cfg.once else "-forever", "-noremote", "-quiet"]  # fmt: skip
        if cfg.read_only:
            x11vnc.append("-viewonly")
        socket_path = f"/tmp/.X11-unix/X{display}"
        return (
            "#!/bin/bash\n"
            "# Generated by switchboard: one VNC console; when any part exits, the whole group goes.\n"
            f"{q(tools['xvfb'])} {d} -screen 0 {q(cfg.geometry)}x24 -nolisten tcp "
            f"-auth {q(str(directory / 'xauth'))} &\n"
            f"for _ in $(seq 200); do [ -S {q(socket_path)} ] && break; sleep 0.05; done\n"
            f"{q(tools['xterm'])} -display {d} -geometry 200x50+0+0 -fa Monospace -fs 10 -e "
            f"{' '.join(q(a) for a in attach)} &\n"
            f"{' '.join(q(a) for a in x11vnc)} &\n"
            "wait -n\n"
            "trap '' TERM\n"
            "kill -TERM 0\n"
        )

    def _free_port(self) -> int:
        """The first port in the configured range that no console uses and that can be bound now."""
        cfg = self.config
        family = socket.AF_INET6 if ":" in cfg.bind_host else socket.AF_INET
        for port in range(cfg.port_min, cfg.port_max + 1):
            if Path(f"/tmp/.X11-unix/X{port}").exists():
                continue  # the display number is taken
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind((cfg.bind_host, port))
                except OSError:
                    continue
            return port
        raise Conflict(f"no free VNC port in {cfg.port_min}-{cfg.port_max}")

    def _wait_listening(self, proc: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + self.config.start_timeout_seconds
        family = socket.AF_INET6 if ":" in self.config.bind_host else socket.AF_INET
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                # A connect that is accepted counts against `-once` only after authentication.
                if probe.connect_ex((self.config.bind_host, port)) == 0:
                    return True
            time.sleep(0.1)
        return False


def _group_alive(pgid: int, directory: Path) -> bool:
    """Whether a live process of group `pgid` belongs to the console in `directory` (its command line names
    the directory: the launcher, Xvfb and x11vnc do). Guards against a recycled process group id."""
    token = str(directory).encode()
    return any(token in cmdline for cmdline in _group_members(pgid))


def _kill_group(pgid: int, directory: Path, *, timeout: float = 5.0) -> None:
    """SIGTERM the console's process group, SIGKILL what is left after `timeout` seconds."""
    if not _group_alive(pgid, directory):
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _group_members(pgid):
            return


def _group_members(pgid: int) -> list[bytes]:
    """Command lines of the live (non-zombie) processes in process group `pgid` (one /proc scan)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rfind(b")") + 2 :].split()
            if fields[0] == b"Z" or int(fields[2]) != pgid:
                continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                members.append(fh.read())
        except (OSError, IndexError, ValueError):
            continue
    return members
