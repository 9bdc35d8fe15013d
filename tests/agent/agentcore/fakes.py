"""Small in-process implementations of the VMM, storage and network Protocols, for testing the agent's
core (service, state, reconcile, API) without booting guests. Storage writes real (sparse) files."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from switchboard.agent.model import LaunchConfig, NicAttachment, NicRequest, PowerState, TemplateRef, Volume
from switchboard.agent.network.base import NetworkError
from switchboard.agent.storage.base import StorageError
from switchboard.agent.vmm.base import Capability, VmmError


class FakeVmm:
    """Remembers which VMs "run". Outlives agent instances in a test, like a tmux server does."""

    name = "fake"

    def __init__(self, *, capabilities: frozenset[str] | None = None) -> None:
        self.capabilities = capabilities if capabilities is not None else frozenset(
            {Capability.PAUSE, Capability.SNAPSHOT, Capability.GRACEFUL_STOP}
        )
        self._lock = threading.Lock()
        self.states: dict[str, PowerState] = {}
        self.reasons: dict[str, str] = {}
        self.launches: list[LaunchConfig] = []
        self.shutdowns: list[tuple[str, float]] = []
        self.refuse_launch: str | None = None  # a fault message to raise on the next launch
        self.launch_gate: threading.Event | None = None  # launch blocks until set
        self.launch_waiting = threading.Event()  # set when a launch is blocked at the gate

    def launch(self, config: LaunchConfig) -> None:
        if self.launch_gate is not None:
            self.launch_waiting.set()
            self.launch_gate.wait(30)
        with self._lock:
            if self.refuse_launch:
                raise VmmError(self.refuse_launch)
            if self.states.get(config.name) in (PowerState.RUNNING, PowerState.PAUSED):
                raise VmmError(f"{config.name} is already running")
            for disk in config.disks:
                if not disk.path.exists():
                    raise VmmError(f"drive {disk.drive_id}: {disk.path} does not exist")
            self.launches.append(config)
            self.states[config.name] = PowerState.RUNNING
            self.reasons.pop(config.name, None)
            config.console_log.parent.mkdir(parents=True, exist_ok=True)
            with config.console_log.open("a") as log:
                log.write(f"boot {config.name} vcpus={config.vcpus} mem={config.memory_mib}\nSBT-BOOTED\n")

    def power_state(self, name: str) -> PowerState:
        with self._lock:
            return self.states.get(name, PowerState.STOPPED)

    def shutdown(self, name: str, *, grace_seconds: float) -> None:
        with self._lock:
            self.shutdowns.append((name, grace_seconds))
            if self.states.pop(name, None) is not None:
                self.reasons[name] = "poweroff"

    def kill(self, name: str) -> None:
        with self._lock:
            if self.states.pop(name, None) is not None:
                self.reasons[name] = "crash"

    def pause(self, name: str) -> None:
        with self._lock:
            if name not in self.states:
                raise VmmError(f"{name} is not running")
            self.states[name] = PowerState.PAUSED

    def resume(self, name: str) -> None:
        with self._lock:
            if name not in self.states:
                raise VmmError(f"{name} is not running")
            self.states[name] = PowerState.RUNNING

    def snapshot_create(self, name: str, directory: Path) -> None:
        with self._lock:
            if self.states.get(name) is not PowerState.PAUSED:
                raise VmmError("the VM must be paused to snapshot")
            (directory / "vm.state").write_text(name)
            (directory / "vm.mem").write_bytes(b"\0" * 4096)
            self.states[name] = PowerState.RUNNING

    def snapshot_restore(self, config: LaunchConfig, directory: Path) -> None:
        with self._lock:
            if not (directory / "vm.state").is_file():
                raise VmmError("no snapshot state")
            self.states[config.name] = PowerState.RUNNING
            self.launches.append(config)

    def running_vms(self) -> set[str]:
        with self._lock:
            return set(self.states)

    def exit_reason(self, name: str) -> str | None:
        with self._lock:
            return None if name in self.states else self.reasons.get(name)

    # -- test controls: what a guest or an outsider does ---------------------------------------------

    def guest_exits(self, name: str, reason: str) -> None:
        with self._lock:
            self.states.pop(name, None)
            self.reasons[name] = reason

    def host_reboots(self) -> None:
        with self._lock:
            self.states.clear()
            self.reasons.clear()


class FakeStorage:
    """Root disks as sparse files `<root>/<vm>/root.img` of the requested size (1 MiB by default)."""

    name = "fakefile"
    capabilities = frozenset({"resize"})

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.fail_next: str | None = None
        self.provisions = 0

    def provision_root(self, vm: str, template: TemplateRef, *, size_bytes: int | None) -> Volume:
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            raise StorageError(message)
        path = self.root / vm / "root.img"
        if not path.exists():
            self.provisions += 1
            path.parent.mkdir(exist_ok=True)
            with path.open("wb") as handle:
                handle.write(f"image={template.image}\n".encode())
                handle.truncate(size_bytes or 1 << 20)
        return Volume(vm=vm, role="root", path=path, size_bytes=path.stat().st_size, backend=self.name)

    def provision_data(self, vm: str, index: int, *, size_bytes: int) -> Volume:
        path = self.root / vm / f"data{index}.img"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            with path.open("wb") as handle:
                handle.truncate(size_bytes)
        return Volume(vm=vm, role=f"data{index}", path=path, size_bytes=size_bytes, backend=self.name)

    def volumes(self, vm: str) -> list[Volume]:
        directory = self.root / vm
        if not directory.is_dir():
            return []
        return [
            Volume(vm=vm, role=p.stem, path=p, size_bytes=p.stat().st_size, backend=self.name)
            for p in sorted(directory.glob("*.img"))
        ]

    def delete(self, vm: str) -> None:
        directory = self.root / vm
        if directory.is_dir():
            for path in directory.glob("*.img"):
                path.unlink()
            os.rmdir(directory)

    def owners(self) -> set[str]:
        return {p.name for p in self.root.iterdir() if p.is_dir()}


class FakeNetwork:
    """Remembers plugged NICs per VM; `tap` names are derived like a real backend would."""

    name = "fakenet"

    def __init__(self) -> None:
        self.plugged: dict[str, list[NicAttachment]] = {}
        self.plug_calls = 0
        self.fail_next: str | None = None

    def plug(self, vm: str, nics: Sequence[NicRequest]) -> list[NicAttachment]:
        self.plug_calls += 1
        if self.fail_next:
            message, self.fail_next = self.fail_next, None
            raise NetworkError(message)
        attachments = [
            NicAttachment(index=n.index, iface_id=f"eth{n.index}", tap=f"sbt{abs(hash((vm, n.index))) % 10**8}",
                          mac=n.mac, mtu=n.mtu, vlan=n.vlan)
            for n in nics
        ]
        self.plugged[vm] = attachments
        return attachments

    def unplug(self, vm: str, attachments: Sequence[NicAttachment]) -> None:
        self.plugged.pop(vm, None)

    def owners(self) -> set[str]:
        return set(self.plugged)
