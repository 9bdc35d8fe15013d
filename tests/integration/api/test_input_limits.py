"""Requests outside what the API accepts get CloudStack's error envelope, never a traceback, a text/plain
answer or a cut connection: dates and numbers out of range, malformed or oversized form bodies, too many
parameters, an over-long query string. Size limits are checked before any authentication work."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cs import CloudStack

from tests.support.fixtures import signed_get, signed_params
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _envelope(reply: httpx.Response, status: int, name: str = "error") -> dict[str, Any]:
    assert reply.status_code == status, reply.text[:500]
    assert reply.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = reply.json()[f"{name.lower()}response"]
    assert body["errorcode"] == status and body["uuidList"] == []
    return body


def _tracebacks(server: ServerProcess) -> int:
    return server.log().count("Traceback")


def test_dates_out_of_range_are_parameter_errors(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    tracebacks = _tracebacks(api_server)
    reply = signed_get(api_server, {"command": "listEvents", "startdate": "0001-01-01T00:00:00+14:00"}, admin_keys)
    assert "out of range" in _envelope(reply, 431, "listEvents")["errortext"]
    # an `expires` that cannot be placed in time is an unverifiable request, as in CloudStack
    expired = signed_get(api_server, {"command": "listZones", "signatureversion": "3",
                                      "expires": "0001-01-01T00:00:00+14:00"}, admin_keys)
    _envelope(expired, 401, "listZones")
    assert _tracebacks(api_server) == tracebacks


def test_a_number_the_database_cannot_hold_is_a_parameter_error(api_server: ServerProcess,
                                                                 admin_cs: CloudStack) -> None:
    tracebacks = _tracebacks(api_server)
    params = {"command": "createServiceOffering", "name": "sbt-huge", "displaytext": "huge", "cpunumber": "1",
              "cpuspeed": "1000", "memory": "512", "rootdisksize": str(2**63 - 1)}
    reply = signed_get(api_server, params, {"apikey": admin_cs.key, "secretkey": admin_cs.secret})
    if (api_server.database_url or "").startswith("postgresql"):  # a 32-bit column there
        assert "out of the range the server can store" in _envelope(reply, 431, "createServiceOffering")["errortext"]
    else:  # SQLite stores 64 bits
        assert reply.status_code == 200, reply.text
    assert _tracebacks(api_server) == tracebacks


def test_malformed_and_oversized_form_bodies(api_server: ServerProcess, admin_keys: dict[str, str]) -> None:
    tracebacks = _tracebacks(api_server)
    url = api_server.url
    no_boundary = httpx.post(url, content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert "Missing boundary" in _envelope(no_boundary, 431)["errortext"]
    fields = {f"f{i}": "v" for i in range(1001)}
    too_many = httpx.post(url, data={"command": "listZones", **fields})
    _envelope(too_many, 413)
    big_field = httpx.post(url, data={"command": "listZones", "name": "x" * (1024 * 1024 + 1)})
    _envelope(big_field, 413)
    big_part = httpx.post(url, files={"userdata": (None, "y" * (1024 * 1024 + 1))}, data={"command": "listZones"})
    _envelope(big_part, 413)
    # a body that is too large as a whole is refused before it is read, even when correctly signed
    signed = signed_params({"command": "listZones", "response": "json"}, admin_keys)
    huge = httpx.post(url, params=signed, content=b"a=" + b"b" * (9 * 1024 * 1024),
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert "larger than" in _envelope(huge, 413, "listZones")["errortext"]
    assert _tracebacks(api_server) == tracebacks


def test_long_queries_are_refused_before_authentication(api_server: ServerProcess,
                                                        admin_keys: dict[str, str]) -> None:
    tracebacks = _tracebacks(api_server)
    before = api_server.log().count("API request refused")
    long_query = signed_params({"command": "listZones", "response": "json", "keyword": "k" * 200_000}, admin_keys)
    # (httpx refuses to send such a URL: the standard library's client does)
    connection = http.client.HTTPConnection("127.0.0.1", api_server.port, timeout=30)
    try:
        connection.request("GET", f"/client/api?{urlencode(long_query)}")
        answer = connection.getresponse()
        status, content_type, body = answer.status, answer.getheader("content-type", ""), json.loads(answer.read())
    finally:
        connection.close()
    assert status == 414 and content_type.startswith("application/json")
    assert "longer than 65536 bytes" in body["listzonesresponse"]["errortext"]
    many = httpx.get(api_server.url, params={"command": "listZones", **{f"p{i}": "1" for i in range(1001)}})
    _envelope(many, 413, "listZones")
    assert api_server.log().count("API request refused") == before  # no signature or session was looked at
    # the server still answers normally
    assert signed_get(api_server, {"command": "listZones"}, admin_keys).status_code == 200
    assert _tracebacks(api_server) == tracebacks
