"""The server key file: creation, permissions, sealing API secrets and digesting session keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from switchboard.identity.serverkey import KeyFileError, ServerKey, UnsealError


def test_the_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    first = ServerKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    second = ServerKey.load_or_create(path)
    assert path.read_text() == content
    assert first.digest("token") == second.digest("token")
    assert second.unseal(first.seal("s3cret", bound_to="key-1"), bound_to="key-1") == "s3cret"


def test_a_readable_or_malformed_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("00" * 32)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        ServerKey.load_or_create(path)
    path.chmod(0o600)
    path.write_text("not hex")
    with pytest.raises(KeyFileError, match="hex"):
        ServerKey.load_or_create(path)
    path.write_text("00" * 8)
    with pytest.raises(KeyFileError, match="32 bytes"):
        ServerKey.load_or_create(path)


def test_sealed_secrets_open_only_with_the_same_key_and_binding() -> None:
    key = ServerKey(b"\x01" * 32)
    sealed = key.seal("s3cret", bound_to="api-key-A")
    assert b"s3cret" not in sealed
    assert key.seal("s3cret", bound_to="api-key-A") != sealed  # fresh nonce every time
    with pytest.raises(UnsealError):
        key.unseal(sealed, bound_to="api-key-B")  # moved to another user's row
    with pytest.raises(UnsealError):
        ServerKey(b"\x02" * 32).unseal(sealed, bound_to="api-key-A")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(UnsealError):
        key.unseal(tampered, bound_to="api-key-A")


def test_session_digests_depend_on_the_key_and_hide_the_token() -> None:
    one, two = ServerKey(b"\x01" * 32), ServerKey(b"\x02" * 32)
    assert one.digest("tok") == one.digest("tok")
    assert one.digest("tok") != two.digest("tok")
    assert one.digest("tok") != one.digest("tok2")
    assert len(one.digest("tok")) == 64 and "tok" not in one.digest("tok")
