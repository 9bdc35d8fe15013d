"""Settings of the infrastructure area, read once from the environment at wiring time.

* `SWITCHBOARD_GUEST_VLAN_RANGE` — the VLAN tags networks created without a `vlan` take theirs from,
  `FIRST-LAST` inclusive (default `100-4094`). CloudStack takes them from a physical network's range;
  Switchboard has no physical networks, so one range serves every zone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["SETTINGS_SERVICE", "VLAN_RANGE_VARIABLE", "InfraSettings", "parse_vlan_range"]

SETTINGS_SERVICE = "infra_settings"
VLAN_RANGE_VARIABLE = "SWITCHBOARD_GUEST_VLAN_RANGE"
_RANGE = re.compile(r"^\s*(\d{1,4})\s*-\s*(\d{1,4})\s*$")


def parse_vlan_range(text: str) -> range:
    """"100-199" → range(100, 200). ValueError (naming the variable) unless 1 <= first <= last <= 4094."""
    match = _RANGE.match(text)
    if match:
        first, last = int(match[1]), int(match[2])
        if 1 <= first <= last <= 4094:
            return range(first, last + 1)
    raise ValueError(f"{VLAN_RANGE_VARIABLE} must be FIRST-LAST with 1 <= FIRST <= LAST <= 4094, not {text!r}")


@dataclass(frozen=True)
class InfraSettings:
    dynamic_vlans: range = field(default_factory=lambda: range(100, 4095))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> InfraSettings:
        text = environ.get(VLAN_RANGE_VARIABLE, "").strip()
        return cls(dynamic_vlans=parse_vlan_range(text)) if text else cls()
