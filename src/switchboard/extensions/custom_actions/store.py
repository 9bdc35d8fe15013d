"""Queries on the custom-action tables: lookups, visible details, the hidden parameter definitions, records.

Everything takes the caller's session and leaves the transaction to it. `load_records` answers for a whole
page of actions in a fixed number of queries (actions, extensions, details).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from switchboard.db.models.extensions import Extension, ExtensionCustomAction, ExtensionCustomActionDetail
from switchboard.errors import NotFound
from switchboard.extensions.builtins import PARAMETERS_DETAIL
from switchboard.extensions.custom_actions.parameters import Definition, dump_definitions, load_definitions

__all__ = [
    "PARAMETERS_DETAIL",
    "ActionRecord",
    "get_action",
    "load_records",
    "record_of",
    "replace_visible_details",
    "set_definitions",
]


@dataclass(frozen=True)
class ActionRecord:
    """A custom action with its extension, its visible details and its parameter definitions."""

    action: ExtensionCustomAction
    extension: Extension
    details: dict[str, str] = field(default_factory=dict)
    definitions: list[Definition] = field(default_factory=list)


def get_action(session: Session, uuid: str, *, parameter: str = "id") -> ExtensionCustomAction:
    """The live custom action with public id `uuid`; NotFound otherwise."""
    action = session.execute(
        select(ExtensionCustomAction).where(ExtensionCustomAction.uuid == uuid, ExtensionCustomAction.removed.is_(None))
    ).scalar_one_or_none()
    if action is None:
        raise NotFound(f"Unable to find custom action with id {uuid} (parameter {parameter})", uuids=[uuid])
    return action


def _details(session: Session, ids: list[int]) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    result: dict[int, tuple[dict[str, str], dict[str, str]]] = {i: ({}, {}) for i in ids}
    if not ids:
        return result
    rows = session.execute(
        select(ExtensionCustomActionDetail.custom_action_id, ExtensionCustomActionDetail.name,
               ExtensionCustomActionDetail.value, ExtensionCustomActionDetail.display)
        .where(ExtensionCustomActionDetail.custom_action_id.in_(ids))
        .order_by(ExtensionCustomActionDetail.id)
    ).all()
    for action_id, name, value, display in rows:
        result[action_id][0 if display else 1][name] = value
    return result


def load_records(session: Session, actions: Iterable[ExtensionCustomAction]) -> list[ActionRecord]:
    """Records of many actions, in the given order (three queries whatever their number)."""
    items = list(actions)
    ids = [action.id for action in items]
    details = _details(session, ids)
    extension_ids = {action.extension_id for action in items}
    extensions = {
        extension.id: extension
        for extension in session.execute(select(Extension).where(Extension.id.in_(extension_ids))).scalars()
    } if extension_ids else {}
    return [
        ActionRecord(action=action, extension=extensions[action.extension_id], details=details[action.id][0],
                     definitions=load_definitions(details[action.id][1].get(PARAMETERS_DETAIL)))
        for action in items
    ]


def record_of(session: Session, action: ExtensionCustomAction) -> ActionRecord:
    return load_records(session, [action])[0]


def replace_visible_details(session: Session, action_id: int, details: Mapping[str, str]) -> None:
    """Replace the visible details of an action; the hidden `parameters` detail stays (and wins a clash)."""
    session.execute(delete(ExtensionCustomActionDetail).where(
        ExtensionCustomActionDetail.custom_action_id == action_id, ExtensionCustomActionDetail.display.is_(True)))
    session.add_all(
        ExtensionCustomActionDetail(custom_action_id=action_id, name=key, value=str(value), display=True)
        for key, value in details.items()
        if key != PARAMETERS_DETAIL
    )
    session.flush()


def set_definitions(session: Session, action_id: int, definitions: Iterable[Definition]) -> None:
    """Store the parameter definitions as the hidden detail `parameters` (replacing any detail of that name)."""
    session.execute(delete(ExtensionCustomActionDetail).where(
        ExtensionCustomActionDetail.custom_action_id == action_id,
        ExtensionCustomActionDetail.name == PARAMETERS_DETAIL))
    session.add(ExtensionCustomActionDetail(custom_action_id=action_id, name=PARAMETERS_DETAIL,
                                            value=dump_definitions(definitions), display=False))
    session.flush()
