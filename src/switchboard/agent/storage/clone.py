"""Cheap copies of image files: reflink where the filesystem can share extents, else a sparse copy.

`clone_into` never creates or replaces a path: it fills a file descriptor the caller opened (with
`O_EXCL`), so the no-clobber rule lives in one place, the backend.
"""

from __future__ import annotations

import errno
import fcntl
import os

FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h: share all extents of src with dst
_BLOCK = 64 << 10  # granularity at which all-zero data is turned into holes
_BUF = 1 << 20
_ZEROS = bytes(_BUF)
# errnos meaning "this filesystem / pair of files cannot share extents", not a real I/O failure
_NO_REFLINK = {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EPERM}


def try_reflink(src_fd: int, dst_fd: int) -> bool:
    """Make `dst_fd` share `src_fd`'s extents (FICLONE). False when the filesystem cannot; other
    errors (ENOSPC, EIO) raise OSError."""
    try:
        fcntl.ioctl(dst_fd, FICLONE, src_fd)
    except OSError as exc:
        if exc.errno in _NO_REFLINK:
            return False
        raise
    return True


def _data_extents(fd: int, size: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges that hold data, from SEEK_DATA/SEEK_HOLE (one range if unsupported)."""
    extents: list[tuple[int, int]] = []
    pos = 0
    try:
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # no data after pos
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            extents.append((start, min(end, size)))
            pos = end
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return [(0, size)]  # filesystem without SEEK_DATA: treat everything as data
    return extents


def sparse_copy(src_fd: int, dst_fd: int) -> int:
    """Copy `src_fd` to the empty `dst_fd`, keeping holes and turning all-zero 64 KiB blocks into holes.
    Returns the number of bytes written. The destination gets the source's apparent size."""
    size = os.fstat(src_fd).st_size
    written = 0
    for start, end in _data_extents(src_fd, size):
        pos = start
        while pos < end:
            buf = os.pread(src_fd, min(_BUF, end - pos), pos)
            if not buf:
                break
            if buf != _ZEROS[: len(buf)]:
                view = memoryview(buf)
                for off in range(0, len(buf), _BLOCK):
                    block = view[off : off + _BLOCK]
                    if block != _ZEROS[: len(block)]:
                        written += os.pwrite(dst_fd, block, pos + off)
            pos += len(buf)
    os.ftruncate(dst_fd, size)
    return written


def clone_into(src_fd: int, dst_fd: int, *, reflink: bool = True) -> str:
    """Fill the empty `dst_fd` with `src_fd`'s content. Returns the method used: "reflink" or "sparse"."""
    if reflink and try_reflink(src_fd, dst_fd):
        return "reflink"
    sparse_copy(src_fd, dst_fd)
    return "sparse"
