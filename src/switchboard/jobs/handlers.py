"""The registry of job handlers, filled at start by each area's `register_*_jobs`.

    handlers.register("deployVirtualMachine", run, on_interrupted=repair)

`run(ctx)` carries the job out and returns its success result, a JSON-serialisable dict of the form
`{"<objectName>": {...}}`; it fails by raising (a SwitchboardError for expected failures). The optional
`on_interrupted(ctx)` hook runs when the job is found orphaned - its server died while running it - so the
service can put its resources back into a consistent state (an instance stuck in Starting becomes Error or
Stopped). Hooks must be idempotent: a server that dies inside a hook leaves the job to be recovered again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.jobs.context import JobContext

JobRun = Callable[[JobContext], dict[str, Any]]
InterruptHook = Callable[[JobContext], None]


@dataclass(frozen=True)
class JobHandler:
    name: str
    run: JobRun
    on_interrupted: InterruptHook | None = None


class UnknownHandler(LookupError):
    """No handler of that name is registered in this process."""


class JobHandlers:
    """Handlers by name. One instance per process, owned by the JobService (no module-level state)."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, name: str, run: JobRun, *, on_interrupted: InterruptHook | None = None) -> None:
        """Register `run` (and its interruption hook) under `name`. Raises ValueError if `name` is taken."""
        if name in self._handlers:
            raise ValueError(f"job handler {name!r} registered twice")
        self._handlers[name] = JobHandler(name, run, on_interrupted)

    def get(self, name: str) -> JobHandler:
        """The handler called `name`; raises UnknownHandler if none is registered."""
        try:
            return self._handlers[name]
        except KeyError:
            raise UnknownHandler(f"no job handler {name!r} is registered in this server") from None

    def __contains__(self, name: object) -> bool:
        return name in self._handlers

    def names(self) -> list[str]:
        return sorted(self._handlers)
