"""The public surface of switchboard.jobs is deliberate: services build on exactly these names."""

from __future__ import annotations

import switchboard.jobs


def test_the_public_names_are_pinned() -> None:
    assert sorted(switchboard.jobs.__all__) == [
        "ErrorToResult", "Executor", "InterruptHook", "JobContext", "JobFilter", "JobHandler", "JobHandlers",
        "JobOwner", "JobRun", "JobRuntime", "JobScope", "JobService", "JobSettings", "JobSpec", "JobStatus",
        "JobView", "SYSTEM", "ServerRun", "ServerStatus", "ServerView", "UnknownHandler", "Waker", "in_domain",
        "job_service",
    ]
    assert all(hasattr(switchboard.jobs, name) for name in switchboard.jobs.__all__)
