"""API key pairs: generation, sealing into the user row, and revealing them to their owner."""

from __future__ import annotations

import secrets

from switchboard.db.models.identity import User
from switchboard.identity.records import KeyPair
from switchboard.identity.serverkey import ServerKey


def new_key_pair() -> KeyPair:
    """Two independent 86-character URL-safe random strings (512 bits each), like CloudStack's."""
    return KeyPair(api_key=secrets.token_urlsafe(64), secret_key=secrets.token_urlsafe(64))


def assign(user: User, server_key: ServerKey) -> KeyPair:
    """Give `user` a fresh pair (replacing any old one); the secret is stored sealed to the API key."""
    pair = new_key_pair()
    user.api_key = pair.api_key
    user.secret_key_sealed = server_key.seal(pair.secret_key, bound_to=pair.api_key)
    return pair


def reveal(user: User, server_key: ServerKey) -> KeyPair | None:
    """The user's pair in the clear, or None when it has none. Raises UnsealError on a foreign key file."""
    if user.api_key is None or user.secret_key_sealed is None:
        return None
    return KeyPair(user.api_key, server_key.unseal(user.secret_key_sealed, bound_to=user.api_key))
