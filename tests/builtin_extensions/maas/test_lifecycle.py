"""The MaaS extension's actions against the MAAS stand-in: the exact API calls each makes, what it prints,
and what the stand-in's machines look like afterwards."""

from __future__ import annotations

import subprocess
import threading
import time

from tests.builtin_extensions.bed import with_details, with_template
from tests.builtin_extensions.maas.conftest import ENTRY, FRESH, INSTANCE, NICS, Maas
from tests.builtin_extensions.standin import CLEAN_ENV, write_payload
from tests.support.eventually import eventually

MACHINE = "/machines/abc123/"
GET_MACHINE = ("GET", MACHINE, "", {})
MARK = {"cloudstack_instance": "i-2-21-VM"}


def allocated(maas: Maas, system_id: str = "abc123", *, status: str = "Deployed", power: str = "on") -> None:
    machine = maas.standin.machines[system_id]
    machine.owner, machine.status_name, machine.power_state = "cloudstack", status, power
    machine.owner_data.update(MARK)


def test_prepare_allocates_a_ready_machine_and_answers_its_macs_and_details(maas: Maas) -> None:
    run = maas.run("prepare", FRESH)
    assert run.code == 0, run.output
    root = f"https://127.0.0.1:{maas.server.port}/MAAS"
    assert run.answer == {
        "details": {"External:maas_system_id": "abc123", "External:mac_address": "52:54:00:00:01:01",
                    "External:hostname": "metal-01", "External:console_url": f"{root}/r/machine/abc123/summary"},
        "nics": [{"uuid": NICS[0].network_uuid, "mac": "52:54:00:00:01:01"},
                 {"uuid": NICS[1].network_uuid, "mac": "52:54:00:00:01:02"}]}
    assert maas.calls() == [
        ("POST", "/machines/", "allocate", {"comment": "CloudStack instance i-2-21-VM", "arch": "amd64/generic"}),
        ("POST", MACHINE, "set_owner_data", MARK)]
    machine = maas.standin.machines["abc123"]
    assert (machine.status_name, machine.owner, machine.owner_data) == ("Allocated", "cloudstack", MARK)


def test_prepare_takes_the_given_machine_and_the_constraints(maas: Maas) -> None:
    instance = with_template(FRESH, maas_system_id="def456", maas_zone="rack-2")
    run = maas.run("prepare", instance)
    assert run.code == 1  # def456 is in zone default
    assert run.answer["error"].startswith("No Ready MAAS machine can be allocated (system_id=def456, zone=rack-2): "
                                          "POST /machines/ op=allocate failed: HTTP 409 No available machine")
    maas.standin.machines["def456"].zone = "rack-2"
    run = maas.run("prepare", instance)
    assert run.answer["details"]["External:maas_system_id"] == "def456"
    assert maas.calls()[-2][3] == {"comment": "CloudStack instance i-2-21-VM", "system_id": "def456",
                                   "zone": "rack-2"}


def test_two_deployments_at_once_never_get_the_same_machine(maas: Maas) -> None:
    del maas.standin.machines["def456"]
    payloads = [maas.payload("prepare", with_details(FRESH, deployvm="true")) for _ in range(2)]
    paths = [write_payload(maas.payloads, payload) for payload in payloads]
    runs = [subprocess.Popen([str(ENTRY), "prepare", str(path), "20"], env={**CLEAN_ENV, "HOME": str(ENTRY.parent)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for path in paths]
    codes = sorted(run.wait(30) for run in runs)
    assert codes == [0, 1]  # one got abc123, the other was told there was none left


def test_prepare_again_keeps_the_machine_it_already_has(maas: Maas) -> None:
    allocated(maas, status="Allocated", power="off")
    instance = with_template(FRESH, maas_system_id="abc123")
    run = maas.run("prepare", instance)
    assert run.code == 0 and run.answer["details"]["External:maas_system_id"] == "abc123"


def test_create_deploys_the_os_and_waits_until_maas_says_deployed(maas: Maas) -> None:
    allocated(maas, status="Allocated", power="off")
    maas.standin.deploy_seconds = 1.0
    run = maas.run("create")
    assert run.answer == {"status": "success", "message": "Instance deployed on MAAS machine abc123 (metal-01)"}
    calls = maas.calls()
    assert calls[:3] == [GET_MACHINE, ("POST", MACHINE, "deploy", {
        "comment": "CloudStack instance i-2-21-VM", "osystem": "ubuntu", "distro_series": "jammy"}),
        ("POST", MACHINE, "set_owner_data", MARK)]
    assert calls[3:] == [GET_MACHINE] * len(calls[3:]) and len(calls) >= 5  # it waited, asking
    machine = maas.standin.machines["abc123"]
    assert (machine.status_name, machine.osystem, machine.distro_series) == ("Deployed", "ubuntu", "jammy")


def test_create_splits_a_combined_series_and_reports_a_failed_deployment(maas: Maas) -> None:
    allocated(maas, status="Allocated", power="off")
    maas.standin.fail_deploy.add("abc123")
    run = maas.run("create", with_template(INSTANCE, distro_series="ubuntu/noble"))
    assert run.answer["error"] == ("MAAS deployment of machine abc123 ended Failed deployment: Installation failed "
                                   "(curtin)")
    assert maas.calls()[1][3] == {"comment": "CloudStack instance i-2-21-VM", "osystem": "ubuntu",
                                  "distro_series": "noble"}


def test_create_refuses_an_unknown_image_and_the_wrong_architecture(maas: Maas) -> None:
    allocated(maas, status="Allocated", power="off")
    run = maas.run("create", with_template(INSTANCE, distro_series="hirsute&op=release"))
    assert run.code == 1 and run.answer["error"].startswith(
        "POST /machines/abc123/ op=deploy failed: HTTP 400 distro_series: 'ubuntu/hirsute&op=release' is not a valid")
    assert maas.standin.machines["abc123"].status_name == "Allocated"  # nothing else happened
    run = maas.run("create", with_template(INSTANCE, architecture="arm64"))
    assert run.answer["error"] == "MAAS machine abc123 is amd64/generic, not arm64 as the instance asks"


def test_create_without_a_machine_says_what_is_missing(maas: Maas) -> None:
    run = maas.run("create", FRESH)
    assert run.answer["error"] == ("No MAAS machine is allocated to instance i-2-21-VM: maas_system_id is missing "
                                   "(prepare sets it; keep orchestratorrequirespreparevm=true on this extension)")
    assert maas.calls() == [("GET", "/machines/", "", {})]  # it looked for a machine marked for the instance


def test_without_the_system_id_the_machine_marked_for_the_instance_is_found(maas: Maas) -> None:
    allocated(maas, "def456", status="Allocated", power="off")
    maas.standin.machines["def456"].architecture = "amd64/hwe-22.04"
    assert maas.run("create", FRESH).code == 0
    assert maas.calls()[:3] == [("GET", "/machines/", "", {}), ("GET", "/machines/def456/", "", {}),
                                ("POST", "/machines/def456/", "deploy", {"comment": "CloudStack instance i-2-21-VM",
                                                                        "osystem": "ubuntu", "distro_series": "jammy"})]
    assert maas.run("status", FRESH).answer["power_state"] == "poweron"


def test_start_and_stop_power_the_machine_and_wait_for_it(maas: Maas) -> None:
    allocated(maas, power="off")
    maas.standin.power_seconds = 0.5
    assert maas.run("start").answer == {"status": "success", "message": "Instance started"}
    calls = maas.calls()
    assert calls[:2] == [GET_MACHINE, ("POST", MACHINE, "power_on", {"comment": "CloudStack instance i-2-21-VM"})]
    assert calls[2:] == [GET_MACHINE] * len(calls[2:]) and maas.standin.machines["abc123"].power_state == "on"
    assert maas.run("start").code == 0 and maas.calls() == [GET_MACHINE]  # already on
    assert maas.run("stop").answer == {"status": "success", "message": "Instance stopped"}
    assert maas.calls()[:2] == [GET_MACHINE, ("POST", MACHINE, "power_off", {"stop_mode": "hard"})]
    assert maas.standin.machines["abc123"].power_state == "off"
    run = maas.run("start", with_template(INSTANCE, stop_mode="soft"))
    assert run.code == 0
    maas.calls()
    assert maas.run("stop", with_template(INSTANCE, stop_mode="soft")).code == 0
    assert maas.calls()[1] == ("POST", MACHINE, "power_off", {"stop_mode": "soft"})


def test_stop_and_delete_of_a_machine_that_is_gone_succeed(maas: Maas) -> None:
    del maas.standin.machines["abc123"]
    for action in ("stop", "delete"):
        run = maas.run(action)
        assert run.code == 0 and "no MAAS machine serves it any more" in run.answer["message"]
    assert maas.calls() == [GET_MACHINE, GET_MACHINE]
    assert maas.run("status").answer == {"status": "success", "power_state": "poweroff"}
    run = maas.run("start")
    assert (run.code, run.answer["error"]) == (1, "MAAS machine abc123 no longer serves instance i-2-21-VM")


def test_delete_releases_the_machine_erasing_as_asked(maas: Maas) -> None:
    allocated(maas)
    run = maas.run("delete", with_template(INSTANCE, release_erase="quick"))
    assert run.answer == {"status": "success", "message": "Instance deleted: MAAS machine abc123 released"}
    assert maas.calls() == [GET_MACHINE, ("POST", MACHINE, "release", {
        "comment": "CloudStack instance i-2-21-VM deleted", "erase": "true", "quick_erase": "true"})]
    machine = maas.standin.machines["abc123"]
    assert (machine.status_name, machine.owner_data) == ("Releasing", {})  # MAAS releases in the background
    assert maas.run("status").answer["power_state"] == "poweroff"
    assert (machine.status_name, machine.owner) == ("Ready", None)


def test_a_machine_serving_another_instance_is_never_touched(maas: Maas) -> None:
    allocated(maas)
    maas.standin.machines["abc123"].owner_data["cloudstack_instance"] = "i-3-99-VM"
    assert maas.run("delete").code == 0 and maas.run("stop").code == 0
    assert maas.calls() == [GET_MACHINE, GET_MACHINE]  # looked, released nothing, powered nothing
    assert maas.standin.machines["abc123"].status_name == "Deployed"
    assert maas.run("status").answer["power_state"] == "poweroff"  # it is not this instance's


def test_status_and_statuses_read_the_power_of_the_instances_machines(maas: Maas) -> None:
    allocated(maas)
    allocated(maas, "def456", power="off")
    maas.standin.machines["def456"].owner_data["cloudstack_instance"] = "i-2-22-VM"
    maas.standin.add_machine("ghi789", status_name="Deployed", owner="cloudstack", power_state="on")  # not ours
    assert maas.run("status").answer == {"status": "success", "power_state": "poweron"}
    assert maas.calls() == [GET_MACHINE]
    assert maas.run("statuses").answer == {"status": "success", "power_state": {"i-2-21-VM": "poweron",
                                                                                "i-2-22-VM": "poweroff"}}
    assert maas.calls() == [("GET", "/machines/", "", {})]


def test_a_reboot_is_never_reported_as_a_power_off(maas: Maas) -> None:
    """Off then on: while the machine is off, status and statuses still say poweron (power sync would
    otherwise stop the instance); the mark carries its own deadline, so a reboot that died is not believed
    for ever."""
    allocated(maas)
    maas.standin.hold_power_on.clear()  # the machine will stay off until we let go
    path = write_payload(maas.payloads, maas.payload("reboot"))
    rebooting = subprocess.Popen([str(ENTRY), "reboot", str(path), "30"], env={**CLEAN_ENV, "HOME": str(ENTRY.parent)},
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    machine = maas.standin.machines["abc123"]
    eventually(lambda: machine.power_state == "off" and machine.pending, what="the reboot powering the machine off")
    assert maas.run("status").answer["power_state"] == "poweron"
    assert maas.run("statuses").answer["power_state"] == {"i-2-21-VM": "poweron"}
    assert machine.power_state == "off"
    maas.standin.hold_power_on.set()
    out, _ = rebooting.communicate(timeout=30)
    assert (rebooting.returncode, out.decode().strip()) == (0, '{"status": "success", "message": "Instance rebooted"}')
    calls = [c for c in maas.calls() if c[0] == "POST"]
    until = calls[0][3]["cloudstack_reboot_until"]
    assert calls == [("POST", MACHINE, "set_owner_data", {"cloudstack_reboot_until": until}),
                     ("POST", MACHINE, "power_off", {"stop_mode": "hard"}),
                     ("POST", MACHINE, "power_on", {"comment": "CloudStack instance i-2-21-VM"}),
                     ("POST", MACHINE, "set_owner_data", {"cloudstack_reboot_until": ""})]
    assert 0 < int(until) - time.time() <= 30
    assert machine.owner_data == MARK and machine.power_state == "on"

    machine.power_state = "off"  # a reboot that died half-way, long ago: off is off again
    machine.owner_data["cloudstack_reboot_until"] = str(int(time.time()) - 1)
    assert maas.run("status").answer["power_state"] == "poweroff"
    assert maas.run("start").code == 0 and "cloudstack_reboot_until" not in machine.owner_data


def test_concurrent_runs_each_sign_their_own_requests(maas: Maas) -> None:
    allocated(maas)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(maas.run("status").code)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [0, 0, 0, 0]  # fresh nonces: the stand-in refuses any nonce used twice
