#!/usr/bin/env python3
"""Build (and cache) the small test guest that tests and the demo boot; see `switchboard/demo/guest.py`.

    scripts/build-guest.py [--dir D] [--force] [--no-kernel-check]

The cache directory defaults to $SWITCHBOARD_GUEST_DIR, else `<repo>/.cache/guest`. Prints the built
files as JSON; exits non-zero with a message naming the missing tool when a build cannot be done.
Tests and benchmarks load this file and call `build(check_kernel=False)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
try:
    from switchboard.demo import guest
except ImportError:  # run with a Python that does not have the project installed: use the checkout
    sys.path.insert(0, str(REPO / "src"))
    from switchboard.demo import guest

BOOT_ARGS, BOOT_MARKER, BuildError, GuestArtifacts = guest.BOOT_ARGS, guest.BOOT_MARKER, guest.BuildError, \
    guest.GuestArtifacts
extract_vmlinux = guest.extract_vmlinux


def cache_dir() -> Path:
    """The cache directory: $SWITCHBOARD_GUEST_DIR or `<repo>/.cache/guest`."""
    env = os.environ.get("SWITCHBOARD_GUEST_DIR")
    return Path(env) if env else REPO / ".cache" / "guest"


def build(directory: Path | None = None, *, force: bool = False, check_kernel: bool = True,
          log: bool = False) -> GuestArtifacts:
    """`guest.build` into `directory` (default `cache_dir()`)."""
    return guest.build(directory or cache_dir(), force=force, check_kernel=check_kernel, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=None, help="cache directory (default: $SWITCHBOARD_GUEST_DIR "
                        "or <repo>/.cache/guest)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    parser.add_argument(
        "--no-kernel-check", action="store_true", help="reuse a cached guest without asking apt for a newer kernel"
    )
    args = parser.parse_args(argv)
    try:
        artifacts = build(args.dir, force=args.force, check_kernel=not args.no_kernel_check, log=True)
    except BuildError as exc:
        print(f"build-guest: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({k: str(v) for k, v in artifacts.__dict__.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
