"""Password hashing with argon2id (argon2-cffi's defaults: t=3, m=64 MiB, p=4)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Verified when the user does not exist, so that a missing user costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash("switchboard-no-such-user")


def hash_password(password: str) -> str:
    """The argon2id PHC string for `password` (takes tens of milliseconds on purpose)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches `stored_hash`; a missing or corrupt hash never matches."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
