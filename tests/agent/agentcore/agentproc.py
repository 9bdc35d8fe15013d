"""The agent as a real process (`python -m switchboard.agent.cli serve`), for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from tests.support.eventually import eventually

from agentcore.harness import Pki, client, free_port


class AgentProcess:
    """Starts, kills and restarts one agent process on a fixed port with one config file."""

    def __init__(
        self, root: Path, pki: Pki, config: dict[str, Any], *, bind_host: str = "127.0.0.1", args: tuple[str, ...] = ()
    ) -> None:
        self.root = root
        self.pki = pki
        self.port = free_port()
        self.args = args
        config = {**config, "bind_host": bind_host, "bind_port": self.port}
        self.config_path = root / "agent.json"
        self.config_path.write_text(json.dumps(config, indent=1))
        self.log_path = root / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"https://localhost:{self.port}"

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process without waiting for it to serve."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "switchboard.agent.cli", "serve", "--config", str(self.config_path),
                 *self.args],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self.proc

    def start(self, timeout: float = 30) -> None:
        proc = self.launch()
        with client(self.url, self.pki, auth=None, timeout=2) as http:

            def serving() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"agent exited with {proc.returncode}: {self.log()}")
                return http.get("/healthz").status_code == 200

            eventually(serving, what=f"the agent to serve /healthz ({self.log_path})", timeout=timeout,
                       interval=0.1, ignore=httpx.HTTPError)

    def kill(self) -> None:
        """SIGKILL, as a crash or OOM kill would."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def sighup(self) -> None:
        assert self.proc is not None and self.proc.poll() is None
        os.kill(self.proc.pid, signal.SIGHUP)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
