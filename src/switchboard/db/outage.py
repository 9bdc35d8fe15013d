"""A database that cannot take a write right now (its disk is full, its server is gone, a lock wait timed
out), told apart from a bug; and waiting one out where an outcome must not be lost.

A transaction that failed this way changed nothing (it was rolled back), so the API can say so plainly
and the caller may retry. A job worker that has already run an extension cannot drop what it learnt: it
waits (`until_available`) until the database takes the write again, as long as the server runs; if the
server stops first, the next run finds the job interrupted and repairs the instance.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

__all__ = ["OUT_OF_SPACE", "UNAVAILABLE", "explain", "report_failure", "unavailable", "until_available"]

log = logging.getLogger(__name__)

T = TypeVar("T")

OUT_OF_SPACE = "the database is out of disk space"
UNAVAILABLE = "the database is unavailable"
# SQLite's primary result codes of a database that cannot take the work right now: not SQLITE_ERROR,
# which is also what a malformed statement (a bug, never worth a retry) gives.
_SQLITE_OUTAGES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
                   sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL}
# PostgreSQL SQLSTATE classes of the same: 08 connection exception, 53 insufficient resources (53100 is
# disk_full), 55 object not in prerequisite state (lock_not_available), 57 operator intervention
# (admin_shutdown, query_canceled), 58 system error (io_error). Errors psycopg raises without one (the
# server could not be reached at all) count as well.
_PG_OUTAGE_CLASSES = ("08", "53", "55", "57", "58")
# How often a long wait says it is still waiting (seconds).
_REMIND_EVERY = 60.0


def unavailable(exc: BaseException) -> str | None:
    """Why the database could not do its part (OUT_OF_SPACE or UNAVAILABLE), or None when `exc` is not such
    a failure (a bug, a constraint violation, anything else)."""
    if not isinstance(exc, OperationalError):
        return None
    cause = exc.orig
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in _SQLITE_OUTAGES:  # & 0xFF: the primary of an extended code
            return None
        return OUT_OF_SPACE if code & 0xFF == sqlite3.SQLITE_FULL else UNAVAILABLE
    state = str(getattr(cause, "sqlstate", "") or "")
    if state.startswith("53100"):
        return OUT_OF_SPACE
    if not state or state.startswith(_PG_OUTAGE_CLASSES):
        return UNAVAILABLE
    return None


def explain(reason: str) -> str:
    """What a caller is told when the database could not take a request (see `unavailable`): what
    happened, and what to do. The failed transaction was rolled back, so nothing of it was recorded."""
    advice = "free disk space on the database's host" if reason == OUT_OF_SPACE else "retry in a moment"
    return f"The request was not carried out: {reason}; nothing was recorded ({advice})"


class _Throttle:
    """At most one line a minute per kind of outage message: eight workers polling a database that is gone
    would otherwise write several lines a second for as long as it is gone."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def allow(self, key: tuple[str, str]) -> int | None:
        """None to stay quiet; else how many lines were held back since the last one."""
        now = time.monotonic()
        with self._lock:
            last, held = self._last.get(key, (-self._every, 0))
            if now - last < self._every:
                self._last[key] = (last, held + 1)
                return None
            self._last[key] = (now, 0)
            return held


_THROTTLE = _Throttle(_REMIND_EVERY)


def report_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log a failed background use of the database (`message` % `args`, no trailing punctuation): for an
    outage, a known condition the operator fixes outside, one warning line (at most one a minute for the
    same message); for anything else (a bug), an error with the traceback."""
    reason = unavailable(exc)
    if reason is None:
        logger.error(message, *args, exc_info=exc)
        return
    held = _THROTTLE.allow((logger.name, message))
    if held is None:
        return
    again = f"; {held} more like it in the last minute" if held else ""
    logger.warning(f"{message}: %s (%s){again}", *args, reason, getattr(exc, "orig", exc))


def until_available(use: Callable[[], T], *, what: str, first_delay: float = 0.5, max_delay: float = 30.0,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `use` - which opens, uses and commits (or ends) a transaction of its own - until the database lets
    it through: for what must not be lost once an extension has acted (recording its outcome, reading the
    result the job reports).

    Retries only while the database is unavailable (see `unavailable`), waiting `first_delay` seconds,
    doubling up to `max_delay`; any other error propagates at once. `what` names it in the log: a warning
    at the first failure, a reminder every minute, a note when it went through. Blocks for as long as the
    outage lasts: call it from a worker thread."""
    delay = first_delay
    failed_at: float | None = None
    reminded = 0.0
    while True:
        try:
            result = use()
        except OperationalError as exc:
            reason = unavailable(exc)
            if reason is None:
                raise
            now = time.monotonic()
            if failed_at is None:
                failed_at = reminded = now
                log.warning("could not record %s: %s; retrying until it can be (%s)", what, reason, exc.orig)
            elif now - reminded >= _REMIND_EVERY:
                reminded = now
                log.warning("still waiting to record %s after %.0f s: %s", what, now - failed_at, reason)
            sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        if failed_at is not None:
            log.info("recorded %s after %.1f s", what, time.monotonic() - failed_at)
        return result
