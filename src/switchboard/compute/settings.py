"""The compute area's parameters (the composition root fills them from switchboard.settings). Times are in
seconds.

* `wait` — CloudStack's global `wait`: argv[3] and the kill deadline of every lifecycle action (prepare,
  create, start, stop, reboot, delete) and of `status`/`statuses`.
* `power_sync_interval` — seconds between power-sync rounds (CloudStack's ping).
* `power_sync_concurrency` — at most this many per-instance `status` runs at a time per round (the runner's
  per-extension limit applies as well).
* `statuses_retry` — after an extension failed the bulk `statuses` action, it is asked per instance for this
  long before `statuses` is tried again.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ComputeSettings"]


@dataclass(frozen=True, kw_only=True)
class ComputeSettings:
    wait: int = 1800
    power_sync_interval: float = 60.0
    power_sync_concurrency: int = 16
    statuses_retry: float = 3600.0

    @property
    def lease_ttl(self) -> float:
        """How long the power-sync lease lasts without renewal: a dead holder is replaced after it."""
        return max(30.0, 3 * self.power_sync_interval)
