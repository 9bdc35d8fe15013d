"""The container of long-lived services that API handlers and job handlers receive.

Built once per process by the composition root (`switchboard.server`); handlers never build services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.db.engine import Database
from switchboard.settings import Settings


@dataclass(kw_only=True)
class Services:
    settings: Settings
    db: Database
    # Each area registers what it needs here under a stable name (e.g. "jobs", "keys"); typed accessors
    # live beside the service that owns them.
    registry: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        try:
            return self.registry[name]
        except KeyError:
            raise LookupError(f"service {name!r} is not wired in this process") from None
