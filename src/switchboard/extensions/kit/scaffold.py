"""`switchboard ext scaffold`: write a working skeleton extension."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from switchboard.errors import Conflict
from switchboard.extensions.paths import directory_name
from switchboard.extensions.scaffold import BASH_SCAFFOLD, PYTHON_SCAFFOLD

__all__ = ["write_skeleton"]

Language = Literal["bash", "python"]
_SOURCES: dict[str, tuple[Path, str]] = {"bash": (BASH_SCAFFOLD, ".sh"), "python": (PYTHON_SCAFFOLD, ".py")}


def write_skeleton(name: str, *, language: Language, parent: Path) -> Path:
    """Write `<parent>/<dir>/<dir>.sh|.py` (dir = the extension's directory name), mode 0755.

    The layout is the one the extensions root expects, so the directory can be copied there as is.
    Raises Conflict when the file exists (nothing is overwritten) and OSError when it cannot be written.
    """
    source, suffix = _SOURCES[language]
    dir_name = directory_name(name)
    target = parent / dir_name / f"{dir_name}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
    except FileExistsError as exc:
        raise Conflict(f"{target} already exists") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
    os.chmod(target, 0o755)
    return target
