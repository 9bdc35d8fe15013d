"""Reading instances for the API: one page with everything a response shows, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from switchboard.api.caller import Caller
from switchboard.compute.records import details_of
from switchboard.db.models.compute import Instance
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.infrastructure import Host, ServiceOffering, Template, Zone
from switchboard.identity.scope import account_clause
from switchboard.infra.common import Page, fetch_page
from switchboard.infra.nics import NicView, nic_views

__all__ = ["InstanceFilter", "InstanceRecord", "list_instances"]


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
    include_removed: bool = False  # an expunged instance, for the result of the job that expunged it


@dataclass(frozen=True)
class InstanceRecord:
    instance: Instance
    account: Account
    domain: Domain
    zone: Zone
    template: Template
    offering: ServiceOffering
    host: Host | None
    details: dict[str, str]
    nics: list[NicView]


def list_instances(
    session: Session, caller: Caller, page: Page, filters: InstanceFilter
) -> tuple[list[InstanceRecord], int]:
    """Live instances the caller may see, ordered by id, and the total before paging.

    A User sees its own account's; DomainAdmins and ResourceAdmins their domain subtree's and Admins all —
    but only with `list_all` or when asking by id, else their own account's, as CloudStack lists."""
    host = aliased(Host)
    stmt = (
        select(Instance, Account, Domain, Zone, Template, ServiceOffering, host)
        .join(Account, Account.id == Instance.account_id)
        .join(Domain, Domain.id == Instance.domain_id)
        .join(Zone, Zone.id == Instance.zone_id)
        .join(Template, Template.id == Instance.template_id)
        .join(ServiceOffering, ServiceOffering.id == Instance.service_offering_id)
        .outerjoin(host, host.id == Instance.host_id)
        .order_by(Instance.id)
    )
    if not filters.include_removed:
        stmt = stmt.where(Instance.removed.is_(None))
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
    rows, total = fetch_page(session, stmt, page)
    ids = [row[0].id for row in rows]
    details = details_of(session, ids)
    nics = nic_views(session, ids)
    return [
        InstanceRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], details[row[0].id], nics[row[0].id])
        for row in rows
    ], total
