"""Timeouts that kill the whole process group, unusable entry points and extensions, concurrent operations,
role scoping, and a server SIGKILLed in the middle of a deploy."""

from __future__ import annotations

import contextlib
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, CloudStackApiException
from sqlalchemy import update

from switchboard.db.engine import Database
from switchboard.db.models.extensions import Extension
from tests.integration.compute.conftest import ENV
from tests.integration.compute.env import Bed, build_bed, ok, unique, wait_job
from tests.support.eventually import eventually
from tests.support.fixtures import api_keys_of, create_account_with_keys, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = pytest.mark.database

HANGING = r'''#!/bin/bash
# Starts a child that would outlive us, records its pid, then hangs past the timeout.
here="$(dirname "$(readlink -f "$0")")"
if [ "$1" = create ]; then
  sleep 300 &
  echo $! > "$here/child.pid"
  sleep 300
fi
echo '{"status":"success"}'
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_a_hanging_extension_and_its_children_are_killed_at_the_wait_timeout(
        compute_server: ServerProcess, compute_admin: CloudStack) -> None:
    bed = build_bed(compute_server, compute_admin, requires_prepare=False, script=HANGING, filename="hang.sh")
    answer = bed.deploy(name=unique("hang"))
    job = wait_job(bed.admin, answer["jobid"], timeout=30)
    assert job["jobstatus"] == 2 and job["jobresult"]["errortext"].endswith("Timeout")
    child = int((bed.directory / "child.pid").read_text())
    eventually(lambda: not _alive(child), what=f"the extension's child {child} to be killed", timeout=5)
    assert bed.admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Error"


def test_entry_points_that_are_not_executable_or_dangle_are_not_run_and_links_placed_on_disk_are_followed(
        bed: Bed, tmp_path: Path) -> None:
    entry = bed.directory / "recorder.py"
    vm = ok(bed.admin, bed.deploy(name=unique("noexec")))
    before = len(bed.calls())
    os.chmod(entry, 0o644)
    try:
        job = wait_job(bed.admin, bed.admin.rebootVirtualMachine(id=vm["id"])["jobid"])
        assert job["jobstatus"] == 2 and "File is not executable" in job["jobresult"]["errortext"]
    finally:
        os.chmod(entry, 0o755)
    entry.rename(bed.directory / "real.py")
    entry.symlink_to(tmp_path / "missing.py")
    try:
        job = wait_job(bed.admin, bed.admin.rebootVirtualMachine(id=vm["id"])["jobid"])
        assert job["jobstatus"] == 2 and "Extension not configured" in job["jobresult"]["errortext"]
        assert len(bed.calls()) == before  # nothing ran
        # An operator's `ln -s` to a script installed elsewhere is followed (it logs beside its real file).
        installed = tmp_path / "opt" / "recorder.py"
        installed.parent.mkdir()
        installed.write_text((bed.directory / "real.py").read_text())
        os.chmod(installed, 0o755)
        entry.unlink()
        entry.symlink_to(installed)
        ok(bed.admin, bed.admin.rebootVirtualMachine(id=vm["id"]))
        assert len(bed.calls()) == before
        assert "reboot" in (tmp_path / "opt" / "calls.jsonl").read_text()
    finally:
        entry.unlink()
        (bed.directory / "real.py").rename(entry)
    assert bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Running"


def test_disabled_extensions_are_refused_with_cloudstacks_message(bed: Bed) -> None:
    bed.admin.updateExtension(id=bed.extension["id"], state="Disabled")
    try:
        with pytest.raises(CloudStackApiException) as raised:
            bed.deploy(name=unique("off"))
        assert raised.value.error["errortext"] == "Extension is disabled"
    finally:
        bed.admin.updateExtension(id=bed.extension["id"], state="Enabled")


def test_not_ready_extensions_are_refused_and_admins_may_choose_the_host(bed: Bed) -> None:
    entry = bed.directory / "recorder.py"
    entry.rename(bed.directory / "away.py")
    try:
        # The watch sees the file go within seconds, not at the next periodic check (300 s here).
        eventually(lambda: not bed.admin.listExtensions(id=bed.extension["id"])["extension"][0]["pathready"],
                   what="pathready to turn false once the entry file is gone", timeout=15)
        with pytest.raises(CloudStackApiException) as raised:  # looked at again on demand: still missing
            bed.deploy(name=unique("unready"))
        assert raised.value.error["errortext"] == "Extension is not ready"
    finally:
        (bed.directory / "away.py").rename(entry)
    second = bed.admin.addHost(zoneid=bed.zone["id"], podid=bed.cluster["podid"], clusterid=bed.cluster["id"],
                               url=f"http://{unique('pve')}", username="external", password="external",
                               hypervisor="External")["host"][0]
    for _ in range(3):
        vm = ok(bed.admin, bed.deploy(name=unique("placed"), hostid=second["id"]))
        assert vm["hostid"] == second["id"]
    job = wait_job(bed.admin, bed.deploy(name=unique("nowhere"), hostid=_foreign_host(bed))["jobid"])
    assert job["jobstatus"] == 2 and "cannot run this instance" in job["jobresult"]["errortext"]


def test_an_entry_file_copied_in_place_after_the_extension_was_created_is_used_at_once(
        compute_server: ServerProcess, compute_admin: CloudStack) -> None:
    # The extension's file is not `.sh`, so it is not scaffolded: the extension is created not ready, and the
    # periodic check (300 s here) is far away; the deploy looks at the file again and goes ahead.
    bed = build_bed(compute_server, compute_admin, file_later=True)
    vm = ok(bed.admin, bed.deploy(name=unique("late")))
    assert vm["state"] == "Running"
    assert bed.admin.listExtensions(id=bed.extension["id"])["extension"][0]["pathready"] is True


def test_a_stale_pathready_is_looked_at_again_when_an_operation_needs_the_extension(bed: Bed) -> None:
    db = Database.from_url(bed.server.database_url or "")
    try:
        with db.session() as session:  # as the readiness check last saw it, before the file was fixed
            session.execute(update(Extension).where(Extension.uuid == bed.extension["id"]).values(path_ready=False))
        assert ok(bed.admin, bed.deploy(name=unique("recheck")))["state"] == "Running"
    finally:
        db.dispose()


def _foreign_host(bed: Bed) -> str:
    """A host of a cluster registered with another extension."""
    other = build_bed(bed.server, bed.admin)
    host: str = other.host["id"]
    return host


def test_many_instances_are_deployed_and_operated_concurrently(bed: Bed) -> None:
    bed.behave()
    names = [unique("many") for _ in range(12)]
    with ThreadPoolExecutor(6) as pool:
        deployed = list(pool.map(lambda n: ok(bed.admin, bed.deploy(name=n)), names))
        assert {vm["state"] for vm in deployed} == {"Running"}
        macs = {vm["nic"][0]["macaddress"] for vm in deployed}
        ips = {vm["nic"][0]["ipaddress"] for vm in deployed}
        assert len(macs) == len(ips) == 12
        stopped = list(pool.map(lambda vm: ok(bed.admin, bed.admin.stopVirtualMachine(id=vm["id"])), deployed))
    assert {vm["state"] for vm in stopped} == {"Stopped"}
    for vm in deployed:
        assert bed.actions_for(vm["id"]) == ["prepare", "create", "stop"]


def test_users_see_and_touch_only_their_own_instances(bed: Bed, compute_server: ServerProcess) -> None:
    account, keys = create_account_with_keys(bed.admin, prefix="sbt-cu")
    user = cs_client(compute_server, keys)
    _other, other_keys = create_account_with_keys(bed.admin, prefix="sbt-co")
    other = cs_client(compute_server, other_keys)
    net = user.createNetwork(zoneid=bed.zone["id"], name=unique("un"), networkofferingid=next(
        o["id"] for o in user.listNetworkOfferings()["networkoffering"]
        if o["name"] == "DefaultIsolatedNetworkOffering"))["network"]
    vm = ok(user, bed.deploy(user, name=unique("mine"), networkids=net["id"]))
    assert vm["account"] == account["name"] and "hostid" not in vm and "instancename" not in vm
    assert [v["id"] for v in user.listVirtualMachines()["virtualmachine"]] == [vm["id"]]
    assert other.listVirtualMachines() == {}
    assert other.listVirtualMachines(id=vm["id"], listall=True) == {}
    with pytest.raises(CloudStackApiException):
        other.stopVirtualMachine(id=vm["id"])
    with pytest.raises(CloudStackApiException):
        user.deployVirtualMachine(zoneid=bed.zone["id"], templateid=bed.template["id"],
                                  serviceofferingid=bed.offering["id"], hostid=bed.host["id"])
    seen = bed.admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    hosts = {h["id"]: h["name"] for h in bed.admin.listHosts(clusterid=bed.cluster["id"])["host"]}
    assert hosts[seen["hostid"]] == seen["hostname"]  # admins see where it runs: a host of the bed's cluster
    for _ in range(2):  # the admin's own, so that the listing below has more than a page whatever ran before
        ok(bed.admin, bed.deploy(name=unique("adm"), startvm=False))
    by_extension = bed.admin.listVirtualMachines(extensionid=bed.extension["id"], listall=True, pagesize=2, page=1)
    assert by_extension["count"] >= 3 and len(by_extension["virtualmachine"]) == 2


def test_a_server_killed_mid_deploy_fails_the_job_and_repairs_the_instance(tmp_path: Path) -> None:
    with start_server(tmp_path, env={**ENV, "SWITCHBOARD_EXTENSION_WAIT": "600"}) as server:
        admin = cs_client(server, api_keys_of(server))
        bed = build_bed(server, admin, requires_prepare=False)
        bed.behave(create={"sleep": 300})
        answer = bed.deploy(name=unique("killed"))
        bed.wait_for_action(answer["id"], "create")
        assert admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Starting"
        server.kill()
        bed.behave()
        # The extension outlives the killed server (own session, as intended); end it here.
        for call in bed.calls_for(answer["id"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(call["pid"], signal.SIGKILL)
        server.start()
        job = wait_job(admin, answer["jobid"], timeout=60)
        assert job["jobstatus"] == 2 and "interrupted" in job["jobresult"]["errortext"]
        assert admin.listVirtualMachines(id=answer["id"])["virtualmachine"][0]["state"] == "Error"


def test_domain_admins_see_their_domain_subtree(bed: Bed, compute_server: ServerProcess) -> None:
    inside = bed.admin.createDomain(name=unique("sbt-d"))["domain"]
    outside = bed.admin.createDomain(name=unique("sbt-o"))["domain"]
    _dadmin, dkeys = create_account_with_keys(bed.admin, prefix="sbt-da", account_type=2, domain_id=inside["id"])
    domain_admin = cs_client(compute_server, dkeys)
    owned: dict[str, dict[str, Any]] = {}
    for domain in (inside, outside):
        _account, keys = create_account_with_keys(bed.admin, prefix="sbt-du", domain_id=domain["id"])
        user = cs_client(compute_server, keys)
        net = user.createNetwork(zoneid=bed.zone["id"], name=unique("dn"), networkofferingid=bed.network[
            "networkofferingid"])["network"]
        owned[domain["id"]] = ok(user, bed.deploy(user, name=unique("dv"), networkids=net["id"], startvm=False))
    seen = {vm["id"] for vm in domain_admin.listVirtualMachines(listall=True).get("virtualmachine", [])}
    assert seen == {owned[inside["id"]]["id"]}
    assert domain_admin.listVirtualMachines() == {}  # without listall: its own account's only
    with pytest.raises(CloudStackApiException):
        domain_admin.startVirtualMachine(id=owned[outside["id"]]["id"])
