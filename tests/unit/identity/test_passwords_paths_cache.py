"""Password hashing, domain path spellings and the API-key cache."""

from __future__ import annotations

import dataclasses

from argon2 import PasswordHasher

from switchboard.caller import Caller
from switchboard.identity import paths
from switchboard.identity.cache import KeyCache, KeyEntry
from switchboard.identity.passwords import hash_password, needs_rehash, verify_password
from switchboard.roles import RoleType


def test_passwords_are_argon2id_and_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert not verify_password(None, "anything")
    assert not verify_password("garbage", "anything")


def test_hashes_made_with_other_parameters_verify_and_ask_for_a_rehash() -> None:
    stronger = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash("pw")
    assert verify_password(stronger, "pw")
    assert needs_rehash(stronger)
    assert not needs_rehash(hash_password("pw"))


def test_domain_paths_round_trip() -> None:
    assert paths.shown("/") == "ROOT"
    assert paths.shown("/a/b/") == "ROOT/a/b"
    for shown in ("ROOT", "ROOT/a", "ROOT/a/b"):
        assert paths.shown(paths.stored(shown)) == shown
    assert paths.stored("/a/b") == "/a/b/" and paths.stored("") == "/" and paths.stored("/") == "/"
    assert paths.child("/a/", "b") == "/a/b/"
    assert paths.in_subtree("/a/b/", "/a/") and not paths.in_subtree("/ab/", "/a/")


def _entry(at: float) -> KeyEntry:
    caller = Caller(user_id=1, user_uuid="u", username="n", account_id=1, account_uuid="a", account_name="n",
                    domain_id=1, domain_uuid="d", domain_path="ROOT", role_id=1, role_uuid="r", role_name="User",
                    role_type=RoleType.USER)
    return KeyEntry(caller=caller, secret_key=b"s", active=True, api_access=True, loaded_at=at)


def test_cache_entries_expire_and_clear() -> None:
    now = [100.0]
    cache = KeyCache(ttl=10, clock=lambda: now[0])
    cache.put("k", _entry(now[0]))
    assert cache.get("k") is not None
    now[0] += 11
    assert cache.get("k") is None
    cache.put("k", _entry(now[0]))
    cache.clear()
    assert cache.get("k") is None


def test_cache_stays_bounded() -> None:
    cache = KeyCache(ttl=60, max_entries=20, clock=lambda: 0.0)
    for index in range(100):
        cache.put(f"k{index}", _entry(0.0))
    assert cache.get("k99") is not None
    assert cache.get("k0") is None


def test_cache_entries_serve_only_the_generation_they_were_loaded_in() -> None:
    cache = KeyCache(ttl=60, clock=lambda: 0.0)
    cache.put("k", dataclasses.replace(_entry(0.0), generation=3))
    assert cache.get("k", 3) is not None
    assert cache.get("k", 2) is None  # a reader that saw an older generation loads afresh
    assert cache.get("k", 4) is None  # credentials changed since: never used again
    assert cache.get("k", 3) is None  # and forgotten once a newer generation was seen
