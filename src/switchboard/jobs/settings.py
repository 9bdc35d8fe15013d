"""Tunables of the job machinery, read from the environment by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.envnumbers import NumberVariable, numbers_from_env


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """How many workers run jobs and how servers watch each other. Times are in seconds.

    A server whose last heartbeat is older than `heartbeat_timeout` is taken for dead: its in-progress jobs
    are failed by whichever server notices first. Keep the timeout several heartbeats long, and keep the
    clocks of the servers in sync (NTP): heartbeats are stamped with each server's own clock.
    """

    workers: int = 4
    poll_interval: float = 1.0
    heartbeat_interval: float = 3.0
    heartbeat_timeout: float = 20.0
    # How long a clean shutdown waits for running jobs before leaving them to the takeover.
    shutdown_grace: float = 10.0
    # Finished jobs are deleted this long after they completed (CloudStack's job.expire.minutes, 1 day).
    expire_after: float = 86400.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("jobs: at least one worker is needed")
        for name in ("poll_interval", "heartbeat_interval", "heartbeat_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"jobs: {name} must be positive")
        if self.heartbeat_timeout <= self.heartbeat_interval:
            raise ValueError("jobs: heartbeat_timeout must be longer than heartbeat_interval")
        if self.expire_after <= 0:
            raise ValueError("jobs: expire_after must be positive")
        if self.shutdown_grace < 0:
            raise ValueError("jobs: shutdown_grace must not be negative")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobSettings:
        """Read `SWITCHBOARD_JOB_WORKERS`, `SWITCHBOARD_JOB_POLL_INTERVAL`, `SWITCHBOARD_HEARTBEAT_INTERVAL`,
        `SWITCHBOARD_HEARTBEAT_TIMEOUT`, `SWITCHBOARD_JOB_SHUTDOWN_GRACE` and `SWITCHBOARD_JOB_EXPIRE`; unset
        ones keep their defaults.

        Raises ValueError naming the variable when a value is not a number or out of range."""
        values = numbers_from_env(os.environ if env is None else env, _VARIABLES)
        return cls(**values)  # type: ignore[arg-type]


_VARIABLES: tuple[NumberVariable, ...] = (
    ("workers", "SWITCHBOARD_JOB_WORKERS", int),
    ("poll_interval", "SWITCHBOARD_JOB_POLL_INTERVAL", float),
    ("heartbeat_interval", "SWITCHBOARD_HEARTBEAT_INTERVAL", float),
    ("heartbeat_timeout", "SWITCHBOARD_HEARTBEAT_TIMEOUT", float),
    ("shutdown_grace", "SWITCHBOARD_JOB_SHUTDOWN_GRACE", float),
    ("expire_after", "SWITCHBOARD_JOB_EXPIRE", float),
)
