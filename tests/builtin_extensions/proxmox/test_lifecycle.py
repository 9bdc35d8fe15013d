"""The Proxmox extension's instance actions against the Proxmox VE stand-in: the exact API calls each makes,
what it prints, and what the stand-in's VMs look like afterwards."""

from __future__ import annotations

from dataclasses import replace

from tests.builtin_extensions.bed import with_details, with_template
from tests.builtin_extensions.proxmox.conftest import INSTANCE, NICS, SECRET, Pve

NO_ID = with_details(INSTANCE, proxmox_vmid="")
STATUS_105 = ("GET", "/nodes/pve1/qemu/105/status/current", {})
RESOURCES = ("GET", "/cluster/resources", {"type": "vm"})
START_105 = ("POST", "/nodes/pve1/qemu/105/status/start", {})
STOP_105 = ("POST", "/nodes/pve1/qemu/105/status/stop", {})


def test_prepare_answers_the_next_free_vm_id_as_a_detail(pve: Pve) -> None:
    pve.standin.add_vm(100)
    run = pve.run("prepare", NO_ID)
    assert (run.code, run.answer) == (0, {"details": {"proxmox_vmid": "101"}})
    assert pve.calls() == [("GET", "/cluster/nextid", {})]


def test_prepare_changes_nothing_once_the_id_is_chosen(pve: Pve) -> None:
    run = pve.run("prepare")
    assert (run.code, run.output) == (0, "")
    assert pve.calls() == []


def test_create_clones_the_template_sizes_it_wires_its_nics_and_starts_it(pve: Pve) -> None:
    run = pve.run("create")
    assert (run.code, run.answer) == (0, {"status": "success", "message": "Instance created as VM 105 on node pve1"})
    assert pve.calls() == [
        STATUS_105, RESOURCES,  # not there yet, not elsewhere in the cluster either
        ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": "105", "name": "i-2-12-VM"}),
        ("GET", "/nodes/pve1/qemu/105/config", {}),
        ("PUT", "/nodes/pve1/qemu/105/config", {
            "cores": "2", "memory": "1024", "tags": "golden;cloudstack_i-2-12-VM",
            "net0": "virtio=02:01:00:cc:00:01,bridge=vmbr0,tag=1577", "net1": "virtio=02:01:00:cc:00:02,bridge=vmbr0"}),
        START_105,
    ]
    vm = pve.standin.vms[105]
    assert (vm.status, vm.node, vm.config["name"], vm.template) == ("running", "pve1", "i-2-12-VM", False)


def test_create_drops_template_nics_the_instance_does_not_have_and_honours_vm_name_and_storage(pve: Pve) -> None:
    instance = replace(with_template(INSTANCE, template_type="template", template_id="9000", vm_name="web01",
                                     storage="fast-zfs"), nics=NICS[:1])
    assert pve.run("create", instance).code == 0
    clone, _config, update = pve.calls()[2:5]
    assert clone == ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": "105", "name": "web01", "full": "1",
                                                            "storage": "fast-zfs"})
    assert update[2]["delete"] == "net1" and "net1" not in pve.standin.vms[105].config


def test_create_from_an_iso_installs_a_new_vm(pve: Pve) -> None:
    instance = with_template(INSTANCE, template_type="ISO", iso_path="local:iso/ubuntu-24.04.iso", disk_size="32")
    run = pve.run("create", instance)
    assert run.code == 0, run.output
    assert pve.calls() == [STATUS_105, RESOURCES, ("POST", "/nodes/pve1/qemu", {
        "vmid": "105", "name": "i-2-12-VM", "ostype": "l26", "sockets": "1", "scsihw": "virtio-scsi-single",
        "scsi0": "local-lvm:32,iothread=1", "ide2": "local:iso/ubuntu-24.04.iso,media=cdrom",
        "boot": "order=scsi0;ide2;net0", "tags": "cloudstack_i-2-12-VM", "cores": "2", "memory": "1024",
        "net0": "virtio=02:01:00:cc:00:01,bridge=vmbr0,tag=1577", "net1": "virtio=02:01:00:cc:00:02,bridge=vmbr0"}),
        START_105]
    assert pve.standin.vms[105].status == "running"


def test_a_failed_start_removes_the_half_created_vm(pve: Pve) -> None:
    pve.standin.fail_task["qmstart"] = "start failed: not enough memory"
    run = pve.run("create")
    assert run.code == 1
    assert run.answer == {"status": "error", "error": "starting VM 105 failed: start failed: not enough memory; "
                                                      "the half-created VM 105 was removed"}
    assert pve.calls()[-3:] == [START_105, STATUS_105, ("DELETE", "/nodes/pve1/qemu/105",
                                                        {"purge": "1", "destroy-unreferenced-disks": "1"})]
    assert 105 not in pve.standin.vms


def test_a_failed_clone_leaves_nothing_behind(pve: Pve) -> None:
    pve.standin.fail_task["qmclone"] = "clone failed: storage 'local-lvm' is full"
    run = pve.run("create")
    assert run.code == 1 and "clone failed: storage 'local-lvm' is full" in run.answer["error"]
    assert 105 not in pve.standin.vms
    assert [c[0] for c in pve.calls()][-2:] == ["POST", "GET"]  # clone, then a look: nothing to remove


def test_create_again_after_a_timeout_finishes_the_job_on_its_own_vm(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped", name="i-2-12-VM", tags="golden;cloudstack_i-2-12-VM")
    run = pve.run("create")
    assert run.code == 0, run.output
    assert pve.calls() == [STATUS_105, ("GET", "/nodes/pve1/qemu/105/config", {}), START_105]


def test_create_refuses_an_id_another_vm_already_has(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running", name="somebody-else")
    run = pve.run("create")
    assert run.code == 1
    assert run.answer["error"] == ("VM id 105 is already used by another VM (somebody-else); deploy the instance "
                                   "again to get a new id")
    assert pve.standin.vms[105].config["name"] == "somebody-else"


def test_without_prepare_create_takes_the_next_id_and_later_actions_find_the_vm_by_its_tag(pve: Pve) -> None:
    assert pve.run("create", NO_ID).code == 0
    calls = pve.calls()
    assert calls[:2] == [RESOURCES, ("GET", "/cluster/nextid", {})]
    assert calls[2] == ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": "100", "name": "i-2-12-VM"})
    run = pve.run("stop", NO_ID)
    assert run.code == 0 and pve.standin.vms[100].status == "stopped"
    assert pve.calls() == [RESOURCES, ("GET", "/nodes/pve1/qemu/100/status/current", {}),
                           ("POST", "/nodes/pve1/qemu/100/status/stop", {})]


def test_start_stop_and_reboot_are_idempotent_power_changes(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped")
    assert pve.run("start").answer == {"status": "success", "message": "Instance started"}
    assert pve.calls() == [STATUS_105, START_105]
    assert pve.run("start").answer == {"status": "success", "message": "Instance already running"}
    assert pve.calls() == [STATUS_105]
    assert pve.run("reboot").answer == {"status": "success", "message": "Instance rebooted"}
    assert pve.calls() == [STATUS_105, ("POST", "/nodes/pve1/qemu/105/status/reboot", {})]
    assert pve.run("stop").answer == {"status": "success", "message": "Instance stopped"}
    assert pve.calls() == [STATUS_105, STOP_105]
    assert pve.run("stop").code == 0
    assert pve.calls() == [STATUS_105]  # already stopped: nothing to do
    assert pve.run("reboot").code == 0  # rebooting a stopped VM starts it
    assert pve.calls() == [STATUS_105, START_105] and pve.standin.vms[105].status == "running"


def test_stop_and_delete_of_a_missing_vm_succeed_but_start_fails(pve: Pve) -> None:
    assert pve.run("stop").answer == {"status": "success", "message": "Instance stopped (it has no VM on Proxmox VE)"}
    assert pve.calls() == [STATUS_105, RESOURCES]
    assert pve.run("delete").answer == {"status": "success",
                                        "message": "Instance deleted (it has no VM on Proxmox VE)"}
    run = pve.run("start")
    assert (run.code, run.answer["error"]) == (1, "The VM of instance i-2-12-VM does not exist on Proxmox VE")


def test_delete_stops_a_running_vm_then_destroys_it_with_its_disks(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running")
    assert pve.run("delete").answer == {"status": "success", "message": "Instance deleted"}
    assert pve.calls() == [STATUS_105, STOP_105, ("DELETE", "/nodes/pve1/qemu/105",
                                                  {"purge": "1", "destroy-unreferenced-disks": "1"})]
    assert 105 not in pve.standin.vms


def test_status_reads_the_vm_and_follows_it_to_another_node(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running")
    assert pve.run("status").answer == {"status": "success", "power_state": "poweron"}
    assert pve.calls() == [STATUS_105]
    pve.standin.vms[105].node, pve.standin.vms[105].status = "pve2", "stopped"  # migrated, then stopped
    assert pve.run("status").answer == {"status": "success", "power_state": "poweroff"}
    assert pve.calls() == [STATUS_105, RESOURCES, ("GET", "/nodes/pve2/qemu/105/status/current", {})]
    assert pve.run("stop").code == 0 and pve.calls()[-1] != STOP_105  # acts on pve2, where the VM is
    del pve.standin.vms[105]
    assert pve.run("status").answer == {"status": "success", "power_state": "poweroff"}  # gone is off


def test_statuses_reports_every_vm_of_the_cluster_by_name_and_by_instance_tag(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running", name="web01", tags="cloudstack_i-2-12-VM;prod")
    pve.standin.add_vm(106, node="pve2", status="stopped", name="i-2-13-VM")
    run = pve.run("statuses")
    assert run.answer == {"status": "success", "power_state": {"web01": "poweron", "i-2-12-VM": "poweron",
                                                               "i-2-13-VM": "poweroff"}}
    assert pve.calls() == [RESOURCES]  # one call, templates left out


def test_getconsole_opens_a_vnc_proxy_on_the_vms_node(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running")
    run = pve.run("getconsole")
    assert run.answer == {"status": "success", "message": "Console ready", "console": {
        "host": "192.0.2.11", "port": "5901", "password": "vnc8pass", "passwordonetimeuseonly": True,
        "protocol": "vnc"}}
    assert pve.calls() == [STATUS_105, ("POST", "/nodes/pve1/qemu/105/vncproxy", {"generate-password": "1"}),
                           ("GET", "/cluster/status", {})]
    pve.host["console_host"] = "console.pve.example"
    assert pve.run("getconsole").answer["console"]["host"] == "console.pve.example"
    pve.standin.vms[105].status = "stopped"
    run = pve.run("getconsole")
    assert (run.code, run.answer["error"]) == (1, "POST /nodes/pve1/qemu/105/vncproxy failed: HTTP 500 VM 105 "
                                                  "not running")


def test_unknown_actions_fail_without_calling_proxmox(pve: Pve) -> None:
    run = pve.run("Hibernate", parameters={})
    assert (run.code, run.answer) == (1, {"status": "error", "error": "Invalid action: Hibernate"})
    assert pve.calls() == []


def test_the_token_secret_never_appears_in_any_output(pve: Pve) -> None:
    pve.standin.add_vm(105, status="running")
    outputs = [pve.run(action).output for action in ("status", "statuses", "stop", "start", "getconsole")]
    pve.extension["secret"] = "wrong-" + SECRET
    outputs.append(pve.run("status").output)
    assert all(SECRET not in output and "wrong-" not in output for output in outputs), outputs
    assert INSTANCE.vnc_password not in "".join(outputs)
