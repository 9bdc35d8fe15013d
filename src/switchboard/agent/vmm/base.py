"""The VMM driver interface: one implementation per VMM (firecracker, qemu), chosen per host in config."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from switchboard.agent.errors import BackendError
from switchboard.agent.model import LaunchConfig, PowerState


class VmmError(BackendError):
    """A VMM refused or failed an operation. `str()` is a message fit for the API caller."""


class Capability:
    """Names a driver may declare in `capabilities`; the service checks these, never the driver's type."""

    PAUSE = "pause"
    SNAPSHOT = "snapshot"
    GRACEFUL_STOP = "graceful_stop"


@runtime_checkable
class VmmDriver(Protocol):
    """Runs one VMM process per VM, each in its own session on the agent's private tmux server.

    Every method is synchronous and safe to call from a worker thread; the caller holds the VM's lock.
    Every method is idempotent where its name allows it (launching a running VM is an error; stopping a
    stopped VM is not).
    """

    name: str
    capabilities: frozenset[str]

    def launch(self, config: LaunchConfig) -> None:
        """Start the VMM for `config`, configure it and boot the guest. Returns once the VMM accepted the
        boot (for Firecracker: `InstanceStart` answered 204). Raises VmmError with the VMM's own message
        (Firecracker's `fault_message`) when it refuses the configuration; nothing is left running then."""

    def power_state(self, name: str) -> PowerState:
        """Cheap: no process-table scan. STOPPED when the VMM is gone or the guest powered off."""

    def shutdown(self, name: str, *, grace_seconds: float) -> None:
        """Ask the guest to shut down (Ctrl-Alt-Del / ACPI), wait up to `grace_seconds`, then terminate the
        VMM. Returns when no VMM process is left."""

    def kill(self, name: str) -> None:
        """Terminate the VMM at once. No error when it is not running."""

    def pause(self, name: str) -> None: ...

    def resume(self, name: str) -> None: ...

    def snapshot_create(self, name: str, directory: Path) -> None:
        """Pause, write the VM state and memory into `directory`, resume. The VM keeps running."""

    def snapshot_restore(self, config: LaunchConfig, directory: Path) -> None:
        """Replace whatever runs for `config.name` with a VMM restored from `directory`, resumed."""

    def running_vms(self) -> set[str]:
        """Names of the VMs whose VMM process is alive (used to adopt VMs after an agent restart)."""

    def exit_reason(self, name: str) -> str | None:
        """Why the VMM last exited: "reset" (guest reboot), "poweroff", "crash"; None if running/unknown."""
