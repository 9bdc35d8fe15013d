"""Readiness of entry points across management servers, in the database (protocol notes §1.7).

Every server publishes, per extension, the MD5 of its own copy of the entry file (NULL when it is not a
valid entry point there) in `extension_server_checksum`: at start, at every periodic check, and when an
extension is created or enabled on it. `pathready` is then decided from what the running servers published:
ready when every one of them published the same non-NULL checksum (`readiness.is_path_ready`).

Where CloudStack asks the other servers over its cluster RPC, Switchboard reads what they published, so a
server that has not checked since a file changed is seen as it was at its last check (at most one interval
ago). Every server decides (there is no leader): the decision is a pure function of the published rows, and
repeated alerts are counted on one alert row.

A server is running when its `management_server` row is Up and its heartbeat is younger than the jobs'
heartbeat timeout (a killed server's row stays Up until others notice).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from switchboard.db.base import utcnow
from switchboard.db.engine import Database
from switchboard.db.models.extensions import Extension, ExtensionServerChecksum, ExtensionState
from switchboard.db.models.jobs import ManagementServer
from switchboard.db.outage import report_failure
from switchboard.extensions import cleanup, prepare_across
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.readiness import (
    ExtensionFile,
    Signature,
    is_path_ready,
    local_checksums,
    local_signatures,
    not_ready_alert,
)
from switchboard.infra.events import record_alert

__all__ = [
    "ALERT_PATH_NOT_READY",
    "PathStateChecker",
    "ServerView",
    "decide",
    "publish",
    "running_servers",
]

log = logging.getLogger(__name__)

ALERT_PATH_NOT_READY = 33  # ALERT.TYPE.EXTENSION.PATH.NOT.READY


@dataclass(frozen=True)
class ServerView:
    """How this process sees the management servers: its own row id (None before the jobs runtime has
    registered it) and the heartbeat age after which another server counts as gone, in seconds."""

    server_id: Callable[[], int | None]
    heartbeat_timeout: float


def running_servers(session: Session, view: ServerView, *, now: dt.datetime | None = None) -> list[int]:
    """Row ids of the servers that are Up with a fresh heartbeat (this one included once registered)."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=view.heartbeat_timeout)
    ids = set(session.execute(
        select(ManagementServer.id).where(ManagementServer.status == "Up", ManagementServer.last_heartbeat >= cutoff)
    ).scalars())
    own = view.server_id()
    if own is not None:
        ids.add(own)
    return sorted(ids)


def publish(session: Session, server_id: int, checksums: Mapping[int, str | None]) -> None:
    """Upsert this server's checksums (extension id → MD5 hex or None), one statement per extension."""
    if not checksums:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    for extension_id, checksum in checksums.items():
        stmt = insert(ExtensionServerChecksum).values(
            server_id=server_id, extension_id=extension_id, checksum=checksum, updated=now
        )
        session.execute(stmt.on_conflict_do_update(
            index_elements=["server_id", "extension_id"], set_={"checksum": checksum, "updated": now}
        ))


def decide(session: Session, extension_ids: Iterable[int], view: ServerView) -> dict[int, bool]:
    """Extension id → ready, from the checksums the running servers published (one query)."""
    ids = list(extension_ids)
    servers = running_servers(session, view)
    published: dict[int, dict[str, str | None]] = {i: {} for i in ids}
    if ids and servers:
        rows = session.execute(
            select(ExtensionServerChecksum.extension_id, ExtensionServerChecksum.server_id,
                   ExtensionServerChecksum.checksum)
            .where(ExtensionServerChecksum.extension_id.in_(ids), ExtensionServerChecksum.server_id.in_(servers))
        ).all()
        for extension_id, server_id, checksum in rows:
            published[extension_id][str(server_id)] = checksum
    running = [str(server) for server in servers]
    return {i: is_path_ready(published[i], running) for i in ids}


class PathStateChecker:
    """The periodic check of one server: prepare entry points other servers asked for, publish own
    checksums, decide `pathready`, alert, and remove this server's files of extensions deleted with cleanup.

    `interval`: seconds between checks (setting `extension.path.state.check.interval`). Between checks, a
    watch every `watch_interval` seconds looks at the entry files' `stat` and at the extensions this server
    has not published a checksum of (new ones, created on another server), and checks at once when one of
    them changed: a file an operator copies in place counts within seconds, not at the next interval.
    `start()` runs one check at once, then both loops on daemon threads; `stop()` ends them.
    """

    def __init__(self, *, db: Database, roots: ExtensionRoots, view: ServerView, interval: float,
                 watch_interval: float = 2.0) -> None:
        if interval <= 0:
            raise ValueError("extension.path.state.check.interval must be positive")
        self._db = db
        self._roots = roots
        self._view = view
        self.interval = interval
        self.watch_interval = watch_interval
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._checking = threading.Lock()
        self._seen: dict[str, Signature] = {}

    def start(self) -> None:
        self.check_quietly()
        self._threads = [threading.Thread(target=self._loop, name="extension-path-state", daemon=True),
                         threading.Thread(target=self._watch, name="extension-path-watch", daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            self.check_quietly()

    def _watch(self) -> None:
        while not self._stopping.wait(self.watch_interval):
            try:
                self.watch_once()
            except SQLAlchemyError as exc:
                report_failure(log, exc, "extension path watch failed; retrying in %s s", self.watch_interval)

    def watch_once(self) -> bool:
        """Check now if an entry file changed since the last check, or an extension has no checksum of this
        server yet; True when it checked. Raises SQLAlchemyError."""
        server_id = self._view.server_id()
        with self._db.session() as session:
            rows = session.execute(
                select(Extension.name, Extension.relative_path, ExtensionServerChecksum.server_id)
                .outerjoin(ExtensionServerChecksum, (ExtensionServerChecksum.extension_id == Extension.id)
                           & (ExtensionServerChecksum.server_id == server_id))
                .where(Extension.removed.is_(None))
            ).all()
        files = [ExtensionFile(name=row.name, relative_path=row.relative_path) for row in rows]
        unpublished = server_id is not None and any(row.server_id is None for row in rows)
        if not unpublished and local_signatures(self._roots, files) == self._seen:
            return False
        self.check_once()
        return True

    def check_quietly(self) -> None:
        """`check_once`, logging (not raising) database errors: the next check tries again."""
        try:
            self.check_once()
        except SQLAlchemyError as exc:
            report_failure(log, exc, "extension path state check failed; retrying in %s s", self.interval)

    def check_once(self) -> dict[str, bool]:
        """One check; returns extension name → ready for every live extension. Raises SQLAlchemyError."""
        with self._checking:
            return self._check()

    def _check(self) -> dict[str, bool]:
        with self._db.session() as session:
            rows = session.execute(
                select(Extension.id, Extension.name, Extension.relative_path).where(Extension.removed.is_(None))
            ).all()
            server_id = self._view.server_id()
            requests = prepare_across.pending(session, server_id) if server_id is not None else []
        files = {row.id: ExtensionFile(name=row.name, relative_path=row.relative_path) for row in rows}
        if requests and server_id is not None:  # extensions created or enabled on another server
            prepare_across.prepare_pending(self._roots, requests)
            with self._db.session() as session:
                prepare_across.acknowledge(session, server_id, requests)
        # Files are read outside any transaction: a slow disk must not hold database locks.
        self._seen = local_signatures(self._roots, files.values())
        by_name = local_checksums(self._roots, files.values())
        checksums = {extension_id: by_name[file.name] for extension_id, file in files.items()}
        with self._db.session() as session:
            if server_id is not None:
                publish(session, server_id, checksums)
        with self._db.session() as session:
            result = self._apply(session, decide(session, checksums, self._view))
        with self._db.session() as session:
            leftovers = cleanup.pending_targets(session, self._roots)
        cleanup.remove(leftovers)
        return result

    def _apply(self, session: Session, ready: Mapping[int, bool]) -> dict[str, bool]:
        result: dict[str, bool] = {}
        if not ready:
            return result
        extensions = session.execute(
            select(Extension).where(Extension.id.in_(list(ready)), Extension.removed.is_(None))
        ).scalars()
        for extension in extensions:
            now_ready = ready[extension.id]
            result[extension.name] = now_ready
            if extension.path_ready != now_ready:
                log.info("extension %s: pathready %s -> %s", extension.name, extension.path_ready, now_ready)
                extension.path_ready = now_ready
            if not now_ready and extension.state == ExtensionState.ENABLED.value:
                record_alert(session, type=ALERT_PATH_NOT_READY, subject=not_ready_alert(extension.name))
        return result
