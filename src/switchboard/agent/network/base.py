"""The network backend interface: `none`, `linux-bridge`, `ovs`; chosen per host, overridable per request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from switchboard.agent.errors import BackendError
from switchboard.agent.model import NicAttachment, NicRequest


class NetworkError(BackendError):
    """A backend refused or failed to plumb a NIC. `str()` is fit for the API caller."""


@runtime_checkable
class NetworkBackend(Protocol):
    name: str

    def plug(self, vm: str, nics: Sequence[NicRequest]) -> list[NicAttachment]:
        """Create and attach the host side of each NIC. Idempotent: existing TAPs are reused and
        re-attached (this is what the reconcile pass calls after a host reboot). On failure, removes what
        this call created and raises NetworkError."""

    def unplug(self, vm: str, attachments: Sequence[NicAttachment]) -> None:
        """Remove the VM's host devices and release what only they used. No error when already gone."""

    def owners(self) -> set[str]:
        """Names of every VM that still has a host device here (for leftover detection)."""
