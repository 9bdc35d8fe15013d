"""Per-VM locks: every state-changing call on one VM runs under that VM's lock, so concurrent calls for
the same VM are serialised while calls for different VMs run in parallel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["VmLocks"]


class VmLocks:
    """A lazily filled table of one re-entrant lock per VM name (re-entrant so that, e.g., reboot can call
    stop and start while holding the lock). Locks are kept for the life of the process: one per name ever
    seen, which is bounded by the VMs this host ever ran."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def _lock(self, name: str) -> threading.RLock:
        with self._guard:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = threading.RLock()
            return lock

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Block until `name`'s lock is free, hold it for the `with` body."""
        lock = self._lock(name)
        with lock:
            yield

    @contextmanager
    def try_hold(self, name: str) -> Iterator[bool]:
        """Take `name`'s lock only if it is free; yields whether it was taken (the reconcile pass skips a
        VM that a request is working on rather than waiting behind it)."""
        lock = self._lock(name)
        taken = lock.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                lock.release()
