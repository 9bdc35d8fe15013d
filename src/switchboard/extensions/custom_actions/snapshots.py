"""Instance snapshots as an extension's custom actions offer them (Proxmox's and Hyper-V's `ListSnapshots`).

CloudStack's built-in extensions keep an instance's snapshots on the hypervisor and list them through a custom
action named `ListSnapshots`, which prints `{"status": "success", "printmessage": "true", "message": [{"name",
"snaptime", "description", "parent", "vmstate"}, ...]}`. `listVMSnapshot` runs that action (when the
instance's extension has it enabled for the caller's role) and shows its rows as VM snapshots. A snapshot has
no id of its own there: it is given a stable one derived from the instance and the snapshot's name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from switchboard.db.models.compute import Instance
from switchboard.db.models.extensions import Extension, ExtensionCustomAction, ExtensionState
from switchboard.db.models.infrastructure import Template
from switchboard.roles import RoleType

__all__ = ["LIST_ACTION", "SnapshotRow", "list_action_of", "parse_snapshots", "snapshot_id"]

LIST_ACTION = "ListSnapshots"
_NAMESPACE = uuid.UUID("6f1c3f4e-35b8-4cf0-8e39-1a7d1e5f0c11")


@dataclass(frozen=True)
class SnapshotRow:
    """One snapshot as the extension listed it."""

    name: str
    created: str | None = None  # as the extension wrote it (UTC)
    description: str | None = None
    parent: str | None = None
    with_memory: bool = False
    current: bool = False


def snapshot_id(instance_uuid: str, name: str) -> str:
    """A stable id for the snapshot `name` of an instance (the extension gives none)."""
    return str(uuid.uuid5(_NAMESPACE, f"{instance_uuid}/{name}"))


def list_action_of(session: Session, instance: Instance, role: RoleType) -> str | None:
    """The uuid of the enabled `ListSnapshots` action of the instance's extension that `role` may run, or
    None when there is none (the extension keeps no snapshots Switchboard can show)."""
    row = session.execute(
        select(ExtensionCustomAction.uuid, ExtensionCustomAction.allowed_role_types)
        .join(Extension, Extension.id == ExtensionCustomAction.extension_id)
        .join(Template, Template.extension_id == Extension.id)
        .where(Template.id == instance.template_id, ExtensionCustomAction.removed.is_(None),
               ExtensionCustomAction.enabled.is_(True), Extension.removed.is_(None),
               Extension.state == ExtensionState.ENABLED.value,
               func.lower(ExtensionCustomAction.name) == LIST_ACTION.lower())
    ).first()
    if row is None:
        return None
    action_uuid, mask = row
    return str(action_uuid) if role is RoleType.ADMIN or mask & role.bit else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "-") else text


def _row(item: Any) -> SnapshotRow | None:
    if not isinstance(item, dict):
        return None
    name = _text(item.get("name") or item.get("snapname") or item.get("snapshot_name") or item.get("Name"))
    if name is None:
        return None
    memory = str(item.get("vmstate") or item.get("memory") or "").strip().lower() in ("yes", "true", "1")
    return SnapshotRow(name=name, created=_text(item.get("snaptime") or item.get("created")
                                                or item.get("CreationTime")),
                       description=_text(item.get("description") or item.get("Notes")),
                       parent=_text(item.get("parent") or item.get("ParentSnapshotName")), with_memory=memory,
                       current=bool(item.get("current")))


def parse_snapshots(output: str) -> list[SnapshotRow]:
    """The snapshots in a `ListSnapshots` output: `{"message": [...]}` (CloudStack's built-ins), `{"snapshots":
    [...]}` or a plain list. ValueError when the output holds no such list."""
    data = json.loads(output)
    if isinstance(data, dict):
        data = data.get("message", data.get("snapshots"))
        if isinstance(data, str):  # some scripts print the table as JSON text inside the message
            data = json.loads(data)
    if not isinstance(data, list):
        raise ValueError("the output has no list of snapshots")
    return [row for row in (_row(item) for item in data) if row is not None]
