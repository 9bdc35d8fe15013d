"""On the session's shared server (its log is searched for secrets): a compute bed whose extension is the
recording executable of tests.integration.compute.env, and callers of every role type with instances.

    world.admin / world.user / world.other / world.domain_admin / world.resource_admin   (cs clients)
    world.user_vm (owned by `user`), world.admin_vm (owned by the admin), world.bed (zone, extension, ...)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from cs import CloudStack

from tests.integration.compute.env import Bed, build_bed, ok, unique, wait_job
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

USER, DOMAIN_ADMIN, RESOURCE_ADMIN = 0, 2, 3  # createAccount accounttype


@dataclass
class World:
    server: ServerProcess
    bed: Bed
    admin: CloudStack
    user: CloudStack
    other: CloudStack
    domain_admin: CloudStack
    resource_admin: CloudStack
    user_vm: dict[str, Any]
    admin_vm: dict[str, Any]

    def add(self, **params: Any) -> dict[str, Any]:
        """addCustomAction on the bed's extension with a unique name; enabled and for everyone unless told."""
        args: dict[str, Any] = {"extensionid": self.bed.extension["id"], "name": unique("act"), "enabled": True,
                                "allowedroletypes": "Admin,ResourceAdmin,DomainAdmin,User", **params}
        action: dict[str, Any] = self.admin.addCustomAction(**args)["extensioncustomaction"]
        return action

    def run(self, client: CloudStack, action: dict[str, Any], vm: dict[str, Any] | None = None,
            **params: Any) -> dict[str, Any]:
        """runCustomAction and the finished job (queryAsyncJobResult's answer)."""
        answer = client.runCustomAction(customactionid=action["id"], resourceid=(vm or self.admin_vm)["id"], **params)
        return wait_job(client, answer["jobid"])

    def calls(self, action: dict[str, Any]) -> list[dict[str, Any]]:
        """What the recording executable saw for runs of `action` (argv, payload, ...)."""
        return [call for call in self.bed.calls() if call["action"] == action["name"]]


def result_of(job: dict[str, Any]) -> dict[str, Any]:
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"]["customactionresult"]
    return result


def failure_of(job: dict[str, Any]) -> str:
    assert job["jobstatus"] == 2, job
    text: str = job["jobresult"]["errortext"]
    return text


@pytest.fixture(scope="package")
def world(api_server: ServerProcess, admin_cs: CloudStack) -> World:
    admin = admin_cs
    bed = build_bed(api_server, admin, requires_prepare=False)
    clients = {}
    for label, kind in (("user", USER), ("other", USER), ("domain_admin", DOMAIN_ADMIN),
                        ("resource_admin", RESOURCE_ADMIN)):
        _account, keys = create_account_with_keys(admin, prefix=f"sbt-ca{kind}", account_type=kind,
                                                  password=f"pw-{uuid.uuid4().hex}")
        clients[label] = cs_client(api_server, keys)
    user = clients["user"]
    offering = next(o["id"] for o in user.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = user.createNetwork(zoneid=bed.zone["id"], name=unique("sbt-un"), networkofferingid=offering)["network"]
    user_vm = ok(user, bed.deploy(user, name=unique("uvm"), networkids=network["id"]))
    admin_vm = ok(admin, bed.deploy(name=unique("avm")))
    return World(server=api_server, bed=bed, admin=admin, user=user, other=clients["other"],
                 domain_admin=clients["domain_admin"], resource_admin=clients["resource_admin"],
                 user_vm=user_vm, admin_vm=admin_vm)
