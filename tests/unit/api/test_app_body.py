"""The API's JSON writer answers the bytes json.dumps(separators=(",", ":"), ensure_ascii=False) wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.api.app import _body
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
