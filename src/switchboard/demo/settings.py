"""The demo's parameters, filled by the composition root from the server's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DemoSettings"]


@dataclass(frozen=True, kw_only=True)
class DemoSettings:
    """`seed`: SWITCHBOARD_DEMO (seed the demo into an empty cloud); `microvms`: SWITCHBOARD_DEMO_MICROVMS (real
    microVMs where the machine can run them); `directory`: `<data dir>/demo`; `guest_dir`: where the guest
    image is built and cached; `guest_vlans`: the demo network's VLANs come from there; `host`, `port`:
    where the server listens (for the announcement)."""

    seed: bool
    microvms: bool
    directory: Path
    guest_dir: Path
    guest_vlans: range
    host: str
    port: int
