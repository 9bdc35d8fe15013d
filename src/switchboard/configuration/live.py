"""The values this server runs with, for the settings it honours under CloudStack's names.

A server setting starts at what the server was started with (`startup`, in CloudStack's unit); a dynamic
one set globally with updateConfiguration wins over that. The global values are read from the database at
most every `ttl` seconds (a change through another server reaches this one within that), and at once after
a change through this one (`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from switchboard.configuration.definitions import DEFINITIONS, Scope
from switchboard.db.engine import Database
from switchboard.db.models.configuration import ConfigurationValue

__all__ = ["LIVE_TTL", "LiveSettings"]

LIVE_TTL = 5.0


class LiveSettings:
    def __init__(self, db: Database | None, startup: Mapping[str, str], *, ttl: float = LIVE_TTL) -> None:
        unknown = set(startup) - set(DEFINITIONS)
        if unknown:
            raise ValueError(f"not settings: {', '.join(sorted(unknown))}")
        self._db = db
        self._startup = dict(startup)
        self._ttl = ttl
        self._lock = threading.Lock()
        self._stored: dict[str, str] = {}
        self._read_at: float | None = None

    def startup(self, name: str) -> str:
        """What the server started with: the server setting's value, else the setting's default."""
        return self._startup.get(name, DEFINITIONS[name].default)

    def value(self, name: str) -> str:
        """The global value in force: a dynamic setting's stored global value, else `startup`."""
        setting = DEFINITIONS[name]
        if setting.dynamic:
            stored = self._globals().get(name)
            if stored is not None:
                return stored
        return self.startup(name)

    def integer(self, name: str) -> int:
        return int(self.value(name))

    def forget(self) -> None:
        """Read the stored values again at the next use (after a change through this server)."""
        with self._lock:
            self._read_at = None

    def _globals(self) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            if self._db is None or (self._read_at is not None and now - self._read_at < self._ttl):
                return self._stored
        try:
            with self._db.kept_connection() as connection:
                rows = connection.execute(select(ConfigurationValue.name, ConfigurationValue.value)
                                          .where(ConfigurationValue.scope == Scope.GLOBAL.value)).all()
        except SQLAlchemyError:  # a database outage: keep running with what was read last
            return self._stored
        with self._lock:
            self._stored = {name: value for name, value in rows}
            self._read_at = now
            return self._stored
