"""Tunables of the compute area, read from the environment by its wiring. Times are in seconds.

* `SWITCHBOARD_EXTENSION_WAIT` — CloudStack's global `wait` (default 1800): argv[3] and the kill deadline of
  every lifecycle action (prepare, create, start, stop, reboot, delete) and of `status`/`statuses`.
* `SWITCHBOARD_POWER_SYNC_INTERVAL` — seconds between power-sync rounds (default 60, CloudStack's ping).
* `SWITCHBOARD_POWER_SYNC_CONCURRENCY` — at most this many per-instance `status` runs at a time per round
  (default 16; the runner's per-extension limit applies as well).
* `SWITCHBOARD_STATUSES_RETRY` — after an extension failed the bulk `statuses` action, it is asked per
  instance for this long before `statuses` is tried again (default 3600).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.envnumbers import NumberVariable, numbers_from_env

__all__ = ["ComputeSettings"]


@dataclass(frozen=True, kw_only=True)
class ComputeSettings:
    wait: int = 1800
    power_sync_interval: float = 60.0
    power_sync_concurrency: int = 16
    statuses_retry: float = 3600.0

    def __post_init__(self) -> None:
        if self.wait < 1:
            raise ValueError("SWITCHBOARD_EXTENSION_WAIT must be at least 1 second")
        if self.power_sync_interval <= 0 or self.statuses_retry < 0:
            raise ValueError("power sync intervals must be positive")
        if self.power_sync_concurrency < 1:
            raise ValueError("SWITCHBOARD_POWER_SYNC_CONCURRENCY must be at least 1")

    @property
    def lease_ttl(self) -> float:
        """How long the power-sync lease lasts without renewal: a dead holder is replaced after it."""
        return max(30.0, 3 * self.power_sync_interval)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ComputeSettings:
        """Read the variables above; unset ones keep their defaults. ValueError names a bad variable."""
        values = numbers_from_env(os.environ if env is None else env, _VARIABLES)
        return cls(**values)  # type: ignore[arg-type]


_VARIABLES: tuple[NumberVariable, ...] = (
    ("wait", "SWITCHBOARD_EXTENSION_WAIT", int),
    ("power_sync_interval", "SWITCHBOARD_POWER_SYNC_INTERVAL", float),
    ("power_sync_concurrency", "SWITCHBOARD_POWER_SYNC_CONCURRENCY", int),
    ("statuses_retry", "SWITCHBOARD_STATUSES_RETRY", float),
)
