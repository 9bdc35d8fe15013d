"""Async jobs: a queue in the database, workers inside each server, restart recovery. A mechanism only.

It stores, claims, runs and finishes jobs and knows nothing of what they do: services register handlers
by name (`JobService.handlers.register`). It imports nothing from the API, compute or extensions; the
composition root (switchboard.server) passes in what it needs from above, such as the mapping of
errors to job results.
"""

from switchboard.jobs.context import SYSTEM, JobContext, JobOwner, JobSpec
from switchboard.jobs.executor import ErrorToResult, Executor
from switchboard.jobs.handlers import InterruptHook, JobHandler, JobHandlers, JobRun, UnknownHandler
from switchboard.jobs.notify import Waker
from switchboard.jobs.queries import JobFilter, JobScope, JobView, ServerView, in_domain
from switchboard.jobs.repository import ServerRun
from switchboard.jobs.runtime import JobRuntime
from switchboard.jobs.service import JobService
from switchboard.jobs.settings import JobSettings
from switchboard.jobs.states import JobStatus, ServerStatus

__all__ = [
    "SYSTEM",
    "ErrorToResult",
    "Executor",
    "InterruptHook",
    "JobContext",
    "JobFilter",
    "JobHandler",
    "JobHandlers",
    "JobOwner",
    "JobRun",
    "JobRuntime",
    "JobScope",
    "JobService",
    "JobSettings",
    "JobSpec",
    "JobStatus",
    "JobView",
    "ServerRun",
    "ServerStatus",
    "ServerView",
    "UnknownHandler",
    "Waker",
    "in_domain",
]
