"""hyperv.py's custom actions against the WinRM stand-in: Suspend/Resume and the checkpoint actions (names as
CloudStack seeds them; the snapshot name comes in `parameters.snapshot_name`)."""

from __future__ import annotations

from pathlib import Path

from tests.builtin_extensions.hyperv.conftest import host_details, run_hyperv, vm_payload
from tests.builtin_extensions.hyperv.test_lifecycle_actions import FIND, NAME, created, script
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn

CHECKPOINTS = ("Get-VMSnapshot -VM $vm | Select-Object -Property Id, Name, CreationTime, ParentSnapshotName | "
               "ConvertTo-Json -Compress")


def test_suspend_and_resume(standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    vm_id = created(standin, certificates, tmp_path)
    payload = vm_payload(host_details(standin, certificates))

    run = run_hyperv(tmp_path, "Suspend", payload)
    assert (run.code, run.answer) == (0, {"status": "success", "message": f"Instance {NAME} suspended"})
    assert standin.scripts == [script(FIND), script(f"$vm = Get-VM -Id '{vm_id}'", "Suspend-VM -VM $vm")]
    assert standin.host.vm(NAME).state == "Paused"
    assert run_hyperv(tmp_path, "status", payload).answer["power_state"] == "poweron"  # suspended is still on
    assert run_hyperv(tmp_path, "Suspend", payload).answer["message"] == f"Instance {NAME} is already suspended"

    standin.commands.clear()
    run = run_hyperv(tmp_path, "Resume", payload)
    assert (run.code, run.answer) == (0, {"status": "success", "message": f"Instance {NAME} resumed"})
    assert standin.scripts == [script(FIND), script(f"$vm = Get-VM -Id '{vm_id}'", "Resume-VM -VM $vm")]
    assert standin.host.vm(NAME).state == "Running"

    standin.host.vm(NAME).state = "Off"
    refused = run_hyperv(tmp_path, "Suspend", payload)
    assert (refused.code, refused.answer["error"]) == (
        1, f"instance {NAME} is Off: only a running instance can be suspended")
    assert run_hyperv(tmp_path, "Resume", payload).answer["error"] == (
        f"instance {NAME} is Off: only a suspended instance can be resumed")


def test_checkpoints_are_created_listed_restored_and_deleted_by_exact_name(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    vm_id = created(standin, certificates, tmp_path)
    host = host_details(standin, certificates)
    by_id = f"$vm = Get-VM -Id '{vm_id}'"

    def action(name: str, snapshot: str | None = None) -> dict[str, object]:
        standin.commands.clear()
        run = run_hyperv(tmp_path, name, vm_payload(
            host, parameters=None if snapshot is None else {"snapshot_name": snapshot}))
        assert run.code == 0, run.output
        return run.answer

    assert action("ListSnapshots") == {"status": "success", "printmessage": "true", "message": []}
    assert action("CreateSnapshot", "before upgrade") == {
        "status": "success", "message": f"Checkpoint 'before upgrade' of {NAME} created"}
    assert standin.scripts == [script(FIND), script(by_id, CHECKPOINTS),
                               script(by_id, "Checkpoint-VM -VM $vm -SnapshotName 'before upgrade'")]
    standin.host.vm(NAME).state = "Off"
    assert action("CreateSnapshot", "cold")["status"] == "success"
    standin.host.vm(NAME).state = "Running"
    first, second = standin.host.vm(NAME).snapshots
    assert action("ListSnapshots") == {"status": "success", "printmessage": "true", "message": [
        {"name": "before upgrade", "created": "2026-01-02T03:05:05Z", "parent": ""},
        {"name": "cold", "created": "2026-01-02T03:06:05Z", "parent": "before upgrade"},
    ]}

    assert action("RestoreSnapshot", "cold") == {"status": "success",
                                                 "message": f"Checkpoint 'cold' of {NAME} restored"}
    assert standin.scripts[-1] == script(
        by_id, f"Get-VMSnapshot -Id '{second.id}' | Restore-VMSnapshot -Confirm:$false", "Start-VM -VM $vm")
    # the checkpoint was taken with the machine off; the instance was running and still is
    assert standin.host.vm(NAME).state == "Running" and standin.host.vm(NAME).current is second
    standin.host.vm(NAME).state = "Off"
    action("RestoreSnapshot", "before upgrade")
    assert standin.scripts[-1] == script(f"Get-VMSnapshot -Id '{first.id}' | Restore-VMSnapshot -Confirm:$false")
    assert standin.host.vm(NAME).state == "Saved"  # taken running: applying it leaves the machine saved

    assert action("DeleteSnapshot", "before upgrade") == {
        "status": "success", "message": f"Checkpoint 'before upgrade' of {NAME} deleted"}
    assert standin.scripts == [script(FIND), script(by_id, CHECKPOINTS), script(
        f"Get-VMSnapshot -Id '{first.id}' | Remove-VMSnapshot -Confirm:$false")]
    assert [s.name for s in standin.host.vm(NAME).snapshots] == ["cold"]


def test_checkpoint_names_must_exist_once_and_be_given(standin: WinRMStandIn, certificates: Certificates,
                                                       tmp_path: Path) -> None:
    created(standin, certificates, tmp_path)
    host = host_details(standin, certificates)

    def refused(action: str, parameters: dict[str, object] | None) -> str:
        run = run_hyperv(tmp_path, action, vm_payload(host, parameters=parameters))
        assert run.code == 1, run.output
        return str(run.answer["error"])

    assert refused("CreateSnapshot", None) == "Missing required parameter: snapshot_name"
    assert refused("RestoreSnapshot", {"snapshot_name": "  "}) == "Missing required parameter: snapshot_name"
    assert refused("RestoreSnapshot", {"snapshot_name": "nope"}) == f"instance {NAME} has no checkpoint named 'nope'"
    assert run_hyperv(tmp_path, "CreateSnapshot", vm_payload(host, parameters={"snapshot_name": "a"})).code == 0
    assert refused("CreateSnapshot", {"snapshot_name": "a"}) == f"instance {NAME} already has a checkpoint named 'a'"
    assert refused("DeleteSnapshot", {"snapshot_name": "A"}) == f"instance {NAME} has no checkpoint named 'A'"
    # a checkpoint made by hand with a name already taken: never guess which one is meant
    standin.host.checkpoint({"VM": [standin.host.vm(NAME)], "SnapshotName": "a"}, None)
    assert refused("DeleteSnapshot", {"snapshot_name": "a"}) == (
        f"instance {NAME} has 2 checkpoints named 'a'; refusing to guess")
    assert len(standin.host.vm(NAME).snapshots) == 2
