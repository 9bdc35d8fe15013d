"""Reading instances for the API: one page with everything a response shows, in a fixed number of queries.

Listings and the result of an instance job share one column set (`InstanceRecord.row`), so both render the
same fields. The statements are built once at import: their cache keys are then computed once, and rows
are plain tuples (no ORM objects to build), which is most of the cost of rendering an instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, literal, select
from sqlalchemy.orm import Session, aliased

from switchboard.caller import Caller
from switchboard.compute.deploy import SSH_KEYPAIR_NAMES
from switchboard.db.models.compute import Instance, InstanceDetail
from switchboard.db.models.extensions import Extension
from switchboard.db.models.guest_data import InstanceUserData, UserData
from switchboard.db.models.identity import Account, Domain, User
from switchboard.db.models.infrastructure import GuestOs, Host, ServiceOffering, Template, Zone
from switchboard.db.models.projects import Project
from switchboard.db.models.storage import Volume, VolumeType
from switchboard.db.models.tags import ResourceTag
from switchboard.identity.scope import account_clause
from switchboard.infra.common import Page, fetch_table_page
from switchboard.infra.nics import NicView, nic_views

__all__ = ["InstanceFilter", "InstanceRecord", "get_record", "list_instances", "user_data_of"]


@dataclass(frozen=True, kw_only=True)
class InstanceFilter:
    """listVirtualMachines filters (internal ids, resolved by the caller); None: not filtered."""

    uuid: str | None = None
    uuids: tuple[str, ...] = ()
    name: str | None = None
    state: str | None = None
    zone_id: int | None = None
    template_id: int | None = None
    host_id: int | None = None
    extension_id: int | None = None
    account_id: int | None = None
    list_all: bool = False
    user_data_id: int | None = None
    keypair: str | None = None  # deployed with the key pair of this name
    tagged: Any = None  # a WHERE clause on Instance.id (resource tags), or None


@dataclass(frozen=True)
class InstanceRecord:
    """One instance as responses show it. `row` has the columns of `_VIEW` under their labels: the
    instance's own (id, uuid, name, display_name, created, state, ...) and account_name, account_uuid,
    domain_uuid, domain_name, domain_path, user_uuid/user_name (who deployed it), zone_uuid, zone_name,
    template_uuid, template_name, template_display_text, template_password_enabled, template_type,
    template_format, os_uuid/os_name (the template's OS type), offering_uuid, offering_name,
    host_uuid/host_name/host_status/host_resource_state, extension_uuid/extension_name,
    user_data_uuid/user_data_name/user_data_details, root_volume_device/root_volume_type and
    project_uuid/project_name (None when absent). `tags`: (key, value) pairs. `hidden`: names of details
    stored with display=false (copied from a template the owner does not own, or set by a Root Admin),
    which only Root Admins see."""

    row: Row[Any]
    details: dict[str, str]
    nics: list[NicView]
    tags: list[tuple[str, str]] = field(default_factory=list)
    hidden: frozenset[str] = frozenset()  # details only Root Admins see (what an admin configured)


_HOST = aliased(Host)
_VIEW: Select[*tuple[Any, ...]] = (
    select(
        Instance.id, Instance.uuid, Instance.name, Instance.display_name, Instance.instance_name, Instance.created,
        Instance.state, Instance.ha_enabled, Instance.cpus, Instance.speed, Instance.memory, Instance.arch,
        Instance.dynamically_scalable, Instance.power_state, Instance.state_changed,
        Account.name.label("account_name"), Account.uuid.label("account_uuid"),
        Domain.uuid.label("domain_uuid"), Domain.name.label("domain_name"), Domain.path.label("domain_path"),
        User.uuid.label("user_uuid"), User.username.label("user_name"),
        Zone.uuid.label("zone_uuid"), Zone.name.label("zone_name"),
        Template.uuid.label("template_uuid"), Template.name.label("template_name"),
        Template.display_text.label("template_display_text"),
        Template.password_enabled.label("template_password_enabled"),
        Template.template_type.label("template_type"), Template.format.label("template_format"),
        GuestOs.uuid.label("os_uuid"), GuestOs.display_name.label("os_name"),
        ServiceOffering.uuid.label("offering_uuid"), ServiceOffering.name.label("offering_name"),
        _HOST.uuid.label("host_uuid"), _HOST.name.label("host_name"), _HOST.status.label("host_status"),
        _HOST.resource_state.label("host_resource_state"),
        # Removed extensions too: old templates may still point at them.
        Extension.uuid.label("extension_uuid"), Extension.name.label("extension_name"),
        UserData.uuid.label("user_data_uuid"), UserData.name.label("user_data_name"),
        InstanceUserData.details.label("user_data_details"),
        Volume.device_id.label("root_volume_device"), Volume.volume_type.label("root_volume_type"),
        Project.uuid.label("project_uuid"), Project.name.label("project_name"),
    )
    .join(Account, Account.id == Instance.account_id)
    .join(Domain, Domain.id == Instance.domain_id)
    .join(Zone, Zone.id == Instance.zone_id)
    .join(Template, Template.id == Instance.template_id)
    .join(ServiceOffering, ServiceOffering.id == Instance.service_offering_id)
    .outerjoin(User, User.id == Instance.user_id)
    .outerjoin(GuestOs, GuestOs.id == Template.guest_os_id)
    .outerjoin(_HOST, _HOST.id == Instance.host_id)
    .outerjoin(Extension, Extension.id == Template.extension_id)
    .outerjoin(InstanceUserData, InstanceUserData.instance_id == Instance.id)
    .outerjoin(UserData, UserData.id == InstanceUserData.user_data_id)
    .outerjoin(Volume, (Volume.instance_id == Instance.id) & (Volume.volume_type == VolumeType.ROOT.value)
               & Volume.removed.is_(None))
    .outerjoin(Project, Project.project_account_id == Instance.account_id)
)
_LIVE = _VIEW.where(Instance.removed.is_(None)).order_by(Instance.id)
# By public id, expunged ones included (the result of the job that expunged it).
_BY_UUID = _VIEW.where(Instance.uuid == bindparam("uuid"))


def list_instances(
    session: Session, caller: Caller, page: Page, filters: InstanceFilter
) -> tuple[list[InstanceRecord], int]:
    """Live instances the caller may see, ordered by id, and the total before paging.

    A User sees its own account's; DomainAdmins and ResourceAdmins their domain subtree's and Admins all —
    but only with `list_all` or when asking by id, else their own account's, as CloudStack lists."""
    stmt = _LIVE
    # An account asked for (`account_id`) was checked to be one the caller may act for (a project's too).
    broad = filters.list_all or filters.uuid is not None or bool(filters.uuids)
    if filters.account_id is None:
        stmt = stmt.where(account_clause(caller, Instance.account_id) if broad
                          else Instance.account_id == caller.account_id)
    equal = [
        (Instance.uuid, filters.uuid), (Instance.name, filters.name), (Instance.state, filters.state),
        (Instance.zone_id, filters.zone_id), (Instance.template_id, filters.template_id),
        (Instance.host_id, filters.host_id), (Template.extension_id, filters.extension_id),
        (Instance.account_id, filters.account_id),
    ]
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.uuids:
        stmt = stmt.where(Instance.uuid.in_(filters.uuids))
    if filters.user_data_id is not None:
        stmt = stmt.where(InstanceUserData.user_data_id == filters.user_data_id)
    if filters.keypair is not None:
        names = select(InstanceDetail.instance_id).where(
            InstanceDetail.name == SSH_KEYPAIR_NAMES,
            (literal(",") + InstanceDetail.value + literal(",")).contains(f",{filters.keypair},", autoescape=True))
        stmt = stmt.where(Instance.id.in_(names))
    if filters.tagged is not None:
        stmt = stmt.where(filters.tagged)
    if page.keyword:
        pattern = f"%{page.keyword}%"
        stmt = stmt.where(Instance.name.ilike(pattern) | Instance.display_name.ilike(pattern))
    rows, total = fetch_table_page(session, stmt, page)
    return _records(session, rows), total


def get_record(db: Session | Connection, uuid: str) -> InstanceRecord | None:
    """The instance with public id `uuid` (also when expunged), in three queries; None when unknown."""
    connection = db if isinstance(db, Connection) else db.connection()
    row = connection.execute(_BY_UUID, {"uuid": uuid}).first()
    return None if row is None else _records(connection, [row])[0]


_DETAILS = (
    select(InstanceDetail.instance_id, InstanceDetail.name, InstanceDetail.value, InstanceDetail.display)
    .where(InstanceDetail.instance_id.in_(bindparam("ids", expanding=True))).order_by(InstanceDetail.id)
)


def _records(session: Session | Connection, rows: Sequence[Row[Any]]) -> list[InstanceRecord]:
    ids = [row.id for row in rows]
    details: dict[int, dict[str, str]] = {i: {} for i in ids}
    hidden: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        connection = session if isinstance(session, Connection) else session.connection()
        for instance_id, name, value, display in connection.execute(_DETAILS, {"ids": ids}):
            details[instance_id][name] = value
            if not display:
                hidden[instance_id].add(name)
    nics = nic_views(session, ids)
    tags = _tags(session, ids)
    return [InstanceRecord(row, details[row.id], nics[row.id], tags.get(row.id, []), frozenset(hidden[row.id]))
            for row in rows]


def user_data_of(db: Session | Connection, uuids: list[str]) -> dict[str, str | None]:
    """The user data (base64) many instances were deployed with, by instance uuid."""
    if not uuids:
        return {}
    connection = db if isinstance(db, Connection) else db.connection()
    rows = connection.execute(select(Instance.uuid, InstanceUserData.content)
                              .join(InstanceUserData, InstanceUserData.instance_id == Instance.id)
                              .where(Instance.uuid.in_(uuids)))
    return {uuid: content for uuid, content in rows}


_TAGS = (select(ResourceTag.resource_id, ResourceTag.key, ResourceTag.value)
         .where(ResourceTag.resource_type == "UserVm", ResourceTag.resource_id.in_(bindparam("ids", expanding=True)))
         .order_by(ResourceTag.id))


def _tags(db: Session | Connection, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    if not ids:
        return found
    connection = db if isinstance(db, Connection) else db.connection()
    for resource_id, key, value in connection.execute(_TAGS, {"ids": ids}):
        found.setdefault(resource_id, []).append((key, value))
    return found
