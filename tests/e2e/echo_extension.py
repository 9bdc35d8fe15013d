#!/usr/bin/env python3
"""A stand-in extension executable for the browser tests: runs pretend instances (their power state kept in
a file each) and answers every custom action with a table of the parameters it received and their JSON
types, so a test sees what the UI sent as the extension sees it. The snapshot actions of CloudStack's
built-in extensions (ListSnapshots, CreateSnapshot, RestoreSnapshot, DeleteSnapshot, with `snapshot_name`)
keep a list per instance, as a hypervisor would.

Called as  echo_extension.py <action> <payload.json> <timeout>  (the CloudStack extension contract).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE = Path(os.environ.get("HOME") or "/tmp") / ".echo-state"
LIFECYCLE = {"create": "poweron", "start": "poweron", "reboot": "poweron", "stop": "poweroff"}


def reply(obj: dict[str, Any], code: int = 0) -> int:
    print(json.dumps(obj))
    return code


def name_of(payload: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(payload.get("virtualmachinename") or "unknown"))


def power(name: str) -> str:
    try:
        return (STATE / name).read_text().strip()
    except OSError:
        return "poweroff"


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else type(value).__name__


def snapshots(name: str, action: str, parameters: dict[str, Any]) -> int:
    """The snapshot actions, on a JSON list of rows kept per instance (ListSnapshots prints it as a table)."""
    store = STATE / f"{name}.snapshots"
    rows: list[dict[str, Any]] = json.loads(store.read_text()) if store.is_file() else []
    wanted = str(parameters.get("snapshot_name") or "")
    found = next((row for row in rows if row["name"] == wanted), None)
    if action == "ListSnapshots":
        return reply({"status": "success", "printmessage": "true", "message": rows})
    if action == "CreateSnapshot":
        if not wanted or found is not None:
            return reply({"error": f"snapshot {wanted!r} cannot be taken"}, 1)
        current = next((row["name"] for row in rows if row.get("current")), "")
        for row in rows:
            row["current"] = False
        rows.append({"name": wanted, "snaptime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "description": str(parameters.get("description") or ""), "parent": current, "vmstate": "no",
                     "current": True})
    elif found is None:
        return reply({"error": f"no snapshot {wanted!r}"}, 1)
    elif action == "RestoreSnapshot":
        for row in rows:
            row["current"] = row is found
    else:  # DeleteSnapshot
        rows.remove(found)
    STATE.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(rows))
    return reply({"status": "success", "message": f"{action} {wanted} done"})


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        return reply({"error": "Missing required arguments"}, 1)
    action = argv[1]
    try:
        payload = json.loads(Path(argv[2]).read_text())
    except (OSError, ValueError) as exc:
        return reply({"error": f"bad payload: {exc}"}, 1)
    name = name_of(payload)
    if action == "prepare":
        return reply({"status": "success"})
    if action in LIFECYCLE:
        STATE.mkdir(parents=True, exist_ok=True)
        (STATE / name).write_text(LIFECYCLE[action])
        return reply({"status": "success", "message": f"{action} done"})
    if action == "delete":
        (STATE / name).unlink(missing_ok=True)
        (STATE / f"{name}.snapshots").unlink(missing_ok=True)
        return reply({"status": "success"})
    if action == "status":
        return reply({"status": "success", "power_state": power(name)})
    if action == "statuses":
        states = {entry.name: power(entry.name) for entry in STATE.iterdir()
                  if not entry.name.endswith(".snapshots")} if STATE.is_dir() else {}
        return reply({"status": "success", "power_state": states})
    parameters = payload.get("parameters") or {}
    if action in ("ListSnapshots", "CreateSnapshot", "RestoreSnapshot", "DeleteSnapshot"):
        return snapshots(name, action, parameters)
    if parameters.get("fail") is True:
        return reply({"error": "asked to fail"}, 3)
    rows = [{"parameter": key, "value": value if not isinstance(value, bool) else str(value).lower(),
             "type": json_type(value)} for key, value in sorted(parameters.items())]
    return reply({"status": "success", "printmessage": "true", "message": rows})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
