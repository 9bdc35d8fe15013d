"""Switchboard's scaffold script and the "prepare path" step that copies it (protocol notes §1.5).

`provisioner.sh` (bash; python3 only to list NICs for `prepare`) answers every action with example output;
`provisioner.py` is the same in Python for the author's kit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["BASH_SCAFFOLD", "PYTHON_SCAFFOLD", "prepare_entry_point"]

BASH_SCAFFOLD = Path(__file__).with_name("provisioner.sh")
PYTHON_SCAFFOLD = Path(__file__).with_name("provisioner.py")


def prepare_entry_point(full_path: Path) -> bool:
    """Create a missing user-defined `.sh` entry point from the scaffold; mode 0755, directories created.

    Returns True when the path now exists (whether created here or already present) and False for a missing
    non-`.sh` path, which CloudStack does not scaffold either (not an error). Never overwrites a file.
    Raises OSError when the directory or file cannot be created.
    """
    if full_path.exists() or full_path.is_symlink():
        return full_path.exists()
    if full_path.suffix != ".sh":
        return False
    full_path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    # O_EXCL: two management servers (or two requests) preparing at once must not clobber each other.
    try:
        fd = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
    except FileExistsError:
        return True
    with os.fdopen(fd, "wb") as out, BASH_SCAFFOLD.open("rb") as source:
        shutil.copyfileobj(source, out)
    os.chmod(full_path, 0o755)  # the umask may have removed bits
    return True
