"""The extension registry: create, update, delete, register with clusters, and the checks other areas call.

`ExtensionRegistry` is built once per server (switchboard.server) and reaches API handlers as
`call.services.extensions`. Every method takes the caller's session; the caller's transaction commits or
rolls back everything a method did (files are removed only after commit).

For the instance lifecycle and custom actions:

* `store.get_extension` / `store.get_extension_by_id`, `store.record_of` (details grouped, hidden flag),
* `registry.entry_point(extension)` (validate it right before running) and `registry.full_path(extension)`,
* `require_usable(extension)` — the planner's refusal with CloudStack's messages,
* `switchboard.infra.clusters.resource_map_details(session, cluster_id)` — the `resourcemap` group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.models.extensions import (
    Extension,
    ExtensionResourceMap,
    ExtensionServerChecksum,
    ExtensionState,
    ExtensionType,
)
from switchboard.errors import Conflict, InvalidParameter, OperationFailed
from switchboard.extensions import cleanup, prepare_across, store
from switchboard.extensions.path_state import ServerView, decide, publish
from switchboard.extensions.paths import EntryPoint, EntryPointError, ExtensionRoots, normalise_relative_path
from switchboard.infra import clusters
from switchboard.infra.common import require_name
from switchboard.infra.extension_link import ExtensionRef

__all__ = [
    "DISABLED",
    "NOT_CONNECTED",
    "NOT_READY",
    "ExtensionRegistry",
    "ExtensionUnusable",
    "NewExtension",
    "require_usable",
]

log = logging.getLogger(__name__)


NOT_CONNECTED = "Extension not connected"
DISABLED = "Extension is disabled"
NOT_READY = "Extension is not ready"


class ExtensionUnusable(OperationFailed):
    """The extension cannot carry out operations now (not registered, disabled, or its path not ready)."""


def require_usable(extension: Extension | None, *,
                   recheck: Callable[[Extension], bool] | None = None) -> Extension:
    """The extension, if instances may be placed on it and operated through it (§1.6, §1.7).

    Raises ExtensionUnusable with CloudStack's texts: "Extension not connected" (None or removed),
    "Extension is disabled", "Extension is not ready" (pathready false, and still false after `recheck`,
    e.g. `ExtensionRegistry.recheck`, looked at the entry file again)."""
    if extension is None or extension.removed is not None:
        raise ExtensionUnusable(NOT_CONNECTED)
    if extension.state != ExtensionState.ENABLED.value:
        raise ExtensionUnusable(DISABLED)
    if not extension.path_ready and not (recheck is not None and recheck(extension)):
        raise ExtensionUnusable(NOT_READY)
    return extension


def _enable_failed(name: str) -> OperationFailed:
    return OperationFailed(f"Failed to enable extension: {name} as it entry-point is not ready")


def _choice(value: str, allowed: type[ExtensionState] | type[ExtensionType], *, parameter: str, what: str) -> str:
    """CloudStack's case-sensitive enum parsing."""
    for option in allowed:
        if option.value == value:
            return option.value
    raise InvalidParameter(f"Invalid {what} specified: {value}", parameter=parameter)


@dataclass(frozen=True, kw_only=True)
class NewExtension:
    """createExtension's parameters (None: not given)."""

    name: str
    type: str
    description: str | None = None
    path: str | None = None
    requires_prepare_vm: bool | None = None
    state: str | None = None
    details: Mapping[str, str] | None = None


class ExtensionRegistry:
    """Extensions on this server: their files under `roots`, their readiness as seen through `view`."""

    def __init__(self, *, roots: ExtensionRoots, view: ServerView) -> None:
        self.roots = roots
        self.view = view

    # -- files --------------------------------------------------------------------------------------------

    def entry_point(self, extension: Extension) -> EntryPoint:
        """The entry point of `extension` (call `.validate()` right before running it)."""
        return self.roots.entry_point(extension.relative_path)

    def full_path(self, extension: Extension) -> Path:
        """`<extensions root>/<relative path>`, as ExtensionResponse's `path` shows it."""
        return self.roots.extensions / extension.relative_path

    def prepare_path(self, session: Session, extension: Extension) -> bool:
        """Prepare the entry point on this server and refresh `pathready` (§1.7 "prepare path").

        A user-defined `.sh` entry point that is missing is created from the scaffold, here at once and on
        the other servers at their next check (switchboard.extensions.prepare_across). Returns False when
        preparing failed: the scaffold could not be written, or the file exists but is not a valid entry
        point (not executable, not a regular file, leaving its directory). A missing non-`.sh` entry point
        is not a failure (CloudStack does not scaffold those) but leaves `pathready` false.
        """
        entry = self.entry_point(extension)
        prepared = True
        if extension.is_user_defined:
            try:
                prepare_across.scaffold_entry(self.roots, extension.relative_path)
            except OSError as exc:
                log.warning("extension %s: cannot create %s from the scaffold: %s", extension.name, entry.path, exc)
                prepared = False
            # The other servers prepare their copies at their next check.
            prepare_across.request(session, extension, self.view.server_id())
        checksum: str | None = None
        try:
            entry.validate()
            checksum = entry.checksum()
        except EntryPointError as exc:
            if entry.path.exists() or entry.path.is_symlink():
                log.warning("extension %s: %s", extension.name, exc.reason)
                prepared = False
        self.refresh(session, extension, checksum)
        return prepared

    def recheck(self, session: Session, extension: Extension) -> bool:
        """Look at this server's entry file again, now (an operation found the extension not ready, e.g.
        its file was copied in place after it was created): publish its checksum, decide `pathready` anew
        in the caller's transaction, and return it."""
        try:
            checksum = self.entry_point(extension).checksum()
        except InvalidParameter:
            checksum = None
        self.refresh(session, extension, checksum)
        if extension.path_ready:
            log.info("extension %s: its entry point is ready now", extension.name)
        return extension.path_ready

    def refresh(self, session: Session, extension: Extension, checksum: str | None) -> None:
        """Publish this server's checksum of `extension` and decide its `pathready` again."""
        own = self.view.server_id()
        if own is None:  # not registered as a management server (tools, tests): this copy is all there is
            extension.path_ready = checksum is not None
            return
        publish(session, own, {extension.id: checksum})
        extension.path_ready = decide(session, [extension.id], self.view)[extension.id]

    def _cleanup_files(self, session: Session, extension: Extension) -> None:
        """Mark the (removed) extension for cleanup on every server, and remove this server's copies of its
        directory and payload directory once the deletion is committed (see switchboard.extensions.cleanup)."""
        cleanup.mark(session, extension)
        found = cleanup.targets(session, self.roots, extension)
        event.listen(session, "after_commit", lambda _session: cleanup.remove(found), once=True)

    # -- commands -----------------------------------------------------------------------------------------

    def create(self, session: Session, spec: NewExtension) -> Extension:
        """createExtension. Raises Conflict for a duplicate name, InvalidParameter for a bad type, state or
        path, and OperationFailed("Failed to enable extension: …") when created Enabled with an entry point
        that cannot be prepared (nothing is created then)."""
        name = require_name(spec.name, parameter="name")
        kind = _choice(spec.type, ExtensionType, parameter="type", what="type")
        state = _choice(spec.state, ExtensionState, parameter="state", what="state") if spec.state else \
            ExtensionState.ENABLED.value
        relative = normalise_relative_path(name, spec.path)
        self.roots.entry_point(relative)  # refuses what can never be a valid entry point
        if session.execute(select(Extension.id).where(Extension.name == name, Extension.removed.is_(None))).first():
            raise Conflict("Extension by name already exists")
        extension = Extension(name=name, description=spec.description, type=kind, relative_path=relative,
                              is_user_defined=True, state=state, path_ready=False)
        session.add(extension)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent create of the same name won
            raise Conflict("Extension by name already exists") from exc
        if spec.details:
            store.replace_visible_details(session, extension.id, spec.details)
        if spec.requires_prepare_vm is not None:
            store.set_hidden_detail(session, extension.id, store.REQUIRES_PREPARE_VM,
                                    str(spec.requires_prepare_vm).lower())
        if state == ExtensionState.ENABLED.value and not self.prepare_path(session, extension):
            raise _enable_failed(name)
        return extension

    def update(
        self,
        session: Session,
        extension: Extension,
        *,
        description: str | None = None,
        requires_prepare_vm: bool | None = None,
        state: str | None = None,
        details: Mapping[str, str] | None = None,
        cleanup_details: bool = False,
    ) -> Extension:
        """updateExtension. `details` replaces the visible details (`cleanup_details` removes them and wins);
        hidden details stay. Enabling a Disabled extension prepares its path again; when that fails the
        extension stays Disabled and OperationFailed("Failed to enable extension: …") is raised."""
        if description is not None:
            extension.description = description
        if requires_prepare_vm is not None:
            store.set_hidden_detail(session, extension.id, store.REQUIRES_PREPARE_VM, str(requires_prepare_vm).lower())
        if cleanup_details:
            store.replace_visible_details(session, extension.id, {})
        elif details is not None:
            store.replace_visible_details(session, extension.id, details)
        if state is not None:
            wanted = _choice(state, ExtensionState, parameter="state", what="state")
            if wanted != extension.state:
                extension.state = wanted
                if wanted == ExtensionState.ENABLED.value and not self.prepare_path(session, extension):
                    # The request's transaction is rolled back: the extension stays Disabled, unchanged.
                    raise _enable_failed(extension.name)
        session.flush()
        return extension

    def delete(self, session: Session, extension: Extension, *, cleanup: bool = False) -> None:
        """deleteExtension. Raises Conflict for a built-in and while clusters, custom actions or templates
        still use it. `cleanup` removes the extension's files and payloads: here after commit, on the other
        servers at their next periodic check."""
        if not extension.is_user_defined:
            raise Conflict("System extension can not be deleted", uuids=[extension.uuid])
        resources = store.count_resources(session, extension.id)
        if resources:
            raise Conflict(f"Extension has {resources} registered resources, unregister them before deleting "
                           "the extension", uuids=[extension.uuid])
        actions = store.count_custom_actions(session, extension.id)
        if actions:
            raise Conflict(f"Extension has {actions} custom actions, delete them before deleting the extension",
                           uuids=[extension.uuid])
        templates = store.count_templates(session, extension.id)
        if templates:
            raise Conflict(f"Extension has {templates} templates using it, delete them before deleting the "
                           "extension", uuids=[extension.uuid])
        extension.removed = utcnow()
        session.execute(delete(ExtensionServerChecksum).where(ExtensionServerChecksum.extension_id == extension.id))
        session.execute(delete(ExtensionResourceMap).where(ExtensionResourceMap.extension_id == extension.id))
        session.flush()
        if cleanup:
            self._cleanup_files(session, extension)

    def register(
        self, session: Session, extension: Extension, *, resource_id: str, resource_type: str,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """registerExtension: tie an External cluster to the extension; `details` become the resource map's.
        Raises NotFound for an unknown cluster, InvalidParameter for another resource type or hypervisor,
        Conflict when the cluster already has an extension."""
        cluster = clusters.get_cluster(session, resource_id, parameter="resourceid")
        _require_cluster_type(resource_type)
        if cluster.extension_id == extension.id:
            raise Conflict(f"Extension: {extension.name} is already registered with this cluster: {cluster.name}")
        clusters.link_extension(session, cluster, _ref(extension), details)
        session.execute(delete(ExtensionResourceMap).where(
            ExtensionResourceMap.resource_type == store.CLUSTER, ExtensionResourceMap.resource_id == cluster.id))
        session.add(ExtensionResourceMap(extension_id=extension.id, resource_type=store.CLUSTER,
                                         resource_id=cluster.id))
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent registration of the same cluster won
            raise Conflict(f"An extension is already registered with this cluster: {cluster.name}") from exc

    def unregister(self, session: Session, extension: Extension, *, resource_id: str, resource_type: str) -> None:
        """unregisterExtension: untie the cluster when it is tied to this extension; silently nothing else."""
        cluster = clusters.get_cluster(session, resource_id, parameter="resourceid")
        _require_cluster_type(resource_type)
        if cluster.extension_id != extension.id:
            return
        clusters.unlink_extension(session, cluster)
        session.execute(delete(ExtensionResourceMap).where(
            ExtensionResourceMap.resource_type == store.CLUSTER, ExtensionResourceMap.resource_id == cluster.id))
        session.flush()


def _require_cluster_type(resource_type: str) -> None:
    if resource_type != store.CLUSTER:
        raise InvalidParameter(f"Invalid resource type specified: {resource_type}; only {store.CLUSTER} is "
                               "supported", parameter="resourcetype")


def _ref(extension: Extension) -> ExtensionRef:
    return ExtensionRef(id=extension.id, uuid=extension.uuid, name=extension.name)
