"""An extension run outlives the server that started it; the server's next run (or another server) waits for
it and settles the instance by what it really did. Each test SIGKILLs the server while a run is under way
and lets it run on (or kills it too, or lets it pass its deadline), then restarts the server:

* a create that finishes after the kill deploys the instance (it is not left Error with a machine behind it),
  and until it has ended no other action starts on the instance;
* an expunge whose delete succeeded after the kill removes the instance;
* a reboot that outlives its server keeps another action off the instance until it has ended;
* a run lost with its server (no exit status) follows what the extension's `status` says;
* a run past its deadline is killed by the successor and counts as a timeout;
* a clean stop leaves runs running: the next start settles them;
* a deploy cut short before anything ran ends Error, with an event.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStackApiException

from switchboard.compute.repair import repair_instance
from switchboard.db.engine import Database
from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, build_bed, ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

TAKEOVER_ENV = {**ENV, "SWITCHBOARD_EXTENSION_WAIT": "10", "SWITCHBOARD_HEARTBEAT_INTERVAL": "0.5",
                "SWITCHBOARD_HEARTBEAT_TIMEOUT": "3", "SWITCHBOARD_JOB_SHUTDOWN_GRACE": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("takeover"), env=TAKEOVER_ENV) as started:
        yield started


@pytest.fixture
def bed(server: ServerProcess) -> Bed:
    return build_bed(server, cs_client(server, api_keys_of(server)), requires_prepare=False)


def _vm(bed: Bed, vm_id: str) -> dict[str, Any]:
    listed: dict[str, Any] = bed.admin.listVirtualMachines(id=vm_id)["virtualmachine"][0]
    return listed


def _events(bed: Bed, vm_name: str) -> list[str]:
    return [e["description"] for e in bed.admin.listEvents(listall=True, pagesize=500)["event"]
            if vm_name in e["description"]]


def _restart(bed: Bed) -> None:
    bed.server.kill()
    bed.server.start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_create_that_finishes_after_its_server_was_killed_deploys_the_instance(bed: Bed) -> None:
    bed.behave(create={"hold": True})
    bed.hold()
    answer = bed.deploy(name=unique("late"))
    bed.wait_for_action(answer["id"], "create")
    _restart(bed)
    job = wait_job(bed.admin, answer["jobid"])
    assert job["jobstatus"] == 2 and "interrupted" in job["jobresult"]["errortext"]
    # Still Starting while its create runs: a destroy (whose delete would overlap the create) is refused.
    with pytest.raises(CloudStackApiException) as refused:
        bed.admin.destroyVirtualMachine(id=answer["id"], expunge=True)
    assert "in state Starting" in refused.value.error["errortext"]
    bed.release()
    eventually(lambda: _vm(bed, answer["id"])["state"] == "Running", what="the late create to deploy it",
               timeout=30)
    vm = _vm(bed, answer["id"])
    assert vm["powerstate"] == "PowerOn" and vm["hostid"] == bed.host["id"]
    assert any("Deployed instance" in text and "succeeded after that server stopped" in text
               for text in _events(bed, vm["name"]))
    bed.behave()
    ok(bed.admin, bed.admin.destroyVirtualMachine(id=answer["id"], expunge=True))
    assert bed.actions_for(answer["id"]) == ["create", "stop", "delete"]


def test_an_expunge_whose_delete_finished_after_the_kill_removes_the_instance(bed: Bed) -> None:
    vm = ok(bed.admin, bed.deploy(name=unique("gone")))
    bed.behave(delete={"hold": True})
    bed.hold()
    bed.admin.destroyVirtualMachine(id=vm["id"], expunge=True)
    bed.wait_for_action(vm["id"], "delete")
    _restart(bed)
    bed.release()
    eventually(lambda: bed.admin.listVirtualMachines(id=vm["id"]) == {}, what="the instance to be expunged",
               timeout=30)
    assert any("Expunged instance" in text and "succeeded after that server stopped" in text
               for text in _events(bed, vm["name"]))


def test_a_reboot_that_outlives_its_server_keeps_other_actions_off_the_instance(bed: Bed) -> None:
    vm = ok(bed.admin, bed.deploy(name=unique("rb")))
    bed.behave(reboot={"hold": True})
    bed.hold()
    bed.admin.rebootVirtualMachine(id=vm["id"])
    bed.wait_for_action(vm["id"], "reboot")
    _restart(bed)
    stop = wait_job(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"])["jobid"])
    bed.release()
    assert stop["jobstatus"] == 2
    assert "is busy: its reboot, started by management server" in stop["jobresult"]["errortext"]
    assert bed.actions_for(vm["id"]) == ["create", "reboot"]  # the stop never ran
    eventually(lambda: any("Rebooted instance" in text for text in _events(bed, vm["name"])),
               what="the reboot to be settled", timeout=30)
    assert _vm(bed, vm["id"])["state"] == "Running"
    bed.behave()
    ok(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"]))


@pytest.mark.parametrize(("action", "reported", "ends"), [
    ("stop", "poweroff", "Stopped"), ("create", "poweron", "Running"), ("create", "unknown", "Error"),
])
def test_a_run_lost_with_its_server_follows_what_the_extension_reports(bed: Bed, action: str, reported: str,
                                                                      ends: str) -> None:
    bed.behave(**{action: {"sleep": 30}})
    if action == "create":
        answer = bed.deploy(name=unique("lost"))
        vm_id = answer["id"]
    else:
        vm_id = ok(bed.admin, bed.deploy(name=unique("lost")))["id"]
        bed.admin.stopVirtualMachine(id=vm_id)
    bed.wait_for_action(vm_id, action)
    bed.server.kill()
    [call] = [c for c in bed.calls_for(vm_id) if c["action"] == action]
    os.killpg(os.getpgid(call["pid"]), signal.SIGKILL)  # the run and its wrapper: no exit status is left
    name = call["payload"]["virtualmachinename"]
    bed.power({name: reported})
    bed.behave()
    bed.server.start()
    eventually(lambda: _vm(bed, vm_id)["state"] == ends, what=f"the instance to end {ends}", timeout=30)
    said = {"poweron": "PowerOn", "poweroff": "PowerOff"}.get(reported, "PowerUnknown")
    assert any(f"was lost when that server stopped (it ended without an exit status); the extension reports {said}"
               in text for text in _events(bed, _vm(bed, vm_id)["name"]))
    assert [c["action"] for c in bed.calls_for(vm_id)][-1] == "status"  # the backend was asked


def test_a_run_past_its_deadline_is_killed_by_the_successor(bed: Bed) -> None:
    bed.behave(create={"sleep": 60})
    answer = bed.deploy(name=unique("slow"))
    bed.wait_for_action(answer["id"], "create")
    [call] = [c for c in bed.calls_for(answer["id"]) if c["action"] == "create"]
    _restart(bed)
    eventually(lambda: _vm(bed, answer["id"])["state"] == "Error", what="the timed-out create to fail the deploy",
               timeout=30)
    assert not _alive(call["pid"])
    assert any("timed out after that server stopped" in text for text in _events(bed, _vm(bed, answer["id"])["name"]))
    bed.behave()


def test_a_clean_stop_leaves_runs_running_and_the_next_start_settles_them(bed: Bed) -> None:
    bed.behave(create={"hold": True})
    bed.hold()
    answer = bed.deploy(name=unique("clean"))
    bed.wait_for_action(answer["id"], "create")
    [call] = [c for c in bed.calls_for(answer["id"]) if c["action"] == "create"]
    bed.server.stop()  # SIGTERM: the job gets its 1 s of grace, the run goes on
    assert _alive(call["pid"])
    bed.server.start()
    bed.release()
    eventually(lambda: _vm(bed, answer["id"])["state"] == "Running", what="the create to deploy it", timeout=30)
    bed.behave()


def test_a_deploy_cut_short_before_anything_ran_ends_in_error_with_an_event(bed: Bed) -> None:
    vm = ok(bed.admin, bed.deploy(name=unique("early"), startvm=False))
    db = Database.from_url(bed.server.database_url or "")
    try:
        with db.session() as session:  # what the interrupted job's hook does, for a deploy that was to start it
            assert repair_instance(session, vm["id"], deploying=False) is None  # a deploy with startvm=false
            assert repair_instance(session, vm["id"], deploying=True) == "Error"
    finally:
        db.dispose()
    assert _vm(bed, vm["id"])["state"] == "Error"
    assert any("was being deployed when its management server stopped, before anything ran" in text
               for text in _events(bed, vm["name"]))
    assert bed.actions_for(vm["id"]) == []

