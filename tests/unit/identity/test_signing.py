"""The §7.1 signing rules against vectors written out by hand from the rules (not from the code)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest

from switchboard.api.signing import (
    SignatureRejected,
    check_validity,
    compute_signature,
    java_url_encode,
    string_to_sign,
    verify_signature,
)

NOW = dt.datetime(2025, 8, 22, 12, 0, 0, tzinfo=dt.UTC)


def _rejects(reason: str, params: dict[str, str], **kwargs: Any) -> None:
    with pytest.raises(SignatureRejected) as failure:
        check_validity(params, **kwargs)
    assert reason in failure.value.reason
    assert "expire" not in str(failure.value)  # the client never learns why


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("abcXYZ019", "abcXYZ019"),
        ("*-._", "*-._"),  # Java's URLEncoder leaves these alone
        ("a b", "a%20b"),  # space → + → %20
        ("a+b", "a%2Bb"),  # a literal plus is escaped, not turned into a space
        ("~", "%7E"),  # Java escapes the tilde (Python's quote would not)
        ("a/b:c?d&e=f", "a%2Fb%3Ac%3Fd%26e%3Df"),
        ("é", "%C3%A9"),  # UTF-8 bytes
        ("%", "%25"),
        ("'!()", "%27%21%28%29"),
    ],
)
def test_values_are_encoded_like_javas_urlencoder(value: str, encoded: str) -> None:
    assert java_url_encode(value) == encoded


def test_string_to_sign_sorts_by_name_as_sent_excludes_signature_and_lower_cases() -> None:
    params = {
        "response": "json",
        "command": "listZones",
        "apiKey": "ABC",
        "name": "a b+c~d*e-f.g_h",
        "signature": "ignored",
        "Signature": "ignored too",
    }
    assert string_to_sign(params) == "apikey=abc&command=listzones&name=a%20b%2bc%7ed*e-f.g_h&response=json"


def test_names_sort_in_code_point_order_before_lower_casing() -> None:
    # "B" (0x42) sorts before "_" (0x5F) and "_" before "b" (0x62): case as sent decides the order.
    assert string_to_sign({"a_x": "1", "aB": "2"}) == "ab=2&a_x=1"
    assert string_to_sign({"a_x": "1", "ab": "2"}) == "a_x=1&ab=2"


def test_signature_is_base64_hmac_sha1_of_that_string() -> None:
    params = {"response": "json", "command": "listZones", "apiKey": "ABC", "name": "a b+c~d*e-f.g_h"}
    # HMAC-SHA1("secret", "apikey=abc&command=listzones&name=a%20b%2bc%7ed*e-f.g_h&response=json"), Base64
    assert compute_signature(params, "secret") == "gqemB7hwyTHcf56krJqPB2OmyW4="
    verify_signature(params, "secret", "gqemB7hwyTHcf56krJqPB2OmyW4=")


def test_a_signature_whose_plus_arrived_as_a_space_still_matches() -> None:
    params = {"command": "listZones", "apiKey": "ABC", "n": "1"}
    for secret in (f"secret{i}" for i in range(50)):
        good = compute_signature(params, secret)
        if "+" in good:
            verify_signature(params, secret, good.replace("+", " "))
            return
    raise AssertionError("no signature with a '+' among 50 secrets")


def test_a_different_secret_or_value_fails() -> None:
    params = {"command": "listZones", "apiKey": "ABC"}
    good = compute_signature(params, "secret")
    with pytest.raises(SignatureRejected):
        verify_signature(params, "other", good)
    with pytest.raises(SignatureRejected):
        verify_signature({**params, "command": "listHosts"}, "secret", good)


def test_python_clients_unescaped_tilde_is_accepted_as_well() -> None:
    params = {"command": "listZones", "apiKey": "ABC", "name": "x~y"}
    python_style = base64.b64encode(
        hmac.new(b"secret", b"apikey=abc&command=listzones&name=x~y", hashlib.sha1).digest()
    ).decode()
    verify_signature(params, "secret", python_style)
    verify_signature(params, "secret", compute_signature(params, "secret"))


def test_version_3_needs_a_future_expires() -> None:
    check_validity({"signatureversion": "3", "expires": "2025-08-22T12:05:00+0000"}, now=NOW)
    check_validity({"signatureversion": "3", "expires": "2025-08-22T12:05:00.123+0000"}, now=NOW)
    check_validity({"signatureversion": "3", "expires": "2025-08-22T12:05:00Z"}, now=NOW)
    _rejects("expired", {"signatureversion": "3", "expires": "2025-08-22T11:59:59+0000"}, now=NOW)
    _rejects("without expires", {"signatureversion": "3"}, now=NOW)
    _rejects("unparsable", {"signatureversion": "3", "expires": "tomorrow"}, now=NOW)


def test_far_future_expiry_is_refused_only_when_timestamps_are_enforced() -> None:
    far = {"signatureversion": "3", "expires": "2025-08-22T12:16:00+0000"}
    check_validity(far, now=NOW)
    _rejects("15 minutes", far, now=NOW, enforce_timestamps=True)
    check_validity({"signatureversion": "3", "expires": "2025-08-22T12:14:00+0000"}, now=NOW,
                   enforce_timestamps=True)


def test_enforced_timestamps_make_version_3_mandatory() -> None:
    check_validity({}, now=NOW)
    _rejects("signatureversion=3", {}, now=NOW, enforce_timestamps=True)
