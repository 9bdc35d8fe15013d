"""`listApis` is complete: an OpenAPI document generated from it alone has a response schema for every
command, and the server's real answers through a representative run of the commands (every kind of object,
each field shown somewhere, async jobs' results and failures included) validate against it.

The same answers are held to the commands' response shapes both ways: a field a view returns that its
shape does not declare fails, and so does a declared field that no answer of the run carries (a short list
below names the few the run cannot produce, and why). A new object needs its place in this run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

import switchboard.api.commands  # noqa: F401  (registers every command)
from switchboard.api.commands.network_views import ALWAYS_EMPTY
from switchboard.api.commands.snapshots import VOLUME_SNAPSHOT
from switchboard.api.registry import REGISTRY
from switchboard.api.shapes import Shape
from tests.integration.compute.env import RECORDER, unique
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, signed_params, start_server
from tests.support.openapi import ERROR, openapi_document
from tests.support.server import ServerProcess

# Declared fields no answer of this run can carry, and why.
NOT_PRODUCED = {
    ("success", "displaytext"): "no command of Switchboard's answers a success with a text yet",
    ("host", "version"): "no Switchboard host reports a version",
    ("nic", "ip6address"): "only an extension's prepare output gives a NIC an IPv6 address",
    **{(shape.name, field.name): "no network has a virtual router: the list is always empty"
       for shape in ALWAYS_EMPTY for field in shape.fields},
    **{("snapshot", field.name): "External instances have no volume snapshots" for field in VOLUME_SNAPSHOT.fields},
}


class Run:
    """Signed calls of one caller, every answer kept (command, HTTP status, envelope)."""

    def __init__(self, server: ServerProcess, keys: dict[str, str], answers: list[tuple[str, int, Any]]) -> None:
        self.server, self.keys, self.answers = server, keys, answers

    def call(self, command: str, *, fails: bool = False, **params: Any) -> Any:
        request = {"command": command, "response": "json", **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                                               for k, v in params.items()}}
        reply = httpx.get(self.server.url, params=signed_params(request, self.keys), timeout=30)
        envelope = reply.json()
        self.answers.append((command, reply.status_code, envelope))
        assert (reply.status_code != 200) == fails, envelope
        return envelope[f"{command.lower()}response"]

    def job(self, command: str, *, fails: bool = False, **params: Any) -> Any:
        """Run an async command to its end; the job's result."""
        return self.wait(self.call(command, **params)["jobid"], fails=fails)

    def wait(self, jobid: str, *, fails: bool = False) -> Any:
        def finished() -> Any:
            job = self.call("queryAsyncJobResult", jobid=jobid)
            return job if job["jobstatus"] != 0 else None

        job = eventually(finished, what=f"job {jobid}", timeout=60)
        assert job["jobstatus"] == (2 if fails else 1), job
        return job["jobresult"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Path checks every second: an extension whose executable is missing raises an alert at once.
    env = {"SWITCHBOARD_EXTENSION_PATH_CHECK_INTERVAL": "1", "SWITCHBOARD_POWER_SYNC_INTERVAL": "3600"}
    with start_server(tmp_path_factory.mktemp("openapi"), env=env) as started:
        yield started


@pytest.fixture(scope="module")
def answers(server: ServerProcess) -> list[tuple[str, int, Any]]:
    """The representative run: every command's kind of object, as the admin and as a user."""
    kept: list[tuple[str, int, Any]] = []
    admin = Run(server, api_keys_of(server), kept)
    bed = _infrastructure(server, admin)
    _identity_and_instances(server, admin, kept, bed)
    _housekeeping(admin)
    return kept


def _infrastructure(server: ServerProcess, admin: Run) -> dict[str, Any]:
    for command in ("listApis", "listCapabilities", "listHypervisors", "listOsTypes", "listOsCategories",
                    "listRoles", "listManagementServers", "listConfigurations", "listNetworkOfferings"):
        admin.call(command)
    name = unique("oa")
    entry = server.data_dir / "extensions" / name / "recorder.py"
    entry.parent.mkdir(parents=True)
    entry.write_text(RECORDER)
    os.chmod(entry, 0o755)
    extension = admin.call("createExtension", name=name, type="Orchestrator", path="recorder.py",
                           description="the recorder", orchestratorrequirespreparevm=True,
                           **{"details[0].url": "https://10.0.0.5"})["extension"]
    admin.call("updateExtension", id=extension["id"], description="the recorder, again")
    zone = admin.call("createZone", name=unique("oa-z"), networktype="Advanced", dns1="8.8.8.8", dns2="8.8.4.4",
                      internaldns1="10.0.0.2", internaldns2="10.0.0.3", ip6dns1="2001:db8::1",
                      ip6dns2="2001:db8::2", guestcidraddress="10.1.0.0/16", domain="oa.example",
                      description="the run's zone")["zone"]
    admin.call("updateZone", id=zone["id"], description="the run's zone, again")
    pod = admin.call("createPod", zoneid=zone["id"], name=unique("oa-p"), gateway="10.0.0.1",
                     netmask="255.255.255.0", startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster = admin.call("addCluster", zoneid=zone["id"], podid=pod["id"], clustername=unique("oa-c"),
                         clustertype="CloudManaged", hypervisor="External", extensionid=extension["id"],
                         **{"externaldetails[0].zone_tag": "east"})["cluster"][0]
    admin.call("updateCluster", id=cluster["id"], clustername=unique("oa-c"))
    host = admin.call("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"],
                      url=f"http://{unique('oa-h')}", hypervisor="External", username="external",
                      password="external")["host"][0]
    admin.call("updateHost", id=host["id"], hosttags="fast")
    # A KVM host has no agent to connect to: it stays Disconnected (`disconnected` shows since when).
    kvm = admin.call("addCluster", zoneid=zone["id"], podid=pod["id"], clustername=unique("oa-kvm"),
                     clustertype="CloudManaged", hypervisor="KVM")["cluster"][0]
    kvm_host = admin.call("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=kvm["id"],
                          url=f"http://{unique('oa-kvm')}", hypervisor="KVM", username="root",
                          password="secret")["host"][0]
    admin.job("prepareHostForMaintenance", id=kvm_host["id"])
    admin.job("cancelHostMaintenance", id=kvm_host["id"])
    for command in ("listZones", "listPods", "listClusters", "listHosts", "listExtensions"):
        admin.call(command)
    admin.call("listHypervisors", zoneid=zone["id"])
    # Registered to a second External cluster and back: the extension lists its resources meanwhile.
    spare = admin.call("addCluster", zoneid=zone["id"], podid=pod["id"], clustername=unique("oa-spare"),
                       clustertype="CloudManaged", hypervisor="External")["cluster"][0]
    admin.call("registerExtension", extensionid=extension["id"], resourceid=spare["id"], resourcetype="Cluster",
               **{"details[0].rack": "r1"})
    admin.call("unregisterExtension", extensionid=extension["id"], resourceid=spare["id"], resourcetype="Cluster")
    admin.call("deleteHost", id=kvm_host["id"], forced=True)
    for cluster_id in (kvm["id"], spare["id"]):
        admin.call("deleteCluster", id=cluster_id)
    spare_zone = admin.call("createZone", name=unique("oa-z2"), networktype="Advanced", dns1="8.8.8.8",
                            internaldns1="10.0.0.2")["zone"]
    spare_pod = admin.call("createPod", zoneid=spare_zone["id"], name=unique("oa-p2"))["pod"]
    admin.call("deletePod", id=spare_pod["id"])
    admin.call("deleteZone", id=spare_zone["id"])
    # An extension whose executable is missing is not ready: the path check raises an alert.
    broken = admin.call("createExtension", name=unique("oa-missing"), type="Orchestrator",
                        path="missing.py")["extension"]
    eventually(lambda: admin.call("listAlerts").get("alert"), what="the not-ready extension's alert")
    admin.call("deleteExtension", id=broken["id"])
    return {"zone": zone, "extension": extension}


def _identity_and_instances(server: ServerProcess, admin: Run, kept: list[tuple[str, int, Any]],
                            bed: dict[str, Any]) -> None:
    zone, extension = bed["zone"], bed["extension"]
    domain = admin.call("createDomain", name=unique("oa-d"), networkdomain="d.oa.example")["domain"]
    admin.call("listDomains", listall=True)
    password = "sbt-oa-Passw0rd"
    account = admin.call("createAccount", username=unique("oa-u"), password=password, email="u@oa.example",
                         firstname="U", lastname="Ser", domainid=domain["id"], accounttype=0,
                         timezone="Europe/Paris")["account"]
    user = account["user"][0]
    admin.call("createUser", account=account["name"], domainid=domain["id"], username=unique("oa-u2"),
               password=password, email="u2@oa.example", firstname="U", lastname="Two")
    admin.call("updateUser", id=user["id"], firstname="Ursula")
    admin.call("lockUser", id=user["id"])
    admin.job("disableUser", id=user["id"])
    admin.call("enableUser", id=user["id"])
    keys = admin.call("registerUserKeys", id=user["id"])["userkeys"]
    admin.call("getUserKeys", id=user["id"])
    for command in ("listAccounts", "listUsers"):
        admin.call(command, listall=True)
    admin.call("updateResourceLimit", resourcetype=0, max=10, account=account["name"], domainid=domain["id"])
    admin.call("listResourceLimits", account=account["name"], domainid=domain["id"])
    admin.call("listResourceLimits", domainid=domain["id"])
    admin.call("listConfigurations", accountid=account["id"])
    admin.call("listConfigurations", domainid=domain["id"])
    admin.call("updateConfiguration", name="api.key.access", value="true", domainid=domain["id"])
    _login_and_logout(server, user["username"], password, domain["id"], kept)

    template = admin.call("registerTemplate", name=unique("oa-t"), displaytext="t", format="EXTERNAL",
                          hypervisor="External", url="http://dummy", zoneid=zone["id"], extensionid=extension["id"],
                          ispublic=True, checksum="{SHA-256}00ff",
                          **{"externaldetails[0].template_id": "9000", "details[0].note": "plain"})["template"][0]
    admin.call("updateTemplate", id=template["id"], displaytext="t2")
    admin.call("updateTemplatePermissions", id=template["id"], isfeatured=True)
    offering = admin.call("createServiceOffering", name=unique("oa-so"), displaytext="so", cpunumber=1,
                          cpuspeed=1000, memory=256, rootdisksize=8,
                          **{"serviceofferingdetails[0].pci": "none"})["serviceoffering"]
    admin.call("updateServiceOffering", id=offering["id"], hosttags="fast")
    isolated = next(o for o in admin.call("listNetworkOfferings")["networkoffering"]
                    if o["name"] == "DefaultIsolatedNetworkOffering")
    network = admin.call("createNetwork", zoneid=zone["id"], name=unique("oa-n"), networkofferingid=isolated["id"],
                         gateway="10.2.0.1", netmask="255.255.255.0", startip="10.2.0.10", endip="10.2.0.50",
                         networkdomain="n.oa.example", account=account["name"], domainid=domain["id"])["network"]
    admin.job("updateNetwork", id=network["id"], displaytext="the run's network")
    action = admin.call("addCustomAction", extensionid=extension["id"], name="Snap", description="take a snapshot",
                        enabled=True, successmessage="done {{actionName}}", errormessage="failed {{actionName}}",
                        allowedroletypes="Admin,User", timeout=10, **{
                            "parameters[0].name": "count", "parameters[0].type": "NUMBER",
                            "parameters[0].required": "false", "parameters[0].valueoptions": "1,2",
                            "details[0].mode": "fast"})["extensioncustomaction"]
    admin.call("updateCustomAction", id=action["id"], description="take a snapshot now")

    owner = Run(server, keys, kept)
    for command in ("listZones", "listTemplates", "listNetworks", "listServiceOfferings", "listCustomActions"):
        owner.call(command, **({"templatefilter": "executable"} if command == "listTemplates" else {}))
    vm = owner.job("deployVirtualMachine", zoneid=zone["id"], templateid=template["id"],
                   serviceofferingid=offering["id"], networkids=network["id"], name=unique("oa-vm"),
                   **{"externaldetails[0].flavour": "small"})["virtualmachine"]
    owner.call("listVirtualMachines")
    owner.call("listNics", virtualmachineid=vm["id"])
    admin.call("listVirtualMachines", listall=True)
    admin.call("listTemplates", templatefilter="all")
    owner.job("rebootVirtualMachine", id=vm["id"])
    owner.job("stopVirtualMachine", id=vm["id"])
    owner.job("startVirtualMachine", id=vm["id"])
    owner.job("runCustomAction", customactionid=action["id"], resourceid=vm["id"], **{"parameters[0].count": "2"})
    # The console: the recorder gives none at first (`details` says why), then a VNC console the server proxies.
    owner.call("createConsoleEndpoint", virtualmachineid=vm["id"])
    recorder = server.data_dir / "extensions" / extension["name"]
    (recorder / "behaviour.json").write_text(json.dumps({"getconsole": {"output": json.dumps(
        {"status": "success", "console": {"host": "127.0.0.1", "port": "5901", "protocol": "vnc"}})}}))
    owner.call("createConsoleEndpoint", virtualmachineid=vm["id"])
    (recorder / "behaviour.json").unlink()
    _guest_data_storage_and_projects(server, admin, owner, bed, template, offering, network, vm)
    # No host has the offering's tag: the deploy finds no capacity.
    nowhere = admin.call("createServiceOffering", name=unique("oa-nowhere"), displaytext="nowhere", cpunumber=1,
                         cpuspeed=1000, memory=256, hosttags="nowhere")["serviceoffering"]
    failed = admin.call("deployVirtualMachine", zoneid=zone["id"], templateid=template["id"],
                        serviceofferingid=nowhere["id"], networkids=network["id"], name=unique("oa-none"),
                        account=account["name"], domainid=domain["id"])
    error = admin.wait(failed["jobid"], fails=True)
    assert error["errorcode"] == 533, error
    admin.job("destroyVirtualMachine", id=failed["id"], expunge=True)
    owner.job("destroyVirtualMachine", id=vm["id"])
    admin.call("recoverVirtualMachine", id=vm["id"])
    admin.job("destroyVirtualMachine", id=vm["id"])
    admin.job("expungeVirtualMachine", id=vm["id"])
    admin.call("deleteCustomAction", id=action["id"])
    admin.job("deleteNetwork", id=network["id"])
    admin.job("deleteTemplate", id=template["id"])
    admin.call("deleteServiceOffering", id=offering["id"])
    owner.call("listAsyncJobs")


def _guest_data_storage_and_projects(server: ServerProcess, admin: Run, owner: Run, bed: dict[str, Any],
                                     template: dict[str, Any], offering: dict[str, Any], network: dict[str, Any],
                                     vm: dict[str, Any]) -> None:
    """Key pairs, user data, volumes and disk offerings, tags, projects, snapshots, network offerings, the
    networking views, settings under CloudStack's names, and the changes refused for External instances."""
    zone, extension = bed["zone"], bed["extension"]
    public = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnyYr8FVnlWPNJ0gaC2qfcDP8Lhf2yvKtC9Dl8VUpAF me@laptop")
    pair = owner.call("registerSSHKeyPair", name=unique("oa-k"), publickey=public)["keypair"]
    made = owner.call("createSSHKeyPair", name=unique("oa-k2"))["keypair"]
    owner.call("listSSHKeyPairs")
    owner.call("deleteSSHKeyPair", name=made["name"])
    content = "I2Nsb3VkLWNvbmZpZwpob3N0bmFtZToge3sgZHMubWV0YV9kYXRhLnJvbGUgfX0K"
    data = owner.call("registerUserData", name=unique("oa-ud"), userdata=content, params="role")["userdata"]
    spare = owner.call("registerUserData", name=unique("oa-ud2"), userdata="IyEvYmluL3NoCg==")["userdata"]
    owner.call("listUserData")
    owner.call("deleteUserData", id=spare["id"])
    disk = admin.call("createDiskOffering", name=unique("oa-do"), disksize=2, tags="ssd",
                      displaytext="two")["diskoffering"]
    admin.call("updateDiskOffering", id=disk["id"], displaytext="two gigabytes")
    owner.call("listDiskOfferings")
    guest = owner.job("deployVirtualMachine", zoneid=zone["id"], templateid=template["id"],
                      serviceofferingid=offering["id"], networkids=network["id"], name=unique("oa-g"),
                      keypairs=pair["name"], userdataid=data["id"], diskofferingid=disk["id"], rootdisksize=9,
                      **{"userdatadetails[0].role": "web"})["virtualmachine"]
    owner.call("listVirtualMachines", id=guest["id"], userdata=True)
    owner.call("getVirtualMachineUserData", virtualmachineid=guest["id"])
    owner.call("updateVirtualMachine", id=guest["id"], displayname="the guest", **{"details[0].purpose": "web"})
    owner.job("scaleVirtualMachine", id=guest["id"], serviceofferingid=offering["id"], fails=True)
    owner.job("restoreVirtualMachine", virtualmachineid=guest["id"], fails=True)
    owner.job("resetSSHKeyForVirtualMachine", id=guest["id"], keypair=pair["name"], fails=True)
    owner.call("resetUserDataForVirtualMachine", id=guest["id"], userdata=content, fails=True)
    volume = owner.call("listVolumes", virtualmachineid=guest["id"])["volume"][0]
    owner.job("attachVolume", id=volume["id"], virtualmachineid=guest["id"], fails=True)
    owner.job("detachVolume", id=volume["id"], fails=True)
    owner.job("createSnapshot", volumeid=volume["id"], fails=True)
    owner.job("createTags", resourcetype="UserVm", resourceids=guest["id"], customer="acme",
              **{"tags[0].key": "role", "tags[0].value": "web"})
    owner.job("createTags", resourcetype="Volume", resourceids=volume["id"],
              **{"tags[0].key": "backup", "tags[0].value": "daily"})
    owner.call("listTags")
    owner.call("listVolumes", **{"tags[0].key": "backup", "tags[0].value": "daily"})
    owner.job("deleteTags", resourcetype="Volume", resourceids=volume["id"])

    # A project: its own key pair, user data, instance, tags and the instance's snapshots.
    project = owner.job("createProject", name=unique("oa-pr"), displaytext="the run's project")["project"]
    owner.job("updateProject", id=project["id"], displaytext="the run's project, again")
    owner.job("suspendProject", id=project["id"])
    owner.job("activateProject", id=project["id"])
    owner.job("createTags", resourcetype="Project", resourceids=project["id"],
              **{"tags[0].key": "team", "tags[0].value": "blue"})
    owner.call("listProjects")
    shared = owner.call("createSSHKeyPair", name=unique("oa-pk"), projectid=project["id"])["keypair"]
    owner.call("listSSHKeyPairs", projectid=project["id"])
    owner.call("registerUserData", name=unique("oa-pu"), userdata="IyEvYmluL3NoCnRydWUK", projectid=project["id"])
    owner.call("listUserData", projectid=project["id"])
    snaps = server.data_dir / "extensions" / extension["name"] / "behaviour.json"
    snaps.write_text(json.dumps({"ListSnapshots": {"output": json.dumps({"status": "success", "message": [
        {"name": "base", "snaptime": "2025-01-02T03:04:05Z", "description": "first", "parent": "-",
         "vmstate": "no"},
        {"name": "now", "snaptime": "2025-02-02T03:04:05Z", "parent": "base", "vmstate": "yes", "current": True}]})}}))
    lister = admin.call("addCustomAction", extensionid=extension["id"], name="ListSnapshots", enabled=True,
                        allowedroletypes="Admin,User", timeout=10)["extensioncustomaction"]
    in_project = owner.job("deployVirtualMachine", zoneid=zone["id"], templateid=template["id"],
                           serviceofferingid=offering["id"], networkids=network["id"], name=unique("oa-pv"),
                           projectid=project["id"], keypair=shared["name"])["virtualmachine"]
    owner.job("createTags", resourcetype="UserVm", resourceids=in_project["id"],
              **{"tags[0].key": "role", "tags[0].value": "db"})
    owner.call("listVirtualMachines", projectid=project["id"])
    owner.call("listVolumes", projectid=project["id"])
    owner.call("listTags", projectid=project["id"])
    owner.call("listVMSnapshot", virtualmachineid=in_project["id"])
    owner.call("listVMSnapshot", virtualmachineid=guest["id"])
    owner.call("listSnapshots")
    admin.call("deleteCustomAction", id=lister["id"])
    snaps.unlink()
    for created in (guest, in_project):
        admin.job("destroyVirtualMachine", id=created["id"], expunge=True)
    owner.job("deleteProject", id=project["id"])
    owner.call("deleteUserData", id=data["id"])
    admin.call("deleteDiskOffering", id=disk["id"])

    # Network offerings, the networking views of a cloud without virtual routers, settings.
    made_offering = admin.call("createNetworkOffering", name=unique("oa-no"), displaytext="no",
                               guestiptype="Isolated", traffictype="GUEST", supportedservices="Dhcp,Dns")
    admin.call("updateNetworkOffering", id=made_offering["networkoffering"]["id"], state="Enabled")
    admin.call("deleteNetworkOffering", id=made_offering["networkoffering"]["id"])
    for command in ("listPublicIpAddresses", "listPortForwardingRules", "listIpForwardingRules", "listFirewallRules",
                    "listEgressFirewallRules", "listLoadBalancerRules", "listSecurityGroups", "listAffinityGroups",
                    "listAffinityGroupTypes", "listVPCs", "listVPCOfferings", "listRouters"):
        admin.call(command)
    admin.call("updateConfiguration", name="wait", value="1800")
    assert vm["id"]


def _login_and_logout(server: ServerProcess, username: str, password: str, domain_id: str,
                      kept: list[tuple[str, int, Any]]) -> None:
    with httpx.Client(timeout=30) as client:
        reply = client.post(server.url, data={"command": "login", "username": username, "password": password,
                                              "domainId": domain_id, "response": "json"})
        kept.append(("login", reply.status_code, reply.json()))
        assert reply.status_code == 200, reply.text
        key = reply.json()["loginresponse"]["sessionkey"]
        reply = client.get(server.url, params={"command": "logout", "sessionkey": key, "response": "json"})
        kept.append(("logout", reply.status_code, reply.json()))
        assert reply.status_code == 200, reply.text


def _housekeeping(admin: Run) -> None:
    admin.call("listAsyncJobs", listall=True)
    admin.call("listEventTypes")
    events = admin.call("listEvents", listall=True, pagesize=2, page=1)["event"]
    admin.call("archiveEvents", ids=events[0]["id"])
    admin.call("deleteEvents", ids=events[1]["id"])
    alerts = admin.call("listAlerts")["alert"]
    admin.call("archiveAlerts", ids=alerts[0]["id"])
    admin.call("deleteAlerts", ids=alerts[0]["id"])


@pytest.fixture(scope="module")
def document(server: ServerProcess) -> dict[str, Any]:
    keys = api_keys_of(server)
    reply = httpx.get(server.url, params=signed_params({"command": "listApis", "response": "json"}, keys),
                      timeout=30)
    doc = openapi_document(reply.json()["listapisresponse"]["api"])
    validate_openapi(doc)
    return doc


def test_every_command_has_a_response_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    names = {path.removeprefix("/") for path in document["paths"]}
    assert names == {command.name for command in REGISTRY}
    for command in REGISTRY:
        schema = schemas[f"{command.name}JobResult" if command.is_async else f"{command.name}Response"]
        item = schema["anyOf"][0] if command.is_async else \
            schema["properties"][f"{command.name.lower()}response"]["anyOf"][0]
        assert item["properties"], f"{command.name} declares no response fields"


def test_real_answers_validate_against_the_document(document: dict[str, Any],
                                                    answers: list[tuple[str, int, Any]]) -> None:
    schemas = document["components"]["schemas"]
    failures = []
    for command, status, envelope in answers:
        body = envelope[f"{command.lower()}response"]
        schema = schemas[f"{command}Response"] if status == 200 else ERROR
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(envelope if status == 200 else body))
        if command == "queryAsyncJobResult" and body.get("jobstatus") in (1, 2):
            result_schema = schemas[f"{body['cmd']}JobResult"] if body["jobstatus"] == 1 else ERROR
            errors += jsonschema.Draft202012Validator(result_schema).iter_errors(body["jobresult"])
        failures += [f"{command}: {error.message[:300]} at {list(error.absolute_path)}" for error in errors]
    assert failures == []
    assert {c.name for c in REGISTRY} - {command for command, _status, _body in answers} == set(), \
        "every command runs at least once"


def _objects(shape: Shape, body: Any) -> list[Any]:
    """The objects of `shape` in a command's body: under its name (one or a list), or the body itself."""
    if isinstance(body, dict) and shape.name in body:
        found = body[shape.name]
        # An object may have a field of its own name (CloudStack's userdata has `userdata`, a string).
        if shape.field(shape.name) is None or isinstance(found, dict | list):
            return found if isinstance(found, list) else [found]
    return [body] if body else []


def test_answers_match_the_declared_shapes_both_ways(answers: list[tuple[str, int, Any]]) -> None:
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for command_name, status, envelope in answers:
        command = REGISTRY.get(command_name)
        assert command is not None and command.response is not None
        if status != 200:
            continue
        body = envelope[f"{command_name.lower()}response"]
        if command.is_async:
            continue  # the immediate answer is the job id; the job's result is checked below
        pending = [(command.response, body)]
        if command_name == "queryAsyncJobResult" and body.get("jobstatus") == 1:
            job_command = REGISTRY.get(body["cmd"])
            assert job_command is not None and job_command.response is not None
            pending.append((job_command.response, body["jobresult"]))
        for shape, part in pending:
            for item in _objects(shape, part):
                problems += [f"{command_name}: {problem}" for problem in shape.problems(item)]
                shape.observe(item, seen)
    assert problems == []
    declared = {(shape.name, field.name) for command in REGISTRY if command.response is not None
                for shape in command.response.reachable() for field in shape.fields}
    assert sorted(declared - seen - set(NOT_PRODUCED)) == []
    assert sorted(set(NOT_PRODUCED) & seen) == []  # the list above stays true
