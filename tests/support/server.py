"""Run a real management server process for tests: its own data dir, a free port, real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.eventually import eventually

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def switchboard_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "switchboard.cli", *args]


@dataclass
class ServerProcess:
    """A `switchboard serve` child process. `url` is the API endpoint /client/api."""

    data_dir: Path
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    serve_args: list[str] = field(default_factory=list)  # extra flags for `switchboard serve`
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/client/api"

    def db_args(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{self.port}.log"
        log = self.log_path.open("ab")
        # Test servers start with an empty cloud; a test that wants the demo cloud passes SWITCHBOARD_DEMO=1.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "SWITCHBOARD_DEMO": "0", **self.env}
        self.process = subprocess.Popen(
            switchboard_cmd("serve", "--port", str(self.port), *self.db_args(), *self.serve_args),
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True,
        )
        process = self.process

        def answering() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{self.log()}")
            httpx.get(self.url, params={"command": "listApis"}, timeout=1.0)
            return True

        try:
            eventually(answering, what=f"the server on port {self.port} to answer", timeout=timeout, interval=0.1,
                       ignore=httpx.TransportError)
        except pytest.fail.Exception:
            self.stop()
            raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}") from None
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        self.stop(signal.SIGKILL)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a `switchboard` CLI command against this server's database."""
        return subprocess.run(
            switchboard_cmd(*args, *self.db_args()), capture_output=True, text=True, check=check, cwd=REPO,
            env={**os.environ, **self.env},
        )
