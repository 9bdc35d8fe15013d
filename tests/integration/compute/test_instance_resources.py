"""What an instance is given and carries besides its NICs: volumes (sized by rootdisksize, offering or
template; a DATADISK from a disk offering), tags (and the tags[] filters of list commands), the changes
updateVirtualMachine makes, and the snapshots its extension lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

GIB = 1024 ** 3


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as raised:
        call(**params)
    error: dict[str, Any] = raised.value.error
    return error


def _volumes(client: CloudStack, vm_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.listVolumes(virtualmachineid=vm_id).get("volume", [])
    return found


def test_volumes_are_allocated_at_deploy_ready_once_started_and_gone_with_the_instance(bed: Bed) -> None:
    admin = bed.admin
    custom = next(o for o in admin.listDiskOfferings()["diskoffering"] if o["iscustomized"])
    stopped = ok(admin, bed.deploy(name=unique("vol"), startvm=False, rootdisksize=8, diskofferingid=custom["id"],
                                   size=3))
    root, data = sorted(_volumes(admin, stopped["id"]), key=lambda v: v["deviceid"])
    assert (root["type"], root["deviceid"], root["size"], root["state"]) == ("ROOT", 0, 8 * GIB, "Allocated")
    assert (data["type"], data["deviceid"], data["size"]) == ("DATADISK", 1, 3 * GIB)
    assert data["diskofferingid"] == custom["id"] and root["serviceofferingid"] == bed.offering["id"]
    assert root["name"].startswith("ROOT-") and root["vmname"] == stopped["name"]
    assert stopped["rootdeviceid"] == 0 and stopped["rootdevicetype"] == "ROOT"
    assert stopped["details"]["rootdisksize"] == "8"  # CloudStack keeps the deploy's rootdisksize (GiB)

    ok(admin, admin.startVirtualMachine(id=stopped["id"]))
    assert {v["state"] for v in _volumes(admin, stopped["id"])} == {"Ready"}
    # What CloudStack refuses for External instances' volumes, it refuses in the job, with its texts.
    for command, params, text in (
            ("attachVolume", {"id": data["id"], "virtualmachineid": stopped["id"]},
             "Volume operations are not allowed for External hypervisor type"),
            ("detachVolume", {"id": data["id"]}, "Volume operations are not allowed for External hypervisor type"),
            ("createSnapshot", {"volumeid": root["id"]}, "Snapshot operations are not allowed for External "
             "hypervisor type")):
        job = wait_job(admin, getattr(admin, command)(**params)["jobid"])
        assert (job["jobstatus"], job["jobresult"]["errorcode"], job["jobresult"]["errortext"]) == (2, 431, text)
    # A customized disk offering needs a size.
    error = _error(admin.deployVirtualMachine, zoneid=bed.zone["id"], templateid=bed.template["id"],
                   serviceofferingid=bed.offering["id"], networkids=bed.network["id"], diskofferingid=custom["id"])
    assert error["errorcode"] == 431 and "customized" in error["errortext"]

    ok(admin, admin.destroyVirtualMachine(id=stopped["id"], expunge=True))
    assert admin.listVolumes(id=root["id"]).get("volume") is None


def test_disk_offerings_are_created_listed_changed_and_deleted_by_admins(bed: Bed,
                                                                        compute_server: ServerProcess) -> None:
    admin = bed.admin
    seeded = {o["name"]: o for o in admin.listDiskOfferings()["diskoffering"]}
    assert {"Small", "Medium", "Large", "Custom"} <= set(seeded)
    assert seeded["Small"]["disksize"] == 5 and not seeded["Small"]["iscustomized"]
    offering = admin.createDiskOffering(name=unique("do"), disksize=12, displaytext="twelve")["diskoffering"]
    assert (offering["disksize"], offering["iscustomized"], offering["state"]) == (12, False, "Active")
    vm = ok(admin, bed.deploy(name=unique("dd"), startvm=False, diskofferingid=offering["id"]))
    data = next(v for v in _volumes(admin, vm["id"]) if v["type"] == "DATADISK")
    assert data["size"] == 12 * GIB and data["diskofferingname"] == offering["name"]
    changed = admin.updateDiskOffering(id=offering["id"], name=offering["name"] + "-x")["diskoffering"]
    assert changed["name"] == offering["name"] + "-x"
    _account, keys = create_account_with_keys(admin, prefix="sbt-do")
    user = cs_client(compute_server, keys)
    assert _error(user.createDiskOffering, name=unique("no"), disksize=1)["errorcode"] == 432
    assert offering["id"] in {o["id"] for o in user.listDiskOfferings()["diskoffering"]}
    assert admin.deleteDiskOffering(id=offering["id"]) == {"success": True}
    assert admin.listDiskOfferings(id=offering["id"]).get("diskoffering") is None
    # The volume keeps what it was given.
    assert next(v for v in _volumes(admin, vm["id"]) if v["type"] == "DATADISK")["size"] == 12 * GIB
    ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))


def test_tags_are_put_on_listed_with_filtered_by_and_removed_from_resources(bed: Bed,
                                                                             compute_server: ServerProcess) -> None:
    admin = bed.admin
    first = ok(admin, bed.deploy(name=unique("tg"), startvm=False))
    second = ok(admin, bed.deploy(name=unique("tg"), startvm=False))
    role = unique("role")
    job = admin.createTags(resourcetype="UserVm", resourceids=first["id"], tags={"role": role, "tier": "1"})
    assert wait_job(admin, job["jobid"])["jobresult"] == {"success": True}
    admin.createTags(resourcetype="uservm", resourceids=second["id"], tags={"role": "other", "tier": "1"})
    listed = admin.listVirtualMachines(id=first["id"])["virtualmachine"][0]
    assert sorted((t["key"], t["value"], t["resourcetype"], t["resourceid"]) for t in listed["tags"]) == \
        [("role", role, "UserVm", first["id"]), ("tier", "1", "UserVm", first["id"])]
    # Any of the given pairs matches, as CloudStack's filter does.
    assert [v["id"] for v in admin.listVirtualMachines(tags={"role": role})["virtualmachine"]] == [first["id"]]
    pairs = [{"key": "role", "value": role}, {"key": "role", "value": "other"}]
    both = admin.listVirtualMachines(**{f"tags[{i}].{k}": v for i, p in enumerate(pairs) for k, v in p.items()})
    assert {v["id"] for v in both["virtualmachine"]} == {first["id"], second["id"]}
    found = admin.listTags(resourceid=first["id"], key="role")["tag"]
    assert [(t["key"], t["value"], t["account"]) for t in found] == [("role", role, "admin")]

    error = _error(admin.createTags, resourcetype="UserVm", resourceids=first["id"], tags={"role": "again"})
    assert (error["errorcode"], error["errortext"]) == (530, f"tag role already on UserVm with id {first['id']}")
    error = _error(admin.createTags, resourcetype="Host", resourceids=first["id"], tags={"a": "b"})
    assert error["errorcode"] == 431 and "doesn't support resource tags" in error["errortext"]

    # Volumes, networks and templates take tags too; a user may tag only what its account owns.
    root = _volumes(admin, first["id"])[0]
    admin.createTags(resourcetype="Volume", resourceids=root["id"], tags={"backup": "daily"})
    assert [v["id"] for v in admin.listVolumes(tags={"backup": "daily"})["volume"]] == [root["id"]]
    admin.createTags(resourcetype="Network", resourceids=bed.network["id"], tags={"net": role})
    assert [n["id"] for n in admin.listNetworks(tags={"net": role})["network"]] == [bed.network["id"]]
    assert admin.listNetworks(id=bed.network["id"])["network"][0]["tags"][0]["value"] == role
    admin.createTags(resourcetype="Template", resourceids=bed.template["id"], tags={"os": role})
    listed_templates = admin.listTemplates(templatefilter="all", tags={"os": role})["template"]
    assert {t["id"] for t in listed_templates} == {bed.template["id"]}
    _account, keys = create_account_with_keys(admin, prefix="sbt-tg")
    user = cs_client(compute_server, keys)
    assert _error(user.createTags, resourcetype="UserVm", resourceids=first["id"], tags={"x": "y"})["errorcode"] == 531
    assert user.listTags().get("tag") is None

    wait_job(admin, admin.deleteTags(resourcetype="UserVm", resourceids=first["id"], tags={"tier": ""})["jobid"])
    assert [t["key"] for t in admin.listVirtualMachines(id=first["id"])["virtualmachine"][0]["tags"]] == ["role"]
    for vm in (first, second):
        ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    assert admin.listTags(resourceid=first["id"]).get("tag") is None
    admin.deleteTags(resourcetype="Network", resourceids=bed.network["id"])
    admin.deleteTags(resourcetype="Template", resourceids=bed.template["id"])


def test_update_virtual_machine_changes_names_and_details_and_keeps_what_the_extension_knows(bed: Bed) -> None:
    admin = bed.admin
    vm = ok(admin, bed.deploy(name=unique("up"), externaldetails={"flavor": "a"}))
    new_name = unique("renamed")
    updated = admin.updateVirtualMachine(id=vm["id"], displayname="Shown name", name=new_name,
                                         details={"purpose": "web"})["virtualmachine"]
    assert (updated["displayname"], updated["name"]) == ("Shown name", new_name)
    assert updated["details"]["purpose"] == "web" and updated["details"]["External:flavor"] == "a"
    error = _error(admin.updateVirtualMachine, id=vm["id"], details={"SSH.PublicKey": "ssh-ed25519 AAAA"})
    assert error["errortext"] == "You're not allowed to add or edit the read-only setting: SSH.PublicKey"
    cleaned = admin.updateVirtualMachine(id=vm["id"], cleanupdetails=True)["virtualmachine"]
    assert "purpose" not in cleaned["details"]
    error = _error(admin.updateVirtualMachine, id=vm["id"], name="-bad-")
    assert error["errorcode"] == 431
    assert admin.listEvents(type="VM.UPDATE", keyword=new_name).get("count", 0) >= 1
    ok(admin, admin.stopVirtualMachine(id=vm["id"]))
    ok(admin, admin.startVirtualMachine(id=vm["id"]))
    start = [c for c in bed.calls_for(vm["id"]) if c["action"] == "start"][-1]["payload"]
    assert start["externaldetails"]["virtualmachine"]["flavor"] == "a"
    assert dict(tuple(e[1:]) for e in start["cloudstack.vm.details"]["vmData"]
                if e[0] == "metadata")["local-hostname"] == new_name


def test_vm_snapshots_are_what_the_extensions_list_snapshots_action_lists(bed: Bed) -> None:
    admin = bed.admin
    vm = ok(admin, bed.deploy(name=unique("sn")))
    assert admin.listVMSnapshot(virtualmachineid=vm["id"]).get("vmSnapshot") is None  # no such action yet
    rows = [{"name": "base", "snaptime": "2025-01-02T03:04:05Z", "description": "first", "parent": "-",
             "vmstate": "no"},
            {"name": "after", "snaptime": "2025-02-02T03:04:05Z", "description": "", "parent": "base",
             "vmstate": "yes"}]
    bed.behave(ListSnapshots={"output": json.dumps({"status": "success", "printmessage": "true", "message": rows})})
    action = admin.addCustomAction(extensionid=bed.extension["id"], name="ListSnapshots", enabled=True,
                                   allowedroletypes="Admin,User", timeout=20)["extensioncustomaction"]
    try:
        listed = admin.listVMSnapshot(virtualmachineid=vm["id"])["vmSnapshot"]
        assert [(s["name"], s["type"], s.get("parentName")) for s in listed] == \
            [("base", "Disk", None), ("after", "DiskAndMemory", "base")]
        assert listed[1]["parent"] == listed[0]["id"] and listed[0]["virtualmachineid"] == vm["id"]
        assert admin.listVMSnapshot(virtualmachineid=vm["id"], name="after")["count"] == 1
        # The ids are stable: the same snapshot is found by its id later.
        assert admin.listVMSnapshot(vmsnapshotid=listed[0]["id"], virtualmachineid=vm["id"])["count"] == 1
        bed.behave(ListSnapshots={"output": "cannot reach the hypervisor", "exit": 1})
        error = _error(admin.listVMSnapshot, virtualmachineid=vm["id"])
        assert error["errorcode"] == 530 and "cannot reach the hypervisor" in error["errortext"]
    finally:
        bed.behave()
        admin.deleteCustomAction(id=action["id"])
    assert admin.listSnapshots(virtualmachineid=vm["id"]).get("snapshot") is None
    ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
