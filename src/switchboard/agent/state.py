"""Persistent, crash-safe per-VM state under the agent's state directory.

Layout: `<state_dir>/vms/<name>.json`, one file per VM, directories 0700 and files 0600. Every write goes to
a temporary file in the same directory, is fsync'ed, renamed over the old file and the directory is fsync'ed,
so a crash leaves either the old or the new record, never a torn one. A record holds the desired and the
observed state, the spec (which holds no secrets by construction) and the storage and network allocations,
which is everything the reconcile pass needs after an agent or host restart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard.agent.model import NicAttachment, PowerState, Volume
from switchboard.agent.names import validate_vm_name
from switchboard.agent.spec import VmSpec

__all__ = ["Phase", "StateError", "StateStore", "VmRecord", "atomic_write", "private_dir"]

_log = logging.getLogger(__name__)
_FORMAT = 1
_STALE_TMP_SECONDS = 300


class StateError(Exception):
    """The state directory cannot be read or written."""


class Phase(enum.StrEnum):
    """Where a VM is in its life on this host (as opposed to its power state)."""

    CREATING = "creating"  # recorded, resources may be partly provisioned
    READY = "ready"  # fully provisioned; power state follows `desired`
    DELETING = "deleting"  # delete started; reconcile finishes it after a crash


@dataclass
class VmRecord:
    """Everything the agent knows about one VM. Mutated only under the VM's lock, then saved."""

    spec: VmSpec
    phase: Phase = Phase.CREATING
    desired: PowerState = PowerState.RUNNING
    observed: PowerState = PowerState.UNKNOWN
    storage_backend: str = ""
    network_backend: str = ""
    volumes: list[Volume] = field(default_factory=list)
    nics: list[NicAttachment] = field(default_factory=list)
    boot_id: str | None = None  # the host boot in which the VMM was last launched
    last_error: str | None = None
    # Stopped by a host-wide graceful shutdown while meant to run: started again by the next agent.
    held: bool = False
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def name(self) -> str:
        return self.spec.name

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "spec": self.spec.to_json(),
            "phase": self.phase.value,
            "desired": self.desired.value,
            "observed": self.observed.value,
            "storage_backend": self.storage_backend,
            "network_backend": self.network_backend,
            "volumes": [{**dataclasses.asdict(v), "path": str(v.path)} for v in self.volumes],
            "nics": [dataclasses.asdict(n) for n in self.nics],
            "boot_id": self.boot_id,
            "last_error": self.last_error,
            "held": self.held,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VmRecord:
        return cls(
            spec=VmSpec.from_json(data["spec"]),
            phase=Phase(data["phase"]),
            desired=PowerState(data["desired"]),
            observed=PowerState(data.get("observed", "unknown")),
            storage_backend=data.get("storage_backend", ""),
            network_backend=data.get("network_backend", ""),
            volumes=[Volume(**{**v, "path": Path(v["path"])}) for v in data.get("volumes", [])],
            nics=[NicAttachment(**n) for n in data.get("nics", [])],
            boot_id=data.get("boot_id"),
            last_error=data.get("last_error"),
            held=bool(data.get("held", False)),
            created_at=float(data.get("created_at", 0.0)),
            updated_at=float(data.get("updated_at", 0.0)),
        )


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it 0700. Returns `path`. Raises StateError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StateError(f"cannot create private directory {path}: {exc.strerror}") from exc
    return path


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, even after a crash."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StateError(f"cannot write {path}: {exc.strerror}") from exc


class StateStore:
    """The VM records, cached in memory (status reads never touch the disk) and written through."""

    def __init__(self, state_dir: Path, *, observe_write: Callable[[float], None] | None = None) -> None:
        self._observe_write = observe_write  # called with the seconds each save took (metrics)
        self._root = private_dir(state_dir)
        self._vms = private_dir(state_dir / "vms")
        self._lock = threading.Lock()
        self._records: dict[str, VmRecord] = {}
        self._load()

    @property
    def root(self) -> Path:
        return self._root

    def _load(self) -> None:
        for path in sorted(self._vms.glob("*.json")):
            try:
                name = validate_vm_name(path.stem)
                record = VmRecord.from_json(json.loads(path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                # A record we cannot read is left on disk for the admin, never silently deleted.
                _log.error("ignoring unreadable state file %s: %s", path, exc)
                continue
            if record.name != name:
                _log.error("ignoring state file %s: it describes VM %s", path, record.name)
                continue
            self._records[name] = record
        # Temporary files of writes a crash interrupted; young ones may belong to a live writer.
        for stale in self._vms.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > _STALE_TMP_SECONDS:
                    stale.unlink()

    def path(self, name: str) -> Path:
        """Where `name`'s record lives (whether or not it exists)."""
        return self._vms / f"{validate_vm_name(name)}.json"

    def get(self, name: str) -> VmRecord | None:
        """The record for `name`, or None. The object is shared: mutate it only under the VM's lock."""
        with self._lock:
            return self._records.get(name)

    def all(self) -> list[VmRecord]:
        """Every record, sorted by name."""
        with self._lock:
            return [self._records[n] for n in sorted(self._records)]

    def save(self, record: VmRecord) -> None:
        """Persist `record` (atomically) and make it the cached one. Raises StateError."""
        started = time.monotonic()
        record.updated_at = time.time()
        data = json.dumps(record.to_json(), indent=1, sort_keys=True).encode()
        path = self.path(record.name)
        atomic_write(path, data)
        if self._observe_write is not None:
            self._observe_write(time.monotonic() - started)
        with self._lock:
            self._records[record.name] = record

    def remove(self, name: str) -> None:
        """Forget `name` on disk and in memory. No error when it is absent."""
        path = self.path(name)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StateError(f"cannot remove {path}: {exc.strerror}") from exc
        with self._lock:
            self._records.pop(name, None)
