"""The table-driven encoders and string to sign give exactly what urllib's quoting gives (the reference
implementation of the rules), for any text: ASCII punctuation, `*`, `~`, `+`, spaces, non-ASCII."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.api.signing import java_url_encode, python_client_encode, string_to_sign


def reference_java(value: str) -> str:
    return quote_plus(value, safe="*").replace("~", "%7E").replace("+", "%20")


def reference_python(value: str) -> str:
    return quote(value, safe="*")


def reference_string_to_sign(params: Mapping[str, str], encode: Callable[[str], str]) -> str:
    items = sorted((name, value) for name, value in params.items() if name.lower() != "signature")
    return "&".join(f"{name}={encode(value)}" for name, value in items).lower()


# Valid Unicode text (no lone surrogates), biased towards the characters the encodings treat specially.
TEXT = st.text(st.one_of(st.sampled_from(list("*~+ -._%&=/:?'!()éü€\t")), st.characters(exclude_categories=["Cs"])))


@settings(max_examples=400)
@given(TEXT)
def test_encoders_match_urllib(value: str) -> None:
    assert java_url_encode(value) == reference_java(value)
    assert python_client_encode(value) == reference_python(value)


@settings(max_examples=200)
@given(st.dictionaries(st.one_of(st.sampled_from(["signature", "Signature", "command", "apiKey"]), TEXT), TEXT))
def test_string_to_sign_matches_the_reference(params: dict[str, str]) -> None:
    assert string_to_sign(params) == reference_string_to_sign(params, reference_java)
    assert string_to_sign(params, python_client_encode) == reference_string_to_sign(params, reference_python)


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb"])
def test_lone_surrogates_still_raise(value: str) -> None:
    with pytest.raises(UnicodeEncodeError):
        java_url_encode(value)
    with pytest.raises(UnicodeEncodeError):
        python_client_encode(value)
