"""queryAsyncJobResult and listAsyncJobs over real, signed HTTP: CloudStack's field set (§7.2), who may
see which job, paging, and the errors for unknown or foreign jobs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cs import CloudStack

from tests.integration.jobs.conftest import JobsServer
from tests.support.eventually import eventually
from tests.support.fixtures import signed_get

pytestmark = pytest.mark.database

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
FINISHED_FIELDS = {
    "accountid", "account", "domainid", "domainpath", "userid", "cmd", "jobstatus", "jobprocstatus",
    "jobresultcode", "jobresulttype", "jobresult", "managementserverid", "managementservername", "created",
    "completed", "jobid",
}


def _until_done(client: CloudStack, job_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        result: dict[str, Any] = client.queryAsyncJobResult(jobid=job_id)
        return result if result["jobstatus"] != 0 else None

    return eventually(finished, what=f"job {job_id} to finish", timeout=30, interval=0.1)


@pytest.fixture
def env(jobs_server: JobsServer) -> JobsServer:
    return jobs_server


def test_a_job_reports_in_progress_then_its_result_in_cloudstacks_shape(env: JobsServer) -> None:
    submitted = env.admin.sbtSlowJob(seconds=60, release="api-release")
    assert set(submitted) == {"jobid"}
    job_id = submitted["jobid"]
    eventually(lambda: env.started(job_id), what="the job to start", timeout=60)
    running = env.admin.queryAsyncJobResult(jobid=job_id)
    assert running["jobstatus"] == 0 and running["jobresultcode"] == 0
    assert not {"jobresult", "jobresulttype", "completed"} & set(running)

    (env.traces / "api-release").touch()
    done = _until_done(env.admin, job_id)
    assert set(done) == FINISHED_FIELDS
    assert done["jobstatus"] == 1 and done["jobresultcode"] == 0 and done["jobresulttype"] == "object"
    assert done["jobresult"] == {"sbtslow": {"label": "only", "job": job_id}}
    assert done["cmd"] == "sbtSlowJob" and done["jobid"] == job_id
    assert DATE.match(done["created"]) and DATE.match(done["completed"])
    [account] = env.admin.listAccounts(name="admin")["account"]
    assert (done["accountid"], done["account"], done["domainid"]) == (account["id"], "admin", account["domainid"])
    assert done["domainpath"] == "ROOT"
    [user] = env.admin.listUsers(username="admin")["user"]
    assert done["userid"] == user["id"]


def test_users_see_their_own_jobs_and_admins_see_all_with_listall(env: JobsServer) -> None:
    (env.traces / "api-release").touch()
    mine = env.user.sbtSlowJob(seconds=60, release="api-release")["jobid"]
    admins = env.admin.sbtSlowJob(seconds=60, release="api-release")["jobid"]
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


def test_an_unknown_job_is_a_parameter_error(env: JobsServer) -> None:
    unknown = "7f0c1a52-0a51-4f39-9d43-3c3d3d2b7e10"
    reply = signed_get(env.server, {"command": "queryAsyncJobResult", "jobid": unknown}, env.admin_keys)
    assert reply.status_code == 431
    body = reply.json()["queryasyncjobresultresponse"]
    assert body["errorcode"] == 431 and unknown in body["errortext"]
    missing = signed_get(env.server, {"command": "queryAsyncJobResult"}, env.admin_keys)
    assert missing.status_code == 431 and "jobid" in missing.json()["queryasyncjobresultresponse"]["errortext"]
