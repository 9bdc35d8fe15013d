"""Reference counts of the VLANs the agent put on an uplink, kept on disk.

For each VLAN id the store remembers which NICs (`<vm>/<index>`) need it and whether the agent added it
to the uplink (`ours`) or found it already there (an admin's VLAN, never removed). The file is
replaced atomically on every change, so a crash leaves either the old or the new counts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _SharedLock:
    """A re-entrant lock for one file, shared by every VlanRefs of that file in this process, plus
    `flock` on `<file>.lock` (other processes), taken at the outermost level only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self.rlock:
            if self.depth:
                self.depth += 1
                try:
                    yield
                finally:
                    self.depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self.depth = 1
                try:
                    yield
                finally:
                    self.depth = 0
            finally:
                os.close(fd)  # releases the flock


_registry_guard = threading.Lock()
_locks: dict[Path, _SharedLock] = {}


class VlanRefs:
    """Users of each uplink VLAN, persisted in `path` (JSON). Callers hold `lock()` around a whole
    read-modify-apply sequence; the methods themselves only touch the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with _registry_guard:  # every instance for one file shares one lock (per-request backends)
            self._lock = _locks.setdefault(path.absolute(), _SharedLock(path))

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive, re-entrant access to the counts (threads and processes)."""
        return self._lock.hold()

    def load(self) -> dict[int, dict[str, Any]]:
        """vid -> {"users": set[str], "ours": bool}."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {int(vid): {"users": set(e["users"]), "ours": bool(e["ours"])} for vid, e in raw.items()}

    def save(self, table: dict[int, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {str(vid): {"users": sorted(e["users"]), "ours": e["ours"]} for vid, e in sorted(table.items())}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def users(self) -> set[str]:
        """Every `<vm>/<index>` that holds a reference."""
        return {u for e in self.load().values() for u in e["users"]}
