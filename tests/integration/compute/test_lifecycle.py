"""The instance lifecycle over real HTTP with a recording extension: the action sequence of §1.2, every
payload field of §2, prepare merging (§2.6), listVirtualMachines."""

from __future__ import annotations

import pytest

from tests.integration.compute.env import Bed, ok, unique

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
