"""HTTP Basic authentication against PAM, authorisation by Unix group, and throttling of failed logins.

* A user in `auth.admin_group` gets full control; one in `auth.readonly_group` may only read. A user PAM
  accepts but who is in neither group is refused (403). With both groups set to null every user PAM accepts
  gets full control, as in the original agent.
* The PAM call blocks (pam_unix delays a failure by about 3 s), so it runs in a worker thread, and at most
  a few run at once.
* After `max_failures` failed logins from one source address within `failure_window_seconds`, that source
  is refused with 429 for `lockout_seconds`, without asking PAM.
* A successful login is remembered for `cache_seconds`, keyed by a keyed hash of user and password (never
  the password itself), so that a status poll does not cost a PAM conversation per request.
"""

from __future__ import annotations

import base64
import binascii
import enum
import grp
import hashlib
import hmac
import os
import pwd
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import pam

from switchboard.agent.config import AuthConfig

__all__ = [
    "AccessDenied",
    "AuthFailed",
    "Authenticator",
    "FailureThrottle",
    "Principal",
    "Role",
    "Throttled",
    "pam_check",
    "user_groups",
]


class AuthFailed(Exception):
    """No or wrong credentials (HTTP 401)."""


class AccessDenied(Exception):
    """Authenticated, but not allowed to do this (HTTP 403)."""


class Throttled(Exception):
    """Too many failed logins from this source (HTTP 429). `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Role(enum.StrEnum):
    ADMIN = "admin"
    READONLY = "readonly"


@dataclass(frozen=True)
class Principal:
    user: str
    role: Role


PasswordCheck = Callable[[str, str, str], bool]  # (user, password, PAM service) -> accepted
GroupLookup = Callable[[str], set[str]]


def pam_check(user: str, password: str, service: str) -> bool:
    """Ask PAM (auth and account management) whether `user`/`password` may log in to `service`."""
    return bool(pam.pam().authenticate(user, password, service=service))


def user_groups(user: str) -> set[str]:
    """Names of every group `user` belongs to (primary and supplementary); empty for an unknown user."""
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:
        return set()
    names = set()
    for group_id in os.getgrouplist(user, gid):
        try:
            names.add(grp.getgrgid(group_id).gr_name)
        except KeyError:
            continue
    return names


class FailureThrottle:
    """Counts failed logins per source; refuses a source that failed too often, for a while."""

    def __init__(self, *, max_failures: int, window: float, lockout: float, clock: Callable[[], float]):
        self._max = max_failures
        self._window = window
        self._lockout = lockout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def check(self, source: str) -> None:
        """Raise Throttled when `source` is locked out."""
        with self._lock:
            until = self._locked_until.get(source)
            now = self._clock()
            if until is not None and now < until:
                raise Throttled("too many failed logins; try again later", retry_after=until - now)
            if until is not None:
                del self._locked_until[source]

    def failed(self, source: str) -> None:
        with self._lock:
            now = self._clock()
            times = self._failures.setdefault(source, deque())
            times.append(now)
            while times and times[0] < now - self._window:
                times.popleft()
            if len(times) >= self._max:
                self._locked_until[source] = now + self._lockout
                times.clear()
            # Bound the table: forget sources whose last failure left the window.
            if len(self._failures) > 10_000:
                for key in [k for k, v in self._failures.items() if not v or v[-1] < now - self._window]:
                    del self._failures[key]

    def succeeded(self, source: str) -> None:
        with self._lock:
            self._failures.pop(source, None)


class Authenticator:
    """Turns an `Authorization` header and a source address into a Principal, or raises."""

    def __init__(
        self,
        config: AuthConfig,
        *,
        check: PasswordCheck = pam_check,
        groups: GroupLookup = user_groups,
        clock: Callable[[], float] = time.monotonic,
        max_concurrent_checks: int = 4,
    ) -> None:
        self._config = config
        self._check = check
        self._groups = groups
        self._clock = clock
        self._throttle = FailureThrottle(
            max_failures=config.max_failures,
            window=config.failure_window_seconds,
            lockout=config.lockout_seconds,
            clock=clock,
        )
        self._limiter = anyio.CapacityLimiter(max_concurrent_checks)
        self._cache_key = os.urandom(32)
        self._cache: dict[bytes, tuple[float, Principal]] = {}
        self._cache_lock = threading.Lock()
        # Single-flight PAM checks: credentials digest -> (done, [True] once accepted). Event loop only.
        self._inflight: dict[bytes, tuple[anyio.Event, list[bool]]] = {}

    @property
    def enabled(self) -> bool:
        return self._config.enabled

    async def authenticate(self, authorization: str | None, source: str) -> Principal:
        """Raise AuthFailed, AccessDenied or Throttled; return who is calling. With auth disabled every
        caller is an anonymous admin (the TLS layer is then the only gate)."""
        if not self._config.enabled:
            return Principal("anonymous", Role.ADMIN)
        self._throttle.check(source)
        user, password = _parse_basic(authorization)
        digest = hmac.new(self._cache_key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        cached = self._cached(digest)
        if cached is not None:
            return cached
        ok = await self._check_once(digest, user, password)
        if not ok:
            self._throttle.failed(source)
            raise AuthFailed("Invalid credentials")
        self._throttle.succeeded(source)
        principal = Principal(user, self._role(user))
        if self._config.cache_seconds > 0:
            with self._cache_lock:
                if len(self._cache) > 1000:
                    self._cache.clear()
                self._cache[digest] = (self._clock() + self._config.cache_seconds, principal)
        return principal

    async def _check_once(self, digest: bytes, user: str, password: str) -> bool:
        """Ask PAM, but only once for concurrent requests with the same credentials (a burst of new
        connections from one manager would otherwise queue up one PAM conversation each)."""
        pending = self._inflight.get(digest)
        if pending is not None:
            event, outcome = pending
            await event.wait()
            return bool(outcome)
        event, outcome = anyio.Event(), []
        self._inflight[digest] = (event, outcome)
        try:
            ok = await anyio.to_thread.run_sync(
                self._check, user, password, self._config.service, limiter=self._limiter
            )
            if ok:
                outcome.append(True)
            return ok
        finally:
            del self._inflight[digest]
            event.set()

    def _cached(self, digest: bytes) -> Principal | None:
        with self._cache_lock:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._cache[digest]
                return None
            return entry[1]

    def _role(self, user: str) -> Role:
        admin, readonly = self._config.admin_group, self._config.readonly_group
        if admin is None and readonly is None:
            return Role.ADMIN
        groups = self._groups(user)
        if admin is not None and admin in groups:
            return Role.ADMIN
        if readonly is not None and readonly in groups:
            return Role.READONLY
        raise AccessDenied(f"user {user} is in neither the admin nor the read-only group")


def _parse_basic(header: str | None) -> tuple[str, str]:
    if not header:
        raise AuthFailed("Missing credentials")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise AuthFailed("Missing credentials")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthFailed("Invalid credentials") from exc
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        raise AuthFailed("Invalid credentials")
    return user, password
