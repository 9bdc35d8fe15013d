"""SSH key pairs and user data: stored per account, given at deploy, and handed to the extension where
CloudStack puts them — the `SSH.PublicKey` detail and the `vmData` of the VM TO of `create` and `start`
(never of `prepare`), with `configDriveLabel`."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

USER_DATA = "#cloud-config\nruncmd:\n - echo hello\n"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _public_key(tmp_path: Path, name: str) -> str:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", str(key)], check=True)
    return (tmp_path / f"{name}.pub").read_text().strip()


def _refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as raised:
        call(**params)
    error: dict[str, Any] = raised.value.error
    return error


def _payload(bed: Bed, vm_id: str, action: str) -> dict[str, Any]:
    calls = [c for c in bed.calls_for(vm_id) if c["action"] == action]
    assert calls, f"no {action} for {vm_id}: {bed.actions_for(vm_id)}"
    payload: dict[str, Any] = calls[-1]["payload"]
    return payload


def test_key_pairs_are_registered_created_listed_and_deleted_per_account(
        bed: Bed, compute_server: ServerProcess, tmp_path: Path) -> None:
    admin = bed.admin
    public = _public_key(tmp_path, "k1")
    name = unique("kp")
    registered = admin.registerSSHKeyPair(name=name, publickey=public)["keypair"]
    # Stored without its comment; the fingerprint is the MD5 of the key blob (ssh-keygen -E md5 says so).
    md5 = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "k1.pub")], capture_output=True,
                         text=True, check=True).stdout.split()[1].removeprefix("MD5:")
    assert registered["fingerprint"] == md5
    assert registered["name"] == name and registered["account"] == "admin"

    error = _refused(admin.registerSSHKeyPair, name=name, publickey=public)
    assert error["errorcode"] == 431
    assert error["errortext"] == f"A key pair with name '{name}' already exists for this account."
    error = _refused(admin.registerSSHKeyPair, name=unique("kp"), publickey=public)
    assert error["errortext"] == f"A key pair with key '{public}' already exists for this account."
    error = _refused(admin.registerSSHKeyPair, name=unique("kp"), publickey="ssh-rsa bm90IGEga2V5")
    assert (error["errorcode"], error["errortext"]) == (431, "Public key is invalid")

    created = admin.createSSHKeyPair(name=unique("kc"))["keypair"]
    assert created["privatekey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    listed = admin.listSSHKeyPairs(name=created["name"])["sshkeypair"]
    assert listed == [{k: v for k, v in created.items() if k != "privatekey"}]  # never shown again

    # Another account sees only its own; it may use the same name.
    _account, keys = create_account_with_keys(admin, prefix="sbt-kp")
    user = cs_client(compute_server, keys)
    assert user.listSSHKeyPairs().get("sshkeypair") is None
    mine = user.registerSSHKeyPair(name=name, publickey=public)["keypair"]
    assert [p["id"] for p in user.listSSHKeyPairs()["sshkeypair"]] == [mine["id"]]
    assert {p["id"] for p in admin.listSSHKeyPairs(listall=True, name=name)["sshkeypair"]} == \
        {mine["id"], registered["id"]}

    assert admin.deleteSSHKeyPair(name=created["name"]) == {"success": True}
    error = _refused(admin.deleteSSHKeyPair, name=created["name"])
    assert error["errortext"].startswith(f"A key pair with name '{created['name']}' does not exist for account admin")
    events = admin.listEvents(type="REGISTER.SSH.KEYPAIR", keyword=name)
    assert events.get("count", 0) >= 1


def test_deploy_hands_keys_and_user_data_to_create_and_start_not_prepare(bed: Bed, tmp_path: Path) -> None:
    admin = bed.admin
    first, second = _public_key(tmp_path, "a"), _public_key(tmp_path, "b")
    pairs = [unique("ka"), unique("kb")]
    for name, key in zip(pairs, (first, second), strict=True):
        admin.registerSSHKeyPair(name=name, publickey=key)
    vm = ok(admin, bed.deploy(name=unique("gd"), keypairs=",".join(pairs), userdata=_b64(USER_DATA)))
    assert vm["keypairs"] == ",".join(pairs)

    create = _payload(bed, vm["id"], "create")["cloudstack.vm.details"]
    keys = "\n".join(" ".join(k.split()[:2]) for k in (first, second))
    assert create["details"]["SSH.PublicKey"] == keys
    assert create["details"]["SSH.KeyPairNames"] == ",".join(pairs)
    data = {(folder, name): content for folder, name, content in create["vmData"]}
    assert base64.b64decode(data[("userdata", "user_data")]).decode() == USER_DATA
    assert data[("metadata", "public-keys")] == keys
    assert data[("metadata", "local-hostname")] == vm["name"]
    assert data[("metadata", "instance-id")] == data[("metadata", "vm-id")] == vm["id"]
    assert data[("metadata", "availability-zone")] == bed.zone["name"]
    assert data[("metadata", "local-ipv4")] == vm["nic"][0]["ipaddress"]
    assert create["configDriveLabel"] == "config-2"
    # The order of the TO's fields is CloudStack's: vmData and configDriveLabel after nics.
    order = list(create)
    assert order.index("nics") < order.index("vmData") < order.index("configDriveLabel") < \
        order.index("configDriveLocation")
    # prepare runs before CloudStack builds the guest's data.
    assert "vmData" not in _payload(bed, vm["id"], "prepare")["cloudstack.vm.details"]

    ok(admin, admin.stopVirtualMachine(id=vm["id"]))
    ok(admin, admin.startVirtualMachine(id=vm["id"]))
    start = _payload(bed, vm["id"], "start")["cloudstack.vm.details"]
    assert start["vmData"] == create["vmData"]
    stop = _payload(bed, vm["id"], "stop")["cloudstack.vm.details"]
    assert "vmData" not in stop and stop["details"]["SSH.PublicKey"] == keys

    assert admin.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"] == \
        {"virtualmachineid": vm["id"], "userdata": _b64(USER_DATA)}
    listed = admin.listVirtualMachines(id=vm["id"], userdata=True)["virtualmachine"][0]
    assert listed["userdata"] == _b64(USER_DATA)
    assert "userdata" not in admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert [v["id"] for v in admin.listVirtualMachines(keypair=pairs[1])["virtualmachine"]] == [vm["id"]]


def test_unknown_key_pairs_and_bad_user_data_are_refused_before_anything_is_made(bed: Bed) -> None:
    admin = bed.admin
    before = admin.listVirtualMachines(listall=True).get("count", 0)
    base = {"zoneid": bed.zone["id"], "templateid": bed.template["id"], "serviceofferingid": bed.offering["id"],
            "networkids": bed.network["id"]}
    error = _refused(admin.deployVirtualMachine, **base, keypair=unique("nokey"))
    assert (error["errorcode"], error["errortext"]) == (431, "Not all specified keypairs exist")
    error = _refused(admin.deployVirtualMachine, **base, userdata="not base64 !")
    assert (error["errorcode"], error["errortext"]) == (431, "User data is not base64 encoded.")
    registered = admin.registerUserData(name=unique("ud"), userdata=_b64("#!/bin/sh\necho hi\n"))["userdata"]
    error = _refused(admin.deployVirtualMachine, **base, userdata=_b64("x"), userdataid=registered["id"])
    assert error["errortext"] == "Both userdata and userdata ID inputs are not allowed, please provide only one"
    assert admin.listVirtualMachines(listall=True).get("count", 0) == before


def test_registered_user_data_with_variables_reaches_the_guest_and_is_kept_while_used(bed: Bed) -> None:
    admin = bed.admin
    content = _b64("#cloud-config\nhostname: {{ ds.meta_data.role }}\n")
    registered = admin.registerUserData(name=unique("ud"), userdata=content, params="role")["userdata"]
    assert registered["params"] == "role" and registered["userdata"] == content
    error = _refused(admin.registerUserData, name=unique("ud"), userdata=content)
    assert error["errortext"] == f"Userdata {registered['name']} with same content already exists for this account."

    vm = ok(admin, bed.deploy(name=unique("ud"), userdataid=registered["id"], userdatadetails={"role": "web"}))
    assert (vm["userdataid"], vm["userdataname"], vm["userdatadetails"]) == \
        (registered["id"], registered["name"], "{role=web}")
    data = {(f, n): c for f, n, c in _payload(bed, vm["id"], "create")["cloudstack.vm.details"]["vmData"]}
    assert data[("userdata", "user_data")] == content and data[("metadata", "role")] == "web"
    assert [v["id"] for v in admin.listVirtualMachines(userdataid=registered["id"])["virtualmachine"]] == [vm["id"]]

    error = _refused(admin.deleteUserData, id=registered["id"])
    assert (error["errorcode"], error["errortext"]) == \
        (530, f"Userdata {registered['name']} cannot be removed as it is being used by some VMs")
    ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    assert admin.deleteUserData(id=registered["id"]) == {"success": True}
    assert admin.listUserData(id=registered["id"]).get("userdata") is None


def test_users_cannot_use_other_accounts_key_pairs_or_user_data(bed: Bed, compute_server: ServerProcess,
                                                                 tmp_path: Path) -> None:
    admin = bed.admin
    name = unique("ko")
    admin.registerSSHKeyPair(name=name, publickey=_public_key(tmp_path, "o"))
    registered = admin.registerUserData(name=unique("uo"), userdata=_b64("#!/bin/sh\ntrue\n"))["userdata"]
    _account, keys = create_account_with_keys(admin, prefix="sbt-gu")
    user: CloudStack = cs_client(compute_server, keys)
    base = {"zoneid": bed.zone["id"], "templateid": bed.template["id"], "serviceofferingid": bed.offering["id"],
            "networkids": bed.network["id"]}
    assert _refused(user.deployVirtualMachine, **base, keypair=name)["errortext"] == "Not all specified keypairs exist"
    assert _refused(user.deployVirtualMachine, **base, userdataid=registered["id"])["errorcode"] == 531
    assert _refused(user.deleteUserData, id=registered["id"])["errorcode"] == 531
    assert user.listUserData().get("userdata") is None


def test_external_instances_refuse_resetting_keys_user_data_scale_and_restore_as_cloudstack(bed: Bed) -> None:
    admin = bed.admin
    vm = ok(admin, bed.deploy(name=unique("rf")))
    expected = {"errorcode": 431, "errortext": f"Operation not supported for instance: {vm['name']}"}
    for command, extra in (("resetSSHKeyForVirtualMachine", {"keypair": "any"}),
                           ("scaleVirtualMachine", {"serviceofferingid": bed.offering["id"]}),
                           ("restoreVirtualMachine", {})):
        params = {"id": vm["id"], **extra} if command != "restoreVirtualMachine" else {"virtualmachineid": vm["id"]}
        job = wait_job(admin, getattr(admin, command)(**params)["jobid"])
        assert job["jobstatus"] == 2, job
        assert {k: job["jobresult"][k] for k in expected} == expected
    error = _refused(admin.resetUserDataForVirtualMachine, id=vm["id"], userdata=_b64("x"))
    assert {k: error[k] for k in expected} == expected
