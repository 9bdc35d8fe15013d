"""Reading `status` (§1.3, §2.7) and bulk `statuses` (§1.2) answers."""

from __future__ import annotations

import pytest

from switchboard.extensions.payload_model import PowerState
from switchboard.extensions.power import parse_power_state, parse_power_states

ON, OFF, UNKNOWN = PowerState.POWER_ON, PowerState.POWER_OFF, PowerState.POWER_UNKNOWN


@pytest.mark.parametrize(
    ("output", "state"),
    [
        ('{"status":"success","power_state":"poweron"}', ON),
        ('{"power_state":"PowerOff"}', OFF),
        ('{"power_state":"POWERON"}', ON),
        ("PowerOn", ON),
        ("  poweroff\n", OFF),
        ('{"status":"success","power_state":"running"}', UNKNOWN),
        ("running", UNKNOWN),
        ('{"power_state":"unknown"}', UNKNOWN),
        ("", UNKNOWN),
        ("{broken", UNKNOWN),
        ('{"power_state": 1}', UNKNOWN),
        ('{"state":"poweron"}', UNKNOWN),
    ],
)
def test_status_output(output: str, state: PowerState) -> None:
    assert parse_power_state(True, output) is state


def test_failed_status_run_is_unknown() -> None:
    assert parse_power_state(False, '{"power_state":"poweron"}') is UNKNOWN


def test_statuses_output_maps_names() -> None:
    output = '{"status":"success","power_state":{"i-2-1-VM":"poweron","i-2-2-VM":"PowerOff","i-2-3-VM":"?"}}'
    assert parse_power_states(True, output) == {"i-2-1-VM": ON, "i-2-2-VM": OFF, "i-2-3-VM": UNKNOWN}
    assert parse_power_states(True, '{"status":"success","power_state":{}}') == {}


@pytest.mark.parametrize(
    ("success", "output"),
    [
        (False, '{"error":"Invalid action"}'),
        (True, '{"status":"success","power_state":"poweron"}'),
        (True, "garbage"),
        (True, "[]"),
    ],
)
def test_statuses_not_supported(success: bool, output: str) -> None:
    assert parse_power_states(success, output) is None
