"""Size limits of API requests, applied before any authentication or command work, answered in CloudStack's
error envelope.

| what | limit | answer |
|---|---|---|
| query string (GET or POST) | 64 KiB | 414 |
| parameters (query and form together) | 1000 | 413 |
| request body (POST) | 8 MiB | 413 (before reading, when Content-Length says so) |
| one form field or multipart part | 1 MiB (CloudStack's POST user data limit) | 413 |
| malformed form data (multipart without boundary, broken parts) | - | 431 |

The HTTP server itself cuts off a request line or header block over `MAX_HEAD_BYTES` (it then answers a
plain 400 and closes the connection): large requests belong in a POST body.
"""

from __future__ import annotations

import re

from switchboard.api.dispatcher import Reply
from switchboard.api.errors import WireError
from switchboard.api.responses import envelope

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FIELDS",
    "MAX_FIELD_BYTES",
    "MAX_HEAD_BYTES",
    "MAX_QUERY_BYTES",
    "RequestTooLarge",
    "error_reply",
    "response_name",
]

MAX_QUERY_BYTES = 64 * 1024
MAX_FIELDS = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_FIELD_BYTES = 1024 * 1024
MAX_HEAD_BYTES = 1024 * 1024  # uvicorn's h11_max_incomplete_event_size: beyond it, the HTTP server's own 400

_COMMAND = re.compile(rb"(?:^|&)command=([A-Za-z0-9]{1,100})(?:&|$)")


class RequestTooLarge(Exception):
    """A request beyond a limit above; `status` is 413 or 414."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def response_name(query_string: bytes) -> str:
    """The command named by a query string (for the envelope's name), without parsing all of it."""
    match = _COMMAND.search(query_string)
    return match.group(1).decode("ascii") if match else "error"


def error_reply(name: str, status: int, text: str) -> Reply:
    """CloudStack's error envelope with `status` as HTTP status and errorcode."""
    return Reply(status, envelope(name, WireError(status, 4350 if status == 431 else 9999, text).body()), {})


def check_query(query_string: bytes) -> None:
    """Raise RequestTooLarge for a query string over the limits (length, number of parameters)."""
    if len(query_string) > MAX_QUERY_BYTES:
        raise RequestTooLarge(414, f"The request URI is longer than {MAX_QUERY_BYTES} bytes; send long requests "
                                   "as POST form data")
    if query_string.count(b"&") >= MAX_FIELDS:
        raise too_many_fields()


def too_many_fields() -> RequestTooLarge:
    return RequestTooLarge(413, f"The request has more than {MAX_FIELDS} parameters")
