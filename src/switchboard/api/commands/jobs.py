"""queryAsyncJobResult and listAsyncJobs: jobs in CloudStack's AsyncJobResponse shape (§7.2); and
listManagementServers, the servers that run them.

    jobstatus      0 pending or in progress, 1 succeeded, 2 failed, 3 cancelled
    jobresultcode  0, or the failure's error code (431, 530, ...)
    jobresult      {"<objectName>": {...}} on success,
                   {"uuidList": [], "errorcode": 530, "errortext": "..."} on failure
    cmd            the API command's name (CloudStack shows its Java class name there)
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from switchboard.api.call import Call
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import ListResponse, RawResponse, paginate
from switchboard.api.shapes import Field, Shape, T
from switchboard.caller import Caller
from switchboard.errors import InvalidParameter, PermissionDenied
from switchboard.jobs import JobFilter, JobScope, JobStatus, JobView
from switchboard.roles import ALL_ROLES, RoleType

_VERSION = version("switchboard")

_WIRE_STATUS = {
    JobStatus.PENDING: 0,
    JobStatus.IN_PROGRESS: 0,
    JobStatus.SUCCEEDED: 1,
    JobStatus.FAILED: 2,
    JobStatus.CANCELLED: 3,
}


# CloudStack's AsyncJobResponse: listAsyncJobs' items, and queryAsyncJobResult's whole (unwrapped) answer.
ASYNC_JOB = Shape("asyncjobs", [
    Field("accountid", T.STRING, "the account id that executed the async command"),
    Field("account", T.STRING, "the account that executed the async command"),
    Field("domainid", T.STRING, "the domain id that executed the async command"),
    Field("domainpath", T.STRING, "the domain that executed the async command"),
    Field("userid", T.STRING, "the user that executed the async command"),
    Field("cmd", T.STRING, "the async command executed"),
    Field("jobstatus", T.INTEGER, "the current job status-should be 0 for PENDING"),
    Field("jobprocstatus", T.INTEGER, "the progress information of the PENDING job"),
    Field("jobresultcode", T.INTEGER, "the result code for the job"),
    Field("jobinstancetype", T.STRING, "the instance/entity object related to the job"),
    Field("jobinstanceid", T.STRING, "the unique ID of the instance/entity object related to the job"),
    Field("managementserverid", T.STRING, "the msid of the management server on which the job is running"),
    Field("managementservername", T.STRING, "the management server name of the host"),
    Field("created", T.DATE, "the created date of the job"),
    Field("completed", T.DATE, "the completed date of the job"),
    Field("jobid", T.STRING, "the UUID of the latest async job acting on this object"),
    Field("jobresulttype", T.STRING, "the result type"),
    # The object the command's job returns (its command's response shape), or the error when it failed.
    Field("jobresult", T.OBJECT, "the result reason"),
])
MANAGEMENT_SERVER = Shape("managementserver", [
    Field("id", T.STRING, "the ID of the management server"),
    Field("name", T.STRING, "the name of the management server"),
    Field("state", T.STRING, "the state of the management server"),
    Field("version", T.STRING, "the version of the management server"),
    Field("lastserverstart", T.DATE, "the last time this Management Server was started"),
])


def job_response(job: JobView) -> dict[str, Any]:
    """One job as CloudStack's AsyncJobResponse; absent values are left out, as CloudStack does."""
    owner = job.owner
    fields: dict[str, Any] = {
        "accountid": owner.account_uuid,
        "account": owner.account_name,
        "domainid": owner.domain_uuid,
        "domainpath": owner.domain_path,
        "userid": owner.user_uuid,
        "cmd": job.command,
        "jobstatus": _WIRE_STATUS[job.status],
        "jobprocstatus": job.progress,
        "jobresultcode": job.result_code,
        "jobinstancetype": job.instance_type,
        "jobinstanceid": job.instance_id,
        "managementserverid": job.server_uuid,
        "managementservername": job.server_name,
        "created": format_date(job.created),
        "completed": format_date(job.completed),
        "jobid": job.uuid,
    }
    if job.status.finished:
        fields["jobresulttype"] = "object"
        fields["jobresult"] = job.result if job.result is not None else {}
    return {key: value for key, value in fields.items() if value is not None}


def _visible_scope(caller: Caller) -> JobScope:
    """Everything a caller may ever see: root admins all, domain and resource admins their domain's
    subtree, users their own account."""
    if caller.role_type is RoleType.ADMIN:
        return JobScope()
    if caller.role_type in (RoleType.DOMAIN_ADMIN, RoleType.RESOURCE_ADMIN):
        return JobScope(domain_path=caller.domain_path)
    return JobScope(account_id=caller.account_id)


@api_command(
    "queryAsyncJobResult",
    params=[Param("jobid", ParamType.UUID, required=True, description="the ID of the asynchronous job")],
    roles=ALL_ROLES,
    description="Retrieves the current status of asynchronous job.",
    response=ASYNC_JOB,
)
def query_async_job_result(call: Call) -> RawResponse:
    job_id: str = call.get("jobid")
    job = call.services.jobs.get(call.connection, job_id)
    if job is None:
        raise InvalidParameter(
            f"Unable to execute API command queryasyncjobresult due to invalid value. Invalid parameter jobid "
            f"value={job_id} due to incorrect long value format, or entity does not exist or due to incorrect "
            "parameter annotation for the field in api cmd class.",
            parameter="jobid",
        )
    if not _visible_scope(call.who).allows(job.owner):
        raise PermissionDenied(f"Account {call.who.account_name} does not have permission to access job {job_id}")
    return RawResponse(job_response(job))


@api_command(
    "listAsyncJobs",
    params=[
        Param("startdate", ParamType.DATE, description="The start date of the async job (use format yyyy-MM-dd)"),
        Param("account", ParamType.STRING, description="list resources by account. Must be used with domainId"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("managementserverid", ParamType.UUID, since="4.19",
              description="The id of the management server"),
    ],
    roles=ALL_ROLES,
    description="Lists all pending asynchronous jobs for the account.",
    response=ASYNC_JOB,
    is_list=True,
)
def list_async_jobs(call: Call) -> ListResponse:
    caller = call.who
    scope = _visible_scope(caller)
    if not call.get("listall") and call.get("domainid") is None and call.get("account") is None:
        # As CloudStack: without listall (or an explicit owner) every caller sees its own account's jobs.
        scope = JobScope(account_id=caller.account_id)
    filters = JobFilter(
        account_name=call.get("account"),
        domain_uuid=call.get("domainid"),
        server_uuid=call.get("managementserverid"),
        created_since=call.get("startdate"),
        keyword=call.keyword,
    )
    pagesize = call.pagesize if call.pagesize and call.pagesize > 0 else None
    offset = ((call.page or 1) - 1) * pagesize if pagesize else 0
    jobs, total = call.services.jobs.list_jobs(call.session, scope=scope, filters=filters,
                                                   offset=max(offset, 0), limit=pagesize)
    return ListResponse("asyncjobs", [job_response(job) for job in jobs], count=total)


@api_command(
    "listManagementServers",
    params=[
        Param("id", ParamType.UUID, description="the id of the management server"),
        Param("name", ParamType.STRING, description="the name of the management server"),
    ],
    description="Lists management servers.",
    response=MANAGEMENT_SERVER,
    is_list=True,
)
def list_management_servers(call: Call) -> ListResponse:
    servers = [
        server for server in call.services.jobs.servers(call.session)
        if call.get("id") in (None, server.uuid) and call.get("name") in (None, server.name)
        and (not call.keyword or call.keyword in server.name)
    ]
    items = [
        {
            "id": server.uuid,
            "name": server.name,
            # A server that stopped heartbeating is Down whatever its row last said.
            "state": "Up" if server.alive else "Down",
            "version": _VERSION,
            "lastserverstart": format_date(server.started),
        }
        for server in servers
    ]
    return ListResponse("managementserver", paginate(items, page=call.page, pagesize=call.pagesize), count=len(items))
