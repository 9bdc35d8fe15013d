"""The job of disableUser: the checks were made when it was queued; the job disables the user and ends its
login sessions. What the finished job shows of the user is the API's business: the caller passes the view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.identity.records import UserRecord
from switchboard.identity.users import Users
from switchboard.jobs import JobContext, JobHandlers

__all__ = ["DISABLE_USER_JOB", "register_identity_jobs"]

DISABLE_USER_JOB = "identity.disableUser"


def register_identity_jobs(handlers: JobHandlers, users: Users, *,
                           user_view: Callable[[UserRecord], dict[str, Any]]) -> None:
    """Register the disableUser job's handler."""

    def disable_user(ctx: JobContext) -> dict[str, Any]:
        with ctx.db.session() as session:
            record = users.apply_user_state(session, ctx.args["user"], "disabled")
            return {"user": user_view(record)}

    handlers.register(DISABLE_USER_JOB, disable_user)
