"""The states of a job and of a management server."""

from __future__ import annotations

import enum


class JobStatus(enum.StrEnum):
    """Where a job is in its life. Only PENDING and IN_PROGRESS are unfinished."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.PENDING, JobStatus.IN_PROGRESS)


class ServerStatus(enum.StrEnum):
    """A management server is Up from its start until its clean shutdown (or until it stops heartbeating)."""

    UP = "Up"
    DOWN = "Down"
