"""An in-process cache of what verifying a signed request needs, per API key and credentials generation.

Unsealing the secret and joining user, account, domain and role for every request would cost more than the
rest of a request. An entry is used only while the database's credentials generation (see
`switchboard.identity.credentials`) is the one read before it was loaded, so a key revoked, regenerated or
disabled through any server on the database is refused from the next request on. Entries also expire after
`ttl` seconds, a backstop for changes made to the database by other means; this process drops them all at
once whenever it changes a user, an account or a key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.caller import Caller


@dataclass(frozen=True)
class KeyEntry:
    caller: Caller
    secret_key: bytes
    active: bool  # user and account enabled
    api_access: bool  # the `api.key.access` setting that applies to the user's account
    loaded_at: float
    generation: int = 0  # the credentials generation read before this entry was loaded


class KeyCache:
    """Thread-safe cache from API key to KeyEntry, bounded to `max_entries` (oldest dropped first)."""

    def __init__(self, *, ttl: float = 10.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, KeyEntry] = {}
        self._newest_generation = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock()

    def get(self, api_key: str, generation: int = 0) -> KeyEntry | None:
        """The entry for `api_key` if it was loaded under `generation` (the one the caller just read) and
        is younger than the TTL; else None."""
        if generation > self._newest_generation:
            self._forget_older(generation)
        entry = self._entries.get(api_key)
        if entry is None or entry.generation != generation or self._clock() - entry.loaded_at > self._ttl:
            return None
        return entry

    def put(self, api_key: str, entry: KeyEntry) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                # dicts keep insertion order: drop the oldest tenth in one go
                for stale in list(self._entries)[: max(1, self._max // 10)]:
                    del self._entries[stale]
            self._entries[api_key] = entry

    def clear(self) -> None:
        """Forget everything; called after any change to users, accounts, roles or keys."""
        with self._lock:
            self._entries.clear()

    def _forget_older(self, generation: int) -> None:
        # Entries of an older generation can never be used again: free them at once.
        with self._lock:
            if generation > self._newest_generation:
                self._newest_generation = generation
                self._entries = {key: entry for key, entry in self._entries.items()
                                 if entry.generation >= generation}
