"""Runs one lifecycle action of one instance through the extension runner, with the payload module's payload.

The only place in compute that talks to the runner for lifecycle actions; it never touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from switchboard.extensions.detached import ProcessIdentity, RunFiles
from switchboard.extensions.durable import run_durable
from switchboard.extensions.kept_output import kept_copy
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.payload import lifecycle_payload
from switchboard.extensions.payload_inputs import HostTarget
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
    """Lifecycle actions for the compute service. `wait`: CloudStack's `wait` setting, in seconds (or what
    reads its current value: it is dynamic)."""

    def __init__(self, *, runner: ExtensionRunner, roots: ExtensionRoots, wait: int | Callable[[], int]) -> None:
        self.runner = runner
        self.roots = roots
        self._wait = wait

    def timeout(self) -> int:
        """The `wait` in force now: the timeout of every lifecycle action and of `status`/`statuses`."""
        return self._wait() if callable(self._wait) else self._wait

    def run(
        self, target: HostTarget, action: str, instance: InstanceInfo, *, caller: CallerInfo | None = None,
        files: RunFiles | None = None, started: Callable[[ProcessIdentity], None] | None = None,
        timeout: int | None = None,
    ) -> ActionOutcome:
        """Run `action` (prepare, create, start, stop, reboot, delete, status, getconsole) for `instance` on
        the target's host and wait for it (blocking: call from a worker thread). With `files`, the run is
        durable (switchboard.extensions.durable): it outlives this server, and `started` learns its process.
        `timeout`: argv[3], at most `wait` (default `wait`). Never raises for what the executable does."""
        payload = lifecycle_payload(
            action, extension=target.extension, resource_map=target.resource_map, host=target.host,
            instance=instance, caller=caller,
        )
        entry = self.roots.entry_point(target.relative_path)
        wait = min(timeout, self.timeout()) if timeout is not None else self.timeout()
        if files is not None:
            result = run_durable(self.runner, extension_name=target.extension_name, entry=entry, action=action,
                                 payload=payload, timeout=wait, files=files,
                                 started=started or (lambda _identity: None))
        else:
            result = self.runner.run_blocking(extension_name=target.extension_name, entry=entry, action=action,
                                              payload=payload, timeout=wait)
        log.info("instance %s: %s on host %s via %s: %s", instance.internal_name, action, target.host_name,
                 target.extension_name, "ok" if result.success else ("timeout" if result.timed_out else "failed"))
        # `details` reaches job results and events: a bounded copy. `output` (what prepare and status parse)
        # stays whole.
        return ActionOutcome(result=replace(result, details=kept_copy(result.details)), payload=payload)
