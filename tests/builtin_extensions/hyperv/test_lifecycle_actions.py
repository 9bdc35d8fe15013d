"""hyperv.py's lifecycle actions against the WinRM stand-in: the exact PowerShell sent for each action, what it
did to the Hyper-V model, and the answer printed.

The stand-in is a real HTTPS WS-Management endpoint (NTLM checked, the WinRS shell flow, -EncodedCommand
decoded) that executes the scripts in a PowerShell subset against a model of Hyper-V, so each assertion on a
script is backed by its effect."""

from __future__ import annotations

from pathlib import Path

from tests.builtin_extensions.hyperv.conftest import (
    ISO,
    PASSWORD,
    TEMPLATE,
    USER,
    host_details,
    nic,
    run_hyperv,
    vm_payload,
)
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn

PRELUDE = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n"
NAME = "i-2-12-VM"
FIND = (f"Get-VM | Where-Object -Property Name -EQ -Value '{NAME}' | "
        "Select-Object -Property Id, Name, State, Notes | ConvertTo-Csv -NoTypeInformation")


def script(*lines: str) -> str:
    return PRELUDE + "".join(line + "\n" for line in lines)


def created(standin: WinRMStandIn, certificates: Certificates, tmp_path: Path, **kwargs: object) -> str:
    """Create the instance; its Hyper-V id. The stand-in's record starts empty afterwards."""
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates), **kwargs))  # type: ignore[arg-type]
    assert run.code == 0, run.output
    standin.commands.clear()
    return str(run.answer["vmid"])


def test_create_from_a_template_copies_the_disk_and_builds_the_machine_step_by_step(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    payload = vm_payload(host_details(standin, certificates), cpus=3, ram_mb=1025,
                         nics=[nic(1, "02:01:00:cc:00:02", "vlan://untagged"), nic(0, "02:01:00:cc:00:01", "vlan://1577")])
    run = run_hyperv(tmp_path, "create", payload)

    assert run.code == 0, run.output
    vm = standin.host.vm(NAME)
    assert run.answer == {"status": "success", "message": f"Instance {NAME} created", "vmid": str(vm.id)}
    by_id = f"$vm = Get-VM -Id '{vm.id}'"
    assert standin.scripts == [
        script(FIND),
        script(f"Copy-Item -LiteralPath '{TEMPLATE}' -Destination 'D:\\VHDs\\{NAME}.vhdx'"),
        script(f"$vm = New-VM -Name '{NAME}' -Generation 2 -MemoryStartupBytes 1075838976 -Path 'D:\\VMs' "
               f"-VHDPath 'D:\\VHDs\\{NAME}.vhdx'", "$vm | Select-Object -ExpandProperty Id"),
        script(by_id, "Set-VMProcessor -VM $vm -Count 3", "Set-VMFirmware -VM $vm -EnableSecureBoot Off",
               "Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter"),
        script(by_id,
               "Add-VMNetworkAdapter -VM $vm -Name 'NIC1' -SwitchName 'External' -StaticMacAddress '020100CC0001'",
               "Set-VMNetworkAdapterVlan -VM $vm -VMNetworkAdapterName 'NIC1' -Access -VlanId 1577"),
        script(by_id,
               "Add-VMNetworkAdapter -VM $vm -Name 'NIC2' -SwitchName 'External' -StaticMacAddress '020100CC0002'"),
        script(by_id, "Start-VM -VM $vm", f"Set-VM -VM $vm -Notes 'Created by the hyperv.py extension for {NAME}'"),
    ]
    assert all(run.flags == ["-NoProfile", "-NonInteractive"] and run.user == USER for run in standin.commands)
    # 1025 MiB is rounded up to whole 2 MiB, as Hyper-V requires
    assert (vm.state, vm.generation, vm.memory, vm.processors, vm.secure_boot) == ("Running", 2, 1026 * 2**20, 3, False)
    assert vm.disks == [f"D:\\VHDs\\{NAME}.vhdx"] and f"D:\\VHDs\\{NAME}.vhdx" in standin.host.file_paths()
    assert [(a.name, a.switch, a.mac, a.vlan) for a in vm.adapters] == [
        ("NIC1", "External", "020100CC0001", 1577), ("NIC2", "External", "020100CC0002", None)]


def test_create_from_an_iso_makes_an_empty_disk_and_boots_the_dvd_on_generation_2(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    iso = {"template_type": "iso", "template_path": None, "iso_path": ISO, "vhd_size_gb": "40"}
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates), vm_details=iso))

    assert run.code == 0, run.output
    vm = standin.host.vm(NAME)
    assert standin.scripts[1] == script(
        f"$vm = New-VM -Name '{NAME}' -Generation 2 -MemoryStartupBytes 1073741824 -Path 'D:\\VMs' "
        f"-NewVHDPath 'D:\\VHDs\\{NAME}.vhdx' -NewVHDSizeBytes 42949672960", "$vm | Select-Object -ExpandProperty Id")
    assert standin.scripts[2] == script(
        f"$vm = Get-VM -Id '{vm.id}'", "Set-VMProcessor -VM $vm -Count 2",
        "Set-VMFirmware -VM $vm -EnableSecureBoot Off",
        f"$dvd = Add-VMDvdDrive -VM $vm -Path '{ISO}' -Passthru", "Set-VMFirmware -VM $vm -FirstBootDevice $dvd",
        "Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter")
    assert vm.first_boot is vm.dvds[0] and vm.dvds[0].path == ISO and vm.state == "Running"
    assert standin.host.files[f"d:\\vhds\\{NAME.lower()}.vhdx"].size == 40 * 2**30


def test_generation_1_gets_no_firmware_settings_and_secure_boot_can_stay_on(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    host = host_details(standin, certificates)
    assert run_hyperv(tmp_path, "create", vm_payload(host, vm_details={"generation": "1"})).code == 0
    assert "Set-VMFirmware" not in "".join(standin.scripts) and standin.host.vm(NAME).generation == 1
    run = run_hyperv(tmp_path, "create", vm_payload(host, name="i-2-13-VM", vm_details={"secure_boot": "true"}))
    assert run.code == 0, run.output
    assert standin.host.vm("i-2-13-VM").secure_boot is True


def test_network_bridge_is_accepted_for_the_switch(standin: WinRMStandIn, certificates: Certificates,
                                                   tmp_path: Path) -> None:
    host = host_details(standin, certificates, network_switch=None, network_bridge="Lab Switch")  # type: ignore[arg-type]
    run = run_hyperv(tmp_path, "create", vm_payload(host))
    assert run.code == 0, run.output
    assert [a.switch for a in standin.host.vm(NAME).adapters] == ["Lab Switch"]


def test_missing_details_are_named_before_anything_is_sent(standin: WinRMStandIn, certificates: Certificates,
                                                           tmp_path: Path) -> None:
    host = host_details(standin, certificates, vhd_path=None, vm_path=None)  # type: ignore[arg-type]
    run = run_hyperv(tmp_path, "create", vm_payload(host))
    assert (run.code, run.answer) == (1, {"status": "error", "error": "Missing required details: vhd_path, vm_path"})
    no_switch = host_details(standin, certificates, network_switch=None)  # type: ignore[arg-type]
    run = run_hyperv(tmp_path, "create", vm_payload(no_switch))
    assert run.answer["error"] == "Missing required details: network_switch (or network_bridge)"
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates),
                                                     vm_details={"template_path": None}))
    assert run.answer["error"] == "Missing required details: template_path (or template_type=iso with iso_path)"
    iso = {"template_type": "iso", "template_path": None, "iso_path": ISO}
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates), vm_details=iso))
    assert run.answer["error"] == "Missing required details for an ISO instance: vhd_size_gb"
    run = run_hyperv(tmp_path, "status", vm_payload({"url": "hv01"}))
    assert run.answer["error"] == "Missing required details: username, password"
    run = run_hyperv(tmp_path, "create",
                     vm_payload(host_details(standin, certificates), vm_details={"generation": "3"}))
    assert run.answer["error"] == "detail generation='3' must be a whole number from 1 to 2"
    bad_vlan = [nic(0, "02:01:00:cc:00:01", "vxlan://5000")]
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates), nics=bad_vlan))
    assert "vxlan://5000" in run.answer["error"] and run.code == 1
    assert standin.commands == []


def test_a_failed_create_removes_what_it_made_and_says_what_hyper_v_refused(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    host = host_details(standin, certificates, network_switch="No Such Switch")
    run = run_hyperv(tmp_path, "create", vm_payload(host))

    assert run.code == 1
    assert run.answer == {"status": "error", "error": (
        f"adding NIC1 to instance {NAME} failed on the Hyper-V host: Add-VMNetworkAdapter : Hyper-V was unable to find "
        'a virtual switch with name "No Such Switch".; what was created has been removed')}
    assert standin.host.vms == [] and standin.host.file_paths() == {TEMPLATE, ISO}
    assert standin.scripts[-2] == script(FIND)
    assert standin.scripts[-1].startswith(PRELUDE + "$vm = Get-VM -Id '")
    assert standin.scripts[-1].endswith(
        "'\nRemove-VM -VM $vm -Force\n"
        f"Get-Item -LiteralPath 'D:\\VHDs\\{NAME}.vhdx' -ErrorAction SilentlyContinue | Remove-Item -Force\n'done'\n")


def test_a_missing_template_is_reported_with_powershells_message(standin: WinRMStandIn, certificates: Certificates,
                                                                  tmp_path: Path) -> None:
    run = run_hyperv(tmp_path, "create", vm_payload(host_details(standin, certificates),
                                                    vm_details={"template_path": "C:\\Templates\\gone.vhdx"}))
    assert run.code == 1
    assert run.answer["error"] == (
        f"copying template disk for {NAME} failed on the Hyper-V host: Copy-Item : Cannot find path "
        "'C:\\Templates\\gone.vhdx' because it does not exist.")
    assert standin.host.vms == [] and len(standin.scripts) == 2  # nothing was made, nothing to undo


def test_create_keeps_a_finished_instance_and_rebuilds_a_half_made_one(standin: WinRMStandIn,
                                                                      certificates: Certificates,
                                                                      tmp_path: Path) -> None:
    vm_id = created(standin, certificates, tmp_path)
    standin.host.vm(NAME).state = "Off"
    payload = vm_payload(host_details(standin, certificates))
    run = run_hyperv(tmp_path, "create", payload)
    assert run.answer == {"status": "success", "message": f"Instance {NAME} already existed on the host; it is running",
                          "vmid": vm_id}
    assert standin.scripts == [script(FIND), script(f"$vm = Get-VM -Id '{vm_id}'", "Start-VM -VM $vm")]

    standin.host.vm(NAME).notes = ""  # as a create cut short by its timeout leaves it
    standin.commands.clear()
    run = run_hyperv(tmp_path, "create", payload)
    assert run.code == 0, run.output
    assert standin.scripts[1] == script(f"$vm = Get-VM -Id '{vm_id}'", "Stop-VM -VM $vm -TurnOff -Force",
                                        "Remove-VM -VM $vm -Force",
                                        f"Get-Item -LiteralPath 'D:\\VHDs\\{NAME}.vhdx' "
                                        "-ErrorAction SilentlyContinue | Remove-Item -Force", "'done'")
    [vm] = standin.host.vms
    assert str(vm.id) != vm_id and vm.state == "Running" and vm.notes.startswith("Created by")


def test_stop_start_reboot_status_and_statuses(standin: WinRMStandIn, certificates: Certificates,
                                               tmp_path: Path) -> None:
    vm_id = created(standin, certificates, tmp_path)
    payload = vm_payload(host_details(standin, certificates))
    by_id = f"$vm = Get-VM -Id '{vm_id}'"

    def act(action: str) -> dict[str, object]:
        standin.commands.clear()
        run = run_hyperv(tmp_path, action, payload)
        assert run.code == 0, run.output
        return run.answer

    assert act("status") == {"status": "success", "power_state": "poweron"}
    assert standin.scripts == [script(FIND)]
    assert act("stop") == {"status": "success", "message": f"Instance {NAME} stopped"}
    assert standin.scripts == [script(FIND), script(by_id, "Stop-VM -VM $vm -Force")]
    assert act("status")["power_state"] == "poweroff"
    assert act("stop") == {"status": "success", "message": f"Instance {NAME} is already stopped"}
    assert standin.scripts == [script(FIND)]
    assert act("start") == {"status": "success", "message": f"Instance {NAME} started"}
    assert standin.scripts == [script(FIND), script(by_id, "Start-VM -VM $vm")]
    assert act("start") == {"status": "success", "message": f"Instance {NAME} is already running"}
    assert act("reboot") == {"status": "success", "message": f"Instance {NAME} rebooted"}
    assert standin.scripts == [script(FIND), script(by_id, "Restart-VM -VM $vm -Force")]
    standin.host.vm(NAME).state = "Saved"
    assert act("status")["power_state"] == "poweroff"
    assert act("reboot") == {"status": "success", "message": f"Instance {NAME} was saved; it has been started"}
    standin.host.vm(NAME).state = "Paused"
    assert act("status")["power_state"] == "poweron"
    assert act("stop")["message"] == f"Instance {NAME} stopped"
    assert standin.scripts == [script(FIND), script(by_id, "Stop-VM -VM $vm -TurnOff -Force")]

    assert created(standin, certificates, tmp_path, name="i-2-14-VM")
    standin.host.vm("i-2-14-VM").state = "Stopping"
    assert act("statuses") == {"status": "success", "power_state": {NAME: "poweroff", "i-2-14-VM": "unknown"}}
    assert standin.scripts == [
        script("Get-VM | Select-Object -Property Name, State | ConvertTo-Csv -NoTypeInformation")]


def test_a_missing_instance_is_success_for_stop_and_delete_and_an_error_otherwise(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    payload = vm_payload(host_details(standin, certificates, vhd_path=None))  # type: ignore[arg-type]
    stop = run_hyperv(tmp_path, "stop", payload)
    assert (stop.code, stop.answer["message"]) == (0, f"Instance {NAME} is not on the host; nothing to stop")
    delete = run_hyperv(tmp_path, "delete", payload)
    assert (delete.code, delete.answer["message"]) == (0, f"Instance {NAME} is not on the host; nothing to delete")
    status = run_hyperv(tmp_path, "status", payload)
    assert status.answer == {"status": "success", "power_state": "unknown",
                             "message": f"no virtual machine named {NAME} on the host"}
    for action in ("start", "reboot", "Suspend", "ListSnapshots"):
        run = run_hyperv(tmp_path, action, payload)
        assert (run.code, run.answer) == (1, {"status": "error",
                                              "error": f"no virtual machine named '{NAME}' on the Hyper-V host"})
    assert set(standin.scripts) == {script(FIND)}


def test_two_machines_of_one_name_are_never_guessed_between(standin: WinRMStandIn, certificates: Certificates,
                                                            tmp_path: Path) -> None:
    created(standin, certificates, tmp_path)
    [twin] = standin.host.new_vm({"Name": NAME, "Generation": 2}, None)  # made by hand on the host
    twin.state = "Running"
    payload = vm_payload(host_details(standin, certificates))
    run = run_hyperv(tmp_path, "stop", payload)
    assert (run.code, run.answer["error"]) == (
        1, f"2 virtual machines are named '{NAME}' on the Hyper-V host; refusing to guess which one is the instance")
    assert all(vm.state == "Running" for vm in standin.host.vms)


def test_delete_turns_off_merges_checkpoints_removes_the_machine_and_its_disk(
        standin: WinRMStandIn, certificates: Certificates, tmp_path: Path) -> None:
    vm_id = created(standin, certificates, tmp_path)
    payload = vm_payload(host_details(standin, certificates), parameters={"snapshot_name": "before-upgrade"})
    assert run_hyperv(tmp_path, "CreateSnapshot", payload).code == 0
    assert len(standin.host.file_paths()) == 4  # templates, the disk and a checkpoint's differencing disk
    standin.commands.clear()

    run = run_hyperv(tmp_path, "delete", payload)
    assert (run.code, run.answer) == (0, {"status": "success", "message": f"Instance {NAME} deleted"})
    assert standin.scripts == [script(FIND), script(
        f"$vm = Get-VM -Id '{vm_id}'", "Stop-VM -VM $vm -TurnOff -Force",
        "Get-VMSnapshot -VM $vm | Remove-VMSnapshot -Confirm:$false", "Remove-VM -VM $vm -Force",
        f"Get-Item -LiteralPath 'D:\\VHDs\\{NAME}.vhdx' -ErrorAction SilentlyContinue | Remove-Item -Force", "'done'")]
    assert standin.host.vms == [] and standin.host.file_paths() == {TEMPLATE, ISO}
    again = run_hyperv(tmp_path, "delete", payload)
    assert again.answer["message"] == f"Instance {NAME} is not on the host; its disk D:\\VHDs\\{NAME}.vhdx is gone too"


def test_unknown_actions_and_consoles_fail_clearly(standin: WinRMStandIn, certificates: Certificates,
                                                   tmp_path: Path) -> None:
    payload = vm_payload(host_details(standin, certificates))
    for action in ("deploy", "prepare", "recover"):
        run = run_hyperv(tmp_path, action, payload)
        assert (run.code, run.answer) == (1, {"status": "error", "error": "Invalid action"})
    console = run_hyperv(tmp_path, "getconsole", payload)
    assert console.code == 1 and "not supported" in console.answer["error"]
    assert standin.commands == []
    assert all(PASSWORD not in run_hyperv(tmp_path, a, payload).output for a in ("deploy", "getconsole"))
