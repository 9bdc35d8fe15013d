"""Infrastructure settings are checked when the server starts, not when a network is first created."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixtures import start_server

pytestmark = pytest.mark.database


def test_a_bad_guest_vlan_range_stops_the_server_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="SWITCHBOARD_GUEST_VLAN_RANGE='4000-100': must be FIRST-LAST"), \
            start_server(tmp_path, env={"SWITCHBOARD_GUEST_VLAN_RANGE": "4000-100"}):
        pass
