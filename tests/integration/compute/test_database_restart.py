"""The PostgreSQL server goes away under a running management server and comes back: meanwhile requests are
answered with a clear error, a stop that ended meanwhile waits and is recorded once the database is back;
afterwards everything works again, without a restart of the management server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from cs import CloudStackApiException
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import build_bed, ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import REPO, free_port

pytestmark = pytest.mark.root  # a PostgreSQL server of its own, run as the postgres user

UNAVAILABLE = ("The request was not carried out: the database is unavailable; nothing was recorded "
               "(retry in a moment)")


def pg(action: str, directory: Path, *args: str) -> str:
    if not shutil.which("su") or not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.fail("needs the PostgreSQL server (apt package postgresql; scripts/ci-deps.sh installs it)")
    done = subprocess.run(["bash", str(REPO / "scripts" / "pg.sh"), action, str(directory), *args],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_database_server_that_goes_away_and_comes_back(tmp_path: Path) -> None:
    # Not under tmp_path: the postgres user must reach it, and pytest's directories are private to root.
    directory, port = Path(tempfile.mkdtemp(prefix="sbt-pg-")), str(free_port())
    admin_url = pg("start", directory, port)
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text('CREATE DATABASE "sbt_restart"'))
        engine.dispose()
        url = make_url(admin_url).set(database="sbt_restart").render_as_string(hide_password=False)
        with start_server(tmp_path, env=ENV, database_url=url) as server:
            admin = cs_client(server, api_keys_of(server))
            bed = build_bed(server, admin, requires_prepare=False)
            vm = ok(admin, bed.deploy(name=unique("restart")))
            bed.behave(stop={"sleep": 2})
            stopping = admin.stopVirtualMachine(id=vm["id"])
            bed.wait_for_action(vm["id"], "stop")

            pg("stop", directory)  # while the extension runs
            with pytest.raises(CloudStackApiException) as refused:
                admin.listZones()
            assert refused.value.error["errorcode"] == 530
            assert refused.value.error["errortext"] == UNAVAILABLE
            # The stop ends while the database is away: its outcome waits to be recorded.
            eventually(lambda: f"could not record the stop of instance {vm['id']}" in server.log(),
                       what="the stop's outcome to wait for the database")

            pg("start", directory, port)
            job = wait_job(admin, stopping["jobid"], timeout=60)
            assert job["jobstatus"] == 1, job
            assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Stopped"
            assert bed.actions_for(vm["id"]) == ["create", "stop"]
            assert ok(admin, admin.startVirtualMachine(id=vm["id"]))["state"] == "Running"
            log = server.log()
            assert "the database is unavailable" in log and "recorded the stop of instance" in log
            assert "Traceback" not in log  # an operational condition, reported in lines, not as a crash
    finally:
        pg("stop", directory)
        shutil.rmtree(directory, ignore_errors=True)
