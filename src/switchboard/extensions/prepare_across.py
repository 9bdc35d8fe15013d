"""Preparing an entry point on every management server (CloudStack's `prepareExtensionPathAcrossServers`).

CloudStack runs "prepare path" on every server over its cluster RPC when an extension is created or
enabled. Switchboard has no RPC: the server that creates or enables an extension prepares its own copy and
leaves a request on the extension (hidden detail `switchboard.prepare` = a fresh token); every other
server prepares its copy at its next periodic check and acknowledges the token (hidden detail
`switchboard.prepared.<server id>`). Each request is carried out once per server, so an entry file an
operator removes later is not silently re-created (readiness must be able to report it missing).

Preparing = creating a missing user-defined `.sh` entry point from the scaffold, never through a symlink
leading out of the extension's directory (`scaffold_entry`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from switchboard.db.models.extensions import Extension, ExtensionDetail, ExtensionState
from switchboard.errors import InvalidParameter
from switchboard.extensions import store
from switchboard.extensions.paths import EntryPoint, ExtensionRoots
from switchboard.extensions.scaffold import prepare_entry_point

__all__ = [
    "REQUEST_DETAIL",
    "Pending",
    "acknowledge",
    "pending",
    "prepare_pending",
    "request",
    "scaffold_entry",
    "stays_inside",
]

log = logging.getLogger(__name__)

REQUEST_DETAIL = "switchboard.prepare"


def _acknowledged(server_id: int) -> str:
    return f"switchboard.prepared.{server_id}"


@dataclass(frozen=True)
class Pending:
    """An extension this server has not prepared since it was last created or enabled."""

    extension_id: int
    name: str
    relative_path: str
    token: str


def stays_inside(entry: EntryPoint, root: Path) -> bool:
    """Whether creating `entry.path` (and its missing directories) writes inside the extension's directory.

    The nearest existing ancestor of the entry file, resolved, must be inside the resolved extension
    directory (or, while that does not exist yet, inside the root, or above a root still to be created);
    a dangling symlink on the way fails."""
    anchor = entry.directory if entry.directory.exists() or entry.directory.is_symlink() else root
    existing = entry.path.parent
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            return False
        existing = existing.parent
    try:
        real, real_anchor = existing.resolve(strict=True), anchor.resolve()
    except (OSError, RuntimeError):
        return False
    # Everything below an existing ancestor of the anchor is created fresh, as real directories.
    return real.is_relative_to(real_anchor) or (not anchor.exists() and real_anchor.is_relative_to(real))


def scaffold_entry(roots: ExtensionRoots, relative_path: str) -> None:
    """Create a missing `.sh` entry point from the scaffold (see switchboard.extensions.scaffold).

    Raises OSError when it cannot be written or would be written outside its extension directory."""
    try:
        entry = roots.entry_point(relative_path)
    except InvalidParameter as exc:
        raise OSError(str(exc)) from exc
    if not stays_inside(entry, roots.extensions):
        raise OSError(f"{entry.path} would be created outside {entry.directory}")
    prepare_entry_point(entry.path, root=roots.extensions)


def request(session: Session, extension: Extension, server_id: int | None) -> None:
    """Ask every server to prepare `extension` (this one, `server_id`, has just done so)."""
    token = str(uuid.uuid4())
    store.set_hidden_detail(session, extension.id, REQUEST_DETAIL, token)
    if server_id is not None:
        store.set_hidden_detail(session, extension.id, _acknowledged(server_id), token)


def pending(session: Session, server_id: int) -> list[Pending]:
    """Live, Enabled, user-defined extensions whose latest prepare request this server has not handled."""
    asked, done = aliased(ExtensionDetail), aliased(ExtensionDetail)
    rows = session.execute(
        select(Extension.id, Extension.name, Extension.relative_path, asked.value, done.value)
        .join(asked, and_(asked.extension_id == Extension.id, asked.name == REQUEST_DETAIL))
        .outerjoin(done, and_(done.extension_id == Extension.id, done.name == _acknowledged(server_id)))
        .where(Extension.removed.is_(None), Extension.is_user_defined.is_(True),
               Extension.state == ExtensionState.ENABLED.value)
    ).all()
    return [Pending(extension_id=row[0], name=row[1], relative_path=row[2], token=row[3])
            for row in rows if row[3] != row[4]]


def acknowledge(session: Session, server_id: int, done: list[Pending]) -> None:
    """Record that this server handled these requests."""
    for item in done:
        store.set_hidden_detail(session, item.extension_id, _acknowledged(server_id), item.token)


def prepare_pending(roots: ExtensionRoots, items: list[Pending]) -> None:
    """Carry out the requests on this server's files (outside any transaction); failures are logged: the
    readiness check then reports the extension not ready."""
    for item in items:
        try:
            scaffold_entry(roots, item.relative_path)
        except OSError as exc:
            log.warning("extension %s: cannot prepare its entry point on this server: %s", item.name, exc)
