"""A database that cannot take a write right now (its disk is full, its server is gone, a lock wait timed
out), told apart from a bug; and waiting one out where an outcome must not be lost.

A transaction that failed this way changed nothing (it was rolled back), so the API can say so plainly
and the caller may retry. A job worker that has already run an extension cannot drop what it learnt: it
waits (`until_written`) until the database takes the write again, as long as the server runs; if the
server stops first, the next run finds the job interrupted and repairs the instance.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

__all__ = ["OUT_OF_SPACE", "UNAVAILABLE", "explain", "report_failure", "unavailable", "until_written"]

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


def report_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log a failed background use of the database (`message` % `args`, no trailing punctuation): a
    one-line warning for an outage, a known condition the operator fixes outside; an error with the
    traceback for anything else (a bug)."""
    reason = unavailable(exc)
    if reason is None:
        logger.error(message, *args, exc_info=exc)
    else:
        logger.warning(f"{message}: %s (%s)", *args, reason, getattr(exc, "orig", exc))


def until_written(write: Callable[[], T], *, what: str, first_delay: float = 0.5, max_delay: float = 30.0,
                  sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `write` - which opens, uses and commits a transaction of its own - until the database takes it.

    Retries only while the database is unavailable (see `unavailable`), waiting `first_delay` seconds,
    doubling up to `max_delay`; any other error propagates at once. `what` names the write in the log: a
    warning at the first failure, a reminder every minute, a note when it went through. Blocks for as
    long as the outage lasts: call it from a worker thread, for outcomes that must not be lost."""
    delay = first_delay
    failed_at: float | None = None
    reminded = 0.0
    while True:
        try:
            result = write()
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
            log.warning("recorded %s after %.1f s", what, time.monotonic() - failed_at)
        return result
