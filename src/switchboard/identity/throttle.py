"""Throttling failed logins, per user and per source address, before any password hash is computed.

Every failed login takes a token from two buckets: the user's (its domain and name, whether or not it
exists) and the source address's. A bucket holds `burst` tokens and refills at `burst` per `window`
seconds. While either bucket of an attempt is empty, the attempt is refused at once - whatever the
password, so that guessing gains nothing - and no argon2 work is done for it. Successful logins take
nothing. Buckets live in the server process (each server of a cluster throttles on its own) and a full
bucket is forgotten, so memory follows the attackers, bounded by `max_keys`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.errors import TooManyRequests

__all__ = ["LoginThrottle", "ThrottleLimits"]


@dataclass(frozen=True)
class ThrottleLimits:
    per_user: int = 5
    per_address: int = 20
    window: float = 60.0  # seconds in which an empty bucket refills completely


class _Buckets:
    """Token buckets by key; a missing key is a full bucket."""

    def __init__(self, burst: int, window: float, max_keys: int) -> None:
        self.burst = burst
        self.rate = burst / window  # tokens per second
        self._max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, as of)

    def _level(self, key: str, now: float) -> float:
        tokens, since = self._levels.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - since) * self.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` has a token again (0: it has one now)."""
        missing = 1.0 - self._level(key, now)
        return 0.0 if missing <= 0 else missing / self.rate

    def take(self, key: str, now: float) -> None:
        tokens = max(0.0, self._level(key, now) - 1.0)
        self._levels[key] = (tokens, now)
        self._levels.move_to_end(key)
        while len(self._levels) > self._max_keys:
            self._levels.popitem(last=False)

    def forget_full(self, now: float) -> None:
        for key in [k for k in self._levels if self._level(k, now) >= self.burst]:
            del self._levels[key]


class LoginThrottle:
    """Thread-safe: the API's worker threads share it."""

    def __init__(self, limits: ThrottleLimits | None = None, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limits = limits or ThrottleLimits()
        self._users = _Buckets(self.limits.per_user, self.limits.window, max_keys)
        self._addresses = _Buckets(self.limits.per_address, self.limits.window, max_keys)
        self._clock = clock
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    @staticmethod
    def user_key(domain: str, username: str) -> str:
        return f"{domain.strip().lower()}\x00{username.lower()}"

    def check(self, *, user: str, address: str) -> None:
        """Raise TooManyRequests (with how long to wait) when the user or the address has no token left."""
        with self._lock:
            now = self._clock()
            by_user = self._users.wait(user, now)
            by_address = self._addresses.wait(address, now) if address else 0.0
        if by_user <= 0 and by_address <= 0:
            return
        seconds = max(1, math.ceil(max(by_user, by_address)))
        what = "this user" if by_user >= by_address else "this address"
        raise TooManyRequests(f"Too many failed login attempts for {what}; try again in {seconds} seconds",
                              retry_after=seconds)

    def failed(self, *, user: str, address: str) -> None:
        """Record a failed attempt against the user and the address."""
        with self._lock:
            now = self._clock()
            self._users.take(user, now)
            if address:
                self._addresses.take(address, now)
            if now >= self._next_sweep:
                self._users.forget_full(now)
                self._addresses.forget_full(now)
                self._next_sweep = now + self.limits.window
