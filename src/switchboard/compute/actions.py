"""Runs one lifecycle action of one instance through the extension runner, with the payload module's payload.

The only place in compute that talks to the runner for lifecycle actions; it never touches the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from switchboard.compute.records import HostTarget
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.payload import lifecycle_payload
from switchboard.extensions.payload_model import CallerInfo, InstanceInfo
from switchboard.extensions.runner import ExtensionRunner, RunResult

__all__ = ["ActionOutcome", "Actions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionOutcome:
    """A run's result and the payload it was given (prepare merges its answer into the payload's TO)."""

    result: RunResult
    payload: dict[str, Any]


class Actions:
    """Lifecycle actions for the compute service. `wait`: CloudStack's `wait` setting, in seconds."""

    def __init__(self, *, runner: ExtensionRunner, roots: ExtensionRoots, wait: int) -> None:
        self.runner = runner
        self.roots = roots
        self.wait = wait

    def run(
        self, target: HostTarget, action: str, instance: InstanceInfo, *, caller: CallerInfo | None = None,
    ) -> ActionOutcome:
        """Run `action` (prepare, create, start, stop, reboot, delete, status) for `instance` on the target's
        host and wait for it (blocking: call from a worker thread). Never raises for what the executable
        does; OSError when the payload cannot be written."""
        payload = lifecycle_payload(
            action, extension=target.extension, resource_map=target.resource_map, host=target.host,
            instance=instance, caller=caller,
        )
        result = self.runner.run_blocking(
            extension_name=target.extension_name, entry=self.roots.entry_point(target.relative_path),
            action=action, payload=payload, timeout=self.wait,
        )
        log.info("instance %s: %s on host %s via %s: %s", instance.internal_name, action, target.host_name,
                 target.extension_name, "ok" if result.success else ("timeout" if result.timed_out else "failed"))
        return ActionOutcome(result=result, payload=payload)
