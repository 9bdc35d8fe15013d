"""Projects: made with their own account, used by their members through `projectid` (instances, key pairs,
user data), listed to members only, and deleted only once they own nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as raised:
        call(**params)
    error: dict[str, Any] = raised.value.error
    return error


def _result(client: CloudStack, answer: dict[str, Any]) -> dict[str, Any]:
    job = wait_job(client, answer["jobid"])
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"]
    return result


def test_a_project_owns_what_its_members_make_in_it(bed: Bed, compute_server: ServerProcess) -> None:
    admin = bed.admin
    owner_account, owner_keys = create_account_with_keys(admin, prefix="sbt-po")
    member = cs_client(compute_server, owner_keys)
    _other_account, other_keys = create_account_with_keys(admin, prefix="sbt-px")
    outsider = cs_client(compute_server, other_keys)

    name = unique("proj")
    answer = member.createProject(name=name, displaytext="A project")
    assert answer["id"]
    project = _result(member, answer)["project"]
    assert (project["name"], project["state"]) == (name, "Active")
    assert project["owner"] == [{"account": owner_account["name"]}]
    assert project["projectaccountname"].startswith(f"PrjAcct-{name}-")
    # The project's own account is not listed as an account.
    assert all(not a["name"].startswith("PrjAcct-") for a in admin.listAccounts(listall=True)["account"])
    assert [p["id"] for p in member.listProjects()["project"]] == [project["id"]]
    assert outsider.listProjects().get("project") is None
    assert project["id"] in {p["id"] for p in admin.listProjects(listall=True)["project"]}
    error = _error(member.createProject, name=name, displaytext="again")
    assert error["errorcode"] == 431 and "already exists" in error["errortext"]

    # Members make things in the project; they belong to the project, not to the member's account.
    pair = member.createSSHKeyPair(name=unique("pk"), projectid=project["id"])["keypair"]
    assert (pair["projectid"], pair["project"]) == (project["id"], name) and "account" not in pair
    assert member.listSSHKeyPairs().get("sshkeypair") is None
    assert [p["id"] for p in member.listSSHKeyPairs(projectid=project["id"])["sshkeypair"]] == [pair["id"]]
    content = base64.b64encode(b"#!/bin/sh\ntrue\n").decode()
    data = member.registerUserData(name=unique("pu"), userdata=content, projectid=project["id"])["userdata"]
    assert data["projectid"] == project["id"]
    network = member.createNetwork(zoneid=bed.zone["id"], name=unique("pn"), displaytext="n",
                                   networkofferingid=bed.network["networkofferingid"],
                                   projectid=project["id"])["network"]
    assert network["id"] in {n["id"] for n in member.listNetworks(projectid=project["id"])["network"]}
    assert network["id"] not in {n["id"] for n in member.listNetworks().get("network", [])}
    vm = ok(member, bed.deploy(member, networkids=network["id"], name=unique("pv"), projectid=project["id"],
                               keypair=pair["name"], startvm=False))
    assert (vm["projectid"], vm["project"]) == (project["id"], name) and "account" not in vm
    assert vm["keypairs"] == pair["name"]
    assert member.listVirtualMachines().get("virtualmachine") is None
    assert [v["id"] for v in member.listVirtualMachines(projectid=project["id"])["virtualmachine"]] == [vm["id"]]
    assert _error(outsider.listVirtualMachines, projectid=project["id"])["errorcode"] == 531
    assert _error(outsider.createSSHKeyPair, name=unique("x"), projectid=project["id"])["errorcode"] == 531

    # Deleting it is refused while it owns an instance (CloudStack's text); then it goes with its pairs.
    error = _error(member.deleteProject, id=project["id"])  # checked before the job is queued
    assert (error["errorcode"], error["errortext"]) == \
        (530, "Can't delete the project yet because it has 1 UserVm to clean up")
    ok(member, member.destroyVirtualMachine(id=vm["id"]))
    ok(admin, admin.expungeVirtualMachine(id=vm["id"]))
    error = _error(member.deleteProject, id=project["id"])
    assert error["errortext"] == "Can't delete the project yet because it has 1 Network to clean up"
    wait_job(member, member.deleteNetwork(id=network["id"])["jobid"])  # a member deletes the project's network
    assert _result(member, member.deleteProject(id=project["id"])) == {"success": True}
    assert member.listProjects().get("project") is None
    assert admin.listSSHKeyPairs(listall=True, name=pair["name"]).get("sshkeypair") is None
    assert admin.listEvents(type="PROJECT.DELETE", keyword=name).get("count", 0) >= 1


def test_only_project_admins_change_a_project_and_suspended_projects_take_nothing_new(
        bed: Bed, compute_server: ServerProcess) -> None:
    admin = bed.admin
    _account, keys = create_account_with_keys(admin, prefix="sbt-ps")
    owner = cs_client(compute_server, keys)
    project = _result(owner, owner.createProject(name=unique("ps"), displaytext="before"))["project"]
    changed = _result(owner, owner.updateProject(id=project["id"], displaytext="after"))["project"]
    assert changed["displaytext"] == "after"
    suspended = _result(owner, owner.suspendProject(id=project["id"]))["project"]
    assert suspended["state"] == "Suspended"
    error = _error(owner.createSSHKeyPair, name=unique("sk"), projectid=project["id"])
    assert error["errorcode"] == 531 and "not in Active state" in error["errortext"]
    assert _result(admin, admin.activateProject(id=project["id"]))["project"]["state"] == "Active"
    _other, other_keys = create_account_with_keys(admin, prefix="sbt-pz")
    other = cs_client(compute_server, other_keys)
    assert _error(other.updateProject, id=project["id"], displaytext="x")["errorcode"] == 531
    assert _result(owner, owner.deleteProject(id=project["id"])) == {"success": True}
