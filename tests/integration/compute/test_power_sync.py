"""Power sync over a real server whose loop runs every half second: bulk `statuses`, the per-instance
fallback for extensions without it and for instances a `statuses` answer misses, PowerOff twice → Stopped
and PowerOn → Running with events that say what happened, PowerUnknown changes nothing, reports for an
instance with a job under way postponed (a MAAS-like reboot)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack
from sqlalchemy import update

from switchboard.db.engine import Database
from switchboard.db.models.infrastructure import Host
from tests.integration.compute import recording
from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, build_bed, ok, unique
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # A short heartbeat timeout: after a kill, the restarted server takes the dead one's runs over in seconds.
    env = {**ENV, "SWITCHBOARD_POWER_SYNC_INTERVAL": "0.5", "SWITCHBOARD_EXTENSION_WAIT": "20",
           "SWITCHBOARD_HEARTBEAT_INTERVAL": "0.5", "SWITCHBOARD_HEARTBEAT_TIMEOUT": "3"}
    with start_server(tmp_path_factory.mktemp("power-sync"), env=env) as server:
        yield server


@pytest.fixture(scope="module")
def sync_admin(sync_server: ServerProcess) -> CloudStack:
    return cs_client(sync_server, api_keys_of(sync_server))


def _rounds(bed: Bed, action: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Wait until the recorder saw `count` more runs of `action`; return them."""
    start = len([c for c in bed.calls() if c["action"] == action])

    def more() -> list[dict[str, Any]]:
        calls = [c for c in bed.calls() if c["action"] == action]
        return calls[start:] if len(calls) >= start + count else []

    return eventually(more, what=f"{count} more {action} runs", timeout=timeout, interval=0.1)


def _state(bed: Bed, vm: dict[str, Any]) -> dict[str, Any]:
    listed: dict[str, Any] = bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    return listed


def test_bulk_statuses_reconcile_out_of_band_power_off(sync_server: ServerProcess, sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    vm = ok(bed.admin, bed.deploy(name=unique("sync")))
    name = _state(bed, vm)["instancename"]
    bed.power({name: "unknown"})
    _rounds(bed, "statuses", 3)
    # A round that ran between the deploy and power.json naming the instance missed it and rightly asked
    # `status` for it; rounds run one after another, so such an ask is logged before these three ended.
    known_from = len(bed.calls())
    assert _state(bed, vm)["state"] == "Running"  # PowerUnknown changes nothing
    bed.power({name: "POWEROFF"})
    [call, *_] = _rounds(bed, "statuses", 3)
    assert set(call["payload"]) == {"externaldetails"}  # host level: no instance keys
    assert set(call["payload"]["externaldetails"]) == {"extension", "resourcemap", "host"}
    eventually(lambda: _state(bed, vm)["state"] == "Stopped", what="the instance to be Stopped", timeout=10)
    listed = _state(bed, vm)
    assert (listed["state"], listed["powerstate"]) == ("Stopped", "PowerOff")
    events = bed.admin.listEvents(type="VM.STOP", listall=True)["event"]
    assert any(name in e["description"] or vm["name"] in e["description"] for e in events)
    assert not [c for c in bed.calls()[known_from:] if c["action"] == "status"]  # never asked one by one


def test_extensions_without_statuses_are_asked_per_instance(sync_server: ServerProcess,
                                                           sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    bed.power({"statuses": "unsupported"})
    vms = [ok(bed.admin, bed.deploy(name=unique("fb"))) for _ in range(3)]
    calls = _rounds(bed, "status", 6)
    assert {c["payload"]["virtualmachineid"] for c in calls} == {vm["id"] for vm in vms}
    assert all("virtualmachine" in c["payload"]["externaldetails"] for c in calls)
    # status payloads are removed at once (a run that logged itself may still be finishing)
    eventually(lambda: not any(Path(c["argv"][2]).exists() for c in calls), what="the status payloads to be removed",
               timeout=10)
    # statuses failed once and is remembered as unsupported: later rounds go straight to status
    assert len([c for c in bed.calls() if c["action"] == "statuses"]) == 1
    first = _state(bed, vms[0])["instancename"]
    bed.power({"statuses": "unsupported", first: "poweroff"})
    eventually(lambda: _state(bed, vms[0])["state"] == "Stopped", what="the powered-off instance to be Stopped",
               timeout=15)
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


def test_instances_a_statuses_answer_does_not_name_are_asked_one_by_one(sync_server: ServerProcess,
                                                                       sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    vm = ok(bed.admin, bed.deploy(name=unique("renamed")))
    name = _state(bed, vm)["instancename"]
    bed.power({"statuses": "renamed", name: "poweroff"})  # `statuses` says x-<name>: it misses the instance
    eventually(lambda: _state(bed, vm)["state"] == "Stopped", what="the instance to be Stopped", timeout=15)
    asked = [c for c in bed.calls() if c["action"] == "status"]
    assert asked and {c["payload"]["virtualmachineid"] for c in asked} == {vm["id"]}
    assert _state(bed, vm)["powerstate"] == "PowerOff"


def test_a_maas_like_reboot_that_powers_off_for_rounds_stays_running(sync_server: ServerProcess,
                                                                     sync_admin: CloudStack) -> None:
    """The reboot keeps the machine off for several sync intervals (until the test lets it power on):
    reports for an instance with a job under way are postponed. Afterwards an out-of-band power-off stops
    it and a power-on starts it again, each with an event that says it happened outside Switchboard."""
    bed = build_bed(sync_server, sync_admin, requires_prepare=False, script=recording.RECORDING,
                    filename="maaslike.py")
    recording.install(bed.directory, delay=(0.0, 0.0), reboot_off=1.0)
    vm = ok(bed.admin, bed.deploy(name=unique("metal")))
    ok(bed.admin, bed.deploy(name=unique("other")))  # keeps the host asked while the first one is busy
    name = _state(bed, vm)["instancename"]
    (bed.directory / "hold").touch()
    answer = bed.admin.rebootVirtualMachine(id=vm["id"])
    eventually(lambda: recording.machines(bed.directory).get(name) == "off", what="the reboot's power-off")
    off_at = time.time()
    # `statuses` answers for the whole host, the rebooting machine (off) included
    eventually(lambda: len([t for t in recording.asked(bed.directory) if t > off_at]) >= 3,
               what="three power-sync rounds while the machine is off", timeout=20)
    assert recording.machines(bed.directory)[name] == "off" and _state(bed, vm)["state"] == "Running"
    (bed.directory / "hold").unlink()
    assert ok(bed.admin, answer)["state"] == "Running"
    assert _state(bed, vm)["state"] == "Running"
    assert not [e for e in bed.admin.listEvents(type="VM.STOP", listall=True).get("event", [])
                if name in e["description"] or vm["name"] in e["description"]]

    _machines(bed, {name: "off"})  # behind Switchboard's back
    eventually(lambda: _state(bed, vm)["state"] == "Stopped", what="power sync to see the power-off", timeout=15)
    _machines(bed, {name: "on"})
    eventually(lambda: _state(bed, vm)["state"] == "Running", what="power sync to follow the power-on", timeout=15)
    listed = _state(bed, vm)
    assert (listed["powerstate"], listed["hostid"]) == ("PowerOn", bed.host["id"])
    texts = [e["description"] for e in bed.admin.listEvents(listall=True, pagesize=500)["event"]
             if vm["name"] in e["description"]]
    assert f"Instance {vm['name']} was stopped outside Switchboard: the extension reported PowerOff twice in a " \
           "row" in texts
    assert f"Instance {vm['name']} was started outside Switchboard: the extension reported PowerOn" in texts


def test_after_a_stop_lost_with_its_server_power_sync_says_it_was_that_stop(sync_server: ServerProcess,
                                                                           sync_admin: CloudStack) -> None:
    bed = build_bed(sync_server, sync_admin, requires_prepare=False)
    vm = ok(bed.admin, bed.deploy(name=unique("lost")))
    name = _state(bed, vm)["instancename"]
    bed.power({name: "unknown"})
    bed.behave(stop={"hold": True})
    bed.hold()
    bed.admin.stopVirtualMachine(id=vm["id"])
    bed.wait_for_action(vm["id"], "stop")
    sync_server.kill()
    [call] = [c for c in bed.calls_for(vm["id"]) if c["action"] == "stop"]
    os.killpg(os.getpgid(call["pid"]), signal.SIGKILL)  # lost: no exit status is left
    bed.release()
    bed.behave()
    sync_server.start()
    eventually(lambda: _state(bed, vm)["powerstate"] == "PowerUnknown" and _state(bed, vm)["state"] == "Running",
               what="the lost stop to be settled on what the extension says (nothing)", timeout=30)
    bed.power({name: "poweroff"})
    eventually(lambda: _state(bed, vm)["state"] == "Stopped", what="power sync to see the stop's effect", timeout=60)
    texts = [e["description"] for e in bed.admin.listEvents(type="VM.STOP", listall=True)["event"]
             if vm["name"] in e["description"]]
    assert any("the extension reported PowerOff twice in a row after the stop management server" in text
               and "whose outcome was lost when that server stopped" in text for text in texts), texts
    assert not any("outside Switchboard" in text for text in texts)


def _machines(bed: Bed, machines: dict[str, str]) -> None:
    temporary = bed.directory / ".machines.test"
    temporary.write_text(json.dumps(machines))
    os.replace(temporary, bed.directory / "machines.json")
