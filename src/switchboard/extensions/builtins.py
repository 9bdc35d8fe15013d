"""The built-in extensions: seeded at start as not user-defined and Enabled, with their custom actions
(protocol notes §3.6), and their files installed from the package into the extensions root.

Seeding is idempotent by name: a missing built-in extension or custom action is added, existing ones are
never changed (operators may have edited them). Built-ins whose executable is not shipped yet keep
`pathready` false — the readiness check finds no valid entry point.

Firecracker has no seeded custom actions yet: what it offers beyond the lifecycle (snapshots, pause) is
decided with its executable; adding them here later seeds them on existing installations too.

Custom-action parameters are stored as the hidden detail `parameters`: a JSON list of
`{"name", "type", "validationformat", "required"}` objects (the shape listCustomActions shows).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.db.engine import Database
from switchboard.db.models.extensions import (
    Extension,
    ExtensionCustomAction,
    ExtensionCustomActionDetail,
    ExtensionState,
    ExtensionType,
)
from switchboard.extensions import store
from switchboard.extensions.paths import ExtensionRoots

__all__ = [
    "BUILTINS",
    "BUILTIN_SOURCE",
    "PARAMETERS_DETAIL",
    "Builtin",
    "BuiltinAction",
    "install_builtin_files",
    "seed_builtins",
]

log = logging.getLogger(__name__)

BUILTIN_SOURCE = Path(__file__).resolve().parent.parent / "builtin_extensions"
PARAMETERS_DETAIL = "parameters"
ALL_ROLES_MASK = 15  # Admin | ResourceAdmin | DomainAdmin | User
_SEED_LOCK = 7312004  # PostgreSQL advisory lock id: one seeding server at a time


def _param(name: str, type_: str = "STRING", *, required: bool = False) -> dict[str, object]:
    return {"name": name, "type": type_, "validationformat": "NONE", "required": required}


@dataclass(frozen=True)
class BuiltinAction:
    name: str
    description: str
    success_message: str
    error_message: str
    parameters: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class Builtin:
    name: str
    description: str
    relative_path: str
    requires_prepare_vm: bool = False
    actions: tuple[BuiltinAction, ...] = field(default_factory=tuple)


def _snapshot_actions(param: str, extra: tuple[dict[str, object], ...] = ()) -> tuple[BuiltinAction, ...]:
    required = (_param(param, required=True),)
    return (
        BuiltinAction("ListSnapshots", "List Instance snapshots",
                      "Snapshots fetched for {{resourceName}} in {{extensionName}}",
                      "List Snapshots failed for {{resourceName}}"),
        BuiltinAction("CreateSnapshot", "Create an Instance snapshot",
                      "Snapshot created for {{resourceName}} in {{extensionName}}",
                      "Snapshot creation failed for {{resourceName}}", required + extra),
        BuiltinAction("RestoreSnapshot", "Restore Instance to the specific snapshot",
                      "Successfully restored the snapshot for {{resourceName}} in {{extensionName}}",
                      "Restore snapshot failed for {{resourceName}}", required),
        BuiltinAction("DeleteSnapshot", "Delete the specified snapshot",
                      "Successfully deleted the snapshot for {{resourceName}} in {{extensionName}}",
                      "Delete snapshot failed for {{resourceName}}", required),
    )


BUILTINS: tuple[Builtin, ...] = (
    Builtin("Firecracker", "Firecracker microVMs through the Switchboard host agent",
            "Firecracker/firecracker.py"),
    Builtin("Proxmox", "Sample extension for Proxmox written in bash", "Proxmox/proxmox.sh",
            requires_prepare_vm=True,
            actions=_snapshot_actions("snap_name", (_param("snap_description"),
                                                    _param("snap_save_memory", "BOOLEAN")))),
    Builtin("HyperV", "Sample extension for Hyper-V written in python", "HyperV/hyperv.py",
            actions=(
                *_snapshot_actions("snapshot_name"),
                BuiltinAction("Suspend", "Suspend the Instance",
                              "Successfully suspended {{resourceName}} in {{extensionName}}",
                              "Suspend failed for {{resourceName}}"),
                BuiltinAction("Resume", "Resume the suspended Instance",
                              "Successfully resumed {{resourceName}} in {{extensionName}}",
                              "Resume failed for {{resourceName}}"),
            )),
    Builtin("MaaS", "Sample extension for MaaS written in python", "MaaS/maas.py", requires_prepare_vm=True),
)


def seed_builtins(db: Database, builtins: tuple[Builtin, ...] = BUILTINS) -> list[str]:
    """Add missing built-in extensions and custom actions; returns the names of extensions added.

    Safe when several servers start at once: on PostgreSQL an advisory lock serialises the seeders; on
    SQLite a lost race shows as a duplicate and the seeding is done again with what the winner wrote.
    Raises SQLAlchemyError when the database fails otherwise."""
    for attempt in (1, 2):
        try:
            with db.session() as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
                return [builtin.name for builtin in builtins if _seed_one(session, builtin)]
        except IntegrityError:
            if attempt == 2:
                raise
    return []


def _seed_one(session: Session, builtin: Builtin) -> bool:
    extension = session.execute(
        select(Extension).where(Extension.name == builtin.name, Extension.removed.is_(None))
    ).scalar_one_or_none()
    added = extension is None
    if extension is None:
        extension = Extension(name=builtin.name, description=builtin.description,
                              type=ExtensionType.ORCHESTRATOR.value, relative_path=builtin.relative_path,
                              is_user_defined=False, state=ExtensionState.ENABLED.value, path_ready=False)
        session.add(extension)
        session.flush()
        if builtin.requires_prepare_vm:
            store.set_hidden_detail(session, extension.id, store.REQUIRES_PREPARE_VM, "true")
        log.info("seeded built-in extension %s (%s)", builtin.name, builtin.relative_path)
    existing = set(session.execute(
        select(ExtensionCustomAction.name)
        .where(ExtensionCustomAction.extension_id == extension.id, ExtensionCustomAction.removed.is_(None))
    ).scalars())
    for action in builtin.actions:
        if action.name in existing:
            continue
        row = ExtensionCustomAction(
            extension_id=extension.id, name=action.name, description=action.description,
            resource_type="VirtualMachine", allowed_role_types=ALL_ROLES_MASK, success_message=action.success_message,
            error_message=action.error_message, timeout=60, enabled=True,
        )
        session.add(row)
        session.flush()
        session.add(ExtensionCustomActionDetail(custom_action_id=row.id, name=PARAMETERS_DETAIL,
                                                value=json.dumps(list(action.parameters)), display=False))
    session.flush()
    return added


def install_builtin_files(
    roots: ExtensionRoots, builtins: tuple[Builtin, ...] = BUILTINS, source: Path = BUILTIN_SOURCE
) -> list[str]:
    """Copy the shipped files of built-in extensions into the extensions root; returns the paths written.

    For each built-in whose entry file exists under `source/<dir>/`, every file of that directory (except
    caches) is copied to `<root>/<dir>/` when missing or different, atomically, keeping its mode (the
    entry file is made 0755). Built-ins without shipped files are left alone. Errors are logged, not raised:
    a missing file only keeps the extension not ready."""
    written: list[str] = []
    for builtin in builtins:
        directory = builtin.relative_path.split("/")[0]
        origin = source / directory
        if not (source / builtin.relative_path).is_file():
            continue
        for file in sorted(origin.rglob("*")):
            if not file.is_file() or "__pycache__" in file.parts:
                continue
            relative = file.relative_to(source)
            target = roots.extensions / relative
            try:
                mode = 0o755 if str(relative) == builtin.relative_path else file.stat().st_mode & 0o777
                if _copy_if_changed(file, target, mode):
                    written.append(str(relative))
            except OSError as exc:
                log.warning("cannot install built-in extension file %s: %s", target, exc)
    return written


def _copy_if_changed(source: Path, target: Path, mode: int) -> bool:
    data = source.read_bytes()
    if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
        if target.stat().st_mode & 0o777 != mode:
            os.chmod(target, mode)
        return False
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
