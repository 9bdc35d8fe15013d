"""Readiness of extension entry points across management servers (protocol notes §1.7). No database here.

Each server computes the checksums of its own copies (`local_checksums`) and publishes them; the periodic
check (interval setting `extension.path.state.check.interval`, default 300 s) then decides `pathready` with
`is_path_ready` from what every running server published. Between checks, each server looks at its entry
files' `stat` every few seconds (`local_signatures`) and checks at once when one changed. The database layer
stores and schedules; this module only computes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from switchboard.errors import InvalidParameter
from switchboard.extensions.paths import ExtensionRoots

__all__ = [
    "CHECK_INTERVAL_DEFAULT",
    "CHECK_INTERVAL_SETTING",
    "ExtensionFile",
    "initial_delay",
    "is_path_ready",
    "local_checksums",
    "local_signatures",
    "not_ready_alert",
]

CHECK_INTERVAL_SETTING = "extension.path.state.check.interval"
CHECK_INTERVAL_DEFAULT = 300


@dataclass(frozen=True, kw_only=True)
class ExtensionFile:
    """An extension's name and its entry point relative to the extensions root (as stored)."""

    name: str
    relative_path: str


def local_checksums(roots: ExtensionRoots, extensions: Iterable[ExtensionFile]) -> dict[str, str | None]:
    """Extension name → MD5 hex of this server's entry file, or None when it is not a valid entry point
    (missing, not a regular readable executable file, escaping its directory, or a malformed stored path).

    Reads files: call it from a worker thread in async code.
    """
    result: dict[str, str | None] = {}
    for extension in extensions:
        try:
            entry = roots.entry_point(extension.relative_path)
        except InvalidParameter:
            result[extension.name] = None
            continue
        result[extension.name] = entry.checksum()
    return result


Signature = tuple[int, ...] | None


def local_signatures(roots: ExtensionRoots, extensions: Iterable[ExtensionFile]) -> dict[str, Signature]:
    """Extension name → what `stat` says of this server's entry file (the link and what it points to), or
    None when it is missing: cheap enough to look every few seconds, and different whenever the file is
    created, replaced, rewritten, re-linked or has its mode changed."""
    result: dict[str, Signature] = {}
    for extension in extensions:
        try:
            path = roots.entry_point(extension.relative_path).path
            link, real = os.lstat(path), os.stat(path)
        except (InvalidParameter, OSError):
            result[extension.name] = None
            continue
        result[extension.name] = (link.st_ino, link.st_mtime_ns, real.st_ino, real.st_size, real.st_mtime_ns,
                                  real.st_mode)
    return result


def is_path_ready(checksums: Mapping[str, str | None], running_servers: Iterable[str]) -> bool:
    """True when every running server published a checksum for the extension and all are the same.

    `checksums`: server id → the checksum it published (None: not valid there); `running_servers`: the ids
    of the servers that are up. A running server that published nothing counts as not ready.
    """
    servers = list(running_servers)
    if not servers:
        return False
    values = [checksums.get(server) for server in servers]
    return values[0] is not None and all(value == values[0] for value in values)


def initial_delay(interval: int) -> int:
    """Seconds before the first check: min(60, interval), as CloudStack."""
    return min(60, interval)


def not_ready_alert(extension_name: str) -> str:
    """CloudStack's alert text (type 33, ALERT.TYPE.EXTENSION.PATH.NOT.READY)."""
    return f"Path for {extension_name} not ready across management servers"
