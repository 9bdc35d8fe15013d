"""The shared waiting helper: returns the first truthy value, treats ignored errors as "not yet", and fails
with what it waited for."""

from __future__ import annotations

import itertools

import pytest

from tests.support.eventually import eventually


def test_returns_the_first_truthy_value() -> None:
    calls = itertools.count()
    assert eventually(lambda: next(calls) >= 3 and "done", what="three calls", interval=0) == "done"


def test_ignored_errors_count_as_not_yet() -> None:
    calls = itertools.count()

    def flaky() -> int:
        n = next(calls)
        if n < 2:
            raise ConnectionError("not listening yet")
        return n

    assert eventually(flaky, what="a listener", interval=0, ignore=ConnectionError) == 2


def test_other_errors_propagate() -> None:
    def broken() -> bool:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        eventually(broken, what="anything", interval=0)


def test_timeout_fails_naming_what_and_the_last_value() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"timed out after 0.05s waiting for the answer \(last: 0\)"):
        eventually(lambda: 0, what="the answer", timeout=0.05, interval=0.01)
