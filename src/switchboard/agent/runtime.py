"""The idempotent steps that the service, the snapshot service and the reconcile pass are built from.

Each step checks before it acts, records what it did in the VM's record, and can run again after a crash:
provision (storage), plumb (network), launch (VMM), halt and teardown. Backend errors are translated here,
once, into `OperationFailed` with the backend's own message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from switchboard.agent.backends import BackendSet
from switchboard.agent.config import LimitsConfig
from switchboard.agent.configdrive import ConfigDrives
from switchboard.agent.console import ConsoleManager
from switchboard.agent.errors import BackendError, InvalidRequest, OperationFailed
from switchboard.agent.hostcmd import CommandRunner, SubprocessRunner
from switchboard.agent.locks import VmLocks
from switchboard.agent.model import DiskAttachment, GuestData, LaunchConfig, PowerState
from switchboard.agent.names import validate_vm_name
from switchboard.agent.network.base import NetworkBackend
from switchboard.agent.spec import VmSpec
from switchboard.agent.state import Phase, StateStore, VmRecord, atomic_write, private_dir
from switchboard.agent.storage.base import StorageBackend
from switchboard.agent.storage.params import InvalidRequest as StorageInvalidRequest
from switchboard.agent.templates import ChecksumMismatch, InvalidTemplate, TemplateNotFound
from switchboard.agent.vmm.base import VmmDriver, VmmError

__all__ = ["AgentPaths", "Runtime", "current_boot_id"]

_log = logging.getLogger(__name__)
DEFAULT_BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off"


def current_boot_id(path: Path = Path("/proc/sys/kernel/random/boot_id")) -> str:
    """The kernel's id for this boot; a change tells the reconcile pass that the host rebooted."""
    try:
        return path.read_text().strip()
    except OSError:
        return "unknown"


def _size(size: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):g} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class AgentPaths:
    """Where the agent keeps things. `state_dir` persists; `run_dir` may be a tmpfs."""

    state_dir: Path
    run_dir: Path
    log_dir: Path
    kernel_dir: Path
    image_dir: Path

    @property
    def snapshot_dir(self) -> Path:
        return self.state_dir / "snapshots"

    @property
    def tombstone_dir(self) -> Path:
        return self.state_dir / "deleted"

    def vm_run_dir(self, name: str) -> Path:
        return self.run_dir / validate_vm_name(name)

    def console_log(self, name: str) -> Path:
        return self.log_dir / validate_vm_name(name) / "console.log"


@contextlib.contextmanager
def backend_errors(kind: str) -> Iterator[None]:
    """Translate a backend's own error into OperationFailed, keeping its message."""
    try:
        yield
    except (InvalidTemplate, TemplateNotFound, ChecksumMismatch, StorageInvalidRequest) as exc:
        # The caller named a template or size this host cannot use: their mistake, not the host's.
        raise InvalidRequest(f"{kind}: {exc}") from exc
    except BackendError as exc:  # VmmError, StorageError, NetworkError, CommandFailed
        raise OperationFailed(f"{kind}: {exc}") from exc


class Runtime:
    """Dependencies plus the steps over them. One instance per agent process (built in `server.py`)."""

    def __init__(
        self,
        *,
        store: StateStore,
        locks: VmLocks,
        vmm: VmmDriver,
        backends: BackendSet,
        paths: AgentPaths,
        boot_id: str,
        stop_grace_seconds: float,
        restart_on_crash: bool = False,
        observe_step: Callable[[str, float], None] | None = None,
        consoles: ConsoleManager | None = None,
        commands: CommandRunner | None = None,
        limits: LimitsConfig | None = None,
    ) -> None:
        self.store = store
        # Host commands the steps run themselves (snapshot copies, config drives); backends have their own.
        self.commands = commands or SubprocessRunner()
        self.limits = limits or LimitsConfig()
        self.config_drives = ConfigDrives(paths.state_dir / "configdrive", self.commands)
        self.locks = locks
        self.vmm = vmm
        self.backends = backends
        self.paths = paths
        self.boot_id = boot_id
        self.stop_grace_seconds = stop_grace_seconds
        self.restart_on_crash = restart_on_crash
        self._observe_step = observe_step
        # None when the VMM driver runs no tmux sessions to attach a console to.
        self.consoles = consoles
        for directory in (paths.run_dir, paths.log_dir, paths.snapshot_dir, paths.tombstone_dir):
            private_dir(directory)

    @contextlib.contextmanager
    def _step(self, step: str) -> Iterator[None]:
        """Time one backend call (storage, network, vmm) for the step metrics."""
        started = time.monotonic()
        try:
            yield
        finally:
            if self._observe_step is not None:
                self._observe_step(step, time.monotonic() - started)

    def storage_of(self, record: VmRecord) -> StorageBackend:
        """The storage backend that holds (or will hold) `record`'s volumes."""
        return self.backends.storage(record.storage_backend)

    def network_of(self, record: VmRecord) -> NetworkBackend:
        """The network backend that plumbs (or will plumb) `record`'s NICs."""
        return self.backends.network(record.network_backend)

    # -- checks -------------------------------------------------------------------------------------------

    def kernel_path(self, spec: VmSpec) -> Path:
        return self.paths.kernel_dir / spec.template.kernel

    def initrd_path(self, spec: VmSpec) -> Path | None:
        """The template's initrd in the kernel directory; None when it names none (the VMM driver may
        then use its host-wide `initrd` option)."""
        return self.paths.kernel_dir / spec.template.initrd if spec.template.initrd else None

    def check_limits(self, spec: VmSpec) -> None:
        """Refuse disks larger (or more) than the host's `limits` allow, before anything is created."""
        limits = self.limits
        if spec.root_size_bytes is not None and spec.root_size_bytes > limits.max_root_disk_size:
            raise InvalidRequest(
                f"root disk size {_size(spec.root_size_bytes)} is above this host's maximum of "
                f"{_size(limits.max_root_disk_size)} (limits.max_root_disk_size)"
            )
        if len(spec.data_disk_bytes) > limits.max_data_disks:
            raise InvalidRequest(
                f"{len(spec.data_disk_bytes)} data disks asked for; this host allows {limits.max_data_disks} "
                "(limits.max_data_disks)"
            )
        for index, size in enumerate(spec.data_disk_bytes, start=1):
            if size > limits.max_data_disk_size:
                raise InvalidRequest(
                    f"data disk {index} size {_size(size)} is above this host's maximum of "
                    f"{_size(limits.max_data_disk_size)} (limits.max_data_disk_size)"
                )

    def check_template(self, spec: VmSpec) -> None:
        """Refuse a spec whose kernel or initrd is not on this host (the storage backend checks the image)."""
        kernel = self.kernel_path(spec)
        if not kernel.is_file():
            raise InvalidRequest(f"kernel {spec.template.kernel!r} not found in {self.paths.kernel_dir}")
        initrd = self.initrd_path(spec)
        if initrd is not None and not initrd.is_file():
            raise InvalidRequest(f"initrd {spec.template.initrd!r} not found in {self.paths.kernel_dir}")

    def power_state(self, name: str) -> PowerState:
        """What the VMM says, or UNKNOWN when it cannot say (logged)."""
        try:
            return self.vmm.power_state(name)
        except VmmError as exc:
            _log.warning("power state of %s unknown: %s", name, exc)
            return PowerState.UNKNOWN

    # -- steps --------------------------------------------------------------------------------------------

    def provision(self, record: VmRecord) -> None:
        """Make sure the root volume and the data disks exist (idempotent in the backend); record them."""
        spec = record.spec
        storage = self.storage_of(record)
        with self._step("storage"), backend_errors("storage"):
            volumes = [storage.provision_root(spec.name, spec.template, size_bytes=spec.root_size_bytes)]
            volumes += [
                storage.provision_data(spec.name, index, size_bytes=size)
                for index, size in enumerate(spec.data_disk_bytes, start=1)
            ]
        record.volumes = volumes
        self.store.save(record)

    def plumb(self, record: VmRecord) -> None:
        """Create or re-attach the host side of every NIC (idempotent) and record the attachments."""
        with self._step("network"), backend_errors("network"):
            nics = self.network_of(record).plug(record.name, record.spec.nics) if record.spec.nics else []
        if nics != record.nics:  # each save costs two fsyncs; skip it when nothing changed
            record.nics = nics
            self.store.save(record)

    def fresh_run_dir(self, name: str) -> None:
        """Empty the VM's run directory before a VMM starts: sockets left by a VMM that was killed would
        otherwise be taken for the new VMM's (connection refused). Only called when no VMM runs. The VNC
        console lives there too: it is stopped first, so no process outlives its files."""
        self.close_console(name)
        shutil.rmtree(self.paths.vm_run_dir(name), ignore_errors=True)

    def write_guest_data(self, name: str, data: GuestData) -> None:
        """(Re)build the VM's config drive from `data`; it is attached from the next boot on."""
        with self._step("config_drive"), backend_errors("config drive"):
            self.config_drives.write(name, data)

    def launch_config(self, record: VmRecord) -> LaunchConfig:
        spec = record.spec
        root = [v for v in record.volumes if v.role == "root"]
        if not root:
            raise OperationFailed(f"VM {spec.name} has no root volume recorded")
        disks = [DiskAttachment(drive_id="rootfs", path=root[0].path, is_root=True)]
        disks += [
            DiskAttachment(drive_id=v.role, path=v.path, read_only=v.read_only)
            for v in record.volumes
            if v.role != "root"
        ]
        if self.config_drives.exists(spec.name):  # last, so that data disks keep their device names
            disks.append(DiskAttachment(drive_id="config", path=self.config_drives.path(spec.name), read_only=True))
        console = self.paths.console_log(spec.name)
        private_dir(console.parent)
        return LaunchConfig(
            name=spec.name,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            kernel=self.kernel_path(spec),
            initrd=self.initrd_path(spec),
            boot_args=spec.boot_args(DEFAULT_BOOT_ARGS),
            disks=tuple(disks),
            nics=tuple(record.nics),
            run_dir=private_dir(self.paths.vm_run_dir(spec.name)),
            console_log=console,
        )

    def launch(self, record: VmRecord, *, phase: Phase | None = None) -> None:
        """Boot the VM unless its VMM already runs (then adopt it). Records the outcome, and `phase` with it
        (one write instead of two)."""
        state = self.power_state(record.name)
        if state in (PowerState.RUNNING, PowerState.PAUSED):
            record.observed = state
        else:
            with self._step("vmm_launch"), backend_errors("vmm"):
                # A guest that powered itself off may leave its VMM process behind (Firecracker on x86).
                self.vmm.kill(record.name)
                self.fresh_run_dir(record.name)
                self.vmm.launch(self.launch_config(record))
            record.observed = PowerState.RUNNING
            record.boot_id = self.boot_id
        record.last_error = None
        record.held = False
        if phase is not None:
            record.phase = phase
        self.store.save(record)

    def start(self, record: VmRecord, *, phase: Phase | None = None) -> None:
        """Re-plumb the network (a host reboot loses TAPs) and launch."""
        self.plumb(record)
        self.launch(record, phase=phase)

    def halt(self, record: VmRecord, *, graceful: bool) -> None:
        """Stop the VMM (gracefully: guest shutdown within the grace time) and record it stopped."""
        with backend_errors("vmm"):
            if graceful:
                self.vmm.shutdown(record.name, grace_seconds=self.stop_grace_seconds)
            else:
                self.vmm.kill(record.name)
        self.close_console(record.name)
        record.observed = PowerState.STOPPED
        self.store.save(record)

    def close_console(self, name: str) -> bool:
        """Stop the VM's VNC console, if any (its whole process group). True if one ran."""
        return self.consoles.close(name) if self.consoles is not None else False

    def reap_consoles(self, wanted: Callable[[str], bool]) -> list[str]:
        """Stop the consoles of VMs for which `wanted(name)` is False (stopped, unknown, deleted); the
        caller holds nothing, each VM's lock is tried here. Returns the names whose console was stopped."""
        if self.consoles is None:
            return []
        closed = []
        for name in sorted(self.consoles.names(self.paths.run_dir)):
            with self.locks.try_hold(name) as taken:
                if taken and not wanted(name) and self.consoles.close(name):
                    closed.append(name)
        return closed

    def teardown(self, name: str, record: VmRecord | None) -> None:
        """Remove everything the VM has on this host: VMM, TAPs, volumes, config drive, snapshots, logs,
        run files.

        Safe to repeat; raises OperationFailed when a backend refuses (the caller keeps the record so the
        reconcile pass retries)."""
        with backend_errors("vmm"):
            self.vmm.kill(name)
        self.close_console(name)
        # Without a record (leftovers) every backend in use is asked; each removes only `name`'s things.
        networks = [self.network_of(record)] if record else self.backends.all_network()
        storages = [self.storage_of(record)] if record else self.backends.all_storage()
        with backend_errors("network"):
            for network in networks:
                network.unplug(name, record.nics if record else [])
        with backend_errors("storage"):
            for storage in storages:
                storage.delete(name)
        self.config_drives.remove(name)
        for directory in (
            self.paths.vm_run_dir(name),
            self.paths.snapshot_dir / name,
            self.paths.console_log(name).parent,
        ):
            shutil.rmtree(directory, ignore_errors=True)

    # -- tombstones: names whose leftovers the reconcile pass may remove ------------------------------

    def mark_deleted(self, name: str) -> None:
        data = json.dumps({"name": name, "deleted_at": time.time()}).encode()
        atomic_write(self.paths.tombstone_dir / f"{validate_vm_name(name)}.json", data)

    def clear_deleted(self, name: str) -> None:
        (self.paths.tombstone_dir / f"{validate_vm_name(name)}.json").unlink(missing_ok=True)

    def deleted_names(self) -> set[str]:
        return {p.stem for p in self.paths.tombstone_dir.glob("*.json")}
