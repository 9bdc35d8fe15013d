"""The event that records what an API caller just did."""

from __future__ import annotations

from switchboard.api.call import Call
from switchboard.infra.events import record_event

__all__ = ["audit"]


def audit(call: Call, event_type: str, description: str, *, resource_type: str | None = None,
          resource_uuid: str | None = None) -> None:
    """Record a Completed INFO event for what the caller just did (committed with the request)."""
    record_event(call.session, type=event_type, description=description, actor=call.who,
                 resource_type=resource_type, resource_uuid=resource_uuid)
