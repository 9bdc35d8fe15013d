"""Resource tags: key/value pairs on instances, volumes, templates, networks and projects.

As CloudStack: a tag belongs to the owner of its resource and only those who may act for that owner may
add or remove it; a key appears once per resource ("tag K already on T with id U"); a value must not be
empty; list commands' `tags[i].key/value` filter keeps resources carrying ANY of the given pairs.
Tags of a removed resource are not listed; an expunged instance's tags are deleted with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from switchboard.caller import Caller
from switchboard.db.models.compute import Instance
from switchboard.db.models.identity import Domain
from switchboard.db.models.infrastructure import Network, Template
from switchboard.db.models.projects import Project
from switchboard.db.models.storage import Volume
from switchboard.db.models.tags import ResourceTag
from switchboard.errors import InvalidParameter, NotFound, OperationFailed
from switchboard.identity.projects import check_owner
from switchboard.infra.common import Page, fetch_page, savepoint
from switchboard.infra.owned import visible

__all__ = [
    "RESOURCE_TYPES",
    "TagFilter",
    "create_tags",
    "delete_resource_tags",
    "delete_tags",
    "list_tags",
    "resource_type",
    "tagged",
    "tags_of",
]


@dataclass(frozen=True)
class _Kind:
    """How a taggable resource is found and who owns it."""

    model: Any
    account: Any  # the owner column (a project's own account for a project)

    @property
    def id(self) -> InstrumentedAttribute[int]:
        return self.model.id  # type: ignore[no-any-return]


RESOURCE_TYPES: dict[str, _Kind] = {
    "UserVm": _Kind(Instance, Instance.account_id),
    "Volume": _Kind(Volume, Volume.account_id),
    "Template": _Kind(Template, Template.account_id),
    "Network": _Kind(Network, Network.account_id),
    "Project": _Kind(Project, Project.project_account_id),
}


def resource_type(name: str) -> str:
    """CloudStack's ResourceObjectType name, matched case-insensitively; InvalidParameter otherwise."""
    for known in RESOURCE_TYPES:
        if known.lower() == name.strip().lower():
            return known
    raise InvalidParameter(f"The resource type {name} doesn't support resource tags (supported: "
                           f"{', '.join(RESOURCE_TYPES)})", parameter="resourcetype")


@dataclass(frozen=True)
class _Resource:
    id: int
    uuid: str
    account_id: int
    domain_id: int


def _resources(session: Session, caller: Caller, kind_name: str, uuids: Sequence[str]) -> list[_Resource]:
    """The live resources `uuids` of a type, each checked to be one the caller may act on."""
    kind = RESOURCE_TYPES[kind_name]
    rows = session.execute(
        select(kind.model.id, kind.model.uuid, kind.account, kind.model.domain_id, Domain.path)
        .join(Domain, Domain.id == kind.model.domain_id)
        .where(kind.model.uuid.in_(list(uuids)), kind.model.removed.is_(None))
    ).all()
    found = {row[1]: row for row in rows}
    resources = []
    for uuid in dict.fromkeys(uuids):
        row = found.get(uuid)
        if row is None:
            raise NotFound(f"Unable to find resource by id {uuid} and type {kind_name}", uuids=[uuid])
        check_owner(session, caller, account_id=row[2], domain_path_stored=row[4])
        resources.append(_Resource(row[0], row[1], row[2], row[3]))
    return resources


def create_tags(session: Session, caller: Caller, kind_name: str, uuids: Sequence[str], tags: Mapping[str, str],
                *, customer: str | None = None) -> list[ResourceTag]:
    """Put every tag on every resource; all or nothing (the request's transaction)."""
    if not tags:
        raise InvalidParameter("Unable to execute API command createtags due to missing parameter tags",
                               parameter="tags")
    made = []
    for key, value in tags.items():
        if not value:
            raise InvalidParameter(f"Value for the key {key} is either null or empty", parameter="tags")
        for resource in _resources(session, caller, kind_name, uuids):
            tag = ResourceTag(key=key, value=value, resource_type=kind_name, resource_id=resource.id,
                              resource_uuid=resource.uuid, account_id=resource.account_id,
                              domain_id=resource.domain_id, customer=customer)
            try:
                with savepoint(session):
                    session.add(tag)
                    session.flush()
            except IntegrityError:
                raise OperationFailed(f"tag {key} already on {kind_name} with id {resource.uuid}",
                                      uuids=[resource.uuid]) from None
            made.append(tag)
    return made


def delete_tags(session: Session, caller: Caller, kind_name: str, uuids: Sequence[str],
                tags: Mapping[str, str] | None) -> int:
    """Remove the given tags (a key with an empty value: whatever its value; no tags: all of them) from the
    resources; how many went."""
    resources = _resources(session, caller, kind_name, uuids)
    stmt = delete(ResourceTag).where(ResourceTag.resource_type == kind_name,
                                     ResourceTag.resource_id.in_([r.id for r in resources]))
    if tags:
        stmt = stmt.where(or_(*(and_(ResourceTag.key == key, ResourceTag.value == value) if value
                                else ResourceTag.key == key for key, value in tags.items())))
    result = session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_resource_tags(session: Session, kind_name: str, resource_id: int) -> None:
    """The resource is gone for good: so are its tags."""
    session.execute(delete(ResourceTag).where(ResourceTag.resource_type == kind_name,
                                              ResourceTag.resource_id == resource_id))


def tagged(kind_name: str, id_column: Any, pairs: Iterable[tuple[str, str]]) -> ColumnElement[bool] | None:
    """A WHERE clause keeping resources that carry any of the (key, value) pairs; None for no pairs."""
    conditions = [and_(ResourceTag.key == key, ResourceTag.value == value) for key, value in pairs]
    if not conditions:
        return None
    return id_column.in_(  # type: ignore[no-any-return]
        select(ResourceTag.resource_id).where(ResourceTag.resource_type == kind_name, or_(*conditions)))


def tags_of(session: Session, kind_name: str, resource_ids: Iterable[int]) -> dict[int, list[ResourceTag]]:
    """The tags of many resources of one type, by resource id (in one query)."""
    ids = list(set(resource_ids))
    found: dict[int, list[ResourceTag]] = {i: [] for i in ids}
    if not ids:
        return found
    for tag in session.scalars(select(ResourceTag).where(ResourceTag.resource_type == kind_name,
                                                         ResourceTag.resource_id.in_(ids)).order_by(ResourceTag.id)):
        found[tag.resource_id].append(tag)
    return found


@dataclass(frozen=True, kw_only=True)
class TagFilter:
    kind: str | None = None
    resource_uuid: str | None = None
    key: str | None = None
    value: str | None = None
    customer: str | None = None
    account_id: int | None = None
    list_all: bool = False


def _live() -> ColumnElement[bool]:
    """Tags whose resource is still there."""
    return or_(*(and_(ResourceTag.resource_type == name,
                      ResourceTag.resource_id.in_(select(kind.model.id).where(kind.model.removed.is_(None))))
                 for name, kind in RESOURCE_TYPES.items()))


def list_tags(session: Session, caller: Caller, page: Page, filters: TagFilter) -> tuple[Sequence[ResourceTag], int]:
    """Tags the caller may see, by id."""
    stmt = select(ResourceTag).where(
        _live(), visible(caller, ResourceTag.account_id, list_all=filters.list_all, account_id=filters.account_id,
                         by_id=filters.resource_uuid is not None))
    for column, value in ((ResourceTag.resource_type, filters.kind), (ResourceTag.resource_uuid, filters.resource_uuid),
                          (ResourceTag.key, filters.key), (ResourceTag.value, filters.value),
                          (ResourceTag.customer, filters.customer)):
        if value is not None:
            stmt = stmt.where(column == value)
    if page.keyword:
        stmt = stmt.where(or_(ResourceTag.key.contains(page.keyword, autoescape=True),
                              ResourceTag.value.contains(page.keyword, autoescape=True)))
    rows, total = fetch_page(session, stmt.order_by(ResourceTag.id), page)
    return [row[0] for row in rows], total
