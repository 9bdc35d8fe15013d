"""Project commands: createProject, listProjects, updateProject, activateProject, suspendProject and
deleteProject (async where CloudStack's are: the work is done in the request, the job answers it).

What a project owns is made with `projectid` (deployVirtualMachine, createSSHKeyPair, registerUserData, ...)
and listed with `projectid`; see `switchboard.identity.projects` for the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from switchboard.api.audit import audit
from switchboard.api.call import Call
from switchboard.api.commands.tags import TAGS_PARAM, tag_filter
from switchboard.api.done_jobs import done
from switchboard.api.params import Param, ParamType, format_date
from switchboard.api.registry import api_command
from switchboard.api.responses import AsyncJobRequest, ListResponse, paginate
from switchboard.api.shapes import SUCCESS, Field, Shape, T
from switchboard.api.views.fields import TAGS_FIELD
from switchboard.db.models.compute import Instance
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.infrastructure import Network, Template
from switchboard.db.models.projects import Project
from switchboard.db.models.storage import Volume
from switchboard.identity import projects
from switchboard.infra import tags
from switchboard.infra.owners import resolve_owner
from switchboard.roles import ALL_ROLES

PROJECT = Shape("project", [
    Field("id", T.STRING, "the id of the project"),
    Field("name", T.STRING, "the name of the project"),
    Field("displaytext", T.STRING, "the displaytext of the project"),
    Field("domainid", T.STRING, "the domain id the project belongs to"),
    Field("domain", T.STRING, "the domain name where the project belongs to"),
    Field("owner", T.LIST, "the account name of the project's owners"),
    Field("projectaccountname", T.STRING, "the project account name of the project"),
    Field("state", T.STRING, "the state of the project"),
    Field("created", T.DATE, "the date this project was created"),
    TAGS_FIELD,
])
_PROJECT_TYPE = "Project"


def project_view(session: Session, project: Project, *, members: list[tuple[str, str]],
                 tagged: list[Any]) -> dict[str, Any]:
    """CloudStack's ProjectResponse (without resource limits)."""
    domain_uuid, domain_name = session.execute(select(Domain.uuid, Domain.name)
                                               .where(Domain.id == project.domain_id)).one()
    account_name = session.execute(select(Account.name).where(Account.id == project.project_account_id)).scalar_one()
    return {
        "id": project.uuid, "name": project.name, "displaytext": project.display_text, "domainid": domain_uuid,
        "domain": domain_name, "owner": [{"account": name} for name, role in members if role == "Admin"],
        "projectaccountname": account_name, "state": project.state, "created": format_date(project.created),
        "tags": [{"key": t.key, "value": t.value, "resourcetype": _PROJECT_TYPE, "resourceid": project.uuid,
                  "projectid": project.uuid, "project": project.name, "domainid": domain_uuid,
                  "domain": domain_name} for t in tagged],
    }


def _one(call: Call, project: Project) -> dict[str, Any]:
    members = projects.member_accounts(call.session, [project.id])[project.id]
    return project_view(call.session, project, members=members,
                        tagged=tags.tags_of(call.session, _PROJECT_TYPE, [project.id])[project.id])


def _counter(what: str, model: Any, owner: Any, *extra: Any) -> Callable[[Session, int], tuple[str, int]]:
    def count(session: Session, account_id: int) -> tuple[str, int]:
        found = session.scalar(select(func.count()).select_from(model)
                               .where(owner == account_id, model.removed.is_(None), *extra))
        return what, int(found or 0)

    return count


# What keeps a project from being deleted (CloudStack: "it has N <type> to clean up").
_USAGES = (
    _counter("UserVm", Instance, Instance.account_id),
    _counter("Network", Network, Network.account_id),
    _counter("VirtualMachineTemplate", Template, Template.account_id),
    _counter("Volume", Volume, Volume.account_id, Volume.instance_id.is_(None)),
)


@api_command(
    "createProject",
    params=[
        Param("name", required=True, description="name of the project"),
        Param("displaytext", description="display text of the project"),
        Param("account", description="account who will be Admin for the project"),
        Param("domainid", ParamType.UUID, description="domain ID of the account owning a project"),
    ],
    roles=ALL_ROLES,
    description="Creates a project",
    response=PROJECT,
    is_async=True,
    since="3.0.0",
)
def create_project(call: Call) -> AsyncJobRequest:
    owner = resolve_owner(call.session, call.who, account=call.get("account"), domain_uuid=call.get("domainid"))
    project = projects.create_project(call.session, call.who, name=call.get("name"),
                                      display_text=call.get("displaytext"), owner_account_id=owner.account_id,
                                      owner_domain_id=owner.domain_id)
    audit(call, "PROJECT.CREATE", f"Created project {project.name}", resource_type=_PROJECT_TYPE,
          resource_uuid=project.uuid)
    return done({"project": _one(call, project)}, instance_type=_PROJECT_TYPE, object_id=project.uuid)


@api_command(
    "listProjects",
    params=[
        Param("id", ParamType.UUID, description="list projects by project ID"),
        Param("name", description="list projects by name"),
        Param("state", description="list projects by state"),
        Param("domainid", ParamType.UUID, description="list only resources belonging to the domain specified"),
        Param("account", description="list resources by account. Must be used with the domainId parameter."),
        Param("isrecursive", ParamType.BOOLEAN, description="list resources in the domain's subdomains too"),
        TAGS_PARAM,
    ],
    roles=ALL_ROLES,
    description="Lists projects and provides detailed information for listed projects",
    response=PROJECT,
    is_list=True,
    since="3.0.0",
)
def list_projects(call: Call) -> ListResponse:
    session = call.session
    domain_id = None
    if call.get("domainid") is not None and call.get("account") is None:
        domain_id = session.scalar(select(Domain.id).where(Domain.uuid == call.get("domainid")))
    found = projects.list_projects(session, call.who, uuid=call.get("id"), name=call.get("name"),
                                   state=call.get("state"), keyword=call.keyword,
                                   list_all=bool(call.get("listall")), domain_id=domain_id)
    if call.get("account") is not None:
        member = resolve_owner(session, call.who, account=call.get("account"), domain_uuid=call.get("domainid"))
        ids = {p.id for p in found} & set(projects.projects_of_member(session, member.account_id))
        found = [p for p in found if p.id in ids]
    tagged_clause = tag_filter(call, _PROJECT_TYPE, Project.id)
    if tagged_clause is not None:
        keep = set(session.scalars(select(Project.id).where(tagged_clause)))
        found = [p for p in found if p.id in keep]
    members = projects.member_accounts(session, [p.id for p in found])
    found_tags = tags.tags_of(session, _PROJECT_TYPE, [p.id for p in found])
    items = [project_view(session, p, members=members[p.id], tagged=found_tags[p.id]) for p in found]
    return ListResponse("project", paginate(items, page=call.page, pagesize=call.pagesize), count=len(items))


@api_command(
    "updateProject",
    params=[
        Param("id", ParamType.UUID, required=True, description="id of the project to be modified"),
        Param("displaytext", description="display text of the project"),
        Param("name", description="name of the project", since="4.19.0"),
    ],
    roles=ALL_ROLES,
    description="Updates a project",
    response=PROJECT,
    is_async=True,
    since="3.0.0",
)
def update_project(call: Call) -> AsyncJobRequest:
    project = projects.get_project(call.session, call.get("id"), parameter="id")
    projects.update_project(call.session, call.who, project, display_text=call.get("displaytext"),
                            name=call.get("name"))
    audit(call, "PROJECT.UPDATE", f"Updated project {project.name}", resource_type=_PROJECT_TYPE,
          resource_uuid=project.uuid)
    return done({"project": _one(call, project)}, instance_type=_PROJECT_TYPE, object_id=project.uuid)


def _state_change(call: Call, state: str, event: str) -> AsyncJobRequest:
    project = projects.get_project(call.session, call.get("id"), parameter="id")
    projects.set_state(call.session, call.who, project, state)
    audit(call, event, f"Project {project.name} is {state}", resource_type=_PROJECT_TYPE,
          resource_uuid=project.uuid)
    return done({"project": _one(call, project)}, instance_type=_PROJECT_TYPE, object_id=project.uuid)


@api_command("activateProject", params=[Param("id", ParamType.UUID, required=True, description="id of the project "
             "to be modified")], roles=ALL_ROLES, description="Activates a project", response=PROJECT,
             is_async=True, since="3.0.0")
def activate_project(call: Call) -> AsyncJobRequest:
    return _state_change(call, "Active", "PROJECT.ACTIVATE")


@api_command("suspendProject", params=[Param("id", ParamType.UUID, required=True, description="id of the project "
             "to be suspended")], roles=ALL_ROLES, description="Suspends a project", response=PROJECT,
             is_async=True, since="3.0.0")
def suspend_project(call: Call) -> AsyncJobRequest:
    return _state_change(call, "Suspended", "PROJECT.SUSPEND")


@api_command(
    "deleteProject",
    params=[
        Param("id", ParamType.UUID, required=True, description="id of the project to be deleted"),
        Param("cleanup", ParamType.BOOLEAN, description="true if all project resources have to be cleaned up, false "
              "otherwise (Switchboard: delete them first either way)", since="4.16.0"),
    ],
    roles=ALL_ROLES,
    description="Deletes a project",
    response=SUCCESS,
    is_async=True,
    since="3.0.0",
)
def delete_project(call: Call) -> AsyncJobRequest:
    project = projects.get_project(call.session, call.get("id"), parameter="id")
    projects.delete_project(call.session, call.who, project, usages=_USAGES)
    tags.delete_resource_tags(call.session, _PROJECT_TYPE, project.id)
    audit(call, "PROJECT.DELETE", f"Deleted project {project.name}", resource_type=_PROJECT_TYPE,
          resource_uuid=project.uuid)
    return done({"success": True}, instance_type=_PROJECT_TYPE, object_id=project.uuid)

