"""The lean endpoint's readers and writers: the same query parameters as parse_qsl, the same JSON bytes as
json.dumps(separators=(",", ":"), ensure_ascii=False)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.api.app import _body, query_pairs
from switchboard.api.dispatcher import Reply


def reference(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("body", [
    {"listzonesresponse": {}},
    {"listzonesresponse": {"count": 1, "zone": [{"id": "a", "name": "Zürich ☃ \u2028", "tags": [],
                                                  "securitygroupsenabled": False, "memory": 512,
                                                  "cpuused": "12.5%", "ratio": 0.25, "none": None}]}},
    {"x": {"text": "quote \" backslash \\ newline \n tab \t control \x01 slash /"}},
    {"x": {1: "int keys become strings", "nested": [[1, 2], {"y": True}]}},
    {"x": {"big": 2**70, "negative": -(2**65)}},  # beyond orjson's 64 bits: written by json.dumps
])
def test_body_matches_json_dumps(body: dict[str, Any]) -> None:
    assert _body(Reply(200, body, {})) == reference(body)


@given(st.binary(max_size=80) | st.lists(st.sampled_from(
    [b"a", b"=", b"&", b"+", b"%", b"%2", b"%2B", b"%41", b"%e2%98%83", b"%ff", b"%zz", b"\xc3\xa9", b" "]),
    max_size=20).map(b"".join))
def test_query_pairs_read_as_parse_qsl_does(query: bytes) -> None:
    assert query_pairs(query) == dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
