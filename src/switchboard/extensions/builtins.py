"""The built-in extensions: seeded at start as not user-defined and Enabled, with their custom actions
(protocol notes §3.6), and their files installed from the package into the extensions root.

Each built-in is declared by a manifest beside its executable, `builtin_extensions/<Dir>/extension.json`:

    {"name": "Proxmox", "description": "…", "entrypoint": "proxmox.py",
     "orchestratorrequirespreparevm": true,
     "customactions": [{"name": "CreateSnapshot", "description": "…", "successmessage": "…",
                        "errormessage": "…", "timeout": 60, "allowedroletypes": ["Admin", "User"],
                        "parameters": [{"name": "snap_name", "type": "STRING", "required": true}]}]}

Keys are CloudStack's API names (createExtension / addCustomAction). A custom action defaults to resource type
VirtualMachine, every role, a 60-second timeout and enabled (what CloudStack seeds for its built-ins).
Parameters are checked with the same rules as addCustomAction's; a malformed manifest fails loudly (it ships
with the package, so that is a bug caught by the tests, never an operator's mistake).

Seeding is idempotent by name: a missing built-in extension or custom action is added, existing ones are
never changed (operators may have edited them) — except the entry point of a built-in, which follows its
manifest (an upgrade that ships `proxmox.py` instead of `proxmox.sh` moves the path; `pathready` is false
until the readiness check has seen the new file). A built-in whose executable is not shipped keeps
`pathready` false — the readiness check finds no valid entry point.

Custom-action parameters are stored as the hidden detail `parameters`: a JSON list of
`{"name", "type", "validationformat", "required"}` objects (the shape listCustomActions shows).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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
from switchboard.errors import InvalidParameter
from switchboard.extensions import store
from switchboard.extensions.custom_actions.parameters import Definition, dump_definitions
from switchboard.extensions.paths import ExtensionRoots
from switchboard.roles import RoleType

__all__ = [
    "BUILTIN_SOURCE",
    "MANIFEST_NAME",
    "PARAMETERS_DETAIL",
    "Builtin",
    "BuiltinAction",
    "builtins",
    "install_builtin_files",
    "load_manifest",
    "seed_builtins",
]

log = logging.getLogger(__name__)

BUILTIN_SOURCE = Path(__file__).resolve().parent.parent / "builtin_extensions"
MANIFEST_NAME = "extension.json"
PARAMETERS_DETAIL = "parameters"
_DEFAULT_ACTION_TIMEOUT = 60  # seconds, as CloudStack seeds its built-ins' actions
_SEED_LOCK = 7312004  # PostgreSQL advisory lock id: one seeding server at a time


@dataclass(frozen=True)
class BuiltinAction:
    name: str
    description: str
    success_message: str
    error_message: str
    parameters: tuple[Definition, ...] = ()
    timeout: int = _DEFAULT_ACTION_TIMEOUT
    allowed_roles_mask: int = RoleType.mask_of(list(RoleType))


@dataclass(frozen=True)
class Builtin:
    name: str
    description: str
    relative_path: str
    requires_prepare_vm: bool = False
    actions: tuple[BuiltinAction, ...] = field(default_factory=tuple)


def load_manifest(path: Path) -> Builtin:
    """The built-in declared by the manifest at `path` (`<Dir>/extension.json`); its entry point is
    `<Dir>/<entrypoint>`. Raises ValueError naming the manifest when it is malformed."""
    try:
        shape = json.loads(path.read_text())
        return Builtin(
            name=_text(shape, "name"),
            description=_text(shape, "description"),
            relative_path=f"{path.parent.name}/{_text(shape, 'entrypoint')}",
            requires_prepare_vm=bool(shape.get("orchestratorrequirespreparevm", False)),
            actions=tuple(_action(entry) for entry in shape.get("customactions", [])),
        )
    except (OSError, ValueError, KeyError, TypeError, InvalidParameter) as exc:
        raise ValueError(f"malformed built-in extension manifest {path}: {exc}") from exc


def _text(shape: Mapping[str, Any], key: str) -> str:
    value = shape[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _action(shape: Mapping[str, Any]) -> BuiltinAction:
    definitions = tuple(
        Definition.from_request({key: str(value).lower() if isinstance(value, bool) else str(value)
                                 for key, value in entry.items()})
        for entry in shape.get("parameters", [])
    )
    roles = shape.get("allowedroletypes")
    mask = RoleType.mask_of([RoleType.from_wire(name) for name in roles]) if roles else RoleType.mask_of(
        list(RoleType))
    return BuiltinAction(
        name=_text(shape, "name"), description=_text(shape, "description"),
        success_message=str(shape.get("successmessage", "")), error_message=str(shape.get("errormessage", "")),
        parameters=definitions, timeout=int(shape.get("timeout", _DEFAULT_ACTION_TIMEOUT)),
        allowed_roles_mask=mask | RoleType.ADMIN.bit,
    )


@cache
def _shipped(source: Path) -> tuple[Builtin, ...]:
    return tuple(load_manifest(manifest) for manifest in sorted(source.glob(f"*/{MANIFEST_NAME}")))


def builtins(source: Path = BUILTIN_SOURCE) -> tuple[Builtin, ...]:
    """Every built-in the package ships a manifest for, by directory name."""
    return _shipped(source)


def seed_builtins(db: Database, declared: tuple[Builtin, ...] | None = None) -> list[str]:
    """Add missing built-in extensions and custom actions; returns the names of extensions added.

    Safe when several servers start at once: on PostgreSQL an advisory lock serialises the seeders; on
    SQLite a lost race shows as a duplicate and the seeding is done again with what the winner wrote.
    Raises SQLAlchemyError when the database fails otherwise."""
    for attempt in (1, 2):
        try:
            with db.session() as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
                return [builtin.name for builtin in (declared or builtins()) if _seed_one(session, builtin)]
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
    elif not extension.is_user_defined and extension.relative_path != builtin.relative_path:
        # The package now ships another entry point (Proxmox/proxmox.sh became proxmox.py): follow it. Not ready
        # until the readiness check has looked at the new file.
        log.info("built-in extension %s: entry point %s -> %s", builtin.name, extension.relative_path,
                 builtin.relative_path)
        extension.relative_path, extension.path_ready = builtin.relative_path, False
    existing = set(session.execute(
        select(ExtensionCustomAction.name)
        .where(ExtensionCustomAction.extension_id == extension.id, ExtensionCustomAction.removed.is_(None))
    ).scalars())
    for action in builtin.actions:
        if action.name in existing:
            continue
        row = ExtensionCustomAction(
            extension_id=extension.id, name=action.name, description=action.description,
            resource_type="VirtualMachine", allowed_role_types=action.allowed_roles_mask,
            success_message=action.success_message, error_message=action.error_message, timeout=action.timeout,
            enabled=True,
        )
        session.add(row)
        session.flush()
        session.add(ExtensionCustomActionDetail(custom_action_id=row.id, name=PARAMETERS_DETAIL,
                                                value=dump_definitions(action.parameters), display=False))
    session.flush()
    return added


def install_builtin_files(roots: ExtensionRoots, source: Path = BUILTIN_SOURCE,
                          python: str = sys.executable) -> list[str]:
    """Copy the shipped files of built-in extensions into the extensions root; returns the paths written.

    For each built-in whose entry file exists under `source/<dir>/`, every file of that directory (except
    caches) is copied to `<root>/<dir>/` when missing or different, atomically, keeping its mode (the
    entry file is made 0755). An entry file starting `#!/usr/bin/env python3` is installed to run with
    `python`, the server's own interpreter, as pip does for scripts: extensions run with a clean environment,
    and the packages built-ins need (pywinrm for Hyper-V) are installed with the server, not in whatever
    `python3` the PATH finds. Built-ins without shipped files are left alone. Errors are logged, not raised:
    a missing file only keeps the extension not ready."""
    written: list[str] = []
    for builtin in builtins(source):
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
                entry = str(relative) == builtin.relative_path
                mode = 0o755 if entry else file.stat().st_mode & 0o777
                data = _with_interpreter(file.read_bytes(), python) if entry else file.read_bytes()
                if _copy_if_changed(data, target, mode):
                    written.append(str(relative))
            except OSError as exc:
                log.warning("cannot install built-in extension file %s: %s", target, exc)
    return written


_ENV_PYTHON = b"#!/usr/bin/env python3\n"
_SHEBANG_LIMIT = 255  # bytes the kernel reads of a #! line (Linux 5.1+), "#!" included


def _with_interpreter(data: bytes, python: str) -> bytes:
    """`data` with its `#!/usr/bin/env python3` line naming `python` instead (unchanged otherwise, and when
    `python` cannot stand in a #! line: then it is logged, as the built-in may miss its packages)."""
    if not data.startswith(_ENV_PYTHON):
        return data
    line = f"#!{python}\n".encode()
    if any(c.isspace() for c in python) or len(line) > _SHEBANG_LIMIT:
        log.warning("built-in extensions keep '#!/usr/bin/env python3': the server's interpreter %r cannot be "
                    "named in a #! line", python)
        return data
    return line + data[len(_ENV_PYTHON):]


def _copy_if_changed(data: bytes, target: Path, mode: int) -> bool:
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
