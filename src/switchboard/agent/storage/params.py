"""Parsing and checking what the storage backends get from config and requests: VM names and sizes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchboard.agent.storage.base import StorageError

MIB = 1 << 20
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


class InvalidRequest(StorageError):
    """A VM name, size or option a backend cannot accept (the caller's mistake, not the host's)."""


def check_vm_name(vm: str) -> str:
    """Return `vm` if it is safe as a file and LV name component (1 to 64 of `A-Za-z0-9_.+-`, not starting
    with a dot or dash, no `..`); raise InvalidRequest otherwise."""
    if not _VM_NAME.fullmatch(vm) or ".." in vm:
        raise InvalidRequest(f"invalid VM name {vm!r}")
    return vm


def parse_size(value: int | str | None) -> int | None:
    """Bytes from an int or a string such as `"10G"`, `"512MiB"`, `"1.5T"` (binary units); None stays None.

    Raises InvalidRequest for a negative, zero or malformed size."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidRequest(f"invalid size {value!r}")
    if isinstance(value, int):
        size = value
    else:
        m = _SIZE.fullmatch(str(value))
        if not m:
            raise InvalidRequest(f"invalid size {value!r} (e.g. 10G, 512M, 4294967296)")
        size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if size <= 0:
        raise InvalidRequest(f"size must be positive, got {value!r}")
    return size


def round_up(size: int, unit: int = MIB) -> int:
    """`size` rounded up to a multiple of `unit` bytes."""
    return -(-size // unit) * unit


def option(options: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    """The first of `keys` present (and not None) in `options`, else `default` (accepts key aliases)."""
    for key in keys:
        if options.get(key) is not None:
            return options[key]
    return default
