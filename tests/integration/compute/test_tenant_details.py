"""What an admin configured stays with admins, and a tenant's deploy-time external details add to it but
never override it: template details never reach a user through listVirtualMachines or job results, and
reserved or admin-set keys given at deploy time are refused - on a real server, through real extension runs."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException

from tests.integration.compute.env import Bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

# What build_bed's template, offering, host and cluster set (External: keys).
TEMPLATE_KEYS = {"template_type", "template_id", "cpu_type"}
OFFERING_KEYS = {"cpu_type", "vm_name", "disk"}


def _user(bed: Bed, server: ServerProcess) -> tuple[CloudStack, dict[str, Any], dict[str, Any]]:
    account, keys = create_account_with_keys(bed.admin, prefix="sbt-td")
    user = cs_client(server, keys)
    network = user.createNetwork(zoneid=bed.zone["id"], name=unique("tn"),
                                 networkofferingid=bed.network["networkofferingid"])["network"]
    return user, account, network


def _external(details: dict[str, str]) -> set[str]:
    return {key.removeprefix("External:") for key in details if key.startswith("External:")}


def _refused(call: Any, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as failure:
        call(**params)
    assert failure.value.error["errorcode"] == 431
    return str(failure.value.error["errortext"])


def test_template_details_reach_the_extension_but_not_the_user(bed: Bed, compute_server: ServerProcess) -> None:
    user, _account, network = _user(bed, compute_server)
    bed.behave(prepare={"output": '{"details": {"prepared_by": "extension"}}'})
    try:
        answer = bed.deploy(user, name=unique("td"), networkids=network["id"],
                            **{"externaldetails[0].mine": "tenant-value"})
        job = wait_job(user, answer["jobid"])
    finally:
        bed.behave()
    assert job["jobstatus"] == 1, job
    shown_in_job = job["jobresult"]["virtualmachine"]["details"]
    listed = user.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["details"]
    for details in (shown_in_job, listed):
        # the user's own key and what the extension's prepare added; nothing of the template or the offering
        assert _external(details) == {"mine"} and details["prepared_by"] == "extension"
    as_admin = bed.admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["details"]
    assert TEMPLATE_KEYS | OFFERING_KEYS | {"mine"} <= _external(as_admin)
    create = next(c for c in bed.calls_for(answer["id"]) if c["action"] == "create")
    group = create["payload"]["externaldetails"]["virtualmachine"]
    assert group["template_id"] == "9000" and group["mine"] == "tenant-value" and group["disk"] == "ssd"


def test_a_tenant_adds_keys_but_never_overrides_admin_set_or_reserved_ones(
        bed: Bed, compute_server: ServerProcess) -> None:
    user, _account, network = _user(bed, compute_server)

    def deploy(key: str, client: CloudStack | None = None) -> str:
        return _refused(bed.deploy, client=client or user, name=unique("ov"), networkids=network["id"],
                        startvm=False, **{"externaldetails[0]." + key: "x"})

    for key in ("image", "image_url", "kernel", "initrd", "storage", "net", "data_disks", "root_disk_size"):
        assert deploy(key).startswith(f"externaldetails may not set {key}: reserved")
    for key, who in (("template_id", "template"), ("cpu_type", "offering"), ("node", "host"),
                     ("zone_tag", "cluster")):
        assert deploy(key).startswith(f"externaldetails may not override {key}: set by"), who
    assert "the server sets it" in deploy("cloudstack.vlan")
    assert "the server sets it" in deploy("cloudstack.vlan", client=bed.admin)  # nobody may
    assert user.listVirtualMachines() == {}  # nothing was created by the refusals


def test_a_root_admin_may_override_and_what_it_sets_stays_hidden(bed: Bed, compute_server: ServerProcess) -> None:
    user, account, network = _user(bed, compute_server)
    vm = ok(bed.admin, bed.deploy(bed.admin, name=unique("ao"), networkids=network["id"], account=account["name"],
                                  domainid=account["domainid"], **{"externaldetails[0].template_id": "9100",
                                                                   "externaldetails[0].image": "special.ext4"}))
    create = next(c for c in bed.calls_for(vm["id"]) if c["action"] == "create")
    group = create["payload"]["externaldetails"]["virtualmachine"]
    assert group["template_id"] == "9100" and group["image"] == "special.ext4"
    assert _external(user.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["details"]) == set()
