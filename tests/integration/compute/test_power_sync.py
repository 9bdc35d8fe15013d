"""Power sync over a real server whose loop runs every half second: bulk `statuses`, the per-instance
fallback for extensions without it, PowerOff twice → Stopped with an event, PowerUnknown changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack
from sqlalchemy import update

from switchboard.db.engine import Database
from switchboard.db.models.infrastructure import Host
from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, build_bed, ok, unique
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {**ENV, "SWITCHBOARD_POWER_SYNC_INTERVAL": "0.5"}
    with start_server(tmp_path_factory.mktemp("power-sync"), env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sync_admin(sync_server: ServerProcess) -> CloudStack:
    return cs_client(sync_server, api_keys_of(sync_server))


def _rounds(bed: Bed, action: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Wait until the recorder saw `count` more runs of `action`; return them."""
    start = len([c for c in bed.calls() if c["action"] == action])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = [c for c in bed.calls() if c["action"] == action]
        if len(calls) >= start + count:
            return calls[start:]
        time.sleep(0.1)
    raise AssertionError(f"{count} more {action} runs did not happen within {timeout} s")


def _state(bed: Bed, vm: dict[str, Any]) -> dict[str, Any]:
    listed: dict[str, Any] = bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    return listed


def test_bulk_statuses_reconcile_out_of_band_power_off(sync_server: ServerProcess, sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    vm = ok(bed.admin, bed.deploy(name=unique("sync")))
    name = _state(bed, vm)["instancename"]
    bed.power({name: "unknown"})
    _rounds(bed, "statuses", 3)
    assert _state(bed, vm)["state"] == "Running"  # PowerUnknown changes nothing
    bed.power({name: "POWEROFF"})
    [call, *_] = _rounds(bed, "statuses", 3)
    assert set(call["payload"]) == {"externaldetails"}  # host level: no instance keys
    assert set(call["payload"]["externaldetails"]) == {"extension", "resourcemap", "host"}
    deadline = time.monotonic() + 10
    while _state(bed, vm)["state"] != "Stopped" and time.monotonic() < deadline:
        time.sleep(0.1)
    listed = _state(bed, vm)
    assert (listed["state"], listed["powerstate"]) == ("Stopped", "PowerOff")
    events = bed.admin.listEvents(type="VM.STOP", listall=True)["event"]
    assert any(name in e["description"] or vm["name"] in e["description"] for e in events)
    assert not [c for c in bed.calls() if c["action"] == "status"]  # never asked one by one


def test_extensions_without_statuses_are_asked_per_instance(sync_server: ServerProcess,
                                                           sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    bed.power({"statuses": "unsupported"})
    vms = [ok(bed.admin, bed.deploy(name=unique("fb"))) for _ in range(3)]
    calls = _rounds(bed, "status", 6)
    assert {c["payload"]["virtualmachineid"] for c in calls} == {vm["id"] for vm in vms}
    assert all("virtualmachine" in c["payload"]["externaldetails"] for c in calls)
    deadline = time.monotonic() + 10  # a run that logged itself may still be finishing
    while any(Path(c["argv"][2]).exists() for c in calls) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(c["argv"][2]).exists() for c in calls)  # status payloads are removed at once
    # statuses failed once and is remembered as unsupported: later rounds go straight to status
    assert len([c for c in bed.calls() if c["action"] == "statuses"]) == 1
    first = _state(bed, vms[0])["instancename"]
    bed.power({"statuses": "unsupported", first: "poweroff"})
    deadline = time.monotonic() + 15
    while _state(bed, vms[0])["state"] != "Stopped" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _state(bed, vms[0])["state"] == "Stopped"
    assert {_state(bed, vm)["state"] for vm in vms[1:]} == {"Running"}


def test_a_single_power_off_report_changes_nothing(sync_server: ServerProcess, sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    vm = ok(bed.admin, bed.deploy(name=unique("once")))
    name = _state(bed, vm)["instancename"]
    bed.power({name: "poweroff-once"})
    _rounds(bed, "statuses", 4)
    listed = _state(bed, vm)
    assert (listed["state"], listed["powerstate"]) == ("Running", "PowerOn")


def test_hosts_that_are_not_up_are_not_asked(sync_server: ServerProcess, sync_admin: CloudStack) -> None:
    up = build_bed(sync_server, sync_admin, requires_prepare=False)
    down = build_bed(sync_server, sync_admin, requires_prepare=False)
    ok(up.admin, up.deploy(name=unique("up")))
    ok(down.admin, down.deploy(name=unique("down")))
    db = Database.from_url(sync_server.database_url or "")
    try:
        with db.session() as session:
            session.execute(update(Host).where(Host.uuid == down.host["id"]).values(status="Down"))
        before = len([c for c in down.calls() if c["action"] == "statuses"])
        _rounds(up, "statuses", 3)  # rounds ask every Up host; the Down one was skipped in each
        after = len([c for c in down.calls() if c["action"] == "statuses"])
        assert after - before <= 1  # at most the round that was under way when it went Down
    finally:
        with db.session() as session:
            session.execute(update(Host).where(Host.uuid == down.host["id"]).values(status="Up"))
        db.dispose()
