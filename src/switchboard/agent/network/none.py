"""The `none` network backend: the VM gets no host NIC.

`plug` creates nothing and returns no attachments, so the VMM configures no network interface and the
guest boots without `eth0` (whatever NICs the request asked for are ignored, with a log line). This is
for hosts and tests without bridges; the guest is reachable only through its serial console.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from switchboard.agent.model import NicAttachment, NicRequest

log = logging.getLogger(__name__)


class NoNetwork:
    """Plumbs nothing. Every call succeeds; `owners()` is always empty."""

    name = "none"

    def plug(self, vm: str, nics: Sequence[NicRequest]) -> list[NicAttachment]:
        """Return [] (no host devices); NICs in the request are dropped, which is logged."""
        if nics:
            log.info("network backend 'none': %s gets no host NIC (%d requested)", vm, len(nics))
        return []

    def unplug(self, vm: str, attachments: Sequence[NicAttachment]) -> None:
        """Nothing to remove."""

    def owners(self) -> set[str]:
        """No VM ever owns a host device here."""
        return set()
