"""The Proxmox extension's snapshot custom actions (parameters as the manifest declares them)."""

from __future__ import annotations

import pytest

from tests.builtin_extensions.proxmox.conftest import Pve

STATUS_105 = ("GET", "/nodes/pve1/qemu/105/status/current", {})


def test_snapshots_are_created_listed_as_a_table_restored_and_deleted(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running")
    run = pve.run("CreateSnapshot", parameters={"snap_name": "before-upgrade", "snap_description": "a&vmstate=1",
                                                "snap_save_memory": True})
    assert (run.code, run.answer) == (0, {"status": "success", "message": "Snapshot before-upgrade created"})
    assert pve.calls() == [STATUS_105, ("POST", "/nodes/pve1/qemu/105/snapshot", {
        "snapname": "before-upgrade", "vmstate": "1", "description": "a&vmstate=1"})]  # the text stays text
    assert pve.run("CreateSnapshot", parameters={"snap_name": "second", "snap_save_memory": False}).code == 0
    assert pve.calls()[-1] == ("POST", "/nodes/pve1/qemu/105/snapshot", {"snapname": "second", "vmstate": "0"})

    listed = pve.run("ListSnapshots")
    assert listed.answer == {"status": "success", "printmessage": "true", "message": [
        {"name": "before-upgrade", "snaptime": "2025-08-22T11:42:37Z", "description": "a&vmstate=1", "parent": "-",
         "vmstate": "yes"},
        {"name": "second", "snaptime": "2025-08-22T11:42:38Z", "description": "", "parent": "before-upgrade",
         "vmstate": "no"}]}
    assert pve.calls() == [STATUS_105, ("GET", "/nodes/pve1/qemu/105/snapshot", {})]

    run = pve.run("RestoreSnapshot", parameters={"snap_name": "second"})
    assert run.answer == {"status": "success", "message": "Snapshot second restored"}
    assert pve.calls() == [STATUS_105, ("POST", "/nodes/pve1/qemu/105/snapshot/second/rollback", {}), STATUS_105,
                           ("POST", "/nodes/pve1/qemu/105/status/start", {})]  # running before: running after
    assert pve.standin.vms[105].status == "running"

    assert pve.run("DeleteSnapshot", parameters={"snap_name": "second"}).code == 0
    assert pve.calls() == [STATUS_105, ("DELETE", "/nodes/pve1/qemu/105/snapshot/second", {})]
    assert list(pve.standin.vms[105].snapshots) == ["before-upgrade"]


def test_restoring_keeps_a_stopped_vm_stopped(pve: Pve) -> None:
    vm = pve.standin.add_vm(105, status="running")
    assert pve.run("CreateSnapshot", parameters={"snap_name": "live", "snap_save_memory": True}).code == 0
    vm.status = "stopped"
    pve.calls()
    assert pve.run("RestoreSnapshot", parameters={"snap_name": "live"}).code == 0
    assert pve.calls()[-1] == ("POST", "/nodes/pve1/qemu/105/status/stop", {})  # the RAM state resumed it
    assert vm.status == "stopped"


def test_memory_is_saved_only_for_a_running_vm(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped")
    assert pve.run("CreateSnapshot", parameters={"snap_name": "cold", "snap_save_memory": True}).code == 0
    assert pve.calls()[-1][2]["vmstate"] == "0"


@pytest.mark.parametrize("name", ["../x", "a", "1abc", "current", "x" * 41, "snap name", "a;b"])
def test_bad_snapshot_names_are_refused_before_any_call(pve: Pve, name: str) -> None:
    pve.standin.add_vm(105)
    for action in ("CreateSnapshot", "RestoreSnapshot", "DeleteSnapshot"):
        run = pve.run(action, parameters={"snap_name": name})
        assert run.code == 1 and run.answer["error"].startswith(f"Invalid snapshot name {name!r}: ")
    assert pve.calls() == []


def test_a_missing_snapshot_or_parameter_is_a_clear_error(pve: Pve) -> None:
    pve.standin.add_vm(105)
    run = pve.run("DeleteSnapshot", parameters={"snap_name": "nope"})
    assert run.answer["error"] == ("DELETE /nodes/pve1/qemu/105/snapshot/nope failed: HTTP 500 snapshot 'nope' does "
                                   "not exist")
    run = pve.run("RestoreSnapshot", parameters={})
    assert (run.code, run.answer["error"]) == (1, "Missing required parameter: snap_name")


def test_snapshot_actions_on_a_vm_that_is_gone_fail_plainly(pve: Pve) -> None:
    run = pve.run("ListSnapshots")
    assert (run.code, run.answer["error"]) == (1, "The VM of instance i-2-12-VM does not exist on Proxmox VE")
