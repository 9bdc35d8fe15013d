"""Handing secrets the server made (the first admin password, its API keys, a reset password) to the operator.

On a terminal they are printed there. Anywhere else - under systemd stdout is the journal, under a
supervisor a log file - they go to a file only the server's user may read (mode 0600, written whole and
renamed into place, never through a symlink) in the data directory, and the log says where that file is.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)

__all__ = ["CREDENTIALS_FILE", "hand_over", "write_private"]

CREDENTIALS_FILE = "admin-credentials.txt"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600: into a new file in the same directory, then renamed over
    `path` (a symlink at `path` is replaced, never followed)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp makes it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def hand_over(lines: list[str], *, data_dir: Path, what: str, stream: TextIO | None = None) -> Path | None:
    """Show `lines` on `stream` (stdout) when it is a terminal; otherwise write them to the credentials file
    in `data_dir`, log its path (never the secrets) and return it."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        print("\n".join(lines), file=out, flush=True)
        return None
    path = data_dir / CREDENTIALS_FILE
    write_private(path, "\n".join(lines).strip("\n") + "\n")
    log.warning("%s: written to %s (mode 0600, readable only by this user); read it, then delete it", what, path)
    return path
