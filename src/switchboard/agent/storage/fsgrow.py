"""Growing the filesystem inside a disk image or block device after the disk itself was grown.

Only ext2/3/4 can be grown offline (`e2fsck -fp` then `resize2fs`). XFS and btrfs grow only while
mounted, so they keep their size and the guest grows them on first boot (`xfs_growfs` / `btrfs
filesystem resize max`); partitioned images are left alone too. `detect` asks `blkid -p` (a low-level
superblock probe that works on files and devices alike, and through the command runner, so it can be
replayed in tests).
"""

from __future__ import annotations

import logging
import os

from switchboard.agent.hostcmd import CommandRunner, check

log = logging.getLogger(__name__)

_GROWABLE = frozenset({"ext2", "ext3", "ext4"})


def detect(runner: CommandRunner, path: str | os.PathLike[str]) -> str | None:
    """The filesystem type `blkid -p` finds at the start of `path` (e.g. "ext4", "xfs"), or None."""
    result = runner.run(["blkid", "-p", "-o", "value", "-s", "TYPE", os.fspath(path)], timeout=60)
    kind = result.stdout.strip()
    return kind if result.returncode == 0 and kind else None


def grow(runner: CommandRunner, path: str | os.PathLike[str]) -> bool:
    """Grow the filesystem in `path` to fill it. True if grown; False when there is none this can grow
    offline (it is left untouched). Raises CommandFailed if e2fsck finds damage it cannot fix or
    resize2fs fails."""
    kind = detect(runner, path)
    if kind not in _GROWABLE:
        log.info("not growing %s filesystem in %s offline", kind or "unknown", path)
        return False
    # e2fsck: 0 = clean, 1 = errors fixed; resize2fs insists on a freshly checked filesystem.
    check(runner, ["e2fsck", "-f", "-p", os.fspath(path)], ok=(0, 1))
    check(runner, ["resize2fs", os.fspath(path)])
    return True
