"""Reading instances for the API: one page with everything a response shows, in a fixed number of queries.

Listings and the result of an instance job share one column set (`InstanceRecord.row`), so both render the
same fields. The statements are built once at import: their cache keys are then computed once, and rows
are plain tuples (no ORM objects to build), which is most of the cost of rendering an instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from switchboard.api.caller import Caller
from switchboard.compute.records import details_of
from switchboard.db.models.compute import Instance
from switchboard.db.models.extensions import Extension
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.infrastructure import Host, ServiceOffering, Template, Zone
from switchboard.identity.scope import account_clause
from switchboard.infra.common import Page, fetch_table_page
from switchboard.infra.nics import NicView, nic_views

__all__ = ["InstanceFilter", "InstanceRecord", "get_record", "list_instances"]


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


@dataclass(frozen=True)
class InstanceRecord:
    """One instance as responses show it. `row` has the columns of `_VIEW` under their labels: the
    instance's own (id, uuid, name, display_name, created, state, ...) and account_name, account_uuid,
    domain_uuid, domain_name, zone_uuid, zone_name, template_uuid, template_name, template_display_text,
    template_password_enabled, offering_uuid, offering_name, host_uuid/host_name and
    extension_uuid/extension_name (None when absent)."""

    row: Row[Any]
    details: dict[str, str]
    nics: list[NicView]


_HOST = aliased(Host)
_VIEW: Select[*tuple[Any, ...]] = (
    select(
        Instance.id, Instance.uuid, Instance.name, Instance.display_name, Instance.instance_name, Instance.created,
        Instance.state, Instance.ha_enabled, Instance.cpus, Instance.speed, Instance.memory, Instance.arch,
        Instance.dynamically_scalable, Instance.power_state, Instance.state_changed,
        Account.name.label("account_name"), Account.uuid.label("account_uuid"),
        Domain.uuid.label("domain_uuid"), Domain.name.label("domain_name"),
        Zone.uuid.label("zone_uuid"), Zone.name.label("zone_name"),
        Template.uuid.label("template_uuid"), Template.name.label("template_name"),
        Template.display_text.label("template_display_text"),
        Template.password_enabled.label("template_password_enabled"),
        ServiceOffering.uuid.label("offering_uuid"), ServiceOffering.name.label("offering_name"),
        _HOST.uuid.label("host_uuid"), _HOST.name.label("host_name"),
        # Removed extensions too: old templates may still point at them.
        Extension.uuid.label("extension_uuid"), Extension.name.label("extension_name"),
    )
    .join(Account, Account.id == Instance.account_id)
    .join(Domain, Domain.id == Instance.domain_id)
    .join(Zone, Zone.id == Instance.zone_id)
    .join(Template, Template.id == Instance.template_id)
    .join(ServiceOffering, ServiceOffering.id == Instance.service_offering_id)
    .outerjoin(_HOST, _HOST.id == Instance.host_id)
    .outerjoin(Extension, Extension.id == Template.extension_id)
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
    broad = filters.list_all or filters.uuid is not None or bool(filters.uuids) or filters.account_id is not None
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


def _records(session: Session | Connection, rows: Sequence[Row[Any]]) -> list[InstanceRecord]:
    ids = [row.id for row in rows]
    details = details_of(session, ids)
    nics = nic_views(session, ids)
    return [InstanceRecord(row, details[row.id], nics[row.id]) for row in rows]
