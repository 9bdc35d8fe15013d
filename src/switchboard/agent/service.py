"""The VM lifecycle as the API sees it: idempotent create/start/stop/reboot/delete/pause/resume and status.

Every state-changing method takes the VM's lock, records the intent (desired state) first, then carries it
out with the idempotent steps of `runtime.py`, so that a crash at any point leaves a record the reconcile
pass can finish. Methods are synchronous; the API calls them from worker threads.

Semantics the caller can rely on:
* create of an existing VM with the same spec returns it (and makes sure it runs); with a different spec it
  raises Conflict without touching the VM or its disks;
* start of an unknown VM with a spec creates it (CloudStack sends `start` for VMs it never deployed here);
* stop of a stopped or unknown VM, and delete of an unknown VM, succeed;
* guest data (SSH keys, user data) given with a create or start goes to the VM's config drive before the
  VM boots; a VM that already runs keeps the drive it booted with.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

from switchboard.agent.console import ConsoleInfo
from switchboard.agent.errors import AgentError, Conflict, NotFound, Unsupported
from switchboard.agent.model import GuestData, PowerState
from switchboard.agent.runtime import Runtime, backend_errors
from switchboard.agent.spec import VmSpec
from switchboard.agent.state import Phase, VmRecord
from switchboard.agent.vmm.base import Capability

__all__ = ["OperationObserver", "VmService"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Called after every operation with (operation, seconds, succeeded); metrics.py provides one.
OperationObserver = Callable[[str, float, bool], None]


def _no_observer(op: str, seconds: float, ok: bool) -> None:
    return None


class VmService:
    """The agent's use cases over one `Runtime`."""

    def __init__(self, runtime: Runtime, *, observe: OperationObserver = _no_observer) -> None:
        self.rt = runtime
        self._observe = observe

    def _timed(self, op: str, func: Callable[[], _T]) -> _T:
        started = time.monotonic()
        ok = False
        try:
            result = func()
            ok = True
            return result
        finally:
            self._observe(op, time.monotonic() - started, ok)

    # -- queries (no lock: they read the cached record and ask the VMM, which is cheap) ---------------

    def get(self, name: str) -> VmRecord:
        """The VM's record. Raises NotFound."""
        record = self.rt.store.get(name)
        if record is None or record.phase is Phase.DELETING:
            raise NotFound(f"VM {name} not found")
        return record

    def list(self) -> list[VmRecord]:
        return [r for r in self.rt.store.all() if r.phase is not Phase.DELETING]

    def power_state(self, name: str) -> PowerState:
        """The VM's power state; STOPPED for a VM this host does not know (the original's behaviour)."""
        record = self.rt.store.get(name)
        if record is None or record.phase is Phase.DELETING:
            return PowerState.STOPPED
        return self.rt.power_state(name)

    def power_states(self) -> dict[str, PowerState]:
        """Every known VM's power state in one call."""
        return {record.name: self.rt.power_state(record.name) for record in self.list()}

    # -- create / start ---------------------------------------------------------------------------------

    def create(self, spec: VmSpec, guest: GuestData | None = None) -> tuple[VmRecord, bool]:
        """Create and boot `spec` (with `guest` on its config drive). Returns (record, created) where created
        is False when the VM existed with the same spec. Raises Conflict, InvalidRequest, OperationFailed."""
        return self._timed("create", lambda: self._create(spec, guest))

    def _create(self, spec: VmSpec, guest: GuestData | None) -> tuple[VmRecord, bool]:
        with self.rt.locks.hold(spec.name):
            record = self.rt.store.get(spec.name)
            if record is not None:
                self._check_same(record, spec)
                self._ensure_running(record, guest)
                return record, False
            self.rt.check_limits(spec)
            self.rt.check_template(spec)
            # Resolve the backends first: an unknown name is refused before anything is recorded.
            storage = self.rt.backends.storage_key(spec.storage_backend)
            network = self.rt.backends.network_key(spec.network_backend)
            self.rt.backends.storage(storage)
            self.rt.backends.network(network)
            self._refuse_foreign_volumes(spec)
            record = VmRecord(
                spec=spec,
                phase=Phase.CREATING,
                desired=PowerState.RUNNING,
                storage_backend=storage,
                network_backend=network,
            )
            self.rt.clear_deleted(spec.name)
            self.rt.store.save(record)
            self._finish_create(record, guest)
            return record, True

    def _check_same(self, record: VmRecord, spec: VmSpec) -> None:
        if record.phase is Phase.DELETING:
            raise Conflict(f"VM {spec.name} is being deleted")
        if record.spec.identity() != spec.identity():
            raise Conflict(f"VM {spec.name} exists with a different spec; delete it first to recreate it")

    def _refuse_foreign_volumes(self, spec: VmSpec) -> None:
        # Volumes with this name but no record belong to something we do not know: never adopt or
        # overwrite them (the original's create dd'ed over such disks).
        name = spec.name
        with backend_errors("storage"):
            existing = self.rt.backends.storage(spec.storage_backend).volumes(name)
        if existing and name not in self.rt.deleted_names():
            raise Conflict(f"volumes for VM {name} exist on this host but the agent has no record of it")
        if existing:
            self.rt.teardown(name, None)

    def _finish_create(self, record: VmRecord, guest: GuestData | None = None) -> None:
        """Write the config drive, provision, plumb and boot a CREATING record; on failure remove what the
        create made."""
        try:
            if guest is not None:
                self.rt.write_guest_data(record.name, guest)
            self.rt.provision(record)
            self.rt.start(record, phase=Phase.READY)
        except AgentError as exc:
            _log.warning("create of %s failed, cleaning up: %s", record.name, exc)
            self._discard(record)
            raise

    def _discard(self, record: VmRecord) -> None:
        record.phase = Phase.DELETING
        record.desired = PowerState.STOPPED
        self.rt.store.save(record)
        try:
            self.rt.teardown(record.name, record)
        except AgentError as exc:
            # The record stays in DELETING; the reconcile pass finishes the cleanup.
            _log.error("cleanup of %s incomplete, will retry: %s", record.name, exc)
            return
        self.rt.store.remove(record.name)

    def _ensure_running(self, record: VmRecord, guest: GuestData | None = None) -> None:
        if record.phase is Phase.CREATING:
            self._finish_create(record, guest)
            return
        state = self.rt.power_state(record.name)
        if state is PowerState.PAUSED:
            with backend_errors("vmm"):
                self.rt.vmm.resume(record.name)
            state = PowerState.RUNNING
        record.desired = PowerState.RUNNING
        if state is PowerState.RUNNING:
            record.observed = state
            self.rt.store.save(record)
            return
        self.rt.store.save(record)
        if guest is not None:
            self.rt.write_guest_data(record.name, guest)
        self._boot(record)

    def _boot(self, record: VmRecord) -> None:
        """Start the VM for a caller who waits for the result. When it fails, the VM is recorded as meant
        to be stopped (with the error): the caller was told it failed, so the reconcile pass must not boot
        it later behind the caller's back."""
        try:
            self.rt.start(record)
        except AgentError as exc:
            record.desired = PowerState.STOPPED
            record.last_error = str(exc)
            self.rt.store.save(record)
            raise

    def start(self, name: str, spec: VmSpec | None = None, guest: GuestData | None = None) -> VmRecord:
        """Boot a stopped VM (re-plumbing its network first; `guest` replaces its config drive). With a
        spec: create the VM when unknown, and adopt changed CPU/memory/NICs while it is stopped. Raises
        NotFound, Conflict, OperationFailed."""
        return self._timed("start", lambda: self._start(name, spec, guest))

    def _start(self, name: str, spec: VmSpec | None, guest: GuestData | None) -> VmRecord:
        with self.rt.locks.hold(name):
            record = self.rt.store.get(name)
            if record is None:
                if spec is None:
                    raise NotFound(f"VM {name} not found")
                return self._create(spec, guest)[0]
            if record.phase is Phase.DELETING:
                raise Conflict(f"VM {name} is being deleted")
            if spec is not None and spec.identity() != record.spec.identity():
                self._adopt_spec(record, spec)
            self._ensure_running(record, guest)
            return record

    def _adopt_spec(self, record: VmRecord, spec: VmSpec) -> None:
        self.rt.check_limits(spec)
        old = record.spec
        disk = (spec.template, spec.root_size_bytes, self.rt.backends.storage_key(spec.storage_backend))
        if disk != (old.template, old.root_size_bytes, record.storage_backend):
            raise Conflict(f"VM {spec.name} exists with a different template, root disk size or storage")
        if self.rt.power_state(record.name) is not PowerState.STOPPED:
            raise Conflict(f"VM {spec.name} is running with a different spec; stop it first")
        network = self.rt.backends.network_key(spec.network_backend)
        self.rt.backends.network(network)  # refuse an unknown backend before changing anything
        if (spec.nics != old.nics or network != record.network_backend) and record.nics:
            with backend_errors("network"):
                self.rt.network_of(record).unplug(record.name, record.nics)
            record.nics = []
        record.network_backend = network
        record.spec = replace(spec, cloudstack_vm_id=spec.cloudstack_vm_id or old.cloudstack_vm_id)
        self.rt.store.save(record)

    # -- stop / reboot / delete -------------------------------------------------------------------------

    def stop(self, name: str, *, force: bool = False) -> VmRecord | None:
        """Shut the guest down (Ctrl-Alt-Del/ACPI, then terminate after the grace time; `force` skips the
        grace). Succeeds for a stopped or unknown VM (returns None for unknown)."""
        return self._timed("stop", lambda: self._stop(name, force=force))

    def _stop(self, name: str, *, force: bool) -> VmRecord | None:
        with self.rt.locks.hold(name):
            record = self.rt.store.get(name)
            if record is None or record.phase is Phase.DELETING:
                return None
            record.desired = PowerState.STOPPED
            record.held = False
            self.rt.store.save(record)
            if self.rt.power_state(name) is PowerState.STOPPED:
                record.observed = PowerState.STOPPED
                self.rt.store.save(record)
            else:
                self.rt.halt(record, graceful=not force)
            return record

    def reboot(self, name: str) -> VmRecord:
        """Shut the guest down gracefully and boot it again (a stopped VM is simply started)."""
        return self._timed("reboot", lambda: self._reboot(name))

    def _reboot(self, name: str) -> VmRecord:
        with self.rt.locks.hold(name):
            record = self.get(name)
            if record.phase is Phase.CREATING:
                self._finish_create(record)
                return record
            record.desired = PowerState.RUNNING
            self.rt.store.save(record)
            if self.rt.power_state(name) is not PowerState.STOPPED:
                self.rt.halt(record, graceful=True)
            self._boot(record)
            return record

    def delete(self, name: str) -> bool:
        """Remove the VM and everything it has on this host. Returns False when it was unknown (success).
        Raises OperationFailed when a backend refuses; the reconcile pass then retries the cleanup."""
        return self._timed("delete", lambda: self._delete(name))

    def _delete(self, name: str) -> bool:
        with self.rt.locks.hold(name):
            record = self.rt.store.get(name)
            if record is None:
                return False
            record.phase = Phase.DELETING
            record.desired = PowerState.STOPPED
            self.rt.store.save(record)
            self.rt.teardown(name, record)
            self.rt.mark_deleted(name)
            self.rt.store.remove(name)
            return True

    def shutdown_all(self, *, parallel: int = 16) -> builtins.list[str]:
        """Shut every running VM down gracefully for a host shutdown, keeping its desired state so the agent
        boots it again after the host (or the agent) restarts. Guests shut down side by side (`parallel`
        at a time), so the host waits about one grace time, not one per VM. Returns the names stopped,
        sorted. The caller must stop the reconcile loop first, or it would restart them."""

        def shut(record: VmRecord) -> str | None:
            with self.rt.locks.hold(record.name):
                if self.rt.power_state(record.name) is PowerState.STOPPED:
                    return None
                record.held = record.desired is not PowerState.STOPPED
                self.rt.store.save(record)
                try:
                    self.rt.halt(record, graceful=True)
                except AgentError as exc:
                    # One VMM refusing must not keep the others running at host shutdown.
                    _log.error("shutdown of %s failed: %s", record.name, exc)
                    return None
                return record.name

        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="shutdown") as pool:
            stopped = list(pool.map(shut, self.list()))
        return sorted(name for name in stopped if name is not None)

    def recover_network(self, name: str) -> VmRecord:
        """Re-create the host side of the VM's NICs (idempotent). Raises NotFound, OperationFailed."""
        with self.rt.locks.hold(name):
            record = self.get(name)
            self.rt.plumb(record)
            return record

    # -- VNC console ------------------------------------------------------------------------------------

    def open_console(self, name: str) -> tuple[ConsoleInfo, str]:
        """The VM's VNC console and its password, started unless one runs (then it is reused).
        Raises NotFound, Unsupported (the VMM driver has no tmux session), Conflict (VM not running, no
        free port), OperationFailed (console tools missing or failing)."""
        consoles = self.rt.consoles
        if consoles is None:
            raise Unsupported(f"the {self.rt.vmm.name} driver on this host offers no console to attach to")
        with self.rt.locks.hold(name):
            self.get(name)
            if self.rt.power_state(name) not in (PowerState.RUNNING, PowerState.PAUSED):
                raise Conflict(f"VM {name} is not running")
            return consoles.open(name, session=name)

    def close_console(self, name: str) -> bool:
        """Stop the VM's VNC console. True if one ran; succeeds when there is none."""
        with self.rt.locks.hold(name):
            return self.rt.close_console(name)

    # -- pause / resume ---------------------------------------------------------------------------------

    def require(self, capability: str) -> None:
        """Raise Unsupported unless the host's VMM driver declares `capability`."""
        if capability not in self.rt.vmm.capabilities:
            raise Unsupported(f"the {self.rt.vmm.name} driver on this host cannot {capability}")

    def pause(self, name: str) -> VmRecord:
        """Freeze the guest's vCPUs. Raises Unsupported, Conflict (not running), NotFound."""
        return self._timed("pause", lambda: self._set_paused(name, paused=True))

    def resume(self, name: str) -> VmRecord:
        """Unfreeze a paused guest (a running guest is left alone)."""
        return self._timed("resume", lambda: self._set_paused(name, paused=False))

    def _set_paused(self, name: str, *, paused: bool) -> VmRecord:
        self.require(Capability.PAUSE)
        with self.rt.locks.hold(name):
            record = self.get(name)
            state = self.rt.power_state(name)
            target = PowerState.PAUSED if paused else PowerState.RUNNING
            if state is not target:
                if state not in (PowerState.RUNNING, PowerState.PAUSED):
                    raise Conflict(f"VM {name} is not running")
                with backend_errors("vmm"):
                    if paused:
                        self.rt.vmm.pause(name)
                    else:
                        self.rt.vmm.resume(name)
            record.desired = record.observed = target
            self.rt.store.save(record)
            return record
