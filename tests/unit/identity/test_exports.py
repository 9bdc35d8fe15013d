"""The identity package's public surface is deliberate."""

from __future__ import annotations

import switchboard.identity


def test_identity_exports_are_pinned() -> None:
    assert set(switchboard.identity.__all__) == {"SERVICE_NAME", "IdentityService", "identity_service"}
