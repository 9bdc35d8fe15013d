"""Password hashing with argon2id at OWASP's recommended setting: m=19 MiB, t=2, p=1.

argon2-cffi's default (RFC 9106's second choice: m=64 MiB, t=3, p=4) costs several times more CPU per
login; on a small management server shared with extension runs that buys little over OWASP's setting
while letting a burst of logins starve the API. Stored hashes carry their parameters, so hashes made with
other settings keep verifying, and `needs_rehash` tells when one should be upgraded.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so that a missing user costs as much time as a wrong password
    (made on first use: every process importing this module should not pay for it)."""
    return _HASHER.hash("switchboard-no-such-user")


def hash_password(password: str) -> str:
    """The argon2id PHC string for `password` (takes tens of milliseconds on purpose)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches `stored_hash`; a missing or corrupt hash never matches."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
