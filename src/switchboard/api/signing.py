"""CloudStack request signing (ApiServer.verifyRequest), reproduced exactly.

1. Every parameter except `signature` (matched case-insensitively), with names as sent.
2. Sorted by name in code-point order (Java's `Collections.sort` on strings).
3. `name=URLEncoder.encode(value, "UTF-8")` with `+` then replaced by `%20`; joined with `&`.
   Java's URLEncoder leaves `A-Z a-z 0-9 . - * _` alone, turns a space into `+` and escapes everything
   else, `~` included (`%7E`).
4. The whole string lower-cased.
5. `Base64(HMAC-SHA1(secret key, that string))`, compared in constant time.

Python clients (`cs`, Marvin) encode with `quote(value, safe="*")`, which leaves `~` alone where Java
escapes it; real CloudStack rejects their requests whenever a value holds a `~`. Switchboard accepts that
spelling as a second canonical form. It is no weaker: only `~` is spelled differently, so each form still
maps distinct requests to distinct strings, and both are covered by the same HMAC.

`signatureversion=3` requests must carry `expires` and are refused once it has passed; when the server
enforces timestamps, version 3 is mandatory and `expires` may be at most 15 minutes ahead.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Mapping
from urllib.parse import quote, quote_plus

from switchboard.api.params import parse_date
from switchboard.errors import AuthenticationFailed

MAX_FUTURE_EXPIRY = dt.timedelta(minutes=15)
_UNRESERVED = re.compile(r"[A-Za-z0-9*\-._]*")


class SignatureRejected(AuthenticationFailed):
    """The request's signature or its validity window is wrong. `reason` is for the log, never the client."""

    def __init__(self, reason: str) -> None:
        super().__init__("unable to verify user credentials and/or request signature")
        self.reason = reason


def _escapes(keep: str) -> dict[int, str]:
    """A `str.translate` table escaping every ASCII character except letters, digits and `keep`; a space
    becomes `%20` (URLEncoder's `+`, which CloudStack then replaces by `%20`)."""
    table: dict[int, str] = {}
    for code in range(128):
        char = chr(code)
        if not (char.isalnum() or char in keep):
            table[code] = "%20" if char == " " else f"%{code:02X}"
    return table


_JAVA_ESCAPES = _escapes("*-._")
_PYTHON_ESCAPES = _escapes("*-._~")


def java_url_encode(value: str) -> str:
    """`URLEncoder.encode(value, "UTF-8")` followed by CloudStack's `+` → `%20`.

    Python's `quote_plus` keeps `A-Za-z0-9_.-~` (plus `safe`); Java keeps `*` but escapes `~`.
    Raises UnicodeEncodeError for strings that are not valid Unicode (lone surrogates)."""
    if _UNRESERVED.fullmatch(value):  # most values (command, apikey, response) need no escaping at all
        return value
    if value.isascii():  # one pass over a precomputed table (`expires`, filters) instead of quote_plus
        return value.translate(_JAVA_ESCAPES)
    return quote_plus(value, safe="*").replace("~", "%7E").replace("+", "%20")


def python_client_encode(value: str) -> str:
    """The encoding of Python CloudStack clients: like `java_url_encode` but `~` stays unescaped."""
    if value.isascii():
        return value.translate(_PYTHON_ESCAPES)
    return quote(value, safe="*")


def string_to_sign(params: Mapping[str, str], encode: Callable[[str], str] = java_url_encode) -> str:
    """The lower-cased, sorted, encoded query that the signature covers."""
    # Names are unique, so sorting the items sorts by name alone.
    return "&".join([f"{name}={encode(value)}" for name, value in sorted(params.items())
                     if name.lower() != "signature"]).lower()


def compute_signature(params: Mapping[str, str], secret_key: str | bytes,
                      encode: Callable[[str], str] = java_url_encode) -> str:
    """Base64(HMAC-SHA1(secret_key, string_to_sign(params))), standard alphabet with padding."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    digest = hmac.new(key, string_to_sign(params, encode).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_signature(params: Mapping[str, str], secret_key: str | bytes, signature: str) -> None:
    """Raise SignatureRejected unless `signature` is the right one for `params` (constant-time compare)."""
    # A client that forgot to URL-encode the signature sends its '+' as a space; Base64 has no spaces.
    given = signature.strip().replace(" ", "+").encode("utf-8", "replace")
    encoders = [java_url_encode]
    if any("~" in value for value in params.values()):
        encoders.append(python_client_encode)
    for encode in encoders:
        try:
            expected = compute_signature(params, secret_key, encode)
        except UnicodeEncodeError:
            raise SignatureRejected("parameters are not valid UTF-8") from None
        if hmac.compare_digest(expected.encode(), given):
            return
    raise SignatureRejected("signature mismatch")


@functools.lru_cache(maxsize=1024)
def _expiry(text: str) -> dt.datetime:
    """`parse_date`, remembered: a client sends the same `expires` with many requests. Raises ValueError
    (not remembered)."""
    return parse_date(text)


def check_validity(
    params: Mapping[str, str], *, now: dt.datetime, enforce_timestamps: bool = False
) -> None:
    """Apply the signature-version rules to `params` (names lower-cased). Raises SignatureRejected."""
    version = params.get("signatureversion")
    if version != "3":
        if enforce_timestamps:
            raise SignatureRejected("signatureversion=3 with expires is required")
        return
    raw_expires = params.get("expires")
    if not raw_expires:
        raise SignatureRejected("signatureversion=3 without expires")
    try:
        expires = _expiry(raw_expires)
    except ValueError:
        raise SignatureRejected(f"unparsable expires {raw_expires!r}") from None
    if expires < now:
        raise SignatureRejected(f"request expired at {raw_expires}")
    if enforce_timestamps and expires > now + MAX_FUTURE_EXPIRY:
        raise SignatureRejected(f"expires {raw_expires} is more than 15 minutes ahead")


class VerifiedRequests:
    """Requests whose signature was verified lately, so that an identical request skips the HMAC work.

    A request is remembered by the secret that verified it and all its parameters exactly as sent (the
    signature included): only a byte-identical repeat made with the same secret hits, and a changed or
    regenerated secret never does. The validity window (`expires`) is not covered: callers check it on
    every request. Bounded to `max_entries`; the oldest tenth is dropped when full. Thread-safe."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._seen: dict[tuple[bytes, tuple[tuple[str, str], ...]], None] = {}
        self._lock = threading.Lock()

    def verify(self, params: Mapping[str, str], secret_key: bytes, signature: str) -> None:
        """`verify_signature`, answered from memory for a request verified before. Raises SignatureRejected."""
        key = (secret_key, tuple(params.items()))
        if key in self._seen:
            return
        verify_signature(params, secret_key, signature)
        with self._lock:
            if len(self._seen) >= self._max:
                for stale in list(self._seen)[: max(1, self._max // 10)]:
                    del self._seen[stale]
            self._seen[key] = None
