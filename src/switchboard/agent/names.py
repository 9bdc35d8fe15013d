"""Validation of names that end up in paths, tmux targets and device names.

Checked before a name touches anything: a name that passes cannot contain a path separator, start with a
dash (read as an option by tools) or exceed the length that keeps derived names within limits.
"""

from __future__ import annotations

import re

from switchboard.agent.errors import InvalidRequest

__all__ = ["validate_snapshot_name", "validate_vm_name"]

_VM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def validate_vm_name(name: object) -> str:
    """Return `name` if it is 1-64 letters, digits and dashes, not starting with a dash.

    Raises InvalidRequest otherwise (the message does not echo more than 80 characters of the input)."""
    if not isinstance(name, str) or not _VM_NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise InvalidRequest(
            f"invalid VM name {shown}: use 1-64 letters, digits and dashes, not starting with a dash"
        )
    return name


def validate_snapshot_name(name: object) -> str:
    """Return `name` if it is 1-64 letters, digits, dots, underscores and dashes, starting alphanumeric."""
    if not isinstance(name, str) or not _SNAPSHOT_NAME.fullmatch(name) or ".." in name:
        raise InvalidRequest(f"invalid snapshot name {repr(name)[:80]}")
    return name
