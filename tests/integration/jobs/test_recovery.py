"""Real server processes: a server SIGKILLed mid-job fails that job on its next start (after the recovery
hook ran), and two servers on one database share a queue and take over each other's orphans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.jobs import AsyncJob, ManagementServer
from switchboard.jobs import JobSpec, JobStatus
from switchboard.jobs.repository import insert_job
from tests.integration.jobs.conftest import JobsServer, interrupted, jobs_env, server_name
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, fresh_database, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

def _queue(db: Database, handler: str, count: int, **args: Any) -> list[str]:
    with db.session() as session:
        uuids = [insert_job(session, JobSpec(command="sbtTest", handler=handler, args={**args, "n": n}),
                            now=utcnow()) for n in range(count)]
    return uuids


def _jobs(db: Database, uuids: list[str]) -> dict[str, AsyncJob]:
    with db.session() as session:
        return {job.uuid: job for job in session.execute(select(AsyncJob).where(AsyncJob.uuid.in_(uuids))).scalars()}


def _server_status(db: Database, server: ServerProcess) -> str:
    with db.session() as session:
        return session.execute(select(ManagementServer.status).where(ManagementServer.name == server_name(server))
                               ).scalar_one()


def test_a_server_killed_mid_job_fails_it_at_restart_and_runs_the_recovery_hook(jobs_server: JobsServer) -> None:
    server, traces, cs = jobs_server.server, jobs_server.traces, jobs_server.admin
    job_id = cs.sbtSlowJob(seconds=120, release="kill-release")["jobid"]
    eventually(lambda: jobs_server.started(job_id), what="the slow job to start", timeout=60)
    running = cs.queryAsyncJobResult(jobid=job_id)
    assert (running["jobstatus"], running["cmd"]) == (0, "sbtSlowJob")
    assert "jobresult" not in running and "completed" not in running

    server.kill()
    server.start()
    failed = eventually(lambda: (r := cs.queryAsyncJobResult(jobid=job_id))["jobstatus"] != 0 and r,
                        what="the interrupted job to fail", timeout=60)
    message = interrupted(server_name(server))
    assert failed["jobstatus"] == 2 and failed["jobresultcode"] == 530
    assert failed["jobresulttype"] == "object"
    assert failed["jobresult"] == {"uuidList": [], "errorcode": 530, "errortext": message}
    assert (traces / f"{job_id}.interrupted.only").read_text() == message
    assert failed["completed"] and failed["jobid"] == job_id
    assert failed["account"] == "admin" and failed["domainpath"] == "ROOT"

    # The restarted server runs new jobs normally.
    (traces / "kill-release").touch()
    assert cs.sbtSlowJob(seconds=60, release="kill-release", fetch_result=True)["sbtslow"]["label"] == "only"


def test_two_servers_share_one_queue_and_the_survivor_takes_over_the_dead_ones_jobs(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    # The servers share the database and the data directory (hence the key file and the API keys).
    with fresh_database(tmp_path) as url, \
            start_server(tmp_path / "shared", env=jobs_env(traces, "a"), database_url=url) as a, \
            start_server(tmp_path / "shared", env=jobs_env(traces, "b"), database_url=url) as b:
        db = Database.from_url(url)
        try:
            keys = api_keys_of(b)
            servers = {s["name"]: s["state"] for s in cs_client(a, keys).listManagementServers()["managementserver"]}
            assert servers == {server_name(a): "Up", server_name(b): "Up"}

            quick = _queue(db, "sbtQuick", 60)
            eventually(lambda: all(job.status == JobStatus.SUCCEEDED for job in _jobs(db, quick).values()),
                       what="every quick job to succeed", timeout=60)
            assert sorted(path.name for path in traces.glob("*.ran")) == sorted(f"{job}.ran" for job in quick)
            assert all(len((traces / f"{job}.ran").read_text().splitlines()) == 1 for job in quick)

            # Eight jobs that hold their worker: four workers each, so each server must run four of them.
            slow = _queue(db, "sbtSlow", 8)
            eventually(lambda: len(list(traces.glob("*.started.*"))) == 8, what="all slow jobs to start", timeout=60)
            on_a = {job for job in slow if (traces / f"{job}.started.a").exists()}
            assert len(on_a) == 4

            a.kill()
            eventually(lambda: all(_jobs(db, list(on_a))[job].status == JobStatus.FAILED for job in on_a),
                       what="the survivor to fail the dead server's jobs", timeout=60)
            jobs = _jobs(db, slow)
            for job in on_a:
                assert jobs[job].result == {"uuidList": [], "errorcode": 530, "errortext": interrupted(server_name(a))}
                assert (traces / f"{job}.interrupted.b").read_text() == interrupted(server_name(a))
            assert all(jobs[job].status == JobStatus.IN_PROGRESS for job in set(slow) - on_a)
            survivor = cs_client(b, keys)
            reported = survivor.queryAsyncJobResult(jobid=sorted(on_a)[0])
            assert (reported["jobstatus"], reported["managementservername"]) == (2, server_name(b))
            servers = {s["name"]: s["state"] for s in survivor.listManagementServers()["managementserver"]}
            assert servers == {server_name(a): "Down", server_name(b): "Up"}

            (traces / "release").touch()
            eventually(lambda: all(_jobs(db, list(set(slow) - on_a))[job].status == JobStatus.SUCCEEDED
                                   for job in set(slow) - on_a), what="the survivor's own jobs to finish", timeout=60)
            assert not list(traces.glob("*.interrupted.a"))
            assert b.process is not None and b.process.poll() is None

            # A clean stop marks the server Down; the killed one never said goodbye (its row still says Up).
            b.stop()
            assert _server_status(db, b) == "Down" and _server_status(db, a) == "Up"
        finally:
            db.dispose()
