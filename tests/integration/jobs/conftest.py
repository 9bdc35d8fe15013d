"""One server for the job API tests and the kill/restart test: it loads the test-only handlers and has an
admin and a plain user with API keys. The kill test restarts it; later users find it up again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cs import CloudStack

from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

HANDLERS = "tests.integration.jobs.slow_handlers"


def jobs_env(traces: Path, label: str) -> dict[str, str]:
    """Environment of a server running the test handlers, with short heartbeats and polls."""
    return {
        "SWITCHBOARD_EXTRA_MODULES": HANDLERS,
        "SBT_JOBS_DIR": str(traces),
        "SBT_JOBS_LABEL": label,
        "SWITCHBOARD_JOB_WORKERS": "4",
        "SWITCHBOARD_JOB_POLL_INTERVAL": "0.2",
        "SWITCHBOARD_HEARTBEAT_INTERVAL": "0.5",
        "SWITCHBOARD_HEARTBEAT_TIMEOUT": "3",
    }


def server_name(server: ServerProcess) -> str:
    return f"{os.uname().nodename}:{server.port}"


def interrupted(name: str) -> str:
    return f"Job interrupted: management server {name} stopped while running it"


@dataclass
class JobsServer:
    server: ServerProcess
    traces: Path
    admin_keys: dict[str, str]
    user_keys: dict[str, str]
    admin: CloudStack = field(init=False)
    user: CloudStack = field(init=False)

    def __post_init__(self) -> None:
        self.admin = cs_client(self.server, self.admin_keys, poll_interval=0.2)
        self.user = cs_client(self.server, self.user_keys, poll_interval=0.2)

    def started(self, job_id: str) -> list[Path]:
        return list(self.traces.glob(f"{job_id}.started.*"))


@pytest.fixture(scope="package")
def jobs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobsServer]:
    base = tmp_path_factory.mktemp("jobs-server")
    traces = base / "traces"
    traces.mkdir()
    with start_server(base, env=jobs_env(traces, "only")) as server:
        admin_keys = api_keys_of(server)
        account = cs_client(server, admin_keys).createAccount(
            username="sbtjobuser", password="sbt-user-password", email="u@example.com", firstname="Job",
            lastname="User", accounttype=0)["account"]
        keys = cs_client(server, admin_keys).registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        yield JobsServer(server, traces, admin_keys, {"apikey": keys["apikey"], "secretkey": keys["secretkey"]})
