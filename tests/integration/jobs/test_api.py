"""queryAsyncJobResult and listAsyncJobs over real, signed HTTP: CloudStack's field set (§7.2), who may
see which job, paging, and the errors for unknown or foreign jobs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.integration.jobs.test_recovery import _env
from tests.support.fixtures import api_keys_of, cs_client, signed_get, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
FINISHED_FIELDS = {
    "accountid", "account", "domainid", "domainpath", "userid", "cmd", "jobstatus", "jobprocstatus",
    "jobresultcode", "jobresulttype", "jobresult", "managementserverid", "managementservername", "created",
    "completed", "jobid",
}


class Env:
    def __init__(self, server: ServerProcess, traces: Path, admin_keys: dict[str, str],
                 user_keys: dict[str, str]) -> None:
        self.server = server
        self.traces = traces
        self.admin_keys = admin_keys
        self.user_keys = user_keys
        self.admin = cs_client(server, admin_keys, poll_interval=0.2)
        self.user = cs_client(server, user_keys, poll_interval=0.2)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("jobs-api")
    traces = base / "traces"
    traces.mkdir()
    with start_server(base, env=_env(traces, "api")) as server:
        admin_keys = api_keys_of(server)
        admin = cs_client(server, admin_keys)
        account = admin.createAccount(username="sbtjobuser", password="sbt-user-password", email="u@example.com",
                                      firstname="Job", lastname="User", accounttype=0)["account"]
        keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        yield Env(server, traces, admin_keys, {"apikey": keys["apikey"], "secretkey": keys["secretkey"]})


def _until_done(client: CloudStack, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (result := client.queryAsyncJobResult(jobid=job_id))["jobstatus"] == 0:
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} did not finish")
        time.sleep(0.1)
    return dict(result)


def test_a_job_reports_in_progress_then_its_result_in_cloudstacks_shape(env: Env) -> None:
    submitted = env.admin.sbtSlowJob(seconds=60)
    assert set(submitted) == {"jobid"}
    job_id = submitted["jobid"]
    deadline = time.monotonic() + 30
    while not list(env.traces.glob(f"{job_id}.started.*")):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    running = env.admin.queryAsyncJobResult(jobid=job_id)
    assert running["jobstatus"] == 0 and running["jobresultcode"] == 0
    assert not {"jobresult", "jobresulttype", "completed"} & set(running)

    (env.traces / "release").touch()
    done = _until_done(env.admin, job_id)
    assert set(done) == FINISHED_FIELDS
    assert done["jobstatus"] == 1 and done["jobresultcode"] == 0 and done["jobresulttype"] == "object"
    assert done["jobresult"] == {"sbtslow": {"label": "api", "job": job_id}}
    assert done["cmd"] == "sbtSlowJob" and done["jobid"] == job_id
    assert DATE.match(done["created"]) and DATE.match(done["completed"])
    [account] = env.admin.listAccounts(name="admin")["account"]
    assert (done["accountid"], done["account"], done["domainid"]) == (account["id"], "admin", account["domainid"])
    assert done["domainpath"] == "ROOT"
    [user] = env.admin.listUsers(username="admin")["user"]
    assert done["userid"] == user["id"]


def test_users_see_their_own_jobs_and_admins_see_all_with_listall(env: Env) -> None:
    (env.traces / "release").touch()
    mine = env.user.sbtSlowJob(seconds=60)["jobid"]
    admins = env.admin.sbtSlowJob(seconds=60)["jobid"]
    assert _until_done(env.user, mine)["account"] == "sbtjobuser"
    _until_done(env.admin, admins)

    user_view = env.user.listAsyncJobs(listall=True)
    assert [job["jobid"] for job in user_view["asyncjobs"]] == [mine]
    assert user_view["count"] == 1
    own = [job["jobid"] for job in env.admin.listAsyncJobs()["asyncjobs"]]
    assert admins in own and mine not in own
    everything = env.admin.listAsyncJobs(listall=True)
    assert [job["jobid"] for job in everything["asyncjobs"]][:2] == [admins, mine]  # newest first
    page = env.admin.listAsyncJobs(listall=True, page=2, pagesize=1)
    assert page["count"] == everything["count"] and [job["jobid"] for job in page["asyncjobs"]] == [mine]
    assert [job["jobid"] for job in env.admin.listAsyncJobs(listall=True, account="sbtjobuser")["asyncjobs"]] \
        == [mine]

    foreign = signed_get(env.server, {"command": "queryAsyncJobResult", "jobid": admins}, env.user_keys)
    assert foreign.status_code == 531
    assert foreign.json()["queryasyncjobresultresponse"]["errorcode"] == 531


def test_an_unknown_job_is_a_parameter_error(env: Env) -> None:
    unknown = "7f0c1a52-0a51-4f39-9d43-3c3d3d2b7e10"
    reply = signed_get(env.server, {"command": "queryAsyncJobResult", "jobid": unknown}, env.admin_keys)
    assert reply.status_code == 431
    body = reply.json()["queryasyncjobresultresponse"]
    assert body["errorcode"] == 431 and unknown in body["errortext"]
    missing = signed_get(env.server, {"command": "queryAsyncJobResult"}, env.admin_keys)
    assert missing.status_code == 431 and "jobid" in missing.json()["queryasyncjobresultresponse"]["errortext"]
