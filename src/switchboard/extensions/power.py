"""Reading `status` and `statuses` answers (protocol notes §1.3, §1.2, §2.7). Pure functions.

`status`: when the trimmed output starts with `{` it is JSON and `power_state` is read, otherwise the whole
output is the state. `PowerOn`/`PowerOff` match case-insensitively; anything else — `running`, `unknown`,
empty, unparseable, a failed run — is PowerUnknown.

`statuses` (bulk, per host): `{"status": "success", "power_state": {"<instance name>": "<state>", …}}`, each
value read like `status`. A failed run or an answer without such a map means "not supported": the caller
falls back to `status` per instance.
"""

from __future__ import annotations

import json
from typing import Any

from switchboard.extensions.payload_model import PowerState

__all__ = ["parse_power_state", "parse_power_states", "power_state_of"]

_BY_NAME = {"poweron": PowerState.POWER_ON, "poweroff": PowerState.POWER_OFF}


def power_state_of(value: Any) -> PowerState:
    """A single state value → PowerState (non-strings and unknown names → PowerUnknown)."""
    if not isinstance(value, str):
        return PowerState.POWER_UNKNOWN
    return _BY_NAME.get(value.strip().lower(), PowerState.POWER_UNKNOWN)


def parse_power_state(success: bool, output: str) -> PowerState:
    """The power state from a `status` run (`success`: exit code 0; `output`: its trimmed output)."""
    if not success:
        return PowerState.POWER_UNKNOWN
    text = output.strip()
    if not text.startswith("{"):
        return power_state_of(text)
    try:
        answer = json.loads(text)
    except ValueError:
        return PowerState.POWER_UNKNOWN
    return power_state_of(answer.get("power_state")) if isinstance(answer, dict) else PowerState.POWER_UNKNOWN


def parse_power_states(success: bool, output: str) -> dict[str, PowerState] | None:
    """Instance name → power state from a `statuses` run, or None when the extension does not support it
    (failed run, e.g. `{"error":"Invalid action"}` with exit 1, or no `power_state` object in the answer)."""
    if not success:
        return None
    try:
        answer = json.loads(output)
    except ValueError:
        return None
    states = answer.get("power_state") if isinstance(answer, dict) else None
    if not isinstance(states, dict):
        return None
    return {str(name): power_state_of(value) for name, value in states.items()}
