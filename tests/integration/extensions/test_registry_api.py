"""Extension APIs over real HTTP against the shared server: create/list/update/delete, path normalisation,
the scaffold, the seeded built-ins, cluster registration and the refusals (protocol notes §1.5, §3.2, §3.4)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from sqlalchemy import select

from switchboard.db.engine import Database
from switchboard.db.models.extensions import Extension, ExtensionCustomAction, ExtensionCustomActionDetail
from switchboard.extensions.builtins import BUILTIN_SOURCE
from switchboard.extensions.scaffold import BASH_SCAFFOLD
from tests.support.fixtures import create_account_with_keys, cs_client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

FIELD_ORDER = ["id", "name", "description", "type", "path", "pathready", "isuserdefined",
               "orchestratorrequirespreparevm", "state", "details", "resources", "created", "removed"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def api_error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as raised:
        call(**params)
    error: dict[str, Any] = raised.value.error
    return error


def in_order(view: dict[str, Any]) -> bool:
    positions = [FIELD_ORDER.index(key) for key in view]
    return positions == sorted(positions)


@pytest.fixture(scope="module")
def root(api_server: ServerProcess) -> Path:
    return api_server.data_dir / "extensions"


@pytest.fixture(scope="module")
def db(api_server: ServerProcess) -> Iterator[Database]:
    assert api_server.database_url is not None
    database = Database.from_url(api_server.database_url)
    yield database
    database.dispose()


@pytest.fixture
def external_cluster(admin_cs: CloudStack) -> dict[str, Any]:
    zone = admin_cs.createZone(name=unique("sbt-zone"), networktype="Advanced", dns1="8.8.8.8",
                               internaldns1="10.0.0.2")["zone"]
    pod = admin_cs.createPod(zoneid=zone["id"], name=unique("sbt-pod"), gateway="10.0.0.1", netmask="255.255.255.0",
                             startip="10.0.0.10", endip="10.0.0.20")["pod"]
    cluster: dict[str, Any] = admin_cs.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=unique("sbt-cl"),
                                                  clustertype="CloudManaged", hypervisor="External")["cluster"][0]
    cluster["podid"] = pod["id"]
    return cluster


def test_create_scaffolds_a_default_entry_point_and_answers_every_field(admin_cs: CloudStack, root: Path) -> None:
    name = unique("Sbt Ext")
    created = admin_cs.createExtension(name=name, type="Orchestrator", description="demo",
                                       details={"url": "https://10.0.0.5", "zone_tag": "east"})["extension"]
    directory = name.replace(" ", "_").lower()
    entry = root / directory / f"{directory}.sh"
    assert created["name"] == name and created["description"] == "demo" and created["type"] == "Orchestrator"
    assert created["path"] == str(entry)
    assert created["pathready"] is True and created["isuserdefined"] is True and created["state"] == "Enabled"
    assert created["details"] == {"url": "https://10.0.0.5", "zone_tag": "east"}
    assert created["resources"] == [] and "orchestratorrequirespreparevm" not in created
    assert created["created"].endswith("+0000") and "removed" not in created
    assert in_order(created)
    assert entry.read_bytes() == BASH_SCAFFOLD.read_bytes()
    assert os.stat(entry).st_mode & 0o777 == 0o755

    listed = admin_cs.listExtensions(id=created["id"])
    assert listed["count"] == 1 and listed["extension"] == [created]
    [event] = admin_cs.listEvents(type="EXTENSION.CREATE", resourceid=created["id"])["event"]
    assert event["description"] == f"Created extension {name}" and event["username"] == "admin"


def test_duplicate_names_unknown_types_and_states_are_refused(admin_cs: CloudStack) -> None:
    name = unique("sbt-dup")
    admin_cs.createExtension(name=name, type="Orchestrator")
    duplicate = api_error(admin_cs.createExtension, name=name, type="Orchestrator")
    assert (duplicate["errorcode"], duplicate["errortext"]) == (431, "Extension by name already exists")
    wrong_type = api_error(admin_cs.createExtension, name=unique("sbt-type"), type="orchestrator")
    assert (wrong_type["errorcode"], wrong_type["errortext"]) == (431, "Invalid type specified: orchestrator")
    wrong_state = api_error(admin_cs.createExtension, name=unique("sbt-state"), type="Orchestrator", state="enabled")
    assert wrong_state["errortext"] == "Invalid state specified: enabled"


@pytest.mark.parametrize(("given", "expected"), [
    ("{dir}", "{dir}/{dir}"),
    ("run.py", "{dir}/run.py"),
    ("/{dir}/bin/run.sh", "{dir}/bin/run.sh"),
    ("\\bin\\tools\\run.sh", "{dir}/bin/tools/run.sh"),
])
def test_paths_are_normalised_as_cloudstack_does(admin_cs: CloudStack, root: Path, given: str,
                                                 expected: str) -> None:
    name = unique("Sbt.Path")
    directory = name.lower()
    created = admin_cs.createExtension(name=name, type="Orchestrator", state="Disabled",
                                       path=given.format(dir=directory))["extension"]
    assert created["path"] == str(root / expected.format(dir=directory))
    assert created["pathready"] is False  # created Disabled: nothing prepared


def test_paths_that_nest_too_deep_or_climb_out_are_refused(admin_cs: CloudStack) -> None:
    deep = api_error(admin_cs.createExtension, name=unique("sbt-deep"), type="Orchestrator", path="a/b/c/run.sh")
    assert deep["errortext"] == "Entry point path cannot be nested more than two sub-directories deep"
    climbing = api_error(admin_cs.createExtension, name=unique("sbt-climb"), type="Orchestrator",
                         path="../../etc/run.sh")
    assert climbing["errorcode"] == 431 and "'..'" in climbing["errortext"]


def test_enabling_prepares_the_path_and_refuses_a_broken_entry_point(admin_cs: CloudStack, root: Path) -> None:
    name = unique("sbt-enable")
    created = admin_cs.createExtension(name=name, type="Orchestrator", state="Disabled")["extension"]
    entry = Path(created["path"])
    assert not entry.exists()
    enabled = admin_cs.updateExtension(id=created["id"], state="Enabled")["extension"]
    assert enabled["state"] == "Enabled" and enabled["pathready"] is True and entry.is_file()

    # A Python entry point that exists but is not executable cannot be enabled; the extension stays Disabled.
    broken = admin_cs.createExtension(name=unique("sbt-broken"), type="Orchestrator", state="Disabled",
                                      path="run.py")["extension"]
    script = Path(broken["path"])
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("#!/usr/bin/env python3\nprint('{}')\n")
    script.chmod(0o644)
    refused = api_error(admin_cs.updateExtension, id=broken["id"], state="Enabled", description="changed")
    assert refused["errorcode"] == 530
    assert refused["errortext"] == f"Failed to enable extension: {broken['name']} as it entry-point is not ready"
    again = admin_cs.listExtensions(id=broken["id"])["extension"][0]
    assert again["state"] == "Disabled" and "description" not in again
    script.chmod(0o755)
    assert admin_cs.updateExtension(id=broken["id"], state="Enabled")["extension"]["pathready"] is True

    # A missing non-.sh entry point is not scaffolded and is not an error, but it is not ready either.
    missing = admin_cs.createExtension(name=unique("sbt-missing"), type="Orchestrator", path="run.py")["extension"]
    assert missing["state"] == "Enabled" and missing["pathready"] is False
    assert not Path(missing["path"]).exists()


def test_update_replaces_visible_details_and_keeps_the_hidden_flag(admin_cs: CloudStack) -> None:
    created = admin_cs.createExtension(name=unique("sbt-upd"), type="Orchestrator", orchestratorrequirespreparevm=True,
                                       details={"a": "1", "b": "2"})["extension"]
    assert created["orchestratorrequirespreparevm"] is True and created["details"] == {"a": "1", "b": "2"}
    updated = admin_cs.updateExtension(id=created["id"], description="new", details={"c": "3"})["extension"]
    assert updated["description"] == "new" and updated["details"] == {"c": "3"}
    assert updated["orchestratorrequirespreparevm"] is True
    cleaned = admin_cs.updateExtension(id=created["id"], cleanupdetails=True, details={"ignored": "x"})["extension"]
    assert cleaned["details"] == {} and cleaned["orchestratorrequirespreparevm"] is True
    flag_off = admin_cs.updateExtension(id=created["id"], orchestratorrequirespreparevm=False)["extension"]
    assert flag_off["orchestratorrequirespreparevm"] is False
    disabled = admin_cs.updateExtension(id=created["id"], state="Disabled")["extension"]
    assert disabled["state"] == "Disabled" and in_order(disabled)


def test_list_filters_and_detail_views(admin_cs: CloudStack) -> None:
    tag = uuid.uuid4().hex[:8]
    first = admin_cs.createExtension(name=f"sbt-list-{tag}-a", type="Orchestrator", details={"k": "v"})["extension"]
    second = admin_cs.createExtension(name=f"sbt-list-{tag}-b", type="Orchestrator")["extension"]
    by_keyword = admin_cs.listExtensions(keyword=f"list-{tag}")
    assert [e["id"] for e in by_keyword["extension"]] == [second["id"], first["id"]]  # newest first
    assert by_keyword["count"] == 2
    paged = admin_cs.listExtensions(keyword=f"list-{tag}", page=2, pagesize=1)
    assert paged["count"] == 1 and paged["extension"][0]["id"] == first["id"]
    assert admin_cs.listExtensions(name=first["name"])["extension"][0]["id"] == first["id"]
    assert admin_cs.listExtensions(name=f"sbt-list-{tag}") == {}

    def view(details: str) -> dict[str, Any]:
        found: dict[str, Any] = admin_cs.listExtensions(id=first["id"], details=details)["extension"][0]
        return found

    assert "details" not in view("min") and "resources" not in view("min")
    assert view("external")["details"] == {"k": "v"} and "resources" not in view("external")
    assert view("resource")["resources"] == [] and "details" not in view("resource")
    assert view("resources")["resources"] == [] and "details" not in view("resources")
    assert "details" in view("all") and "resources" in view("all")
    assert set(view("min,external")) >= {"details"}
    bad = api_error(admin_cs.listExtensions, details="everything")
    assert bad["errorcode"] == 431 and "everything" in bad["errortext"]


def test_builtins_are_seeded_enabled_not_user_defined_and_ready(admin_cs: CloudStack, root: Path,
                                                                             db: Database) -> None:
    seeded = {e["name"]: e for e in admin_cs.listExtensions()["extension"] if not e["isuserdefined"]}
    assert set(seeded) == {"Firecracker", "Proxmox", "HyperV", "MaaS"}
    paths = {"Firecracker": "Firecracker/firecracker.py", "Proxmox": "Proxmox/proxmox.py",
             "HyperV": "HyperV/hyperv.py", "MaaS": "MaaS/maas.py"}
    for name, extension in seeded.items():
        assert extension["path"] == str(root / paths[name])
        # The package ships every built-in's executable, installed into the root at start: none points at a
        # missing file on a fresh install.
        assert (BUILTIN_SOURCE / paths[name]).is_file()
        assert extension["state"] == "Enabled" and extension["pathready"] is True
        assert (root / paths[name]).is_file()
    assert seeded["Proxmox"]["orchestratorrequirespreparevm"] is True
    assert seeded["MaaS"]["orchestratorrequirespreparevm"] is True
    assert "orchestratorrequirespreparevm" not in seeded["HyperV"]
    assert seeded["Proxmox"]["details"] == {}  # the flag is hidden

    refused = api_error(admin_cs.deleteExtension, id=seeded["Proxmox"]["id"])
    assert (refused["errorcode"], refused["errortext"]) == (431, "System extension can not be deleted")

    with db.session() as session:
        rows = session.execute(
            select(Extension.name, ExtensionCustomAction, ExtensionCustomActionDetail.value)
            .join(ExtensionCustomAction, ExtensionCustomAction.extension_id == Extension.id)
            .join(ExtensionCustomActionDetail, ExtensionCustomActionDetail.custom_action_id == ExtensionCustomAction.id)
            .where(Extension.is_user_defined.is_(False), ExtensionCustomActionDetail.name == "parameters")
        ).all()
        actions = {(name, action.name): (action, json.loads(value)) for name, action, value in rows}
    assert {key[1] for key in actions if key[0] == "Proxmox"} == {"ListSnapshots", "CreateSnapshot",
                                                                  "RestoreSnapshot", "DeleteSnapshot"}
    assert {key[1] for key in actions if key[0] == "HyperV"} == {"ListSnapshots", "CreateSnapshot", "RestoreSnapshot",
                                                                 "DeleteSnapshot", "Suspend", "Resume"}
    for (extension, _name), (action, _parameters) in actions.items():
        if extension == "Firecracker":
            continue  # its manifest sets longer snapshot timeouts and an admin-only action (tested with it)
        assert (action.resource_type, action.allowed_role_types, action.timeout, action.enabled) == \
            ("VirtualMachine", 15, 60, True)
    create_params = actions[("Proxmox", "CreateSnapshot")][1]
    assert [(p["name"], p["type"], p["required"]) for p in create_params] == [
        ("snap_name", "STRING", True), ("snap_description", "STRING", False), ("snap_save_memory", "BOOLEAN", False)]
    assert actions[("HyperV", "DeleteSnapshot")][1] == [
        {"name": "snapshot_name", "type": "STRING", "validationformat": "NONE", "required": True}]
    assert actions[("HyperV", "Suspend")][1] == []
    assert actions[("Proxmox", "CreateSnapshot")][0].success_message == \
        "Snapshot created for {{resourceName}} in {{extensionName}}"


def test_register_and_unregister_a_cluster(admin_cs: CloudStack, external_cluster: dict[str, Any]) -> None:
    extension = admin_cs.createExtension(name=unique("sbt-reg"), type="Orchestrator")["extension"]
    other = admin_cs.createExtension(name=unique("sbt-other"), type="Orchestrator")["extension"]
    cluster_id = external_cluster["id"]
    registered = admin_cs.registerExtension(extensionid=extension["id"], resourceid=cluster_id,
                                            resourcetype="Cluster", details={"zone_tag": "east"})["extension"]
    [resource] = registered["resources"]
    assert (resource["id"], resource["name"], resource["type"], resource["details"]) == \
        (cluster_id, external_cluster["name"], "Cluster", {"zone_tag": "east"})
    assert resource["created"].endswith("+0000") and in_order(registered)
    shown = admin_cs.listClusters(id=cluster_id)["cluster"][0]
    assert (shown["extensionid"], shown["extensionname"]) == (extension["id"], extension["name"])
    assert admin_cs.listClusters(extensionid=extension["id"])["cluster"][0]["id"] == cluster_id

    again = api_error(admin_cs.registerExtension, extensionid=extension["id"], resourceid=cluster_id,
                      resourcetype="Cluster")
    assert again["errortext"] == \
        f"Extension: {extension['name']} is already registered with this cluster: {external_cluster['name']}"
    taken = api_error(admin_cs.registerExtension, extensionid=other["id"], resourceid=cluster_id,
                      resourcetype="Cluster")
    assert taken["errortext"] == f"An extension is already registered with this cluster: {external_cluster['name']}"
    busy = api_error(admin_cs.deleteExtension, id=extension["id"])
    assert busy["errortext"] == "Extension has 1 registered resources, unregister them before deleting the extension"

    assert admin_cs.unregisterExtension(extensionid=other["id"], resourceid=cluster_id,
                                        resourcetype="Cluster")["extension"]["resources"] == []  # silently nothing
    unregistered = admin_cs.unregisterExtension(extensionid=extension["id"], resourceid=cluster_id,
                                                resourcetype="Cluster")["extension"]
    assert unregistered["resources"] == []
    assert "extensionid" not in admin_cs.listClusters(id=cluster_id)["cluster"][0]
    assert admin_cs.deleteExtension(id=extension["id"]) == {"success": True}


def test_registration_refuses_other_resource_types_and_hypervisors(admin_cs: CloudStack,
                                                                   external_cluster: dict[str, Any]) -> None:
    extension = admin_cs.createExtension(name=unique("sbt-rules"), type="Orchestrator")["extension"]
    lower = api_error(admin_cs.registerExtension, extensionid=extension["id"], resourceid=external_cluster["id"],
                      resourcetype="cluster")
    assert lower["errorcode"] == 431 and lower["errortext"].startswith("Invalid resource type specified: cluster")
    kvm = admin_cs.addCluster(zoneid=external_cluster["zoneid"], podid=external_cluster["podid"],
                              clustername=unique("sbt-kvm"), clustertype="CloudManaged", hypervisor="KVM")["cluster"][0]
    refused = api_error(admin_cs.registerExtension, extensionid=extension["id"], resourceid=kvm["id"],
                        resourcetype="Cluster")
    assert refused["errorcode"] == 431 and "External" in refused["errortext"]
    unknown = api_error(admin_cs.registerExtension, extensionid=extension["id"], resourceid=str(uuid.uuid4()),
                        resourcetype="Cluster")
    assert unknown["errorcode"] == 431 and "cluster" in unknown["errortext"]
    no_extension = api_error(admin_cs.registerExtension, extensionid=str(uuid.uuid4()),
                             resourceid=external_cluster["id"], resourcetype="Cluster")
    assert no_extension["errorcode"] == 431 and "Unable to find extension" in no_extension["errortext"]


def test_add_cluster_with_an_extension_and_hosts_and_templates_show_it(admin_cs: CloudStack,
                                                                     external_cluster: dict[str, Any]) -> None:
    extension = admin_cs.createExtension(name=unique("sbt-addcl"), type="Orchestrator")["extension"]
    cluster = admin_cs.addCluster(zoneid=external_cluster["zoneid"], podid=external_cluster["podid"],
                                  clustername=unique("sbt-tied"), clustertype="CloudManaged", hypervisor="External",
                                  extensionid=extension["id"], externaldetails={"pool": "p1"})["cluster"][0]
    assert (cluster["extensionid"], cluster["extensionname"]) == (extension["id"], extension["name"])
    [resource] = admin_cs.listExtensions(id=extension["id"])["extension"][0]["resources"]
    assert (resource["id"], resource["details"]) == (cluster["id"], {"pool": "p1"})
    host = admin_cs.addHost(zoneid=external_cluster["zoneid"], podid=external_cluster["podid"],
                            clusterid=cluster["id"], hypervisor="External", url=f"http://{unique('sbt-h')}",
                            username="external", password="external")["host"][0]
    assert host["extensionid"] == extension["id"]
    assert admin_cs.listHosts(id=host["id"])["host"][0]["extensionname"] == extension["name"]

    template = admin_cs.registerTemplate(name=unique("sbt-tpl"), displaytext="t", format="EXTERNAL",
                                         hypervisor="External", url="http://example.invalid/none", zoneid="-1",
                                         extensionid=extension["id"])["template"][0]
    assert (template["extensionid"], template["extensionname"]) == (extension["id"], extension["name"])
    unknown = api_error(admin_cs.registerTemplate, name=unique("sbt-tpl"), format="EXTERNAL", hypervisor="External",
                        url="http://example.invalid/none", zoneid="-1", extensionid=str(uuid.uuid4()))
    assert unknown["errorcode"] == 431 and "Unable to find extension" in unknown["errortext"]


def test_delete_refuses_while_custom_actions_or_templates_use_the_extension(admin_cs: CloudStack, db: Database,
                                                                          external_cluster: dict[str, Any]) -> None:
    extension = admin_cs.createExtension(name=unique("sbt-del"), type="Orchestrator")["extension"]
    with db.session() as session:
        row = session.execute(select(Extension).where(Extension.uuid == extension["id"])).scalar_one()
        session.add_all([ExtensionCustomAction(extension_id=row.id, name="One"),
                         ExtensionCustomAction(extension_id=row.id, name="Two")])
    refused = api_error(admin_cs.deleteExtension, id=extension["id"])
    assert refused["errortext"] == "Extension has 2 custom actions, delete them before deleting the extension"
    with db.session() as session:
        for action in session.execute(select(ExtensionCustomAction).where(
                ExtensionCustomAction.extension_id == row.id)).scalars():
            session.delete(action)

    template = admin_cs.registerTemplate(name=unique("sbt-tpl"), format="EXTERNAL", hypervisor="External",
                                         url="http://example.invalid/none", zoneid=external_cluster["zoneid"],
                                         extensionid=extension["id"])["template"][0]
    used = api_error(admin_cs.deleteExtension, id=extension["id"])
    assert used["errortext"] == "Extension has 1 templates using it, delete them before deleting the extension"
    admin_cs.deleteTemplate(id=template["id"], fetch_result=True)
    assert admin_cs.deleteExtension(id=extension["id"]) == {"success": True}
    assert admin_cs.listExtensions(id=extension["id"]) == {}


def test_delete_with_cleanup_removes_files_and_payloads_and_without_keeps_them(admin_cs: CloudStack,
                                                                               api_server: ServerProcess) -> None:
    kept = admin_cs.createExtension(name=unique("sbt-keep"), type="Orchestrator")["extension"]
    admin_cs.deleteExtension(id=kept["id"])
    assert Path(kept["path"]).is_file()

    cleaned = admin_cs.createExtension(name=unique("sbt-clean"), type="Orchestrator")["extension"]
    payloads = api_server.data_dir / "extensions-data" / cleaned["name"]
    payloads.mkdir(parents=True)
    (payloads / "old.json").write_text("{}")
    admin_cs.deleteExtension(id=cleaned["id"], cleanup=True)
    assert not Path(cleaned["path"]).parent.exists() and not payloads.exists()
    # The name is free again.
    assert admin_cs.createExtension(name=cleaned["name"], type="Orchestrator")["extension"]["pathready"] is True


def test_the_scaffold_never_follows_a_symlink_out_of_the_extension_directory(admin_cs: CloudStack, root: Path,
                                                                             tmp_path: Path) -> None:
    name = unique("sbt-link")
    created = admin_cs.createExtension(name=name, type="Orchestrator", state="Disabled",
                                       path="sub/run.sh")["extension"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / name).mkdir()
    (root / name / "sub").symlink_to(outside)
    refused = api_error(admin_cs.updateExtension, id=created["id"], state="Enabled")
    assert refused["errortext"] == f"Failed to enable extension: {name} as it entry-point is not ready"
    assert list(outside.iterdir()) == []


def test_the_scaffold_is_never_written_through_a_linked_extension_directory(admin_cs: CloudStack, root: Path,
                                                                           tmp_path: Path) -> None:
    name = unique("sbt-linkdir")
    created = admin_cs.createExtension(name=name, type="Orchestrator", state="Disabled")["extension"]
    target = tmp_path / "elsewhere"
    target.mkdir()
    Path(created["path"]).parent.symlink_to(target)  # the extension's own directory is a link
    refused = api_error(admin_cs.updateExtension, id=created["id"], state="Enabled")
    assert refused["errortext"] == f"Failed to enable extension: {name} as it entry-point is not ready"
    assert list(target.iterdir()) == []


def test_only_admins_may_use_the_extension_commands(admin_cs: CloudStack, api_server: ServerProcess) -> None:
    _account, keys = create_account_with_keys(admin_cs, prefix="sbt-ext-user")
    user = cs_client(api_server, keys)
    for command, params in (("listExtensions", {}), ("createExtension", {"name": unique("x"), "type": "Orchestrator"})):
        refused = api_error(getattr(user, command), **params)
        assert refused["errorcode"] == 432
        assert refused["errortext"] == f"The given command:{command} does not exist or it is not available for user"


def test_concurrent_creates_of_one_name_leave_one_extension(admin_cs: CloudStack) -> None:
    name = unique("sbt-race")

    def create(_index: int) -> str:
        try:
            admin_cs.createExtension(name=name, type="Orchestrator", state="Disabled")
        except CloudStackApiException as refused:
            return str(refused.error["errortext"])
        return "created"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(create, range(6)))
    assert outcomes.count("created") == 1
    assert set(outcomes) == {"created", "Extension by name already exists"}
    assert admin_cs.listExtensions(name=name)["count"] == 1
