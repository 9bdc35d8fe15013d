"""The reconcile pass: make what runs on the host match the recorded desired state.

Run once when the agent starts and then periodically (`defaults.host.reconcile_interval_seconds`):
* finish creates and deletes that a crash interrupted;
* adopt VMMs that kept running while the agent was down;
* after a host reboot (the kernel's boot id changed), re-plumb the network and boot every VM whose desired
  state is running;
* notice guests that went away by themselves: a reset completes as a reboot, a guest power-off makes the VM
  stopped, a VMM that died (crash, killed from outside) is recorded as stopped with the reason — or
  restarted when `restart_on_crash` is set;
* remove leftovers (VMM sessions, TAPs, volumes) of VMs that were deleted, and report unknown ones.

A VM whose lock is held by a request is skipped in this pass; a VM whose repair keeps failing is retried
with exponential backoff rather than on every pass.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from switchboard.agent.errors import AgentError
from switchboard.agent.model import PowerState
from switchboard.agent.runtime import Runtime, backend_errors
from switchboard.agent.service import VmService
from switchboard.agent.state import Phase, StateError, VmRecord

__all__ = ["ReconcileReport", "Reconciler"]

_log = logging.getLogger(__name__)
_MAX_BACKOFF = 300.0


@dataclass
class ReconcileReport:
    """What one pass did, by VM name (for logs, metrics and tests)."""

    adopted: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    finished_create: list[str] = field(default_factory=list)
    finished_delete: list[str] = field(default_factory=list)
    leftovers_removed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    consoles_closed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Reconciler:
    """One pass is `run_once()`; `start()`/`stop()` run passes on a background thread."""

    def __init__(self, service: VmService, *, interval_seconds: float) -> None:
        self._service = service
        self._rt: Runtime = service.rt
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at: dict[str, tuple[float, float]] = {}  # name -> (next attempt, current backoff)
        self.passes = 0
        self.last_report = ReconcileReport()

    # -- background loop ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="reconcile", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except (AgentError, StateError, OSError) as exc:
                _log.error("reconcile pass failed: %s", exc)
            self._stop.wait(self._interval)

    # -- one pass ---------------------------------------------------------------------------------------

    def run_once(self) -> ReconcileReport:
        report = ReconcileReport()
        for record in self._rt.store.all():
            if self._backing_off(record.name):
                continue
            with self._rt.locks.try_hold(record.name) as taken:
                if not taken:
                    continue
                try:
                    self._reconcile_vm(record, report)
                    self._retry_at.pop(record.name, None)
                except (AgentError, StateError) as exc:
                    report.failed[record.name] = str(exc)
                    record.last_error = str(exc)
                    self._back_off(record.name)
                    _log.error("reconcile of %s failed: %s", record.name, exc)
        self._leftovers(report)
        report.consoles_closed = self._rt.reap_consoles(self._console_wanted)
        known = {record.name for record in self._rt.store.all()}
        for name in [n for n in self._retry_at if n not in known]:
            del self._retry_at[name]  # the VM is gone; forget its backoff
        self.passes += 1
        self.last_report = report
        return report

    def _console_wanted(self, name: str) -> bool:
        """A console stays only while its VM is known, not being deleted, and its VMM runs."""
        record = self._rt.store.get(name)
        if record is None or record.phase is Phase.DELETING:
            return False
        return self._rt.power_state(name) in (PowerState.RUNNING, PowerState.PAUSED, PowerState.UNKNOWN)

    def _backing_off(self, name: str) -> bool:
        entry = self._retry_at.get(name)
        return entry is not None and time.monotonic() < entry[0]

    def _back_off(self, name: str) -> None:
        _, previous = self._retry_at.get(name, (0.0, self._interval / 2))
        backoff = min(previous * 2, _MAX_BACKOFF)
        self._retry_at[name] = (time.monotonic() + backoff, backoff)

    def _reconcile_vm(self, record: VmRecord, report: ReconcileReport) -> None:
        # The record may have changed or vanished between listing and locking.
        current = self._rt.store.get(record.name)
        if current is not record:
            return
        if record.phase is Phase.DELETING:
            self._rt.teardown(record.name, record)
            self._rt.mark_deleted(record.name)
            self._rt.store.remove(record.name)
            report.finished_delete.append(record.name)
            return
        if record.phase is Phase.CREATING:
            if record.desired is PowerState.STOPPED:
                return
            self._rt.provision(record)
            self._rt.start(record, phase=Phase.READY)
            report.finished_create.append(record.name)
            return
        self._reconcile_power(record, report)

    def _reconcile_power(self, record: VmRecord, report: ReconcileReport) -> None:
        name = record.name
        state = self._rt.power_state(name)
        wants_up = record.desired in (PowerState.RUNNING, PowerState.PAUSED)
        if state in (PowerState.RUNNING, PowerState.PAUSED):
            if not wants_up:
                # A stop that a crash interrupted, or a VM started behind the agent's back.
                self._rt.halt(record, graceful=True)
                report.stopped.append(name)
            elif record.observed is not state:
                record.observed = state
                self._rt.store.save(record)
                report.adopted.append(name)
            return
        if state is PowerState.UNKNOWN:
            return
        if not wants_up:
            if record.observed is not PowerState.STOPPED:
                record.observed = PowerState.STOPPED
                self._rt.store.save(record)
            return
        reason = self._exit_reason(name)
        if record.held or record.boot_id != self._rt.boot_id or reason == "reset" or (
            self._rt.restart_on_crash and reason != "poweroff"
        ):
            why = "host rebooted" if record.boot_id != self._rt.boot_id else f"guest {reason}"
            _log.info("starting %s again (%s)", name, why)
            record.desired = PowerState.RUNNING
            record.held = False
            self._rt.start(record)
            report.started.append(name)
            return
        # The guest powered itself off, or its VMM died: the recorded state follows.
        record.desired = record.observed = PowerState.STOPPED
        record.last_error = None if reason == "poweroff" else f"VMM exited unexpectedly ({reason or 'unknown'})"
        self._rt.store.save(record)
        report.stopped.append(name)
        _log.warning("%s stopped by itself: %s", name, reason or "VMM gone")

    def _exit_reason(self, name: str) -> str | None:
        try:
            with backend_errors("vmm"):
                return self._rt.vmm.exit_reason(name)
        except AgentError:
            return None

    def _leftovers(self, report: ReconcileReport) -> None:
        known = {record.name for record in self._rt.store.all()}
        try:
            with backend_errors("vmm"):
                present = set(self._rt.vmm.running_vms())
            with backend_errors("storage"):
                for storage in self._rt.backends.all_storage():
                    present |= storage.owners()
            with backend_errors("network"):
                for network in self._rt.backends.all_network():
                    present |= network.owners()
        except AgentError as exc:
            _log.error("cannot list host resources: %s", exc)
            return
        deleted = self._rt.deleted_names()
        for name in sorted(present - known):
            if name not in deleted:
                report.unknown.append(name)
                continue
            with self._rt.locks.try_hold(name) as taken:
                if not taken or self._rt.store.get(name) is not None:
                    continue
                try:
                    self._rt.teardown(name, None)
                    self._rt.clear_deleted(name)
                    report.leftovers_removed.append(name)
                except AgentError as exc:
                    report.failed[name] = str(exc)
        for name in deleted - present - known:
            self._rt.clear_deleted(name)
        if report.unknown:
            _log.warning("resources of unknown VMs left alone: %s", ", ".join(report.unknown))
