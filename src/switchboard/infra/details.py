"""Key/value details of clusters, hosts, templates and service offerings.

Extension-facing details are stored with the `External:` prefix (as CloudStack does) and handed out with
the prefix stripped; other details (e.g. a service offering's `details`) are stored as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from switchboard.db.models.infrastructure import (
    EXTERNAL_PREFIX,
    ClusterDetail,
    HostDetail,
    ServiceOfferingDetail,
    TemplateDetail,
)

__all__ = [
    "DetailModel",
    "all_details",
    "external_details",
    "external_only",
    "plain_only",
    "replace_details",
]

DetailModel = type[ClusterDetail] | type[HostDetail] | type[TemplateDetail] | type[ServiceOfferingDetail]

_OWNER_COLUMN: dict[Any, str] = {
    ClusterDetail: "cluster_id",
    HostDetail: "host_id",
    TemplateDetail: "template_id",
    ServiceOfferingDetail: "service_offering_id",
}


def _owner(model: DetailModel) -> Any:
    return getattr(model, _OWNER_COLUMN[model])


def _displayable(model: DetailModel) -> Select[int, str, str]:
    owner = _owner(model)
    return (select(owner, model.name, model.value)
            .where(owner.in_(bindparam("ids", expanding=True)), model.display.is_(True)).order_by(model.id))


# Built once per model: every instance operation reads host, cluster, template and offering details.
_DISPLAYABLE = {model: _displayable(model) for model in _OWNER_COLUMN}


def all_details(session: Session, model: DetailModel, owner_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Displayable details (raw keys) of many owners in one query, by owner id."""
    ids = list(set(owner_ids))
    result: dict[int, dict[str, str]] = {owner_id: {} for owner_id in ids}
    if not ids:
        return result
    for owner_id, name, value in session.connection().execute(_DISPLAYABLE[model], {"ids": ids}):
        result[owner_id][name] = value
    return result


def external_only(details: Mapping[str, str]) -> dict[str, str]:
    """The `External:`-prefixed entries of `details`, prefix stripped."""
    return {key[len(EXTERNAL_PREFIX):]: value for key, value in details.items() if key.startswith(EXTERNAL_PREFIX)}


def plain_only(details: Mapping[str, str]) -> dict[str, str]:
    """The entries of `details` without the `External:` prefix."""
    return {key: value for key, value in details.items() if not key.startswith(EXTERNAL_PREFIX)}


def external_details(session: Session, model: DetailModel, owner_id: int) -> dict[str, str]:
    """One owner's external details, prefix stripped (the shape payload groups use)."""
    return external_only(all_details(session, model, [owner_id])[owner_id])


def replace_details(
    session: Session, model: DetailModel, owner_id: int, details: Mapping[str, str], *, external: bool
) -> None:
    """Replace one owner's external (or plain) details by `details` (keys given without prefix)."""
    owner = _owner(model)
    prefix_match = model.name.startswith(EXTERNAL_PREFIX, autoescape=True)
    session.execute(
        delete(model).where(owner == owner_id, prefix_match if external else ~prefix_match)
    )
    prefix = EXTERNAL_PREFIX if external else ""
    session.add_all(
        model(**{_OWNER_COLUMN[model]: owner_id, "name": f"{prefix}{key}", "value": str(value)})
        for key, value in details.items()
    )
    session.flush()
