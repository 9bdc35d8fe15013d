"""Switchboard's scaffold script and the "prepare path" step that copies it (protocol notes §1.5).

`provisioner.sh` (bash; python3 only to list NICs for `prepare`) answers every action with example output;
`provisioner.py` is the same in Python for the author's kit.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

__all__ = ["BASH_SCAFFOLD", "PYTHON_SCAFFOLD", "prepare_entry_point"]

BASH_SCAFFOLD = Path(__file__).with_name("provisioner.sh")
PYTHON_SCAFFOLD = Path(__file__).with_name("provisioner.py")


def prepare_entry_point(full_path: Path, *, root: Path | None = None) -> bool:
    """Create a missing user-defined `.sh` entry point from the scaffold; mode 0755, directories created.

    Returns True when the path now exists (whether created here or already present) and False for a missing
    non-`.sh` path, which CloudStack does not scaffold either (not an error). Never overwrites a file, and
    never writes through a symbolic link: below `root` (default: the file's directory) every directory is
    opened without following links and the file is created in the one opened last, so a link anywhere on
    the way - even one swapped in meanwhile - fails with OSError instead of writing where it points.
    Raises OSError when the directory or file cannot be created.
    """
    if full_path.exists() or full_path.is_symlink():
        return full_path.exists()
    if full_path.suffix != ".sh":
        return False
    base = root if root is not None else full_path.parent
    parts = full_path.relative_to(base).parts
    base.mkdir(parents=True, exist_ok=True, mode=0o755)
    directory = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in parts[:-1]:
            below = _enter(directory, name, full_path)
            os.close(directory)
            directory = below
        # O_EXCL: two management servers (or two requests) preparing at once must not clobber each other.
        try:
            fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o755, dir_fd=directory)
        except FileExistsError:
            return True
        with os.fdopen(fd, "wb") as out, BASH_SCAFFOLD.open("rb") as source:
            shutil.copyfileobj(source, out)
            os.fchmod(out.fileno(), 0o755)  # the umask may have removed bits
    finally:
        os.close(directory)
    return True


def _enter(parent: int, name: str, full_path: Path) -> int:
    """Open (creating it when missing) the directory `name` in the directory `parent` without following a
    link."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent)
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise OSError(exc.errno, f"{name} on the way to {full_path} is a symbolic link or not a directory: "
                                     "the scaffold is never written through one") from None
        raise
