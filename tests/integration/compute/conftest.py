"""A server of the compute tests' own: the extension `wait` is 3 s (timeout tests), power sync runs only when
a test asks for it, extensions get one variable passed through and one added."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cs import CloudStack

from tests.integration.compute.env import Bed, build_bed
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

ENV = {"SWITCHBOARD_EXTENSION_WAIT": "3", "SWITCHBOARD_POWER_SYNC_INTERVAL": "3600", "SWITCHBOARD_JOB_WORKERS": "6",
       "SWITCHBOARD_ADMIN_PASSWORD": "sbt-compute-admin",
       # Passed on to extensions (the server has it), and added to their environment.
       "SBT_PASSED_THROUGH": "yes", "SWITCHBOARD_EXTENSION_ENV_PASSTHROUGH": "SBT_PASSED_THROUGH,SBT_NOT_SET",
       "SWITCHBOARD_EXTENSION_ENV": '{"PYTHONPATH": "/opt/sbt"}'}


@pytest.fixture(scope="package")
def compute_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory: Path = tmp_path_factory.mktemp("compute-server")
    with start_server(directory, env=ENV) as server:
        yield server


@pytest.fixture(scope="package")
def compute_admin(compute_server: ServerProcess) -> CloudStack:
    return cs_client(compute_server, api_keys_of(compute_server))


@pytest.fixture(scope="module")
def bed(compute_server: ServerProcess, compute_admin: CloudStack) -> Bed:
    return build_bed(compute_server, compute_admin)
