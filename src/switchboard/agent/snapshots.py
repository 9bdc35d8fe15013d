"""VM snapshots: the VMM's state and memory plus a copy of the VM's disks, taken while the guest is paused.

Firecracker does not flush or copy disks when it snapshots, so a snapshot of memory alone would be restored
against a disk that has moved on; this module copies each file-backed volume (sparse-aware, reflinked where
the filesystem can) while the guest is paused, and copies it back before a restore.

Layout: `<state_dir>/snapshots/<vm>/<snapshot>/` holding `meta.json`, the VMM's files and `disk-<role>.img`.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.agent.errors import AgentError, Conflict, NotFound
from switchboard.agent.hostcmd import CommandRunner, check
from switchboard.agent.model import PowerState
from switchboard.agent.names import validate_snapshot_name, validate_vm_name
from switchboard.agent.runtime import Runtime, backend_errors
from switchboard.agent.service import VmService
from switchboard.agent.state import atomic_write, private_dir
from switchboard.agent.vmm.base import Capability

__all__ = ["SnapshotInfo", "SnapshotService"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    vm: str
    created_at: float  # seconds since the epoch
    size_bytes: int  # bytes allocated on disk by the snapshot's files


def _copy_file(runner: CommandRunner, source: Path, target: Path) -> None:
    """Copy keeping holes and sharing extents where possible (cp does both; Python's copy does neither).
    Raises CommandFailed."""
    check(runner, ["cp", "--sparse=always", "--reflink=auto", "--", str(source), str(target)])


def _allocated(directory: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


class SnapshotService:
    """Snapshot create/list/restore/delete over the same runtime and locks as `VmService`."""

    def __init__(self, service: VmService) -> None:
        self._service = service
        self._rt: Runtime = service.rt

    def _dir(self, vm: str, snapshot: str | None = None) -> Path:
        base = self._rt.paths.snapshot_dir / validate_vm_name(vm)
        return base / validate_snapshot_name(snapshot) if snapshot else base

    def list(self, vm: str) -> list[SnapshotInfo]:
        """The VM's snapshots, oldest first. Raises NotFound for an unknown VM."""
        self._service.get(vm)
        infos = []
        base = self._dir(vm)
        if base.is_dir():
            for directory in base.iterdir():
                meta = directory / "meta.json"
                if not meta.is_file():
                    continue  # an interrupted create; ignored and removed on delete
                created = float(json.loads(meta.read_bytes()).get("created_at", 0.0))
                infos.append(SnapshotInfo(directory.name, vm, created, _allocated(directory)))
        return sorted(infos, key=lambda info: (info.created_at, info.name))

    def create(self, vm: str, snapshot: str | None = None) -> SnapshotInfo:
        """Pause, copy the disks and write the VMM state and memory, resume (a paused VM stays paused).
        Raises Unsupported, NotFound, Conflict (exists, or VM not running), OperationFailed."""
        self._service.require(Capability.SNAPSHOT)
        name = validate_snapshot_name(snapshot or time.strftime("snap-%Y%m%dT%H%M%SZ", time.gmtime()))
        with self._rt.locks.hold(vm):
            record = self._service.get(vm)
            state = self._rt.power_state(vm)
            if state not in (PowerState.RUNNING, PowerState.PAUSED):
                raise Conflict(f"VM {vm} is not running; only a running VM can be snapshotted")
            target = self._dir(vm, name)
            if target.exists():
                raise Conflict(f"snapshot {name} of VM {vm} already exists")
            private_dir(target)
            try:
                with backend_errors("vmm"):
                    self._rt.vmm.pause(vm)
                    for volume in record.volumes:
                        _copy_file(self._rt.commands, volume.path, target / f"disk-{volume.role}.img")
                    self._rt.vmm.snapshot_create(vm, target)
                    if state is PowerState.PAUSED:
                        self._rt.vmm.pause(vm)
                    elif self._rt.power_state(vm) is PowerState.PAUSED:
                        self._rt.vmm.resume(vm)
            except (AgentError, OSError):
                shutil.rmtree(target, ignore_errors=True)
                raise
            created = time.time()
            meta = {"name": name, "vm": vm, "created_at": created, "spec": record.spec.to_json()}
            atomic_write(target / "meta.json", json.dumps(meta).encode())
            return SnapshotInfo(name, vm, created, _allocated(target))

    def restore(self, vm: str, snapshot: str) -> None:
        """Replace the running (or stopped) VM with the snapshot: disks copied back, memory restored,
        guest resumed. Raises NotFound, Unsupported, OperationFailed."""
        self._service.require(Capability.SNAPSHOT)
        with self._rt.locks.hold(vm):
            record = self._service.get(vm)
            source = self._dir(vm, snapshot)
            if not (source / "meta.json").is_file():
                raise NotFound(f"snapshot {snapshot} of VM {vm} not found")
            record.desired = PowerState.RUNNING
            self._rt.store.save(record)
            with backend_errors("vmm"):
                self._rt.vmm.kill(vm)
            self._rt.fresh_run_dir(vm)
            with backend_errors("storage"):
                for volume in record.volumes:
                    copy = source / f"disk-{volume.role}.img"
                    if copy.is_file():
                        _copy_file(self._rt.commands, copy, volume.path)
            self._rt.plumb(record)
            with backend_errors("vmm"):
                self._rt.vmm.snapshot_restore(self._rt.launch_config(record), source)
            record.observed = PowerState.RUNNING
            record.boot_id = self._rt.boot_id
            self._rt.store.save(record)

    def delete(self, vm: str, snapshot: str) -> bool:
        """Remove one snapshot. Returns False when it did not exist (success)."""
        with self._rt.locks.hold(vm):
            target = self._dir(vm, snapshot)
            if not target.exists():
                return False
            shutil.rmtree(target)
            return True
