"""Checks other areas register to keep infrastructure they use from being deleted.

The compute area, for example, registers a check for "host" that reports instances still placed there.
A check returns None when the object is free, or a sentence saying what still uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from switchboard.errors import Conflict

__all__ = ["NO_CHECKS", "UsageCheck", "UsageChecks"]

UsageCheck = Callable[[Session, int], str | None]


class UsageChecks:
    """Registered checks by resource kind ("zone", "pod", "cluster", "host", "network", "template", ...)."""

    def __init__(self) -> None:
        self._checks: dict[str, list[UsageCheck]] = {}

    def register(self, kind: str, check: UsageCheck) -> None:
        self._checks.setdefault(kind, []).append(check)

    def ensure_unused(self, session: Session, kind: str, resource_id: int, *, uuid: str) -> None:
        """Raise Conflict with the first reason a registered check gives."""
        for check in self._checks.get(kind, []):
            reason = check(session, resource_id)
            if reason:
                raise Conflict(reason, uuids=[uuid])


NO_CHECKS = UsageChecks()
