"""Where extension files live, how an entry-point path is normalised, and when an entry point is usable.

CloudStack's rules (protocol notes §1.5), followed exactly:

* An extension's code directory is its name with every character outside `[a-zA-Z0-9._-]` replaced by `_`,
  lower-cased (`directory_name`). The entry point defaults to `<dir>/<dir>.sh`.
* A given path is stored relative to the extensions root: backslashes become `/`, leading `/` are stripped,
  a path equal to `<dir>` becomes `<dir>/<dir>`, a path not starting with `<dir>/` is prefixed with it, and
  more than two sub-directories below `<dir>` is refused.
* Payload files go to `<payload root>/<extension name>/` — the raw name, not the directory name.

Switchboard adds a rule CloudStack does not have: a path given through the API can never leave its
extension's directory (`..` components and absolute paths are refused). What an operator placed on disk is
trusted: symlinks on the way to the entry file (the documented install of a third-party extension is a
`ln -s` to an installed script) are followed wherever they lead. Switchboard itself never writes through
one (see `prepare_across.stays_inside`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from switchboard.errors import ExtensionFailed, InvalidParameter

__all__ = [
    "CLOUDSTACK_EXTENSIONS_ROOT",
    "CLOUDSTACK_PAYLOAD_ROOT",
    "NESTING_ERROR",
    "NOT_CONFIGURED",
    "NOT_EXECUTABLE",
    "EntryPoint",
    "EntryPointError",
    "ExtensionRoots",
    "default_relative_path",
    "directory_name",
    "entry_checksum",
    "normalise_relative_path",
    "payload_directory_name",
]

CLOUDSTACK_EXTENSIONS_ROOT = Path("/usr/share/cloudstack-management/extensions")
CLOUDSTACK_PAYLOAD_ROOT = Path("/var/lib/cloudstack/management/extensions")

NOT_CONFIGURED = "Extension not configured"
NOT_EXECUTABLE = "File is not executable"
NESTING_ERROR = "Entry point path cannot be nested more than two sub-directories deep"

_UNSAFE_CHARS = re.compile(r"[^a-zA-Z0-9._-]")
# <dir>/<sub1>/<sub2>/<file>: at most two sub-directories below the extension's directory.
_MAX_PARTS = 4


class EntryPointError(ExtensionFailed):
    """The entry point cannot be run. `str()` is CloudStack's text ("Extension not configured" or
    "File is not executable"); `reason` says precisely why, for logs and the author's kit."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class ExtensionRoots:
    """The two directories of the framework on this management server.

    `extensions`: code, one sub-directory per extension. `payloads`: payload files, one sub-directory per
    extension (private to the server user, 0700).
    """

    extensions: Path
    payloads: Path

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ExtensionRoots:
        """Switchboard's default layout: `<data>/extensions` and `<data>/extensions-data`."""
        return cls(extensions=data_dir / "extensions", payloads=data_dir / "extensions-data")

    @classmethod
    def cloudstack_layout(cls) -> ExtensionRoots:
        """The layout of a packaged CloudStack 4.21 management server."""
        return cls(extensions=CLOUDSTACK_EXTENSIONS_ROOT, payloads=CLOUDSTACK_PAYLOAD_ROOT)

    @classmethod
    def for_layout(cls, layout: Literal["switchboard", "cloudstack"], *, data_dir: Path) -> ExtensionRoots:
        """Pick a layout by its configuration name; raises InvalidParameter for an unknown one."""
        if layout == "switchboard":
            return cls.in_data_dir(data_dir)
        if layout == "cloudstack":
            return cls.cloudstack_layout()
        raise InvalidParameter(f"Unknown extensions layout: {layout}", parameter="layout")

    @classmethod
    def resolve(
        cls,
        *,
        data_dir: Path,
        layout: Literal["switchboard", "cloudstack"] = "switchboard",
        extensions: Path | None = None,
        payloads: Path | None = None,
    ) -> ExtensionRoots:
        """The roots of `layout`, each replaced by `extensions` / `payloads` when given (the server passes
        SWITCHBOARD_EXTENSIONS_LAYOUT, SWITCHBOARD_EXTENSIONS_ROOT and SWITCHBOARD_EXTENSIONS_DATA)."""
        base = cls.for_layout(layout, data_dir=data_dir)
        return cls(extensions=extensions or base.extensions, payloads=payloads or base.payloads)

    def ensure(self) -> list[str]:
        """Create missing roots (code 0755, payloads 0700) and report what is unusable: one message per
        problem, empty when both exist and are writable. Never raises; the server logs the messages."""
        problems: list[str] = []
        for path, mode in ((self.extensions, 0o755), (self.payloads, 0o700)):
            try:
                path.mkdir(parents=True, exist_ok=True, mode=mode)
                if path == self.payloads:
                    os.chmod(path, 0o700)  # payloads carry secrets, whatever the directory was before
            except OSError as exc:
                problems.append(f"cannot create {path}: {exc.strerror}")
                continue
            if not os.access(path, os.W_OK | os.X_OK):
                problems.append(f"{path} is not writable")
        return problems

    def payload_dir(self, extension_name: str) -> Path:
        """`<payload root>/<extension name>` (see `payload_directory_name`)."""
        return self.payloads / payload_directory_name(extension_name)

    def entry_point(self, relative_path: str) -> EntryPoint:
        """The entry point of a stored relative path (raises InvalidParameter for a path with `..`)."""
        return EntryPoint.from_relative(self.extensions, relative_path)


def directory_name(extension_name: str) -> str:
    """The code directory of a user-defined extension: unsafe characters → `_`, lower-cased."""
    return _UNSAFE_CHARS.sub("_", extension_name).lower()


def default_relative_path(extension_name: str) -> str:
    """`<dir>/<dir>.sh`, the entry point used when createExtension is given no path."""
    name = directory_name(extension_name)
    return f"{name}/{name}.sh"


def normalise_relative_path(extension_name: str, path: str | None) -> str:
    """Normalise a user-given entry-point path to the form stored in the database (relative to the root).

    Blank → the default path. Raises InvalidParameter(parameter="path") for more than two sub-directories
    below the extension directory (CloudStack's text) and for any `..` component (Switchboard's rule).
    """
    if path is None or not path.strip():
        return default_relative_path(extension_name)
    name = directory_name(extension_name)
    normalised = path.strip().replace("\\", "/").lstrip("/")
    if normalised == name:
        normalised = f"{name}/{name}"
    elif not normalised.startswith(f"{name}/"):
        normalised = f"{name}/{normalised}"
    parts = normalised.split("/")
    if ".." in parts:
        raise InvalidParameter("Entry point path must not contain '..'", parameter="path")
    if len(parts) > _MAX_PARTS:
        raise InvalidParameter(NESTING_ERROR, parameter="path")
    return normalised


def payload_directory_name(extension_name: str) -> str:
    """The payload sub-directory: the raw extension name, as CloudStack does (quirk §8.9).

    A name that is not a single safe path component (empty, `.`/`..`, containing `/`, `\\` or NUL) would let
    payloads land outside the payload root; such a name has its unsafe characters replaced by `_` (and `_`
    prefixed when what is left is `.` or `..`).
    """
    unsafe = extension_name in ("", ".", "..") or any(c in extension_name for c in "/\\\x00")
    if not unsafe:
        return extension_name
    replaced = _UNSAFE_CHARS.sub("_", extension_name)
    return "_" + replaced if replaced in ("", ".", "..") else replaced


@dataclass(frozen=True)
class EntryPoint:
    """An entry point and its extension's directory (the process's working directory and HOME).

    `directory` is the extension's directory; `path` the entry file below it (not yet resolved). Use `validate()`
    right before running it: files change under a running server.
    """

    directory: Path
    path: Path

    @classmethod
    def from_relative(cls, root: Path, relative_path: str) -> EntryPoint:
        """`root/<relative>`, confined to `root/<first component>`. Raises InvalidParameter for an absolute
        path, a path without a file below the directory, or a `..` component."""
        parts = relative_path.replace("\\", "/").split("/")
        if relative_path.startswith("/") or len(parts) < 2 or ".." in parts or not all(parts):
            raise InvalidParameter(f"Invalid entry point path: {relative_path}", parameter="path")
        return cls(directory=root / parts[0], path=root.joinpath(*parts))

    @classmethod
    def standalone(cls, path: Path) -> EntryPoint:
        """An executable outside any extensions root (the author's kit): confined to its own directory."""
        absolute = Path(os.path.abspath(path))
        return cls(directory=absolute.parent, path=absolute)

    def validate(self) -> Path:
        """The real path of a runnable entry point.

        Symlinks are followed (they were made on disk by the operator; the stored relative path itself never
        leaves the extension directory). Raises EntryPointError("Extension not configured") when the file is
        missing (a dangling link included), not a regular file or not readable; and EntryPointError("File is
        not executable") when it is a readable regular file without execute permission.
        """
        try:
            real = self.path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # missing, or a symlink loop
            raise EntryPointError(NOT_CONFIGURED, reason=f"entry point {self.path} does not exist") from exc
        try:
            mode = real.stat().st_mode
        except OSError as exc:
            raise EntryPointError(NOT_CONFIGURED, reason=f"cannot stat {real}: {exc.strerror}") from exc
        if not stat.S_ISREG(mode):
            raise EntryPointError(NOT_CONFIGURED, reason=f"entry point {real} is not a regular file")
        if not os.access(real, os.R_OK):
            raise EntryPointError(NOT_CONFIGURED, reason=f"entry point {real} is not readable")
        # Root passes os.access(X_OK) as soon as any x bit is set; the bit test states the rule for everyone.
        if not (mode & 0o111) or not os.access(real, os.X_OK):
            raise EntryPointError(NOT_EXECUTABLE, reason=f"entry point {real} is not executable")
        return real

    def checksum(self) -> str | None:
        """See `entry_checksum`."""
        return entry_checksum(self)


def entry_checksum(entry: EntryPoint) -> str | None:
    """MD5 hex digest of the entry file alone (§1.7), or None when the entry point is not valid.

    Used for readiness across management servers, not for security: MD5 is what CloudStack compares.
    """
    try:
        real = entry.validate()
        digest = hashlib.md5(usedforsecurity=False)
        with real.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except (EntryPointError, OSError):
        return None
    return digest.hexdigest()
