"""The job machinery's parameters (the composition root fills them from switchboard.settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """How many workers run jobs and how servers watch each other. Times are in seconds.

    A server whose last heartbeat is older than `heartbeat_timeout` is taken for dead: its in-progress jobs
    are failed by whichever server notices first. Keep the timeout several heartbeats long, and keep the
    clocks of the servers in sync (NTP): heartbeats are stamped with each server's own clock.
    """

    workers: int = 10  # as the server's SWITCHBOARD_JOB_WORKERS
    poll_interval: float = 1.0
    heartbeat_interval: float = 3.0
    heartbeat_timeout: float = 20.0
    # How long a clean shutdown waits for running jobs before leaving them to the takeover.
    shutdown_grace: float = 10.0
    # Finished jobs are deleted this long after they completed (CloudStack's job.expire.minutes, 1 day).
    expire_after: float = 86400.0
