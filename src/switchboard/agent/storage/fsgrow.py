"""Growing the filesystem inside a disk image or block device after the disk itself was grown.

Only ext2/3/4 can be grown offline (`e2fsck -fp` then `resize2fs`). XFS and btrfs grow only while
mounted, so they keep their size and the guest grows them on first boot (`xfs_growfs` / `btrfs
filesystem resize max`); partitioned images are left alone too. `detect` says which case applies by
reading the superblock magic, without mounting anything.
"""

from __future__ import annotations

import logging
import os

from switchboard.agent.storage.runner import CommandRunner, check

log = logging.getLogger(__name__)


def detect(path: str | os.PathLike[str]) -> str | None:
    """The filesystem at the start of `path` ("ext4" for any ext2/3/4, "xfs", "btrfs") or None."""
    with open(path, "rb") as f:
        head = f.read(0x10048)
    if head[0:4] == b"XFSB":
        return "xfs"
    if len(head) >= 0x10048 and head[0x10040:0x10048] == b"_BHRfS_M":
        return "btrfs"
    if len(head) >= 0x43A and head[0x438:0x43A] == b"\x53\xef":
        return "ext4"
    return None


def grow(runner: CommandRunner, path: str | os.PathLike[str], *, fstype: str | None = None) -> bool:
    """Grow the filesystem in `path` to fill it. True if grown; False when the filesystem cannot be
    grown offline (it is left untouched). Raises CommandFailed if e2fsck finds damage it cannot fix or
    resize2fs fails."""
    kind = fstype if fstype is not None else detect(path)
    if kind != "ext4":
        log.info("not growing %s filesystem in %s offline", kind or "unknown", path)
        return False
    # e2fsck: 0 = clean, 1 = errors fixed; resize2fs insists on a freshly checked filesystem.
    check(runner, ["e2fsck", "-f", "-p", os.fspath(path)], ok=(0, 1))
    check(runner, ["resize2fs", os.fspath(path)])
    return True
