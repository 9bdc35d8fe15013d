"""Reading a `getconsole` answer (protocol notes §2.8), as CloudStack's ExternalPathPayloadProvisioner reads
it. A pure function.

Success output is JSON with a `console` object: `{"host": …, "port": "5901", "password": …,
"passwordonetimeuseonly": true, "protocol": "vnc"}` (the console proxy connects to host:port), or
`{"url": "https://…", "protocol": "direct"}` (the caller is sent to that URL as it is). `url` (direct), or
both `host` and `port` (any other protocol), are required; `port` must be a whole number. A failed run, or
output that does not have that shape, means no console, with CloudStack's words for why.

The answer holds a password: nothing here logs it, and `ConsoleOffer`'s repr hides it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConsoleOffer", "NoConsole", "parse_console"]


@dataclass(frozen=True)
class ConsoleOffer:
    """A console the extension offers. `direct`: the caller goes to `url` itself; otherwise the server
    proxies to the VNC server at `host`:`port` (with `password`, when there is one)."""

    protocol: str
    host: str | None = None
    port: int | None = None
    url: str | None = None
    password: str | None = field(default=None, repr=False)
    password_one_time: bool = False

    @property
    def direct(self) -> bool:
        return self.protocol.lower() == "direct"


class NoConsole(ValueError):
    """The extension gave no usable console; the message says why (CloudStack's texts)."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)


def _failure(output: str) -> str | None:
    """What a failed run said: its JSON `error` (or `message`), as extensions print failures."""
    try:
        answer = json.loads(output)
    except ValueError:
        return None
    said = answer.get("error") or answer.get("message") if isinstance(answer, dict) else None
    return said if isinstance(said, str) and said.strip() else None


def parse_console(success: bool, output: str, details: str) -> ConsoleOffer:
    """The console of a `getconsole` run (`success`: exit code 0; `output`: its trimmed output; `details`:
    the run's failure text). Raises NoConsole when there is none."""
    if not success:
        raise NoConsole(_failure(output) or details or "No response from external system")
    try:
        answer = json.loads(output)
    except ValueError:
        raise NoConsole("Failed to parse output") from None
    console = answer.get("console") if isinstance(answer, dict) else None
    if not isinstance(console, dict):
        raise NoConsole("Missing console object in output")
    url, host, port_text = _text(console.get("url")), _text(console.get("host")), _text(console.get("port"))
    try:
        port = int(port_text) if port_text is not None else None
    except ValueError:
        raise NoConsole("Failed to parse output") from None
    if url is None and (host is None or port is None):
        raise NoConsole("Missing required fields in output")
    if port is not None and not 0 < port < 65536:
        raise NoConsole("Failed to parse output")
    protocol = _text(console.get("protocol")) or "vnc"
    # CloudStack's console proxy mode (anything but "direct") needs the address even when a url is given.
    if protocol.lower() != "direct" and (host is None or port is None):
        raise NoConsole("Missing required fields in output")
    one_time = console.get("passwordonetimeuseonly")
    return ConsoleOffer(
        protocol=protocol, host=host, port=port, url=url,
        password=_text(console.get("password")) or None,
        password_one_time=one_time is True or (isinstance(one_time, str) and one_time.lower() == "true"),
    )
