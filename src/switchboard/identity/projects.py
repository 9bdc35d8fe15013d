"""Projects: accounts working together on resources that the project, not any one of them, owns.

As CloudStack: a project has an account of its own (`PrjAcct-<name>-<domain id>`, never logged into) that
owns what is made in the project; the account that creates a project is its Admin member. Members (and
admins above the project's domain) may use the project (`projectid`); the project's Admins, domain admins
above it and root admins may change or delete it. A project is deleted only once it owns nothing (or with
`cleanup`, which Switchboard treats the same: expunge its instances and delete its networks, templates
and volumes first). Its key pairs and user data go with it. Project names are unique within a domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.db.models.guest_data import SshKeyPair, UserData
from switchboard.db.models.identity import Account, Domain, Role
from switchboard.db.models.projects import Project, ProjectMember
from switchboard.errors import InvalidParameter, NotFound, OperationFailed, PermissionDenied
from switchboard.identity import paths, scope
from switchboard.roles import RoleType

__all__ = [
    "ProjectRef",
    "ProjectUsage",
    "check_owner",
    "create_project",
    "delete_project",
    "get_project",
    "is_project_member",
    "list_projects",
    "member_accounts",
    "not_a_project_account",
    "project_account_for",
    "projects_of_accounts",
    "projects_of_member",
    "set_state",
    "update_project",
]

ADMIN = "Admin"
REGULAR = "Regular"
STATES = ("Active", "Suspended", "Disabled")


@dataclass(frozen=True)
class ProjectRef:
    """A project as other areas see it: who owns its resources (`account_id`, `domain_id`)."""

    id: int
    uuid: str
    name: str
    account_id: int
    domain_id: int
    state: str


def _ref(project: Project) -> ProjectRef:
    return ProjectRef(project.id, project.uuid, project.name, project.project_account_id, project.domain_id,
                      project.state)


# What owns resources: an area registers a counter of what an account owns (name, count) so that deleting a
# project can say what is left, as CloudStack does ("it has 1 UserVm to clean up").
ProjectUsage = Callable[[Session, int], tuple[str, int]]


def get_project(session: Session, uuid: str, *, parameter: str = "projectid") -> Project:
    project = session.scalar(select(Project).where(Project.uuid == uuid, Project.removed.is_(None)))
    if project is None:
        raise InvalidParameter(f"Unable to find project by id {uuid}", parameter=parameter, uuids=[uuid])
    return project


def _domain_path(session: Session, domain_id: int) -> str:
    return session.execute(select(Domain.path).where(Domain.id == domain_id)).scalar_one()


def _is_member(session: Session, project: Project, account_id: int, *, role: str | None = None) -> bool:
    stmt = select(ProjectMember.id).where(ProjectMember.project_id == project.id,
                                          ProjectMember.account_id == account_id)
    if role is not None:
        stmt = stmt.where(ProjectMember.role == role)
    return session.scalar(stmt) is not None


def _above(caller: Caller, domain_path: str) -> bool:
    """An admin, or a domain admin whose subtree holds the project's domain."""
    return scope.sees_everything(caller) or (scope.is_domain_level(caller)
                                             and paths.in_subtree(domain_path, scope.caller_subtree(caller)))


def check_use(session: Session, caller: Caller, project: Project) -> None:
    """PermissionDenied unless `caller` may use the project (a member, or an admin above it)."""
    if _above(caller, _domain_path(session, project.domain_id)) or _is_member(session, project, caller.account_id):
        return
    raise PermissionDenied(f"Account {caller.account_name} is unauthorised to use project id={project.uuid}")


def check_modify(session: Session, caller: Caller, project: Project) -> None:
    """PermissionDenied unless `caller` may change the project (its Admin member, or an admin above it)."""
    if _above(caller, _domain_path(session, project.domain_id)) or \
            _is_member(session, project, caller.account_id, role=ADMIN):
        return
    raise PermissionDenied(f"Account {caller.account_name} does not have permission to modify project "
                           f"{project.name}")


def is_project_member(session: Session, *, project_account_id: int, member_account_id: int | None) -> bool:
    """Whether `member_account_id` is a member of the live project whose own account is `project_account_id`."""
    if member_account_id is None:
        return False
    return session.scalar(select(ProjectMember.id).join(Project, Project.id == ProjectMember.project_id)
                          .where(Project.project_account_id == project_account_id, Project.removed.is_(None),
                                 ProjectMember.account_id == member_account_id)) is not None


def check_owner(session: Session, caller: Caller, *, account_id: int, domain_path_stored: str) -> None:
    """`scope.check_account`, and for a project's own account: the project's members may act on what it
    owns (CloudStack's checkAccess on a project's resources). PermissionDenied otherwise."""
    try:
        scope.check_account(caller, account_id=account_id, domain_path_stored=domain_path_stored)
    except PermissionDenied:
        if not is_project_member(session, project_account_id=account_id, member_account_id=caller.account_id):
            raise


def project_account_for(session: Session, caller: Caller, uuid: str) -> ProjectRef:
    """The project `uuid` as an owner of resources, when the caller may use it and it is Active."""
    project = get_project(session, uuid)
    check_use(session, caller, project)
    if project.state != "Active":
        raise PermissionDenied(f"Project {project.name} is not in Active state; resources cannot be made in it")
    return _ref(project)


def create_project(session: Session, caller: Caller, *, name: str, display_text: str | None,
                   owner_account_id: int, owner_domain_id: int) -> Project:
    """A new Active project in the owner's domain, with its own account and the owner as its Admin."""
    if caller.role_type is RoleType.USER and caller.account_id != owner_account_id:
        raise PermissionDenied("Regular user is not permitted to create a project for another account")
    name = name.strip() if name else ""
    if not name:
        raise InvalidParameter("Project name must not be empty", parameter="name")
    taken = session.scalar(select(Project.id).where(Project.name == name, Project.domain_id == owner_domain_id,
                                                    Project.removed.is_(None)))
    if taken is not None:
        raise InvalidParameter(f"Project with name {name} already exists in domain id={owner_domain_id}",
                               parameter="name")
    user_role = session.execute(select(Role.id).where(Role.role_type == RoleType.USER.wire_name)
                                .order_by(Role.is_default.desc(), Role.id)).scalars().first()
    if user_role is None:
        raise OperationFailed("No role of type User exists for the project's account")
    account = Account(name=f"PrjAcct-{name}-{owner_domain_id}", domain_id=owner_domain_id, role_id=user_role)
    session.add(account)
    session.flush()
    project = Project(name=name, display_text=display_text or name, domain_id=owner_domain_id,
                      project_account_id=account.id)
    session.add(project)
    session.flush()
    session.add(ProjectMember(project_id=project.id, account_id=owner_account_id, role=ADMIN))
    session.flush()
    return project


def update_project(session: Session, caller: Caller, project: Project, *, display_text: str | None = None,
                   name: str | None = None) -> Project:
    check_modify(session, caller, project)
    if display_text is not None:
        project.display_text = display_text
    if name is not None and name.strip() and name.strip() != project.name:
        clash = session.scalar(select(Project.id).where(Project.name == name.strip(),
                                                        Project.domain_id == project.domain_id,
                                                        Project.removed.is_(None)))
        if clash is not None:
            raise InvalidParameter(f"Project with name {name} already exists in domain id={project.domain_id}",
                                   parameter="name")
        project.name = name.strip()
    session.flush()
    return project


def set_state(session: Session, caller: Caller, project: Project, state: str) -> Project:
    """Activate or suspend a project (CloudStack's activateProject / suspendProject)."""
    check_modify(session, caller, project)
    if state == "Active" and project.state == "Active":
        raise InvalidParameter(f"Can't activate the project in {project.state} state", parameter="id")
    if state == "Suspended" and project.state == "Suspended":
        raise InvalidParameter("Project is already suspended", parameter="id")
    project.state = state
    session.flush()
    return project


def delete_project(session: Session, caller: Caller, project: Project, *, usages: Sequence[ProjectUsage]) -> None:
    """Remove the project, its account, memberships, key pairs and user data; refused (CloudStack's text)
    while the project still owns instances, networks, templates or volumes."""
    check_modify(session, caller, project)
    for usage in usages:
        what, count = usage(session, project.project_account_id)
        if count:
            raise OperationFailed(f"Can't delete the project yet because it has {count} {what} to clean up",
                                  uuids=[project.uuid])
    now = utcnow()
    session.execute(delete(SshKeyPair).where(SshKeyPair.account_id == project.project_account_id))
    session.execute(update(UserData).where(UserData.account_id == project.project_account_id,
                                           UserData.removed.is_(None)).values(removed=now))
    project.state = "Disabled"
    project.removed = now
    session.execute(delete(ProjectMember).where(ProjectMember.project_id == project.id))
    account = session.get_one(Account, project.project_account_id)
    account.removed = now
    account.state = "disabled"
    session.flush()


def _visible(session: Session, caller: Caller, list_all: bool) -> ColumnElement[bool]:
    members = select(ProjectMember.project_id).where(ProjectMember.account_id == caller.account_id)
    if caller.role_type is RoleType.USER or not list_all:
        return Project.id.in_(members)
    return Project.domain_id.in_(select(Domain.id).where(scope.domain_clause(caller, Domain.path)))


def list_projects(session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                  state: str | None = None, keyword: str | None = None, list_all: bool = False,
                  domain_id: int | None = None, project_ids: Iterable[int] | None = None) -> list[Project]:
    """Projects the caller is a member of (admins: with `listall`, all in their subtree), newest first."""
    stmt = select(Project).where(Project.removed.is_(None),
                                 _visible(session, caller, list_all or uuid is not None))
    for column, value in ((Project.uuid, uuid), (Project.name, name), (Project.state, state),
                          (Project.domain_id, domain_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if project_ids is not None:
        stmt = stmt.where(Project.id.in_(list(project_ids)))
    if keyword:
        stmt = stmt.where(func.lower(Project.name).contains(keyword.lower(), autoescape=True))
    return list(session.scalars(stmt.order_by(Project.id.desc())))


def member_accounts(session: Session, project_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """The (account name, role) members of many projects, by project id."""
    ids = list(set(project_ids))
    found: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.execute(select(ProjectMember.project_id, Account.name, ProjectMember.role)
                           .join(Account, Account.id == ProjectMember.account_id)
                           .where(ProjectMember.project_id.in_(ids)).order_by(ProjectMember.id))
    for project_id, account_name, role in rows:
        found[project_id].append((account_name, role))
    return found


def projects_of_member(session: Session, account_id: int) -> list[int]:
    """The ids of the projects `account_id` is a member of."""
    return list(session.scalars(select(ProjectMember.project_id).where(ProjectMember.account_id == account_id)))


def projects_of_accounts(session: Session, account_ids: Iterable[int]) -> dict[int, ProjectRef]:
    """The projects whose own accounts are among `account_ids` (removed ones too), by account id."""
    ids = list(set(account_ids))
    if not ids:
        return {}
    rows = session.scalars(select(Project).where(Project.project_account_id.in_(ids)))
    return {project.project_account_id: _ref(project) for project in rows}


def not_a_project_account(column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """A WHERE clause leaving out projects' own accounts (they are not listed as accounts)."""
    return column.not_in(select(Project.project_account_id))


def get_project_ref(session: Session, uuid: str) -> ProjectRef:
    try:
        return _ref(get_project(session, uuid))
    except InvalidParameter:
        raise NotFound(f"Unable to find project by id {uuid}", uuids=[uuid]) from None
