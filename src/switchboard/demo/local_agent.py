"""The demo's host agent: one `switchboard agent serve` process on loopback that runs the demo's microVMs.

Everything lives under `<data dir>/demo/agent/`: the config (`agent.json`, 0600), certificates made with
`init-tls` (`tls/` for the agent, `ca/` for the CA and the management server's client certificate), the
template files (`kernel/`, `images/`), and the agent's state, run, log and volume directories. The agent
serves HTTPS on 127.0.0.1 and accepts only the demo's client certificate (mTLS, its fingerprint on the
allow-list; no PAM user is made), runs guests with the `qemu` driver (KVM when usable, TCG otherwise),
gives them no host network (`none`) and keeps their disks as files.

`claim` takes a lock on the directory, so that of several servers sharing a data directory one runs the
agent. `start` (re)starts the process (one left over by a server that died is stopped first); `stop` shuts
the guests down gracefully (they boot again with the next start, as after a host reboot), stops the agent
and the private tmux server that held the VMMs, so nothing of the demo runs once the server has stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from switchboard.agent.pki import init_tls
from switchboard.demo.guest import GuestArtifacts

__all__ = ["CLIENT", "IMAGE", "INITRD", "KERNEL", "LocalAgent", "LocalAgentError"]

log = logging.getLogger(__name__)

CLIENT = "switchboard-demo"  # the management server's client certificate
KERNEL, INITRD, IMAGE = "vmlinux", "initrd.img", "demo-guest.ext4"
_START_TIMEOUT = 60.0
_SHUTDOWN_TIMEOUT = 90.0


class LocalAgentError(RuntimeError):
    """The agent could not be set up or started; the message says why."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size == source.stat().st_size \
            and target.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


class LocalAgent:
    """The demo agent rooted at `root` (`<data dir>/demo/agent`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config_path = root / "agent.json"
        self.pid_path = root / "agent.pid"
        self.log_path = root / "agent.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: int | None = None

    def claim(self) -> bool:
        """Take the directory's lock (held until `stop`); False when another server holds it."""
        if self._lock is not None:
            return True
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.root / "agent.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock = fd
        return True

    # -- setup ------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the agent was set up here (its config exists)."""
        return self.config_path.is_file()

    @property
    def port(self) -> int:
        return int(json.loads(self.config_path.read_text())["bind_port"])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client_files(self) -> tuple[Path, Path, Path]:
        """(CA certificate, client certificate, client key) the management server connects with."""
        ca = self.root / "ca"
        return self.root / "tls" / "ca.crt", ca / f"client-{CLIENT}.crt", ca / f"client-{CLIENT}.key"

    def host_details(self) -> dict[str, str]:
        """The demo host's details for the Firecracker extension (docs/operator-guide.md §3)."""
        ca, cert, key = self.client_files()
        return {"url": "https://127.0.0.1", "port": str(self.port), "ca_bundle": str(ca), "client_cert": str(cert),
                "client_key": str(key)}

    def prepare(self, guest: GuestArtifacts) -> None:
        """Certificates, template files and config (kept across restarts: the port stays the same)."""
        port = self.port if self.exists() else _free_port()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        issued = init_tls(self.root / "tls", ca_dir=self.root / "ca", hostnames=["localhost"],
                          addresses=["127.0.0.1"], clients=[CLIENT], organisation="Switchboard demo")
        _copy_if_changed(guest.kernel, self.root / "kernel" / KERNEL)
        _copy_if_changed(guest.initrd, self.root / "kernel" / INITRD)
        _copy_if_changed(guest.rootfs, self.root / "images" / IMAGE)
        host = {
            "vmm": "qemu", "qemu_accel": "auto",
            "kernel_dir": str(self.root / "kernel"), "image_dir": str(self.root / "images"),
            "state_dir": str(self.root / "state"), "run_dir": str(self.root / "run"),
            "log_dir": str(self.root / "log"), "stop_grace_seconds": 15, "reconcile_interval_seconds": 5,
        }
        config: dict[str, Any] = {
            "bind_host": "127.0.0.1", "bind_port": port,
            "defaults": {"host": host, "net": {"driver": "none"},
                         "storage": {"driver": "file", "volume_dir": str(self.root / "volumes")},
                         "console": {"bind_host": "127.0.0.1"}},
            "security": {"tls": {
                "enabled": True, "cert_file": str(issued.server_cert), "key_file": str(issued.server_key),
                "ca_file": str(issued.ca_cert), "client_auth": "required", "allowed_clients": issued.fingerprints(),
            }},
            "auth": {"enabled": False},
            "logging": {"level": "INFO"},
        }
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(config, out, indent=1)

    # -- running ----------------------------------------------------------------------------------------

    def _client(self, timeout: float) -> httpx.Client:
        ca, cert, key = self.client_files()
        context = ssl.create_default_context(cafile=str(ca))
        context.load_cert_chain(str(cert), str(key))
        return httpx.Client(base_url=self.url, verify=context, timeout=timeout)

    def healthy(self) -> bool:
        try:
            with self._client(5) as client:
                return client.get("/v1/health").status_code == 200
        except (httpx.HTTPError, OSError, ssl.SSLError):
            return False

    def start(self) -> None:
        """Start the agent and wait until it answers; raises LocalAgentError with the reason otherwise."""
        self._stop_leftover()
        argv = [sys.executable, "-m", "switchboard.agent.cli", "serve", "--config", str(self.config_path)]
        with self.log_path.open("ab") as out:
            # Its own session: Ctrl-C in the terminal reaches the server, which then stops the agent in order.
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, close_fds=True)
        self.pid_path.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + _START_TIMEOUT
        while not self.healthy():
            if self.process.poll() is not None:
                raise LocalAgentError(f"the agent exited with status {self.process.returncode}: {self._last_log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise LocalAgentError(f"the agent did not answer within {_START_TIMEOUT:.0f} s: {self._last_log()}")
            time.sleep(0.2)
        log.info("demo agent up at %s (pid %d)", self.url, self.process.pid)

    def stop(self) -> None:
        """Shut the guests down gracefully, stop the agent and the VMMs' tmux server, release the lock.
        Does nothing unless this process holds the lock. Never raises."""
        if self._lock is None:
            return
        pid = self._pid()
        if pid is not None and self.exists():
            try:
                with self._client(_SHUTDOWN_TIMEOUT) as client:
                    stopped = client.post("/v1/graceful-shutdown").json().get("stopped") or []
                if stopped:
                    log.info("demo agent: shut down %s (they boot again with the next start)", ", ".join(stopped))
            except (httpx.HTTPError, OSError, ssl.SSLError, ValueError) as exc:
                log.warning("demo agent: graceful shutdown failed: %s", exc)
            self._terminate(pid)
        tmux = self.root / "state" / "vmm" / "tmux" / "server.sock"
        if tmux.exists():
            subprocess.run(["tmux", "-S", str(tmux), "kill-server"], capture_output=True, check=False)
        self.pid_path.unlink(missing_ok=True)
        self.process = None
        os.close(self._lock)
        self._lock = None

    def _pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid if self.process.poll() is None else None
        try:
            pid = int(self.pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if str(self.config_path).encode() in cmdline else None  # ours, not a reused pid

    def _stop_leftover(self) -> None:
        """A previous server's agent still running (that server died): stop it, keeping its guests."""
        pid = self._pid()
        if pid is not None:
            log.info("demo agent: stopping the agent a previous server left running (pid %d)", pid)
            self._terminate(pid)

    def _terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return
            if self.process is None and not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def _last_log(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1][-300:] if lines else "no log"
