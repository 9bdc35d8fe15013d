"""Wiring of the compute area into the management server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard.server import ServerParts


def wire(parts: ServerParts) -> None:
    """Nothing to wire yet."""
