"""The test guest for VMM and agent tests: built by `scripts/build-guest.py` on first use, then cached.

`guest_artifacts()` returns the kernel, initrd and pristine root disk; copy the root disk before booting it
(`fresh_rootfs()`), since a guest writes to its disk.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "scripts" / "build-guest.py"


@functools.cache
def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("switchboard_build_guest", BUILDER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {BUILDER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@functools.cache
def guest_artifacts() -> Any:
    """The built guest (a `GuestArtifacts`: kernel, initrd, rootfs, boot_args, marker). Builds it on first
    use (about 10 s; needs apt-get, dpkg-deb, kmod, busybox-static, e2fsprogs: see scripts/ci-deps.sh) and
    reuses the cache in `.cache/guest/` (or $SWITCHBOARD_GUEST_DIR) afterwards. Raises the builder's
    BuildError naming what is missing."""
    return _builder().build(check_kernel=False)


def fresh_rootfs(dest: Path) -> Path:
    """A private, sparse copy of the pristine root disk at `dest` (the guest writes to its disk)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    # cp keeps the holes: 64 MiB apparent, a few MiB written.
    subprocess.run(["cp", "--sparse=always", str(guest_artifacts().rootfs), str(dest)], check=True)
    return dest
