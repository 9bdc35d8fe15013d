"""A recording extension that keeps a backend of its own, and the checks that compare it with the database.

The extension (`RECORDING`, Python) keeps its "machines" in `machines.json` beside it (instance name →
"on" | "off"; a name is there from a successful `create` until `delete`), changed under a lock, and logs
every lifecycle run as two lines of `calls.jsonl` - `begin` and `end`, with the pid and the time - so that
overlapping runs on one instance can be found afterwards. Each action takes a random time in
`config.json`'s `delay` range ([min, max] seconds); `reboot` powers the machine off for at least
`reboot_off` seconds (and while a file `hold` exists beside it) before it powers it on again (as MAAS
does). `status` answers from the machines (an unknown name is an error, hence PowerUnknown), `statuses`
names every machine it has; both are logged with their time in `asked.jsonl`.

`consistency(...)` lists what disagrees: an instance whose state does not match its machine, a machine
without a live row, an instance left in a transitional state, runs on one instance that overlapped, and
runs that began but never ended.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance

RECORDING = r'''#!/usr/bin/env python3
import fcntl, json, os, random, sys, time
here = os.path.dirname(os.path.abspath(__file__))
action, path = sys.argv[1], sys.argv[2]
with open(path) as handle:
    payload = json.load(handle)
vm = payload.get("virtualmachinename")

def load(name, default):
    try:
        with open(os.path.join(here, name)) as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return default

def machines(change=None):
    with open(os.path.join(here, "machines.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = load("machines.json", {})
        if change is not None:
            change(known)
            with open(os.path.join(here, ".machines.tmp"), "w") as handle:
                json.dump(known, handle)
            os.replace(os.path.join(here, ".machines.tmp"), os.path.join(here, "machines.json"))
        return known

def log(event):
    line = json.dumps({"event": event, "action": action, "vm": vm, "pid": os.getpid(), "t": time.time()})
    with open(os.path.join(here, "calls.jsonl"), "a") as handle:
        handle.write(line + "\n")

def power(known, name):
    return "poweron" if known.get(name) == "on" else "poweroff"

if action in ("status", "statuses"):
    with open(os.path.join(here, "asked.jsonl"), "a") as handle:
        handle.write(json.dumps({"action": action, "vm": vm, "t": time.time()}) + "\n")
if action == "statuses":
    known = machines()
    print(json.dumps({"status": "success", "power_state": {name: power(known, name) for name in known}}))
    sys.exit(0)
if action == "status":
    known = machines()
    if vm not in known:
        print(json.dumps({"status": "error", "error": "no such machine"}))
        sys.exit(1)
    print(json.dumps({"status": "success", "power_state": power(known, vm)}))
    sys.exit(0)

config = load("config.json", {})
low, high = config.get("delay", [0.1, 0.4])
log("begin")
time.sleep(random.uniform(low, high))

def put(state):
    def change(known):
        known[vm] = state
    machines(change)

if action in ("create", "start"):
    put("on")
elif action == "stop":
    put("off")
elif action == "reboot":
    put("off")
    time.sleep(config.get("reboot_off", 0))
    while os.path.exists(os.path.join(here, "hold")):  # a test decides how long the machine stays off
        time.sleep(0.05)
    put("on")
elif action == "delete":
    machines(lambda known: known.pop(vm, None))
elif action != "prepare":
    print(json.dumps({"error": "Invalid action"}))
    log("end")
    sys.exit(1)
log("end")
if action != "prepare":
    print(json.dumps({"status": "success", "message": action + " done"}))
'''

MUTATING = frozenset({"prepare", "create", "start", "stop", "reboot", "delete"})
TRANSITIONAL = frozenset({"Starting", "Stopping", "Expunging"})


@dataclass(frozen=True)
class Run:
    action: str
    vm: str
    pid: int
    begin: float
    end: float | None


def asked(directory: Path, action: str = "statuses") -> list[float]:
    """When `status` / `statuses` were run (power sync, or a run's settling)."""
    path = directory / "asked.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [item["t"] for item in map(json.loads, lines) if item["action"] == action]


def install(directory: Path, *, delay: tuple[float, float] = (0.1, 0.4), reboot_off: float = 0.0) -> None:
    """Configure the recording extension in `directory` (its code is written by build_bed)."""
    (directory / "config.json").write_text(json.dumps({"delay": list(delay), "reboot_off": reboot_off}))


def machines(directory: Path) -> dict[str, str]:
    path = directory / "machines.json"
    return json.loads(path.read_text()) if path.exists() else {}


def runs(directory: Path) -> list[Run]:
    """Every lifecycle run the extension logged, begin and end paired by pid."""
    path = directory / "calls.jsonl"
    begun: dict[int, dict[str, Any]] = {}
    found: list[Run] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        item = json.loads(line)
        if item["event"] == "begin":
            begun[item["pid"]] = item
        else:
            start = begun.pop(item["pid"])
            found.append(Run(item["action"], item["vm"], item["pid"], start["t"], item["t"]))
    found.extend(Run(item["action"], item["vm"], item["pid"], item["t"], None) for item in begun.values())
    return found


def overlaps(directory: Path) -> list[str]:
    """Pairs of runs on one instance whose times overlap (a run still going counts as going on)."""
    by_vm: dict[str, list[Run]] = defaultdict(list)
    for run in runs(directory):
        if run.action in MUTATING:
            by_vm[run.vm].append(run)
    found = []
    for vm, items in by_vm.items():
        items.sort(key=lambda run: run.begin)
        for earlier, later in itertools.pairwise(items):
            if earlier.end is None or later.begin < earlier.end:
                found.append(f"{vm}: {earlier.action} (pid {earlier.pid}) and {later.action} (pid {later.pid})")
    return found


def unfinished(directory: Path) -> list[Run]:
    return [run for run in runs(directory) if run.end is None]


def instances(database_url: str, zone_id: int | None = None) -> list[Instance]:
    db = Database.from_url(database_url)
    try:
        with db.session() as session:
            query = select(Instance)
            if zone_id is not None:
                query = query.where(Instance.zone_id == zone_id)
            found = list(session.execute(query).scalars())
            session.expunge_all()
            return found
    finally:
        db.dispose()


_MATCHES = {"Running": {"on"}, "Stopped": {"off"}, "Error": {None}, "Destroyed": {None, "off"}}


def consistency(directory: Path, rows: list[Instance]) -> list[str]:
    """What the database and the backend disagree on (empty when they agree)."""
    backend = machines(directory)
    live = {row.instance_name: row for row in rows if row.removed is None}
    problems = [f"machine {name} ({state}) has no live instance row" for name, state in backend.items()
                if name not in live]
    for name, row in live.items():
        machine = backend.get(name or "")
        if row.state in TRANSITIONAL:
            problems.append(f"instance {name} left {row.state}")
        elif machine not in _MATCHES.get(row.state, set()):
            problems.append(f"instance {name} is {row.state} but its machine is {machine or 'absent'}")
    problems += [f"overlap: {text}" for text in overlaps(directory)]
    return problems


def kill_leftovers(directory: Path) -> None:
    """End extension processes a failed test left running (they outlive servers by design)."""
    for run in unfinished(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(run.pid, 9)
