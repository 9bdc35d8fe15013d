"""Removing a deleted extension's files on every management server (deleteExtension `cleanup=true`, §1.5).

The server that deletes the extension removes its files once the deletion is committed; the deletion is
also marked on the removed row (hidden detail `switchboard.cleanup`), and every server's periodic check removes its
own copies of marked extensions (`pending_targets`), so servers that were down at the time catch up.

A directory is kept when another extension still owns it: a live one (two names can share a sanitised
directory name, and a deleted name can be created again), or one removed later than this one (the latest
deletion decides whether files go). Removal is idempotent.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from switchboard.db.models.extensions import Extension, ExtensionDetail
from switchboard.extensions import store
from switchboard.extensions.paths import ExtensionRoots

__all__ = ["CLEANUP_DETAIL", "Target", "mark", "pending_targets", "remove", "targets"]

log = logging.getLogger(__name__)

# Namespaced: an operator's own details (any key) share the table.
CLEANUP_DETAIL = "switchboard.cleanup"


@dataclass(frozen=True)
class Target:
    """A directory to remove, and the root it must be strictly inside."""

    path: Path
    inside: Path


def _others(extension: Extension) -> ColumnElement[bool]:
    newer: ColumnElement[bool] = Extension.removed.is_(None)
    if extension.removed is not None:
        newer = or_(newer, Extension.removed > extension.removed)
    return (Extension.id != extension.id) & newer


def targets(session: Session, roots: ExtensionRoots, extension: Extension) -> list[Target]:
    """The extension's code directory and payload directory, less those another extension still owns."""
    directory = extension.relative_path.split("/")[0]
    found: list[Target] = []
    dir_owner = session.execute(select(Extension.id).where(
        _others(extension), Extension.relative_path.startswith(f"{directory}/", autoescape=True))).first()
    if directory and dir_owner is None:
        found.append(Target(roots.extensions / directory, roots.extensions))
    name_owner = session.execute(select(Extension.id).where(_others(extension), Extension.name == extension.name)
                                 ).first()
    if name_owner is None:
        found.append(Target(roots.payload_dir(extension.name), roots.payloads))
    return found


def mark(session: Session, extension: Extension) -> None:
    """Record that the (removed) extension's files are to be removed on every server."""
    store.set_hidden_detail(session, extension.id, CLEANUP_DETAIL, "true")


def remove(found: list[Target]) -> None:
    """Remove each target (a symlink: only the link) if it is strictly inside its root; log failures."""
    for target in found:
        path, inside = target.path, target.inside
        try:
            if path.is_symlink():
                path.unlink()
                continue
            if not path.exists():
                continue
            real, real_root = path.resolve(), inside.resolve()
            if not real.is_relative_to(real_root) or real == real_root:
                log.warning("not removing %s: it is not inside %s", path, inside)
                continue
            shutil.rmtree(real)
            log.info("removed %s", path)
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)


def pending_targets(session: Session, roots: ExtensionRoots) -> list[Target]:
    """This server's leftovers of extensions deleted with cleanup, to `remove` outside the transaction."""
    marked = session.execute(
        select(Extension)
        .join(ExtensionDetail, ExtensionDetail.extension_id == Extension.id)
        .where(Extension.removed.is_not(None), ExtensionDetail.name == CLEANUP_DETAIL)
    ).scalars().all()
    found: list[Target] = []
    for extension in marked:
        found.extend(target for target in targets(session, roots, extension)
                     if target.path.exists() or target.path.is_symlink())
    return found
