"""How an operation records its outcome: forced stops, a destroy whose stop fails, and an instance that
someone else (a takeover's repair) settled while the extension ran."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from switchboard.db.engine import Database
from switchboard.db.models.compute import Instance
from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _state(bed: Bed, uuid: str) -> dict[str, str]:
    vm = bed.admin.listVirtualMachines(id=uuid)["virtualmachine"][0]
    return {"state": vm["state"], "powerstate": vm["powerstate"]}


def _events(bed: Bed, uuid: str) -> list[tuple[str, str]]:
    """(type, description) of the instance's events, newest first."""
    found = bed.admin.listEvents(resourceid=uuid, listall=True).get("event", [])
    return [(event["type"], event["description"]) for event in found]


def test_a_forced_stop_the_extension_refuses_marks_stopped_and_keeps_the_power_state(bed: Bed) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("forced")))
    assert _state(bed, vm["id"]) == {"state": "Running", "powerstate": "PowerOn"}
    bed.behave(stop={"exit": 1, "output": "sbt refuses"})
    stopped = ok(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"], forced=True))
    bed.behave()
    assert (stopped["state"], stopped["powerstate"]) == ("Stopped", "PowerOn")
    texts = [text for kind, text in _events(bed, vm["id"]) if kind == "VM.STOP"]
    assert any("forced; the extension said" in text and "sbt refuses" in text for text in texts), texts


def test_destroying_a_running_instance_whose_stop_fails_leaves_it_running(bed: Bed) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("nodestroy")))
    bed.behave(stop={"exit": 1, "output": "sbt busy"})
    job = wait_job(bed.admin, bed.admin.destroyVirtualMachine(id=vm["id"], expunge=True)["jobid"])
    bed.behave()
    assert job["jobstatus"] == 2 and "Failed to stop instance" in job["jobresult"]["errortext"]
    assert _state(bed, vm["id"])["state"] == "Running"
    assert "delete" not in bed.actions_for(vm["id"])
    ok(bed.admin, bed.admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    assert bed.admin.listVirtualMachines(id=vm["id"]).get("virtualmachine", []) == []
    assert bed.actions_for(vm["id"])[-2:] == ["stop", "delete"]


def test_a_stop_leaves_alone_an_instance_someone_else_settled_meanwhile(
    bed: Bed, compute_server: ServerProcess
) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("settled")))
    bed.behave(stop={"sleep": 1.5})
    answer = bed.admin.stopVirtualMachine(id=vm["id"])
    bed.wait_for_action(vm["id"], "stop")
    assert _state(bed, vm["id"])["state"] == "Stopping"
    # What a takeover's repair does to a Stopping instance: back to Running, as a new version of the row.
    assert compute_server.database_url is not None
    db = Database.from_url(compute_server.database_url)
    try:
        with db.session() as session:
            session.execute(update(Instance).where(Instance.uuid == vm["id"])
                            .values(state="Running", updated=Instance.updated + 1))
    finally:
        db.dispose()
    job = wait_job(bed.admin, answer["jobid"])
    bed.behave()
    assert job["jobstatus"] == 1
    assert _state(bed, vm["id"])["state"] == "Running"
    assert not [text for kind, text in _events(bed, vm["id"]) if kind == "VM.STOP"]
