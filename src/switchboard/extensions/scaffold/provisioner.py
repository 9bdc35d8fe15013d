#!/usr/bin/env python3
"""Switchboard extension scaffold (Python, standard library only).

Called as:  <this file> <action> <payload.json> <timeout-seconds>
Success is the exit code alone (0); print one JSON object on stdout.

This example keeps a tiny power-state record per instance in $HOME/.provisioner-state (HOME is the
extension's directory under Switchboard) so that `status` and `statuses` tell the truth after stop/start.
Replace the bodies of the action functions with calls to the system you orchestrate; keep secrets from the
payload (passwords, tokens, the VNC password) out of what you print.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

STATE_DIR = Path(os.environ.get("HOME") or "/tmp") / ".provisioner-state"


def reply(obj: dict[str, Any], code: int = 0) -> int:
    print(json.dumps(obj))
    return code


def vm_name(payload: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(payload.get("virtualmachinename") or ""))


def record_state(payload: dict[str, Any], state: str | None) -> None:
    """Remember the power state of the instance (None: forget it). Best effort."""
    name = vm_name(payload)
    if not name:
        return
    try:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        if state is None:
            (STATE_DIR / name).unlink(missing_ok=True)
            if not any(STATE_DIR.iterdir()):
                STATE_DIR.rmdir()
        else:
            (STATE_DIR / name).write_text(state)
    except OSError:
        pass


def read_state(name: str) -> str:
    try:
        return (STATE_DIR / name).read_text().strip() or "poweron"
    except OSError:
        return "poweron"


def prepare(payload: dict[str, Any]) -> int:
    """Give every NIC a MAC: a merge patch on the instance's description, NICs matched by network "uuid"."""
    nics = (payload.get("cloudstack.vm.details") or {}).get("nics") or []
    patch = [
        {"uuid": nic["uuid"], "mac": "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))}
        for nic in nics
        if isinstance(nic, dict) and nic.get("uuid")
    ]
    if patch:
        print(json.dumps({"nics": patch}))
    return 0


def statuses(_payload: dict[str, Any]) -> int:
    """Every instance this host knows, by name. Here: the ones recorded by this script."""
    states = {}
    if STATE_DIR.is_dir():
        states = {entry.name: read_state(entry.name) for entry in STATE_DIR.iterdir() if entry.is_file()}
    return reply({"status": "success", "power_state": states})


def lifecycle(state: str | None, message: str) -> Callable[[dict[str, Any]], int]:
    def run(payload: dict[str, Any]) -> int:
        record_state(payload, state)
        return reply({"status": "success", "message": message})

    return run


ACTIONS: dict[str, Callable[[dict[str, Any]], int]] = {
    "prepare": prepare,
    "create": lifecycle("poweron", "Instance created"),
    "start": lifecycle("poweron", "Instance started"),
    "stop": lifecycle("poweroff", "Instance stopped"),
    "reboot": lifecycle("poweron", "Instance rebooted"),
    "delete": lifecycle(None, "Instance deleted"),
    "status": lambda payload: reply({"status": "success", "power_state": read_state(vm_name(payload))}),
    "statuses": statuses,
    "getconsole": lambda _p: reply({"status": "error", "error": "Console access is not supported"}, 1),
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
        return reply({"error": "Invalid action"}, 1)
    return handler(payload)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
