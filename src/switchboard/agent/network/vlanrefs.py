"""Reference counts of the VLANs the agent put on an uplink, kept on disk.

For each VLAN id the store remembers which NICs (`<vm>/<index>`) need it and whether the agent added it
to the uplink (`ours`) or found it already there (an admin's VLAN, never removed). The file is
replaced atomically on every change, so a crash leaves either the old or the new counts.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any


class VlanRefs:
    """Users of each uplink VLAN, persisted in `path` (JSON). Callers hold `lock` around a whole
    read-modify-apply sequence; the methods themselves only touch the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()

    def load(self) -> dict[int, dict[str, Any]]:
        """vid -> {"users": set[str], "ours": bool}."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return {int(vid): {"users": set(e["users"]), "ours": bool(e["ours"])} for vid, e in raw.items()}

    def save(self, table: dict[int, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {str(vid): {"users": sorted(e["users"]), "ours": e["ours"]} for vid, e in sorted(table.items())}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def users(self) -> set[str]:
        """Every `<vm>/<index>` that holds a reference."""
        return {u for e in self.load().values() for u in e["users"]}
