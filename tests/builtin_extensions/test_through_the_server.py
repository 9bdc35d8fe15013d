"""The Proxmox and MaaS built-ins through a real Switchboard server, with its payloads: the seeded
extensions are Ready on a fresh install; an operator points them at Proxmox VE / MAAS (the stand-ins),
registers a cluster, host and template, deploys, stops, starts, reboots, runs a custom action, lets power
sync find an instance powered off behind its back, and destroys with expunge."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack

from tests.builtin_extensions.maas.maas_standin import MaasStandin
from tests.builtin_extensions.proxmox.pve_standin import ProxmoxStandin
from tests.builtin_extensions.standin import HttpsStandin, Tls, issue_tls
from tests.integration.compute.env import ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

PVE_SECRET = "0b6c2f1e-pve-token-secret"
ENV = {"SWITCHBOARD_EXTENSION_WAIT": "60", "SWITCHBOARD_POWER_SYNC_INTERVAL": "0.5",
       "SWITCHBOARD_ADMIN_PASSWORD": "sbt-builtins-admin"}


@dataclass
class World:
    server: ServerProcess
    admin: CloudStack
    tls: Tls
    zone: dict[str, Any]
    pod: dict[str, Any]
    offering: dict[str, Any]
    network: dict[str, Any]

    def extension(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.admin.listExtensions(name=name)["extension"][0]
        return found

    def cluster_host_template(self, extension: dict[str, Any], *, host: dict[str, str],
                              template: dict[str, str]) -> dict[str, Any]:
        """An External cluster registered to `extension`, a host with `host` details and a template."""
        cluster = self.admin.addCluster(zoneid=self.zone["id"], podid=self.pod["id"], clustername=unique("c"),
                                        clustertype="CloudManaged", hypervisor="External",
                                        extensionid=extension["id"])["cluster"][0]
        self.admin.addHost(zoneid=self.zone["id"], podid=self.pod["id"], clusterid=cluster["id"],
                           url=f"http://{unique('h')}", username="external", password="external",
                           hypervisor="External", **{f"externaldetails[0].{k}": v for k, v in host.items()})
        registered: dict[str, Any] = self.admin.registerTemplate(
            name=unique("t"), displaytext="t", format="EXTERNAL", hypervisor="External", url="http://dummy",
            zoneid=self.zone["id"], extensionid=extension["id"], ispublic=True,
            **{f"externaldetails[0].{k}": v for k, v in template.items()})["template"][0]
        return registered

    def deploy(self, template: dict[str, Any]) -> dict[str, Any]:
        return ok(self.admin, self.admin.deployVirtualMachine(
            zoneid=self.zone["id"], templateid=template["id"], serviceofferingid=self.offering["id"],
            networkids=self.network["id"], name=unique("vm")))

    def vm(self, vm: dict[str, Any]) -> dict[str, Any]:
        listed: dict[str, Any] = self.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
        return listed

    def state(self, vm: dict[str, Any]) -> str:
        return str(self.vm(vm)["state"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory: Path = tmp_path_factory.mktemp("builtins-server")
    with start_server(directory, env=ENV) as server:
        admin = cs_client(server, api_keys_of(server))
        zone = admin.createZone(name=unique("z"), networktype="Advanced", dns1="8.8.8.8",
                                internaldns1="10.0.0.2")["zone"]
        pod = admin.createPod(zoneid=zone["id"], name=unique("p"), gateway="10.0.0.1", netmask="255.255.255.0",
                              startip="10.0.0.10", endip="10.0.0.20")["pod"]
        offering = admin.createServiceOffering(name=unique("so"), displaytext="so", cpunumber=2, cpuspeed=1000,
                                               memory=2048)["serviceoffering"]
        isolated = next(o for o in admin.listNetworkOfferings()["networkoffering"]
                        if o["name"] == "DefaultIsolatedNetworkOffering")
        network = admin.createNetwork(zoneid=zone["id"], name=unique("n"), networkofferingid=isolated["id"],
                                      vlan="1577")["network"]
        yield World(server=server, admin=admin, tls=issue_tls(directory), zone=zone, pod=pod, offering=offering,
                    network=network)


def test_the_builtins_are_ready_on_a_fresh_install(world: World) -> None:
    for name, path in (("Proxmox", "Proxmox/proxmox.py"), ("MaaS", "MaaS/maas.py")):
        extension = world.extension(name)
        assert (extension["state"], extension["pathready"], extension["isuserdefined"]) == ("Enabled", True, False)
        assert extension["path"].endswith(path) and "Sample extension" not in extension["description"]


def test_proxmox_lifecycle(world: World) -> None:
    pve = ProxmoxStandin(secret=PVE_SECRET)
    pve.add_template(9000)
    with HttpsStandin(pve, world.tls) as server:
        extension = world.extension("Proxmox")
        world.admin.updateExtension(id=extension["id"], details={
            "url": f"https://127.0.0.1:{server.port}", "user": "root@pam", "token": "cloudstack",
            "secret": PVE_SECRET, "ca_certificate": world.tls.ca_pem})
        template = world.cluster_host_template(extension, host={"node": "pve1", "network_bridge": "vmbr0"},
                                               template={"template_type": "template", "template_id": "9000"})
        vm = world.deploy(template)
        [vmid] = [v for v in pve.vms if v != 9000]
        made = pve.vms[vmid]
        assert (made.status, made.config["cores"], made.config["memory"]) == ("running", "2", "2048")
        assert made.config["net0"].endswith(",bridge=vmbr0,tag=1577") and world.vm(vm)["instancename"] in \
            made.config["tags"]
        assert made.config["net0"].startswith(f"virtio={world.vm(vm)['nic'][0]['macaddress']},")

        ok(world.admin, world.admin.stopVirtualMachine(id=vm["id"]))
        assert made.status == "stopped"
        ok(world.admin, world.admin.startVirtualMachine(id=vm["id"]))
        assert made.status == "running"
        ok(world.admin, world.admin.rebootVirtualMachine(id=vm["id"]))
        assert any(t.type == "qmreboot" for t in pve.tasks.values())

        actions = {a["name"]: a for a in world.admin.listCustomActions(extensionid=extension["id"])
                   ["extensioncustomaction"]}
        job = wait_job(world.admin, world.admin.runCustomAction(
            customactionid=actions["CreateSnapshot"]["id"], resourceid=vm["id"],
            **{"parameters[0].snap_name": "nightly", "parameters[0].snap_save_memory": "true"})["jobid"])
        result = job["jobresult"]["customactionresult"]
        assert result["success"] is True, result
        assert result["result"]["message"] == f"Snapshot created for {world.vm(vm)['instancename']} in Proxmox"
        assert made.snapshots["nightly"]["vmstate"] == 1

        made.status = "stopped"  # behind Switchboard's back
        eventually(lambda: world.state(vm) == "Stopped", what="power sync to see the VM off", timeout=30)

        ok(world.admin, world.admin.destroyVirtualMachine(id=vm["id"], expunge=True))
        eventually(lambda: vmid not in pve.vms, what="the VM to be deleted on expunge", timeout=30)


def test_maas_lifecycle_and_a_reboot_that_power_sync_does_not_take_for_a_stop(world: World) -> None:
    maas = MaasStandin()
    machine = maas.add_machine("srv042", hostname="metal-42", macs=("52:54:00:42:00:01",))
    maas.add_machine("srv043", hostname="metal-43", status_name="Deployed", owner="someone-else", power_state="on")
    maas.add_machine("srv044", hostname="metal-44", macs=("52:54:00:44:00:01",))
    with HttpsStandin(maas, world.tls) as server:
        extension = world.extension("MaaS")
        (consumer, token), (_user, secret) = next(iter(maas.keys.items()))
        world.admin.updateExtension(id=extension["id"], details={
            "endpoint": f"https://127.0.0.1:{server.port}/MAAS", "apikey": f"{consumer}:{token}:{secret}",
            "ca_certificate": world.tls.ca_pem})
        template = world.cluster_host_template(extension, host={}, template={"os": "ubuntu", "distro_series": "noble"})
        vm = world.deploy(template)
        listed = world.vm(vm)
        assert (machine.status_name, machine.distro_series, machine.power_state) == ("Deployed", "noble", "on")
        assert machine.owner_data == {"cloudstack_instance": listed["instancename"]}
        assert listed["nic"][0]["macaddress"] == "52:54:00:42:00:01"  # the machine's own NIC, from prepare

        ok(world.admin, world.admin.stopVirtualMachine(id=vm["id"]))
        assert machine.power_state == "off"
        ok(world.admin, world.admin.startVirtualMachine(id=vm["id"]))

        # Power sync postpones reports for an instance with a job under way, so a second instance keeps the
        # host asked during the reboot: the answers name the rebooting machine too.
        world.deploy(template)
        maas.hold_power_on.clear()  # the reboot's power-on will be slow: the machine stays off meanwhile
        rebooting = world.admin.rebootVirtualMachine(id=vm["id"])
        eventually(lambda: machine.power_state == "off" and machine.pending, what="the reboot's power-off")
        rounds = len([c for c in server.calls if c.path.endswith("/machines/") and c.method == "GET"])
        eventually(lambda: len([c for c in server.calls if c.path.endswith("/machines/") and c.method == "GET"])
                   >= rounds + 4, what="four power-sync rounds during the reboot")
        assert world.state(vm) == "Running" and machine.power_state == "off"
        maas.hold_power_on.set()
        ok(world.admin, rebooting)
        assert world.state(vm) == "Running" and machine.power_state == "on"

        machine.power_state = "off"  # now really off, behind Switchboard's back
        eventually(lambda: world.state(vm) == "Stopped", what="power sync to see the machine off", timeout=30)

        ok(world.admin, world.admin.destroyVirtualMachine(id=vm["id"], expunge=True))
        eventually(lambda: machine.status_name in ("Releasing", "Ready") and not machine.owner_data,
                   what="the machine to be released on expunge", timeout=30)
        assert maas.machines["srv043"].status_name == "Deployed"  # another user's machine, never touched
