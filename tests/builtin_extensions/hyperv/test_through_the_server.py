"""The seeded HyperV built-in through a real Switchboard server and its CloudStack API, against the WinRM
stand-in: register a cluster, a host and a template, deploy, stop/start/reboot, the Suspend/Resume and
checkpoint custom actions, power sync noticing an instance turned off on the host, destroy with expunge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.builtin_extensions.hyperv.conftest import PASSWORD, TEMPLATE, USER
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn
from tests.integration.compute.env import ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

ENV = {"SWITCHBOARD_EXTENSION_WAIT": "60", "SWITCHBOARD_POWER_SYNC_INTERVAL": "2",
       "SWITCHBOARD_ADMIN_PASSWORD": "sbt-hyperv-admin"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with start_server(tmp_path / "server", env=ENV) as running:
        yield running


def _cloud(admin: CloudStack, standin: WinRMStandIn, certificates: Certificates) -> dict[str, Any]:
    """Zone, pod, a cluster of the HyperV extension, a host with the WinRM details, a template, an offering and
    a network on VLAN 1577."""
    [hyperv] = admin.listExtensions(name="HyperV")["extension"]
    zone = admin.createZone(name=unique("hv-z"), networktype="Advanced", dns1="8.8.8.8",
                            internaldns1="10.0.0.2")["zone"]
    pod = admin.createPod(zoneid=zone["id"], name=unique("hv-p"), gateway="10.0.0.1", netmask="255.255.255.0",
                          startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster = admin.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("hv-c"),
                               clustertype="CloudManaged", hypervisor="External",
                               extensionid=hyperv["id"])["cluster"][0]
    details = {"url": f"127.0.0.1:{standin.port}", "username": USER, "password": PASSWORD,
               "network_bridge": "External", "vhd_path": "D:\\VHDs", "vm_path": "D:\\VMs",
               "ca_bundle": str(certificates.ca)}
    host = admin.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], url="http://hv01",
                         username="external", password="external", hypervisor="External",
                         **{f"externaldetails[0].{k}": v for k, v in details.items()})["host"][0]
    template = admin.registerTemplate(
        name=unique("hv-t"), displaytext="Ubuntu 22.04", format="EXTERNAL", hypervisor="External",
        url="http://dummy", zoneid=zone["id"], extensionid=hyperv["id"], ispublic=True,
        **{"externaldetails[0].template_type": "template", "externaldetails[0].template_path": TEMPLATE,
           "externaldetails[0].generation": "2"})["template"][0]
    offering = admin.createServiceOffering(name=unique("hv-so"), displaytext="so", cpunumber=2, cpuspeed=1000,
                                           memory=1024)["serviceoffering"]
    isolated = next(o for o in admin.listNetworkOfferings()["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = admin.createNetwork(zoneid=zone["id"], name=unique("hv-n"), networkofferingid=isolated["id"],
                                  vlan="1577")["network"]
    return {"extension": hyperv, "zone": zone, "host": host, "template": template, "offering": offering,
            "network": network}


def _run(admin: CloudStack, actions: dict[str, str], name: str, vm: dict[str, Any],
         **parameters: str) -> dict[str, Any]:
    answer = admin.runCustomAction(customactionid=actions[name], resourceid=vm["id"],
                                   **{f"parameters[0].{k}": v for k, v in parameters.items()})
    job = wait_job(admin, answer["jobid"], timeout=90)
    assert job["jobstatus"] == 1, job
    result: dict[str, Any] = job["jobresult"]["customactionresult"]
    assert result["success"] is True, result
    return result


def test_the_hyperv_builtin_runs_a_whole_lifecycle_through_the_server(
        server: ServerProcess, standin: WinRMStandIn, certificates: Certificates) -> None:
    admin = cs_client(server, api_keys_of(server))
    cloud = _cloud(admin, standin, certificates)
    hyperv = cloud["extension"]
    assert (hyperv["state"], hyperv["pathready"], hyperv["isuserdefined"]) == ("Enabled", True, False)
    installed = Path(hyperv["path"])
    assert installed.name == "hyperv.py" and not installed.read_text().startswith("#!/usr/bin/env")

    answer = admin.deployVirtualMachine(zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"],
                                        serviceofferingid=cloud["offering"]["id"], networkids=cloud["network"]["id"],
                                        name=unique("web"))
    vm = ok(admin, answer)
    assert vm["state"] == "Running", vm
    [listed] = admin.listVirtualMachines(id=vm["id"])["virtualmachine"]
    machine = standin.host.vm(listed["instancename"])
    [nic] = listed["nic"]
    assert (machine.state, machine.generation, machine.processors, machine.memory) == ("Running", 2, 2, 1024 * 2**20)
    assert [(a.name, a.switch, a.mac, a.vlan) for a in machine.adapters] == [
        ("NIC1", "External", nic["macaddress"].replace(":", "").upper(), 1577)]

    ok(admin, admin.stopVirtualMachine(id=vm["id"]))
    assert machine.state == "Off"
    ok(admin, admin.startVirtualMachine(id=vm["id"]))
    assert machine.state == "Running"
    standin.commands.clear()
    ok(admin, admin.rebootVirtualMachine(id=vm["id"]))
    assert any("Restart-VM -VM $vm -Force" in script for script in standin.scripts)

    actions = {a["name"]: a["id"] for a in admin.listCustomActions(extensionid=hyperv["id"])["extensioncustomaction"]}
    assert set(actions) == {"ListSnapshots", "CreateSnapshot", "RestoreSnapshot", "DeleteSnapshot", "Suspend",
                            "Resume"}
    suspended = _run(admin, actions, "Suspend", vm)
    assert json.loads(suspended["result"]["details"])["status"] == "success" and machine.state == "Paused"
    _run(admin, actions, "Resume", vm)
    assert machine.state == "Running"
    _run(admin, actions, "CreateSnapshot", vm, snapshot_name="before upgrade")
    listing = json.loads(_run(admin, actions, "ListSnapshots", vm)["result"]["details"])
    assert listing["printmessage"] == "true" and [row["name"] for row in listing["message"]] == ["before upgrade"]
    _run(admin, actions, "RestoreSnapshot", vm, snapshot_name="before upgrade")
    assert machine.state == "Running" and machine.current is not None
    _run(admin, actions, "DeleteSnapshot", vm, snapshot_name="before upgrade")
    assert machine.snapshots == []

    machine.state = "Off"  # turned off on the host, behind Switchboard's back
    eventually(lambda: admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Stopped",
               what="power sync to notice the instance was turned off", timeout=60)

    ok(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
    assert standin.host.vms == []
    assert standin.host.file_paths() == {TEMPLATE, "C:\\ISO\\ubuntu-22.04.iso"}
    assert PASSWORD not in server.log()
