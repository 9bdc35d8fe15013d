"""Templates: what instances are made from. External templates (format EXTERNAL) are Ready at once:
the extension decides what the template means, so there is nothing to download.

A template is available in one or more zones (a `template_zone` row each); listings show one entry per
template and zone, as CloudStack does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, or_, select, true
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.base import utcnow
from switchboard.db.direct import PrebuiltQuery
from switchboard.db.models.identity import Account, Domain
from switchboard.db.models.infrastructure import (
    GuestOs,
    Template,
    TemplateDetail,
    TemplateZone,
    Zone,
)
from switchboard.errors import InvalidParameter
from switchboard.identity.scope import account_clause, check_account
from switchboard.infra import details as detail_store
from switchboard.infra.clusters import EXTERNAL, hypervisor_name
from switchboard.infra.common import Page, fetch_page, live_by_uuid, live_ref, matches, one_of, require_name
from switchboard.infra.extension_link import ExtensionRef
from switchboard.infra.guest_os import default_os_type
from switchboard.infra.owners import Owner

__all__ = [
    "FORMATS",
    "READY_STATUS",
    "TemplateFilter",
    "TemplateRecord",
    "TemplateSpec",
    "check_owner",
    "delete_template",
    "get_template",
    "list_templates",
    "register_template",
    "template_details",
    "update_permissions",
    "update_template",
]

FORMATS = ("EXTERNAL", "QCOW2", "RAW", "VHD", "VHDX", "OVA", "ISO", "TAR", "VMDK", "ZIP", "BAREMETAL")
READY_STATUS = "Download Complete"


class TemplateFilter(enum.StrEnum):
    FEATURED = "featured"
    SELF = "self"
    SELF_EXECUTABLE = "selfexecutable"
    SHARED_EXECUTABLE = "sharedexecutable"
    EXECUTABLE = "executable"
    COMMUNITY = "community"
    ALL = "all"


@dataclass(frozen=True, kw_only=True)
class TemplateSpec:
    name: str
    display_text: str | None = None
    url: str | None = None
    format: str = "EXTERNAL"
    hypervisor: str = EXTERNAL
    guest_os: GuestOs | None = None
    extension: ExtensionRef | None = None
    external_details: Mapping[str, str] | None = None
    details: Mapping[str, str] | None = None
    is_public: bool = False
    is_featured: bool = False
    is_extractable: bool = False
    password_enabled: bool = False
    dynamically_scalable: bool = False
    requires_hvm: bool = True
    bootable: bool = True
    arch: str = "x86_64"
    checksum: str | None = None


@dataclass(frozen=True)
class TemplateRecord:
    template: Template
    placement: TemplateZone
    zone: Zone
    guest_os: GuestOs | None
    account: Account
    domain: Domain


def get_template(session: Session, uuid: str, *, parameter: str = "id") -> Template:
    return live_by_uuid(session, Template, uuid, parameter=parameter, label="template")


class TemplateRef(NamedTuple):
    """What deploying an instance reads of a live template (no ORM entity)."""

    id: int
    uuid: str
    name: str
    hypervisor_type: str
    state: str
    extension_id: int | None
    arch: str
    dynamically_scalable: bool
    is_public: bool
    account_id: int
    domain_id: int
    size: int | None  # bytes


# Built once: every deploy reads its template.
_REF = PrebuiltQuery(
    select(Template.id, Template.uuid, Template.name, Template.hypervisor_type, Template.state, Template.extension_id,
           Template.arch, Template.dynamically_scalable, Template.is_public, Template.account_id, Template.domain_id,
           Template.size)
    .where(Template.uuid == bindparam("uuid"), Template.removed.is_(None)),
    row_type=TemplateRef._make,
)


def template_ref(connection: Connection, uuid: str, *, parameter: str = "id") -> TemplateRef:
    """The live template `uuid` as a TemplateRef; NotFound naming `parameter` otherwise (as get_template)."""
    ref: TemplateRef = live_ref(connection, _REF, uuid, parameter=parameter, label="template")
    return ref


class _Owned(Protocol):
    @property
    def account_id(self) -> int: ...

    @property
    def domain_id(self) -> int: ...


def check_owner(session: Session, caller: Caller, template: _Owned) -> None:
    """PermissionDenied unless `caller` may change or delete `template`."""
    domain_path = session.execute(select(Domain.path).where(Domain.id == template.domain_id)).scalar_one()
    check_account(caller, account_id=template.account_id, domain_path_stored=domain_path)


def register_template(
    session: Session, caller: Caller, zones: Sequence[Zone], spec: TemplateSpec, *, owner: Owner | None = None
) -> Template:
    """Register a template owned by `owner` (default: the caller's account) in `zones`.

    External templates need format EXTERNAL and an extension; extensions and external details are only
    for External templates. Only admins may feature a template. InvalidParameter names the culprit.
    """
    name = require_name(spec.name)
    hypervisor = hypervisor_name(spec.hypervisor)
    template_format = one_of(spec.format, FORMATS, parameter="format")
    if not zones:
        raise InvalidParameter("Please specify a valid zone", parameter="zoneid")
    if hypervisor == EXTERNAL:
        if template_format != "EXTERNAL":
            raise InvalidParameter("Templates for hypervisor External must have format EXTERNAL", parameter="format")
        if spec.extension is None:
            raise InvalidParameter("extensionid is required for hypervisor External", parameter="extensionid")
    else:
        if spec.extension is not None:
            raise InvalidParameter("extensionid is supported only for hypervisor External", parameter="extensionid")
        if spec.external_details:
            raise InvalidParameter("externaldetails are supported only for hypervisor External",
                                   parameter="externaldetails")
    if spec.is_featured and not caller.is_admin:
        raise InvalidParameter("Only administrators may register featured templates", parameter="isfeatured")
    ready = template_format == "EXTERNAL"
    os_type = spec.guest_os or default_os_type(session)
    template = Template(
        name=name, display_text=spec.display_text or name, format=template_format, hypervisor_type=hypervisor,
        url=spec.url, checksum=spec.checksum, guest_os_id=os_type.id if os_type else None,
        account_id=owner.account_id if owner else caller.account_id,
        domain_id=owner.domain_id if owner else caller.domain_id, is_public=spec.is_public or spec.is_featured,
        is_featured=spec.is_featured, is_extractable=spec.is_extractable, password_enabled=spec.password_enabled,
        dynamically_scalable=spec.dynamically_scalable, requires_hvm=spec.requires_hvm, bootable=spec.bootable,
        arch=spec.arch, extension_id=spec.extension.id if spec.extension else None, size=0 if ready else None,
    )
    session.add(template)
    session.flush()
    status = READY_STATUS if ready else f"Not downloaded: Switchboard stores no {template_format} images"
    zone_ids = dict.fromkeys(zone.id for zone in zones)  # zoneid and zoneids may name a zone twice
    session.add_all(
        TemplateZone(template_id=template.id, zone_id=zone_id, ready=ready, status=status) for zone_id in zone_ids
    )
    if spec.external_details:
        detail_store.replace_details(session, TemplateDetail, template.id, spec.external_details, external=True)
    if spec.details:
        detail_store.replace_details(session, TemplateDetail, template.id, spec.details, external=False)
    session.flush()
    return template


def template_details(session: Session, template_id: int) -> dict[str, str]:
    """A template's external details, prefix stripped (the middle layer of `virtualmachine` details)."""
    return detail_store.external_details(session, TemplateDetail, template_id)


def update_template(
    session: Session,
    template: Template,
    *,
    name: str | None = None,
    display_text: str | None = None,
    guest_os: GuestOs | None = None,
    password_enabled: bool | None = None,
    bootable: bool | None = None,
    dynamically_scalable: bool | None = None,
    arch: str | None = None,
    details: Mapping[str, str] | None = None,
    external_details: Mapping[str, str] | None = None,
    clean_up_details: bool = False,
) -> Template:
    """Change the given fields. `details`/`external_details` replace those sets; `clean_up_details` empties
    the plain details."""
    if name is not None:
        template.name = require_name(name)
    if display_text is not None:
        template.display_text = display_text
    if guest_os is not None:
        template.guest_os_id = guest_os.id
    for attribute, value in (("password_enabled", password_enabled), ("bootable", bootable),
                             ("dynamically_scalable", dynamically_scalable), ("arch", arch)):
        if value is not None:
            setattr(template, attribute, value)
    if clean_up_details:
        detail_store.replace_details(session, TemplateDetail, template.id, {}, external=False)
    elif details is not None:
        detail_store.replace_details(session, TemplateDetail, template.id, details, external=False)
    if external_details is not None:
        if template.hypervisor_type != EXTERNAL:
            raise InvalidParameter("externaldetails are supported only for hypervisor External",
                                   parameter="externaldetails")
        detail_store.replace_details(session, TemplateDetail, template.id, external_details, external=True)
    session.flush()
    return template


def update_permissions(
    session: Session, caller: Caller, template: Template, *, is_public: bool | None = None,
    is_featured: bool | None = None, is_extractable: bool | None = None,
) -> Template:
    """updateTemplatePermissions: only admins may (un)feature."""
    if is_featured is not None:
        if not caller.is_admin:
            raise InvalidParameter("Only administrators may feature templates", parameter="isfeatured")
        template.is_featured = is_featured
    if is_public is not None:
        template.is_public = is_public
    if is_extractable is not None:
        template.is_extractable = is_extractable
    session.flush()
    return template


def delete_template(session: Session, template: Template, *, zone: Zone | None = None) -> None:
    """Remove `template` from `zone`, or everywhere; removed from its last zone, the template is deleted."""
    if zone is not None:
        session.execute(delete(TemplateZone).where(TemplateZone.template_id == template.id,
                                                   TemplateZone.zone_id == zone.id))
        remaining = session.execute(select(TemplateZone.id).where(TemplateZone.template_id == template.id)).first()
        if remaining is not None:
            session.flush()
            return
    template.removed = utcnow()
    session.flush()


def _filter_clause(caller: Caller, template_filter: TemplateFilter) -> ColumnElement[bool]:
    own = Template.account_id == caller.account_id
    ready = TemplateZone.ready.is_(True)
    visible = or_(own, Template.is_public.is_(True), Template.is_featured.is_(True))
    match template_filter:
        case TemplateFilter.FEATURED:
            return Template.is_featured.is_(True)
        case TemplateFilter.SELF:
            return own
        case TemplateFilter.SELF_EXECUTABLE | TemplateFilter.SHARED_EXECUTABLE:
            return and_(own, ready)
        case TemplateFilter.EXECUTABLE:
            return and_(visible, ready)
        case TemplateFilter.COMMUNITY:
            return and_(Template.is_public.is_(True), Template.is_featured.is_(False))
        case TemplateFilter.ALL:
            return true() if caller.is_admin else or_(visible, account_clause(caller, Template.account_id))
    return own  # pragma: no cover - the match is exhaustive


def list_templates(
    session: Session,
    caller: Caller,
    template_filter: TemplateFilter,
    page: Page,
    *,
    uuid: str | None = None,
    uuids: list[str] | None = None,
    name: str | None = None,
    zone_id: int | None = None,
    hypervisor: str | None = None,
    extension_id: int | None = None,
    arch: str | None = None,
    tagged: ColumnElement[bool] | None = None,
) -> tuple[list[TemplateRecord], int]:
    """One record per (template, zone) the caller may see under `template_filter`, ordered by id."""
    stmt = (
        select(Template, TemplateZone, Zone, GuestOs, Account, Domain)
        .join(TemplateZone, TemplateZone.template_id == Template.id)
        .join(Zone, Zone.id == TemplateZone.zone_id)
        .join(Account, Account.id == Template.account_id)
        .join(Domain, Domain.id == Template.domain_id)
        .outerjoin(GuestOs, GuestOs.id == Template.guest_os_id)
        .where(Template.removed.is_(None), Zone.removed.is_(None), _filter_clause(caller, template_filter))
        .order_by(Template.id, Zone.id)
    )
    filters = [
        (Template.uuid, uuid), (Template.name, name), (TemplateZone.zone_id, zone_id),
        (Template.extension_id, extension_id), (Template.arch, arch),
        (Template.hypervisor_type, hypervisor_name(hypervisor) if hypervisor else None),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if uuids:
        stmt = stmt.where(Template.uuid.in_(uuids))
    if tagged is not None:  # resource tags (the API's tags[] filter)
        stmt = stmt.where(tagged)
    if page.keyword:
        stmt = stmt.where(matches(Template.name, page.keyword))
    rows, total = fetch_page(session, stmt, page)
    return [TemplateRecord(*row) for row in rows], total
