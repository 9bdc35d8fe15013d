"""The instance lifecycle over real HTTP with a recording extension: the action sequence of §1.2, every
payload field of §2, prepare merging (§2.6), listVirtualMachines."""

from __future__ import annotations

import json

import pytest

from tests.integration.compute.env import Bed, ok, unique, wait_job

pytestmark = pytest.mark.database


def test_a_whole_lifecycle_runs_prepare_create_stop_start_reboot_stop_delete(bed: Bed) -> None:
    admin = bed.admin
    bed.behave()
    answer = bed.deploy(name=unique("web"), displayname="Web one", externaldetails={"vm_name": "web01"})
    vm = ok(admin, answer)
    assert answer["id"] == vm["id"] and vm["state"] == "Running"
    ok(admin, admin.stopVirtualMachine(id=vm["id"]))
    ok(admin, admin.startVirtualMachine(id=vm["id"]))
    ok(admin, admin.rebootVirtualMachine(id=vm["id"]))
    destroyed = ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    assert destroyed["state"] == "Expunging"
    assert bed.actions_for(vm["id"]) == ["prepare", "create", "stop", "start", "reboot", "stop", "delete"]
    assert admin.listVirtualMachines(id=vm["id"]) == {}


def test_create_payload_carries_every_field_of_the_contract(bed: Bed) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("pl"), externaldetails={"vm_name": "web01"}))
    calls = {c["action"]: c for c in bed.calls_for(vm["id"])}
    create = calls["create"]
    argv = create["argv"]
    assert argv[1] == "create" and argv[3] == "3" and len(argv) == 4
    assert argv[2].startswith(str(bed.server.data_dir / "extensions-data" / bed.extension["name"]))
    assert create["mode"] == 0o600
    assert not {"SWITCHBOARD_ADMIN_PASSWORD", "SWITCHBOARD_EXTENSION_WAIT"} & set(create["env"])
    # SWITCHBOARD_EXTENSION_ENV_PASSTHROUGH and SWITCHBOARD_EXTENSION_ENV (a variable the server lacks is left out)
    assert {"SBT_PASSED_THROUGH", "PYTHONPATH"} <= set(create["env"]) and "SBT_NOT_SET" not in create["env"]
    payload = create["payload"]
    groups = payload["externaldetails"]
    assert groups["extension"] == {"url": "https://10.0.0.5", "secret": "ext-secret"}
    assert groups["resourcemap"] == {"zone_tag": "east"}
    assert groups["host"] == {"node": "pve1", "template_id": "host-wins"}
    # deploy-time > template > offering; cloudstack.vlan only for create/start
    assert groups["virtualmachine"] == {"cpu_type": "template-cpu", "vm_name": "web01", "disk": "ssd",
                                        "template_type": "template", "template_id": "9000",
                                        "cloudstack.vlan": "1577"}
    assert "cloudstack.vlan" not in calls["prepare"]["payload"]["externaldetails"]["virtualmachine"]
    listed = bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    internal = listed["instancename"]
    assert payload["virtualmachineid"] == vm["id"] and payload["virtualmachinename"] == internal
    assert internal.startswith("i-") and internal.endswith("-VM")
    to = payload["cloudstack.vm.details"]
    assert (to["name"], to["uuid"], to["state"], to["type"], to["cpus"], to["minSpeed"], to["maxRam"]) == \
        (internal, vm["id"], "Starting", "User", 2, 1000, 512 * 1024 * 1024)
    assert to["vncPassword"] and to["details"]["deployvm"] == "true"
    assert to["details"]["External:vm_name"] == "web01"
    assert to["metadataProductName"] == "CloudStack External Hypervisor"
    [nic] = to["nics"]
    [shown] = vm["nic"]
    assert (nic["uuid"], nic["nicUuid"], nic["mac"], nic["ip"]) == \
        (bed.network["id"], shown["id"], shown["macaddress"], shown["ipaddress"])
    assert (nic["broadcastUri"], nic["defaultNic"], nic["deviceId"]) == ("vlan://1577", True, 0)
    assert payload["caller"]["roletype"] == "Admin" and payload["caller"]["name"] == "admin"
    assert "vncpassword" not in str(listed).lower() and to["vncPassword"] not in str(listed)


def test_prepare_output_is_merged_and_persisted(bed: Bed) -> None:
    mac = "52:54:00:aa:bb:01"
    patch = {"vncPassword": "from-prepare", "details": {"External:proxmox_vmid": "105"},
             "nics": [{"uuid": bed.network["id"], "mac": mac, "ip": "10.1.1.200"}]}
    bed.behave(prepare={"output": json.dumps(patch)})
    vm = ok(bed.admin, bed.deploy(name=unique("prep")))
    create = next(c for c in bed.calls_for(vm["id"]) if c["action"] == "create")["payload"]
    to = create["cloudstack.vm.details"]
    assert to["vncPassword"] == "from-prepare"
    assert to["nics"][0]["mac"] == mac and to["nics"][0]["ip"] == "10.1.1.200"
    assert create["externaldetails"]["virtualmachine"]["proxmox_vmid"] == "105"
    listed = bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert listed["nic"][0]["macaddress"] == mac and listed["nic"][0]["ipaddress"] == "10.1.1.200"
    assert listed["details"]["External:proxmox_vmid"] == "105"
    assert "from-prepare" not in str(listed)
    bed.behave()


def test_a_failed_create_leaves_the_instance_in_error_with_the_output_in_errortext(bed: Bed) -> None:
    bed.behave(create={"exit": 3, "output": '{"status":"error","error":"no capacity on pve1"}'})
    answer = bed.deploy(name=unique("bad"))
    job = wait_job(bed.admin, answer["jobid"])
    bed.behave()
    assert job["jobstatus"] == 2
    text = job["jobresult"]["errortext"]
    assert "Exit code: 3" in text and "no capacity on pve1" in text
    assert bed.admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Error"


def test_a_prepare_that_prints_garbage_fails_the_deploy(bed: Bed) -> None:
    bed.behave(prepare={"output": "this is not json"})
    answer = bed.deploy(name=unique("garbage"))
    job = wait_job(bed.admin, answer["jobid"])
    bed.behave()
    assert job["jobstatus"] == 2 and "Failed to prepare VM" in job["jobresult"]["errortext"]
    assert bed.admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Error"
    assert bed.actions_for(answer["id"]) == ["prepare"]


def test_huge_output_is_capped_and_a_stop_failure_keeps_the_instance_running(bed: Bed) -> None:
    vm = ok(bed.admin, bed.deploy(name=unique("huge")))
    bed.behave(stop={"exit": 1, "output": "x" * (3 << 20)})
    job = wait_job(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"])["jobid"])
    bed.behave()
    assert job["jobstatus"] == 2
    assert "output truncated" in job["jobresult"]["errortext"]
    assert len(job["jobresult"]["errortext"]) < (2 << 20)
    assert bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Running"
    forced = ok(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"], forced=True))
    assert forced["state"] == "Stopped"


def test_recover_is_database_only_and_the_next_start_sends_start(bed: Bed) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("rec")))
    ok(bed.admin, bed.admin.destroyVirtualMachine(id=vm["id"]))
    recovered = bed.admin.recoverVirtualMachine(id=vm["id"])["virtualmachine"]
    assert recovered["state"] == "Stopped"
    ok(bed.admin, bed.admin.startVirtualMachine(id=vm["id"]))
    assert bed.actions_for(vm["id"]) == ["prepare", "create", "stop", "start"]


def test_deploy_without_start_creates_then_first_start_prepares(bed: Bed) -> None:
    bed.behave()
    vm = ok(bed.admin, bed.deploy(name=unique("nostart"), startvm=False))
    assert vm["state"] == "Stopped" and bed.actions_for(vm["id"]) == []
    ok(bed.admin, bed.admin.startVirtualMachine(id=vm["id"]))
    assert bed.actions_for(vm["id"]) == ["prepare", "create"]
