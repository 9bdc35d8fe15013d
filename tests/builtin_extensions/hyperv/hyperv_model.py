"""A small model of one Hyper-V host and the PowerShell cmdlets that act on it, for the WS-Management stand-in.

State: virtual switches, files (VHDX templates, ISOs, disks made by the cmdlets; Windows paths compare
without case), virtual machines (state, generation, memory, processors, disks, DVD drives, network adapters
with static MAC and access VLAN, firmware, notes, checkpoints).

The cmdlets follow the Hyper-V module's documented behaviour for the parameters implemented, and refuse what
Hyper-V refuses with its messages where known (state changes a machine's state does not allow, processors
or memory out of range, a missing switch, file or parent folder, settings a running machine cannot take,
high-impact cmdlets without -Force/-Confirm:$false in a non-interactive shell). Where the real message is not
known, the refusal says what is wrong in Hyper-V's style. `Get-VM -Name`, like the real one, matches
wildcards: that is why a careful script looks machines up with Where-Object and acts on their id.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.builtin_extensions.hyperv.powershell import Cmdlet, CmdletError, Param

MIB = 1024 * 1024
LOGICAL_PROCESSORS = 16


def _key(path: str) -> str:
    return path.replace("/", "\\").rstrip("\\").lower()


def _legal(path: str) -> str:
    """`path` if Windows allows it as a file path (a drive, then names without <>:"|?* or control characters)."""
    rest = path[2:] if len(path) > 1 and path[1] == ":" else path
    if any(c in '<>:"|?*' or ord(c) < 32 for c in rest):
        raise CmdletError("Illegal characters in path.", "InvalidArgument",
                          "System.ArgumentException,Microsoft.PowerShell.Commands.CopyItemCommand")
    return path


def _parent(path: str) -> str:
    return path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[0]


@dataclass
class File:
    path: str
    size: int
    ps_type: str = "FileInfo"


@dataclass
class Adapter:
    name: str
    vm: VM
    switch: str | None = None
    mac: str | None = None
    vlan: int | None = None
    ps_type: str = "VMNetworkAdapter"


@dataclass
class Dvd:
    path: str
    vm: VM
    ps_type: str = "DvdDrive"


@dataclass
class Snapshot:
    id: uuid.UUID
    name: str
    vm: VM
    parent: Snapshot | None
    created: dt.datetime
    running: bool  # taken with the machine running: applying it leaves the machine saved
    files: list[str] = field(default_factory=list)
    ps_type: str = "VMSnapshot"

    def properties(self) -> dict[str, Any]:
        return {"Id": self.id, "Name": self.name, "VMName": self.vm.name, "CreationTime": self.created,
                "ParentSnapshotName": self.parent.name if self.parent else None, "SnapshotType": "Standard"}


@dataclass
class VM:
    id: uuid.UUID
    name: str
    generation: int
    memory: int
    path: str
    state: str = "Off"
    processors: int = 1
    disks: list[str] = field(default_factory=list)
    dvds: list[Dvd] = field(default_factory=list)
    adapters: list[Adapter] = field(default_factory=list)
    secure_boot: bool = True
    first_boot: Any = None
    notes: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    current: Snapshot | None = None
    ps_type: str = "VirtualMachine"

    def properties(self) -> dict[str, Any]:
        return {"Id": self.id, "Name": self.name, "State": self.state, "Generation": self.generation,
                "MemoryStartup": self.memory, "ProcessorCount": self.processors, "Notes": self.notes,
                "Path": self.path, "ParentSnapshotName": self.current.name if self.current else None}


class HyperVHost:
    """The host's state and its cmdlets. Thread-safe: one lock around every cmdlet."""

    def __init__(self, *, switches: tuple[str, ...] = ("External",), folders: tuple[str, ...] = ()):
        self.switches = list(switches)
        self.folders = {_key(f): f for f in folders}
        self.files: dict[str, File] = {}
        self.vms: list[VM] = []
        self.lock = threading.RLock()
        self.clock = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

    # test helpers

    def add_file(self, path: str, size: int = 10 * 1024**3) -> None:
        self.folders.setdefault(_key(_parent(path)), _parent(path))
        self.files[_key(path)] = File(path, size)

    def vm(self, name: str) -> VM:
        [vm] = [vm for vm in self.vms if vm.name == name]
        return vm

    def file_paths(self) -> set[str]:
        return {f.path for f in self.files.values()}

    # cmdlet plumbing

    def cmdlets(self) -> dict[str, Cmdlet]:
        vm = Param("VM", "object:VirtualMachine", many=True)
        vm_piped = Param("VM", "object:VirtualMachine", many=True, pipeline=True)
        table = [
            Cmdlet("Get-VM", (Param("Name", many=True), Param("Id", "guid")), self.get_vm),
            Cmdlet("New-VM", (Param("Name"), Param("Generation", "int"), Param("MemoryStartupBytes", "int"),
                              Param("Path"), Param("VHDPath"), Param("NewVHDPath"), Param("NewVHDSizeBytes", "int"),
                              Param("NoVHD", "switch"), Param("SwitchName")), self.new_vm),
            Cmdlet("Set-VM", (vm_piped, Param("Notes")), self.set_vm),
            Cmdlet("Start-VM", (vm_piped,), self.state_change("Start-VM")),
            Cmdlet("Stop-VM", (vm_piped, Param("Force", "switch"), Param("TurnOff", "switch")), self.stop_vm),
            Cmdlet("Restart-VM", (vm_piped, Param("Force", "switch")), self.state_change("Restart-VM"),
                   confirm_impact_high=True),
            Cmdlet("Suspend-VM", (vm_piped,), self.state_change("Suspend-VM")),
            Cmdlet("Resume-VM", (vm_piped,), self.state_change("Resume-VM")),
            Cmdlet("Remove-VM", (vm_piped, Param("Force", "switch")), self.remove_vm, confirm_impact_high=True),
            Cmdlet("Set-VMProcessor", (vm, Param("Count", "int")), self.set_processor),
            Cmdlet("Set-VMFirmware", (vm, Param("EnableSecureBoot", "enum:On|Off"),
                                      Param("FirstBootDevice", "object:DvdDrive|VMNetworkAdapter|HardDiskDrive")),
                   self.set_firmware),
            Cmdlet("Add-VMDvdDrive", (vm, Param("Path"), Param("Passthru", "switch")), self.add_dvd),
            Cmdlet("Get-VMNetworkAdapter", (vm,), self.get_adapters),
            Cmdlet("Add-VMNetworkAdapter", (vm, Param("Name"), Param("SwitchName"), Param("StaticMacAddress"),
                                            Param("Passthru", "switch")), self.add_adapter),
            Cmdlet("Remove-VMNetworkAdapter", (Param("VMNetworkAdapter", "object:VMNetworkAdapter", many=True,
                                                     pipeline=True),), self.remove_adapters),
            Cmdlet("Set-VMNetworkAdapterVlan", (vm, Param("VMNetworkAdapterName"), Param("Access", "switch"),
                                                Param("VlanId", "int")), self.set_vlan),
            Cmdlet("Get-VMSnapshot", (vm, Param("Id", "guid"), Param("Name")), self.get_snapshots),
            Cmdlet("Checkpoint-VM", (vm, Param("SnapshotName")), self.checkpoint),
            Cmdlet("Restore-VMSnapshot", (Param("VMSnapshot", "object:VMSnapshot", many=True, pipeline=True),),
                   self.restore_snapshot, confirm_impact_high=True),
            Cmdlet("Remove-VMSnapshot", (Param("VMSnapshot", "object:VMSnapshot", many=True, pipeline=True),),
                   self.remove_snapshots, confirm_impact_high=True),
            Cmdlet("Copy-Item", (Param("LiteralPath"), Param("Destination")), self.copy_item),
            Cmdlet("Get-Item", (Param("LiteralPath"),), self.get_item),
            Cmdlet("Remove-Item", (Param("LiteralPath"), Param("InputObject", "object:FileInfo", many=True,
                                                                pipeline=True), Param("Force", "switch")),
                   self.remove_item),
        ]
        return {cmdlet.name: self._locked(cmdlet) for cmdlet in table}

    def _locked(self, cmdlet: Cmdlet) -> Cmdlet:
        def run(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
            with self.lock:
                return cmdlet.run(bound, flowing)

        return Cmdlet(cmdlet.name, cmdlet.params, run, cmdlet.confirm_impact_high)

    @staticmethod
    def _targets(bound: dict[str, Any], flowing: list[Any] | None, param: str) -> list[Any]:
        return list(bound.get(param) or []) + list(flowing or [])

    def _alive(self, vm: VM) -> VM:
        if vm not in self.vms:
            raise CmdletError(f"Hyper-V was unable to find a virtual machine with id \"{vm.id}\".", "ObjectNotFound",
                              "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM")
        return vm

    # virtual machines

    def get_vm(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        if "Id" in bound:
            found = [vm for vm in self.vms if vm.id == bound["Id"]]
            if not found:
                raise CmdletError(f"Hyper-V was unable to find a virtual machine with id \"{bound['Id']}\".",
                                  "ObjectNotFound", "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM")
            return found
        if "Name" in bound:
            patterns = [name.lower() for name in bound["Name"]]
            found = [vm for vm in self.vms if any(fnmatch.fnmatchcase(vm.name.lower(), p) for p in patterns)]
            if not found:
                raise CmdletError(f"Hyper-V was unable to find a virtual machine with name \"{bound['Name'][0]}\".",
                                  "InvalidArgument", "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM")
            return found
        return list(self.vms)

    def new_vm(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        name = bound.get("Name") or ""
        if not name.strip() or len(name) > 100:
            raise CmdletError("The virtual machine name must be 1 to 100 characters long.", "InvalidArgument")
        generation = bound.get("Generation", 1)
        if generation not in (1, 2):
            raise CmdletError(f"Cannot validate argument on parameter 'Generation'. The {generation} argument is not "
                              "in the set 1, 2.", "InvalidData")
        memory = bound.get("MemoryStartupBytes", 512 * MIB)
        if memory < 32 * MIB or memory % (2 * MIB):
            raise CmdletError(f"Failed to modify device 'Memory'. Invalid startup memory amount assigned for "
                              f"'{name}': {memory // MIB} MB. Memory must be at least 32 MB and a multiple of 2 MB.",
                              "InvalidArgument")
        path = bound.get("Path")
        if path is not None and _key(path) not in self.folders:
            raise CmdletError(f"Failed to create the virtual machine: the folder '{path}' does not exist.",
                              "ObjectNotFound")
        vm = VM(id=uuid.uuid4(), name=name, generation=generation, memory=memory, path=path or "C:\\ProgramData")
        disk_options = [key for key in ("VHDPath", "NewVHDPath", "NoVHD") if key in bound]
        if len(disk_options) > 1:
            raise CmdletError("Parameter set cannot be resolved using the specified named parameters.",
                              "InvalidArgument", "AmbiguousParameterSet,Microsoft.HyperV.PowerShell.Commands.NewVM")
        if "VHDPath" in bound:
            disk = self.files.get(_key(bound["VHDPath"]))
            if disk is None:
                raise CmdletError(f"The system cannot find the file specified: '{bound['VHDPath']}'.", "ObjectNotFound")
            if generation == 2 and not disk.path.lower().endswith(".vhdx"):
                raise CmdletError("Generation 2 virtual machines support only VHDX disks.", "InvalidArgument")
            self._not_in_use(disk.path)
            vm.disks.append(disk.path)
        elif "NewVHDPath" in bound:
            target, size = _legal(bound["NewVHDPath"]), bound.get("NewVHDSizeBytes")
            if size is None:
                raise CmdletError("NewVHDSizeBytes is required with NewVHDPath.", "InvalidArgument")
            if _key(target) in self.files:
                raise CmdletError(f"Failed to create the virtual hard disk: the file '{target}' exists.",
                                  "ResourceExists")
            if _key(_parent(target)) not in self.folders:
                raise CmdletError(f"Could not find a part of the path '{target}'.", "ObjectNotFound")
            self.files[_key(target)] = File(target, size)
            vm.disks.append(target)
        if "SwitchName" in bound:
            self._switch(bound["SwitchName"])
        vm.adapters.append(Adapter("Network Adapter", vm, switch=bound.get("SwitchName")))
        self.vms.append(vm)
        return [vm]

    def set_vm(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in self._targets(bound, flowing, "VM"):
            if "Notes" in bound:
                self._alive(vm).notes = bound["Notes"]
        return []

    _TRANSITIONS = {
        "Start-VM": ({"Off", "Saved"}, "Running"),
        "Restart-VM": ({"Running", "Paused"}, "Running"),
        "Suspend-VM": ({"Running"}, "Paused"),
        "Resume-VM": ({"Paused"}, "Running"),
    }

    def state_change(self, name: str) -> Any:
        allowed, result = self._TRANSITIONS[name]

        def run(bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
            for vm in self._targets(bound, flowing, "VM"):
                self._alive(vm)
                if vm.state not in allowed:
                    raise self._wrong_state(vm)
                vm.state = result
            return []

        return run

    @staticmethod
    def _wrong_state(vm: VM) -> CmdletError:
        return CmdletError(f"'{vm.name}' failed to change state. The operation cannot be performed while the object "
                           "is in its current state.", "InvalidOperation",
                           "InvalidOperation,Microsoft.HyperV.PowerShell.Commands.StateChange")

    def stop_vm(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in self._targets(bound, flowing, "VM"):
            self._alive(vm)
            if vm.state == "Running" or (bound.get("TurnOff") and vm.state in ("Paused", "Saved")):
                vm.state = "Off"
            else:
                raise self._wrong_state(vm)
        return []

    def remove_vm(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in self._targets(bound, flowing, "VM"):
            self._alive(vm)
            if vm.state != "Off":
                raise CmdletError(f"'{vm.name}' failed to delete: the virtual machine must be turned off.",
                                  "InvalidOperation")
            self.vms.remove(vm)  # its disk files stay, as Hyper-V leaves them
        return []

    def set_processor(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        count = bound.get("Count")
        for vm in bound.get("VM") or []:
            self._alive(vm)
            if count is not None:
                if not 1 <= count <= LOGICAL_PROCESSORS:
                    raise CmdletError(f"Failed to modify device 'Processor'. '{vm.name}' cannot have {count} virtual "
                                      f"processors: this host has {LOGICAL_PROCESSORS} logical processors.",
                                      "InvalidArgument")
                self._off(vm, "change the number of processors")
                vm.processors = count
        return []

    def _off(self, vm: VM, what: str) -> None:
        if vm.state != "Off":
            raise CmdletError(f"Cannot {what} of '{vm.name}' while it is {vm.state.lower()}: turn it off first.",
                              "InvalidOperation")

    def set_firmware(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in bound.get("VM") or []:
            self._alive(vm)
            if vm.generation != 2:
                raise CmdletError(f"'{vm.name}' is a generation 1 virtual machine: firmware settings apply to "
                                  "generation 2 virtual machines only.", "InvalidOperation")
            if "EnableSecureBoot" in bound:
                vm.secure_boot = bound["EnableSecureBoot"] == "On"
            if "FirstBootDevice" in bound:
                device = bound["FirstBootDevice"]
                if getattr(device, "vm", None) is not vm:
                    raise CmdletError("The boot device does not belong to this virtual machine.", "InvalidArgument")
                vm.first_boot = device
        return []

    def add_dvd(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        made = []
        for vm in bound.get("VM") or []:
            self._alive(vm)
            path = bound.get("Path")
            if path is not None and _key(path) not in self.files:
                raise CmdletError(f"Failed to add device 'DVD Drive': the file '{path}' does not exist.",
                                  "ObjectNotFound")
            drive = Dvd(path or "", vm)
            vm.dvds.append(drive)
            made.append(drive)
        return made if bound.get("Passthru") else []

    # network adapters

    def _switch(self, name: str) -> str:
        if name.lower() not in (s.lower() for s in self.switches):
            raise CmdletError(f"Hyper-V was unable to find a virtual switch with name \"{name}\".", "ObjectNotFound",
                              "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.AddVMNetworkAdapter")
        return name

    def get_adapters(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        return [adapter for vm in bound.get("VM") or [] for adapter in self._alive(vm).adapters]

    def add_adapter(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        made = []
        for vm in bound.get("VM") or []:
            self._alive(vm)
            if vm.generation == 1:
                self._off(vm, "add a network adapter")
            mac = bound.get("StaticMacAddress")
            if mac is not None:
                digits = mac.replace("-", "").replace(":", "")
                if len(digits) != 12 or any(c not in "0123456789abcdefABCDEF" for c in digits) \
                        or int(digits[:2], 16) & 1:
                    raise CmdletError(f"Cannot bind parameter 'StaticMacAddress': '{mac}' is not a valid unicast "
                                      "MAC address.", "InvalidArgument")
                mac = digits.upper()
            adapter = Adapter(bound.get("Name") or "Network Adapter", vm,
                              switch=self._switch(bound["SwitchName"]) if "SwitchName" in bound else None, mac=mac)
            vm.adapters.append(adapter)
            made.append(adapter)
        return made if bound.get("Passthru") else []

    def remove_adapters(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for adapter in self._targets(bound, flowing, "VMNetworkAdapter"):
            vm = self._alive(adapter.vm)
            if vm.generation == 1:
                self._off(vm, "remove a network adapter")
            vm.adapters.remove(adapter)
        return []

    def set_vlan(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in bound.get("VM") or []:
            name = bound.get("VMNetworkAdapterName")
            adapters = [a for a in self._alive(vm).adapters if name is None or a.name.lower() == name.lower()]
            if not adapters:
                raise CmdletError(f"'{vm.name}' has no network adapter named \"{name}\".", "ObjectNotFound")
            if not bound.get("Access"):
                raise CmdletError("The stand-in implements access mode VLANs only (-Access).", "NotImplemented")
            vlan = bound.get("VlanId")
            if vlan is None or not 1 <= vlan <= 4094:
                raise CmdletError(f"Cannot validate argument on parameter 'VlanId'. The {vlan} argument is not in "
                                  "the range 1 to 4094.", "InvalidData")
            for adapter in adapters:
                adapter.vlan = vlan
        return []

    # checkpoints

    def get_snapshots(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        if "Id" in bound:
            found = [s for vm in self.vms for s in vm.snapshots if s.id == bound["Id"]]
            if not found:
                raise CmdletError(f"Hyper-V was unable to find a checkpoint with id \"{bound['Id']}\".",
                                  "ObjectNotFound")
            return found
        found = [s for vm in bound.get("VM") or [] for s in self._alive(vm).snapshots]
        if "Name" in bound:
            found = [s for s in found if fnmatch.fnmatchcase(s.name.lower(), bound["Name"].lower())]
        return found

    def checkpoint(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for vm in bound.get("VM") or []:
            self._alive(vm)
            self.clock += dt.timedelta(minutes=1)
            snapshot = Snapshot(uuid.uuid4(), bound.get("SnapshotName") or f"{vm.name} - {self.clock}", vm,
                                vm.current, self.clock, running=vm.state in ("Running", "Paused"))
            for disk in vm.disks:  # a differencing disk per virtual disk, beside it
                avhdx = f"{disk.rsplit('.', 1)[0]}_{snapshot.id}.avhdx"
                self.files[_key(avhdx)] = File(avhdx, 4 * MIB)
                snapshot.files.append(avhdx)
            vm.snapshots.append(snapshot)
            vm.current = snapshot
        return []

    def restore_snapshot(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for snapshot in self._targets(bound, flowing, "VMSnapshot"):
            vm = self._alive(snapshot.vm)
            if snapshot not in vm.snapshots:
                raise CmdletError(f"The checkpoint \"{snapshot.name}\" no longer exists.", "ObjectNotFound")
            vm.state = "Saved" if snapshot.running else "Off"
            vm.current = snapshot
        return []

    def remove_snapshots(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        for snapshot in self._targets(bound, flowing, "VMSnapshot"):
            vm = self._alive(snapshot.vm)
            if snapshot not in vm.snapshots:
                raise CmdletError(f"The checkpoint \"{snapshot.name}\" no longer exists.", "ObjectNotFound")
            for child in vm.snapshots:
                if child.parent is snapshot:
                    child.parent = snapshot.parent
            if vm.current is snapshot:
                vm.current = snapshot.parent
            vm.snapshots.remove(snapshot)
            for avhdx in snapshot.files:  # merged into its parent
                self.files.pop(_key(avhdx), None)
        return []

    # files

    def _not_in_use(self, path: str) -> None:
        for vm in self.vms:
            if _key(path) in (_key(d) for d in vm.disks):
                raise CmdletError(f"The process cannot access the file '{path}' because it is being used by another "
                                  f"process ('{vm.name}').", "WriteError")

    def copy_item(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        source, target = bound.get("LiteralPath"), bound.get("Destination")
        if source is None or target is None:
            raise CmdletError("Copy-Item needs -LiteralPath and -Destination here.", "InvalidArgument")
        original = self.files.get(_key(source))
        if original is None:
            raise CmdletError(f"Cannot find path '{source}' because it does not exist.", "ObjectNotFound",
                              "PathNotFound,Microsoft.PowerShell.Commands.CopyItemCommand")
        if _key(_parent(_legal(target))) not in self.folders:
            raise CmdletError(f"Could not find a part of the path '{target}'.", "WriteError",
                              "System.IO.DirectoryNotFoundException,Microsoft.PowerShell.Commands.CopyItemCommand")
        self._not_in_use(target)
        self.files[_key(target)] = File(target, original.size)
        return []

    def get_item(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        path = bound.get("LiteralPath") or ""
        found = self.files.get(_key(path))
        if found is None:
            raise CmdletError(f"Cannot find path '{path}' because it does not exist.", "ObjectNotFound",
                              "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand")
        return [found]

    def remove_item(self, bound: dict[str, Any], flowing: list[Any] | None) -> list[Any]:
        targets = [f.path for f in self._targets(bound, flowing, "InputObject")]
        if "LiteralPath" in bound:
            targets.append(bound["LiteralPath"])
        for path in targets:
            if _key(path) not in self.files:
                raise CmdletError(f"Cannot find path '{path}' because it does not exist.", "ObjectNotFound",
                                  "PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand")
            self._not_in_use(path)
            del self.files[_key(path)]
        return []
