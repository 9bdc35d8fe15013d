"""VMM drivers and their registry.

`create_vmm(name, options, state_dir=...)` builds the driver the host config (`defaults.host.vmm`) names;
`options` is the whole `defaults.host` section, of which each driver reads its own keys:

* `firecracker` (`FirecrackerDriver`): `firecracker_bin` (default `/usr/local/bin/firecracker`), `jailer`
  (optional, see firecracker.py), `initrd`, `firecracker_log_level` (default `Info`),
  `firecracker_api_timeout` (seconds, default 30).
* `qemu` (`QemuDriver`): `qemu_bin`, `qemu_accel`, `initrd`, `qemu_extra_args` (see qemu.py).

Both run each VMM in its own session on a private tmux server under `state_dir` and keep the guest
console in the per-VM log the launch config names. An unknown name raises VmmError.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from switchboard.agent.vmm.base import Capability, VmmDriver, VmmError

__all__ = ["Capability", "VmmDriver", "VmmError", "create_vmm", "names"]


def names() -> tuple[str, ...]:
    """The driver names `create_vmm` accepts."""
    return ("firecracker", "qemu")


def create_vmm(name: str, options: Mapping[str, Any], *, state_dir: Path) -> VmmDriver:
    """The driver called `name`, configured from `options`, keeping its files under `state_dir`.

    Raises VmmError for an unknown name or a bad option."""
    # Imported lazily: each driver pulls in only what it needs.
    if name == "firecracker":
        from switchboard.agent.vmm.firecracker import FirecrackerDriver

        return FirecrackerDriver(options, state_dir=state_dir)
    if name == "qemu":
        from switchboard.agent.vmm.qemu import QemuDriver

        return QemuDriver(options, state_dir=state_dir)
    raise VmmError(f"unknown VMM {name!r}; known: {', '.join(names())}")
