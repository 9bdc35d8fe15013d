#!/usr/bin/env python3
"""The demo cloud's extension: pretends to run instances, so a newcomer can try Switchboard at once.

Called as:  demo.py <action> <payload.json> <timeout-seconds>   (the CloudStack extension contract)
Success is the exit code alone (0); one JSON object is printed on stdout.

Nothing real is started. The power state of each instance is kept in a small file per instance under
$HOME/.demo-state (HOME is the extension's directory under Switchboard), so `status` and `statuses` tell the
truth after a stop or start. The custom action `Hello` answers with a table (`printmessage` "true", a list of
objects as `message`), which the web UI shows as a table. Standard library only; imports nothing from
Switchboard, so it runs unchanged under Apache CloudStack.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_DIR = Path(os.environ.get("HOME") or "/tmp") / ".demo-state"

Handler = Callable[[dict[str, Any]], int]


def reply(obj: dict[str, Any], code: int = 0) -> int:
    print(json.dumps(obj))
    return code


def vm_name(payload: dict[str, Any]) -> str:
    """The instance's internal name, reduced to characters that are safe in a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(payload.get("virtualmachinename") or ""))


def record_state(payload: dict[str, Any], state: str | None) -> None:
    """Remember the power state of the instance (None: forget it). Best effort: a demo must not fail here."""
    name = vm_name(payload)
    if not name:
        return
    try:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        if state is None:
            (STATE_DIR / name).unlink(missing_ok=True)
        else:
            temporary = STATE_DIR / f".{name}.tmp"
            temporary.write_text(state)
            os.replace(temporary, STATE_DIR / name)
    except OSError:
        pass


def read_state(name: str) -> str:
    try:
        return (STATE_DIR / name).read_text().strip() or "poweron"
    except OSError:
        return "poweroff"


def prepare(payload: dict[str, Any]) -> int:
    """Give every NIC a MAC address (a merge patch matched by the network's uuid)."""
    nics = (payload.get("cloudstack.vm.details") or {}).get("nics") or []
    patch = [
        {"uuid": nic["uuid"], "mac": "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))}
        for nic in nics
        if isinstance(nic, dict) and nic.get("uuid") and not nic.get("mac")
    ]
    return reply({"nics": patch} if patch else {"status": "success"})


def statuses(_payload: dict[str, Any]) -> int:
    states: dict[str, str] = {}
    if STATE_DIR.is_dir():
        states = {entry.name: read_state(entry.name) for entry in STATE_DIR.iterdir()
                  if entry.is_file() and not entry.name.startswith(".")}
    return reply({"status": "success", "power_state": states})


def hello(payload: dict[str, Any]) -> int:
    """The demo custom action: greets `name`, optionally loudly, and shows a small table."""
    parameters = payload.get("parameters") or {}
    greeting = f"Hello, {parameters.get('name') or 'world'}!"
    if parameters.get("shout") is True:
        greeting = greeting.upper()
    details = payload.get("cloudstack.vm.details") or {}
    rows = [
        {"greeting": greeting, "instance": str(details.get("name") or vm_name(payload)),
         "power": read_state(vm_name(payload)), "mood": str(parameters.get("mood") or "calm"),
         "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
    ]
    return reply({"status": "success", "printmessage": "true", "message": rows})


def lifecycle(state: str | None, message: str) -> Handler:
    def run(payload: dict[str, Any]) -> int:
        record_state(payload, state)
        return reply({"status": "success", "message": message})

    return run


ACTIONS: dict[str, Handler] = {
    "prepare": prepare,
    "create": lifecycle("poweron", "Instance created"),
    "start": lifecycle("poweron", "Instance started"),
    "stop": lifecycle("poweroff", "Instance stopped"),
    "reboot": lifecycle("poweron", "Instance rebooted"),
    "delete": lifecycle(None, "Instance deleted"),
    "status": lambda payload: reply({"status": "success", "power_state": read_state(vm_name(payload))}),
    "statuses": statuses,
    "Hello": hello,
    "getconsole": lambda _p: reply({"status": "error", "error": "The demo has no console"}, 1),
}


def main(argv: list[str]) -> int:
    if len(argv) < 4 or not all(argv[1:4]):
        return reply({"error": "Missing required arguments"}, 1)
    action, payload_file = argv[1], argv[2]
    try:
        with open(payload_file, encoding="utf-8") as handle:
            payload = json.load(handle)
    except OSError:
        return reply({"error": "File not found or unreadable"}, 1)
    except ValueError:
        return reply({"error": "Payload is not valid JSON"}, 1)
    handler = ACTIONS.get(action)
    if handler is None:
        return reply({"error": f"Invalid action: {action}"}, 1)
    return handler(payload if isinstance(payload, dict) else {})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
