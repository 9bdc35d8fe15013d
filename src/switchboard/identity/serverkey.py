"""The server's own secret, kept in `Settings.server_key_file` (mode 0600), and what is derived from it.

Two independent sub-keys are derived with HKDF-SHA256 so that one purpose can never stand in for another:
* a 256-bit AES-GCM key that seals API secret keys in the database;
* an HMAC-SHA256 key that turns login session keys into the digests the database stores.
Whoever holds the database but not this file can neither read API secrets nor recognise session keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from switchboard.errors import OperationFailed

_KEY_BYTES = 32
_NONCE_BYTES = 12


class KeyFileError(OperationFailed):
    """The key file is missing where it must exist, unreadable, too open, or malformed."""


class UnsealError(OperationFailed):
    """A sealed value does not open with this server's key (other key file, or tampered data)."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=purpose).derive(master)


class ServerKey:
    """Seals secrets and digests session keys with sub-keys of the server's master key."""

    def __init__(self, master: bytes) -> None:
        if len(master) < _KEY_BYTES:
            raise KeyFileError("the server key must be at least 32 bytes")
        self._aead = AESGCM(_derive(master, b"switchboard api-secret sealing v1"))
        self._digest_key = _derive(master, b"switchboard session digest v1")

    @classmethod
    def load_or_create(cls, path: Path) -> ServerKey:
        """Read the key file, creating it (0600, 32 random bytes, hex) when it does not exist yet.

        Raises KeyFileError if the file exists but is malformed or readable by group/others."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(_KEY_BYTES) + "\n")
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyFileError(f"{path} is accessible by group or others (mode {mode:o}); chmod 600 it")
        try:
            master = bytes.fromhex(path.read_text().strip())
        except ValueError as exc:
            raise KeyFileError(f"{path} does not hold a hex-encoded key") from exc
        return cls(master)

    def seal(self, plaintext: str, *, bound_to: str) -> bytes:
        """Encrypt `plaintext`; `bound_to` (e.g. the API key) must be given again to open it."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())

    def unseal(self, sealed: bytes, *, bound_to: str) -> str:
        """Open a value from `seal`. Raises UnsealError when the key or the binding does not match."""
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], bound_to.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise UnsealError("a sealed secret does not open with this server's key file") from exc

    def digest(self, token: str) -> str:
        """The hex HMAC-SHA256 of `token`, as stored for session keys."""
        return hmac.new(self._digest_key, token.encode(), hashlib.sha256).hexdigest()
