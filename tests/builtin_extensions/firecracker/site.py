"""A cloud of the Firecracker extension on a management server, set up through the API as an operator does
(docs/operator-guide.md), the waits on async jobs and instance states that tests and benches share, and the
whole site (agent, server, cloud) the benches run on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cs import CloudStack

from tests.builtin_extensions.firecracker.agenthost import AgentHost, Pki, make_pki, template_details
from tests.support.server import ServerProcess

JOB_TIMEOUT = 300.0


def wait_job(admin: CloudStack, answer: dict[str, Any], poll: float = 0.2) -> dict[str, Any]:
    """The finished job of an async command's answer (queryAsyncJobResult every `poll` seconds)."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job: dict[str, Any] = admin.queryAsyncJobResult(jobid=answer["jobid"])
        if job["jobstatus"] != 0:
            return job
        time.sleep(poll)
    raise AssertionError(f"job {answer['jobid']} did not finish")


def succeeded(admin: CloudStack, answer: dict[str, Any]) -> dict[str, Any]:
    job = wait_job(admin, answer)
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"]
    return result


def vm_state(admin: CloudStack, vm_id: str) -> str:
    found = admin.listVirtualMachines(id=vm_id).get("virtualmachine") or [{"state": "Expunged"}]
    return str(found[0]["state"])


def wait_vm_state(admin: CloudStack, vm_id: str, state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (found := vm_state(admin, vm_id)) != state:
        assert time.monotonic() < deadline, f"instance is {found}, never {state}"
        time.sleep(0.5)


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns() % 10**9}"


def build_cloud(admin: CloudStack, agent: AgentHost, pki: Pki) -> dict[str, Any]:
    """What an operator does (docs/operator-guide.md): the seeded extension gets the CA bundle and client
    certificate once; a zone, pod and cluster of it; the agent's host with its address and credentials;
    a template naming the kernel, initrd and image on the host; an offering and a network."""
    extension = admin.listExtensions(name="Firecracker")["extension"][0]
    assert (extension["state"], extension["pathready"], extension["isuserdefined"]) == ("Enabled", True, False)
    cert, key = pki.client("mgmt")
    admin.updateExtension(id=extension["id"], details={"ca_bundle": str(pki.ca), "client_cert": str(cert),
                                                       "client_key": str(key)})
    zone = admin.createZone(name=unique("fc-z"), networktype="Advanced", dns1="8.8.8.8",
                            internaldns1="10.0.0.2")["zone"]
    pod = admin.createPod(zoneid=zone["id"], name=unique("fc-p"), gateway="10.0.0.1", netmask="255.255.255.0",
                          startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster = admin.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("fc-c"),
                               clustertype="CloudManaged", hypervisor="External",
                               extensionid=extension["id"])["cluster"][0]
    host_details = {k: v for k, v in agent.details().items() if k in ("url", "port", "username", "password")}
    host = admin.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], url=agent.url,
                         username="external", password="external", hypervisor="External",
                         **{f"externaldetails[0].{k}": v for k, v in host_details.items()})["host"][0]
    template = admin.registerTemplate(
        name=unique("fc-t"), displaytext="test guest", format="EXTERNAL", hypervisor="External",
        url="http://unused", zoneid=zone["id"], extensionid=extension["id"], ispublic=True,
        **{f"externaldetails[0].{k}": v for k, v in template_details().items()},
    )["template"][0]
    offering = admin.createServiceOffering(name=unique("fc-so"), displaytext="micro", cpunumber=1, cpuspeed=1000,
                                           memory=256)["serviceoffering"]
    isolated = next(o for o in admin.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = admin.createNetwork(zoneid=zone["id"], name=unique("fc-n"), networkofferingid=isolated["id"],
                                  vlan="1577")["network"]
    listed = admin.listCustomActions(extensionid=extension["id"])["extensioncustomaction"]
    actions = {action["name"]: action["id"] for action in listed}
    return {"zone": zone, "host": host, "template": template, "offering": offering, "network": network,
            "actions": actions}


@dataclass
class BenchSite:
    agent: AgentHost
    server: ServerProcess
    admin: CloudStack
    cloud: dict[str, Any]


@contextmanager
def bench_site(root: Path, env: dict[str, str], *, vmm: str = "qemu") -> Iterator[BenchSite]:
    """An agent and a management server under `root` (the agent's PAM users must exist: `pam_users()`), with
    the admin's client and a cloud tied to the agent; both processes are stopped afterwards."""
    pki = make_pki(root)
    agent = AgentHost(root / "host", pki, vmm=vmm)
    server = ServerProcess(data_dir=root / "server", env=env)
    try:
        agent.start()
        server.start()
        keys = json.loads(server.cli("admin", "api-keys", "--username", "admin").stdout)
        admin = CloudStack(endpoint=server.url, key=keys["apikey"], secret=keys["secretkey"])
        yield BenchSite(agent, server, admin, build_cloud(admin, agent, pki))
    finally:
        server.stop()
        agent.close()
