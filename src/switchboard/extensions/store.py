"""Queries on the extension tables: lookups, details (visible and hidden), registered resources.

Everything here takes the caller's session and leaves the transaction to it. List-shaped readers take many
ids and answer with one query each, so responses for a page of extensions cost a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.orm import Session

from switchboard.db.models.extensions import (
    Extension,
    ExtensionCustomAction,
    ExtensionDetail,
    ExtensionResourceMap,
    ExtensionState,
)
from switchboard.db.models.infrastructure import Cluster, ClusterDetail, Template
from switchboard.errors import NotFound
from switchboard.infra import details as detail_store

__all__ = [
    "CLUSTER",
    "REQUIRES_PREPARE_VM",
    "ExtensionRecord",
    "ResourceRecord",
    "count_custom_actions",
    "count_resources",
    "count_templates",
    "details_of",
    "get_extension",
    "get_extension_by_id",
    "load_records",
    "record_of",
    "replace_visible_details",
    "resources_of",
    "set_hidden_detail",
]

CLUSTER = "Cluster"
# The one extension-level flag of 4.21 (§3.4); stored as a hidden detail.
REQUIRES_PREPARE_VM = "orchestratorrequirespreparevm"


@dataclass(frozen=True)
class ResourceRecord:
    """A resource registered with an extension (a cluster), as `resources[]` of ExtensionResponse shows it.

    `details` is the resource map's details (the cluster's `External:` details, prefix stripped)."""

    id: int
    uuid: str
    name: str
    type: str
    details: dict[str, str]
    created: dt.datetime


@dataclass(frozen=True)
class ExtensionRecord:
    """An extension with its details grouped: `details` (shown by the API; what the payload's `extension`
    group carries) and `hidden` (not shown: `orchestratorrequirespreparevm`, Switchboard's own markers)."""

    extension: Extension
    details: dict[str, str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)
    resources: list[ResourceRecord] = field(default_factory=list)

    @property
    def requires_prepare_vm(self) -> bool:
        """True when the `prepare` action must run before the first start (§1.2)."""
        return self.hidden.get(REQUIRES_PREPARE_VM, self.details.get(REQUIRES_PREPARE_VM, "")).lower() == "true"

    @property
    def has_prepare_flag(self) -> bool:
        """Whether the flag exists at all (the API shows `orchestratorrequirespreparevm` only then)."""
        return REQUIRES_PREPARE_VM in self.hidden or REQUIRES_PREPARE_VM in self.details

    @property
    def enabled(self) -> bool:
        return self.extension.state == ExtensionState.ENABLED.value


def get_extension(session: Session, uuid: str, *, parameter: str = "id") -> Extension:
    """The live extension with public id `uuid`; NotFound otherwise."""
    extension = session.execute(
        select(Extension).where(Extension.uuid == uuid, Extension.removed.is_(None))
    ).scalar_one_or_none()
    if extension is None:
        raise NotFound(f"Unable to find extension with id {uuid} (parameter {parameter})", uuids=[uuid])
    return extension


def get_extension_by_id(session: Session, extension_id: int) -> Extension:
    """The live extension with internal id `extension_id` (e.g. a cluster's or template's); NotFound otherwise."""
    extension = session.get(Extension, extension_id)
    if extension is None or extension.removed is not None:
        raise NotFound(f"Unable to find extension with internal id {extension_id}")
    return extension


# Built once: every instance operation reads its extension's details.
_DETAILS = (
    select(ExtensionDetail.extension_id, ExtensionDetail.name, ExtensionDetail.value, ExtensionDetail.display)
    .where(ExtensionDetail.extension_id.in_(bindparam("ids", expanding=True)))
    .order_by(ExtensionDetail.id)
)


def details_of(session: Session, ids: Iterable[int]) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """(visible, hidden) details of many extensions in one query, by extension id."""
    wanted = list(set(ids))
    result: dict[int, tuple[dict[str, str], dict[str, str]]] = {i: ({}, {}) for i in wanted}
    if not wanted:
        return result
    for extension_id, name, value, display in session.connection().execute(_DETAILS, {"ids": wanted}):
        result[extension_id][0 if display else 1][name] = value
    return result


def replace_visible_details(session: Session, extension_id: int, details: Mapping[str, str]) -> None:
    """Replace the visible details of an extension; hidden ones are kept (§3.2 updateExtension)."""
    session.execute(
        delete(ExtensionDetail).where(ExtensionDetail.extension_id == extension_id, ExtensionDetail.display.is_(True))
    )
    hidden = set(details_of(session, [extension_id])[extension_id][1])
    session.add_all(
        ExtensionDetail(extension_id=extension_id, name=key, value=str(value), display=True)
        for key, value in details.items()
        if key not in hidden  # a visible detail may not shadow a hidden one (one row per name)
    )
    session.flush()


def set_hidden_detail(session: Session, extension_id: int, name: str, value: str) -> None:
    """Set one hidden detail (replacing a visible or hidden one of the same name)."""
    session.execute(
        delete(ExtensionDetail).where(ExtensionDetail.extension_id == extension_id, ExtensionDetail.name == name)
    )
    session.add(ExtensionDetail(extension_id=extension_id, name=name, value=value, display=False))
    session.flush()


def resources_of(session: Session, ids: Iterable[int]) -> dict[int, list[ResourceRecord]]:
    """The live clusters registered with each extension (two queries whatever the number of extensions).

    The cluster's `extension_id` says whether it is registered; the resource map row, when there is one,
    says since when (clusters tied at addCluster time have none: they were registered when created).
    """
    wanted = list(set(ids))
    result: dict[int, list[ResourceRecord]] = {i: [] for i in wanted}
    if not wanted:
        return result
    rows = session.execute(
        select(Cluster, ExtensionResourceMap.created)
        .outerjoin(
            ExtensionResourceMap,
            and_(
                ExtensionResourceMap.resource_type == CLUSTER,
                ExtensionResourceMap.resource_id == Cluster.id,
                ExtensionResourceMap.extension_id == Cluster.extension_id,
            ),
        )
        .where(Cluster.extension_id.in_(wanted), Cluster.removed.is_(None))
        .order_by(Cluster.id)
    ).all()
    details = detail_store.all_details(session, ClusterDetail, [cluster.id for cluster, _ in rows])
    for cluster, registered in rows:
        if cluster.extension_id is None:  # not possible: selected by it; keeps the type checker informed
            continue
        result[cluster.extension_id].append(
            ResourceRecord(
                id=cluster.id, uuid=cluster.uuid, name=cluster.name, type=CLUSTER,
                details=detail_store.external_only(details.get(cluster.id, {})),
                created=registered or cluster.created,
            )
        )
    return result


def load_records(
    session: Session, extensions: Iterable[Extension], *, with_resources: bool = True
) -> list[ExtensionRecord]:
    """Records for many extensions, in the given order (a fixed number of queries)."""
    items = list(extensions)
    ids = [extension.id for extension in items]
    details = details_of(session, ids)
    resources = resources_of(session, ids) if with_resources else {}
    return [
        ExtensionRecord(
            extension=extension, details=details[extension.id][0], hidden=details[extension.id][1],
            resources=resources.get(extension.id, []),
        )
        for extension in items
    ]


def record_of(session: Session, extension: Extension, *, with_resources: bool = True) -> ExtensionRecord:
    """One extension with its details grouped (and its registered clusters)."""
    return load_records(session, [extension], with_resources=with_resources)[0]


def count_resources(session: Session, extension_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(Cluster)
        .where(Cluster.extension_id == extension_id, Cluster.removed.is_(None))
    ).scalar_one())


def count_custom_actions(session: Session, extension_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(ExtensionCustomAction)
        .where(ExtensionCustomAction.extension_id == extension_id, ExtensionCustomAction.removed.is_(None))
    ).scalar_one())


def count_templates(session: Session, extension_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(Template)
        .where(Template.extension_id == extension_id, Template.removed.is_(None))
    ).scalar_one())
