"""The agent as a real process (`python -m switchboard.agent.cli serve`), for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from agentcore.harness import Pki, client, free_port


class AgentProcess:
    """Starts, kills and restarts one agent process on a fixed port with one config file."""

    def __init__(self, root: Path, pki: Pki, config: dict[str, Any]) -> None:
        self.root = root
        self.pki = pki
        self.port = free_port()
        config = {**config, "bind_host": "127.0.0.1", "bind_port": self.port}
        self.config_path = root / "agent.json"
        self.config_path.write_text(json.dumps(config, indent=1))
        self.log_path = root / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"https://localhost:{self.port}"

    def start(self, timeout: float = 30) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.agent.cli", "serve", "--config", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        with client(self.url, self.pki, auth=None, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"agent exited with {self.proc.returncode}: {self.log()}")
                try:
                    if http.get("/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    time.sleep(0.1)
        raise RuntimeError(f"agent did not come up: {self.log()}")

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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
