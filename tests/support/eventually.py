"""Waiting for a condition in tests: one helper instead of hand-written deadline loops.

`eventually(predicate, what=...)` polls until the predicate returns something truthy and returns that value;
after `timeout` seconds the test fails with `timed out after Ns waiting for <what>` and the last value seen
(or the last exception the predicate raised, when `ignore` names it), so a failure says what never happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

__all__ = ["eventually"]

T = TypeVar("T")

_UNSET = object()


def eventually(
    predicate: Callable[[], T],
    *,
    what: str,
    timeout: float = 20.0,
    interval: float = 0.05,
    ignore: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> T:
    """Call `predicate` every `interval` seconds until it returns a truthy value; return that value.

    Exceptions of the types in `ignore` count as "not yet" (e.g. a server still starting); others propagate.
    Fails the test (pytest.fail) after `timeout` seconds, naming `what` and the last value or error."""
    deadline = time.monotonic() + timeout
    last: object = _UNSET
    while True:
        try:
            value = predicate()
        except ignore as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            seen = "" if last is _UNSET else f" (last: {last!r})"
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}{seen}")
        time.sleep(interval)
