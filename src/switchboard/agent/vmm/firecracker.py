"""The `firecracker` VMM driver: one Firecracker process per VM, configured through its API socket.

Launch: `firecracker --api-sock <run>/firecracker.sock --id <vm>` (optionally under the jailer) in the VM's
tmux session, then over the API: logger (a file in the run dir), metrics (a FIFO in the run dir, so an
unread metrics stream costs at most one pipe buffer), machine config, boot source, drives (cache_type
Writeback, so guest flushes reach the disk), network interfaces, `InstanceStart`. Any refusal becomes a
VmmError carrying Firecracker's fault_message, and the process is removed.

Stop: `SendCtrlAltDel`, then wait up to the grace time for the process to exit (the guest reset) or for
the console to show the guest powered off (on x86 Firecracker keeps running after a poweroff), then
terminate. Reboot: Firecracker exits on a guest reset; `exit_reason` says "reset" and the agent launches
it again. Pause/resume: `PATCH /vm`. Snapshots: pause, `PUT /snapshot/create` (Full) into the snapshot
directory as `vmstate` + `memory`, resume; restore loads them into a fresh process with the NICs' current
TAPs as `network_overrides`. Disks are not part of a snapshot (Firecracker does not copy them).

Options: `firecracker_bin` (default /usr/local/bin/firecracker), `jailer` (see jailer.py; default off),
`initrd` (used when the launch config names none), `firecracker_log_level` (default "Info"),
`firecracker_api_timeout` (seconds per API call, default 30).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from switchboard.agent.model import LaunchConfig
from switchboard.agent.vmm.base import Capability, VmmError
from switchboard.agent.vmm.fcapi import FirecrackerApi, FirecrackerApiError
from switchboard.agent.vmm.jailer import Jailer
from switchboard.agent.vmm.supervised import LaunchRecord, SupervisedDriver

__all__ = ["FirecrackerDriver"]

_STATE, _MEMORY = "vmstate", "memory"
_LOG, _METRICS = "firecracker.log", "metrics.fifo"


class FirecrackerDriver(SupervisedDriver):
    """The VmmDriver for Firecracker. See the module docstring for options and behaviour."""

    name = "firecracker"
    capabilities = frozenset({Capability.PAUSE, Capability.SNAPSHOT, Capability.GRACEFUL_STOP})
    lingers_after_poweroff = True

    def __init__(self, options: Mapping[str, Any], *, state_dir: Path) -> None:
        super().__init__(state_dir=state_dir)
        self.binary = str(options.get("firecracker_bin") or "/usr/local/bin/firecracker")
        initrd = options.get("initrd")
        self.default_initrd = Path(initrd) if initrd else None
        self.log_level = str(options.get("firecracker_log_level") or "Info")
        self.api_timeout = float(options.get("firecracker_api_timeout") or 30.0)
        self.jailer = Jailer.from_options(options.get("jailer"), firecracker=self.binary)

    # -- where things are, as the host and as Firecracker see them ------------------------------------

    def _socket(self, config: LaunchConfig) -> Path:
        if self.jailer is not None:
            return self.jailer.host_path(config.name, self.jailer.api_socket)
        return config.run_dir / "firecracker.sock"

    def _cmdline_token(self, config: LaunchConfig) -> str:
        return self.jailer.cmdline_token(config.name) if self.jailer is not None else str(self._socket(config))

    def _visible(self, config: LaunchConfig, path: Path, *, writable: bool = False) -> str:
        """`path` as Firecracker opens it: itself, or its link inside the jail."""
        if self.jailer is None:
            return str(path)
        return self.jailer.stage(config.name, path, writable=writable)

    def _private_file(self, config: LaunchConfig, name: str, *, fifo: bool = False) -> tuple[Path, str]:
        """A log or metrics file Firecracker writes (it does not create them): host path, visible path."""
        host = self.jailer.host_path(config.name, f"/{name}") if self.jailer else config.run_dir / name
        if fifo:
            host.unlink(missing_ok=True)  # a fresh FIFO: nothing stale from an earlier run is read back
            os.mkfifo(host, 0o600)
        else:
            host.touch(mode=0o600, exist_ok=True)  # the log is appended to across boots
            host.chmod(0o600)
        if self.jailer is not None:
            self.jailer.own(host)
            return host, f"/{name}"
        return host, str(host)

    # -- SupervisedDriver hooks ----------------------------------------------------------------------

    def _argv(self, config: LaunchConfig, restore_from: Path | None) -> Sequence[str]:
        if self.jailer is not None:
            self.jailer.prepare(config.name)
            return self.jailer.argv(config.name)
        return [self.binary, "--api-sock", str(self._socket(config)), "--id", config.name]

    def _configure(self, config: LaunchConfig, restore_from: Path | None) -> None:
        _, log_path = self._private_file(config, _LOG)
        _, metrics_path = self._private_file(config, _METRICS, fifo=True)
        with self._api_for(self._socket(config)) as api:
            _call(api, "PUT", "/logger", {"log_path": log_path, "level": self.log_level, "show_level": True})
            _call(api, "PUT", "/metrics", {"metrics_path": metrics_path})
            if restore_from is not None:
                self._load_snapshot(api, config, restore_from)
                return
            _call(api, "PUT", "/machine-config",
                  {"vcpu_count": config.vcpus, "mem_size_mib": config.memory_mib, "smt": False})  # fmt: skip
            boot: dict[str, Any] = {
                "kernel_image_path": self._visible(config, config.kernel),
                "boot_args": config.boot_args,
            }
            initrd = config.initrd or self.default_initrd
            if initrd is not None:
                boot["initrd_path"] = self._visible(config, initrd)
            _call(api, "PUT", "/boot-source", boot)
            for disk in config.disks:
                _call(api, "PUT", f"/drives/{disk.drive_id}", {
                    "drive_id": disk.drive_id,
                    "path_on_host": self._visible(config, disk.path, writable=not disk.read_only),
                    "is_root_device": disk.is_root,
                    "is_read_only": disk.read_only,
                    "cache_type": "Writeback",
                    "io_engine": "Sync",
                })  # fmt: skip
            for nic in config.nics:
                _call(api, "PUT", f"/network-interfaces/{nic.iface_id}",
                      {"iface_id": nic.iface_id, "host_dev_name": nic.tap, "guest_mac": nic.mac})  # fmt: skip
            _call(api, "PUT", "/actions", {"action_type": "InstanceStart"})

    def _request_shutdown(self, record: LaunchRecord) -> None:
        with self._api_for(Path(record.socket)) as api:
            _call(api, "PUT", "/actions", {"action_type": "SendCtrlAltDel"})

    # -- pause, resume, snapshots, metrics -----------------------------------------------------------

    def pause(self, name: str) -> None:
        """Pause the guest's vCPUs (`PATCH /vm Paused`). VmmError when not running or refused."""
        with self._api(name) as api:
            _call(api, "PATCH", "/vm", {"state": "Paused"})
        self._flag(name, "paused").touch()

    def resume(self, name: str) -> None:
        """Resume a paused guest (`PATCH /vm Resumed`). VmmError when not running or refused."""
        with self._api(name) as api:
            _call(api, "PATCH", "/vm", {"state": "Resumed"})
        self._flag(name, "paused").unlink(missing_ok=True)

    def snapshot_create(self, name: str, directory: Path) -> None:
        """Pause (if running), write a Full snapshot to `directory` (`vmstate`, `memory`), resume.

        Disks are not included. VmmError with Firecracker's message on refusal."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = self.record(name)
        with self._api(name) as api:
            running = (api.get("/") or {}).get("state") == "Running"
            if running:
                _call(api, "PATCH", "/vm", {"state": "Paused"})
            try:
                state, memory = self._snapshot_targets(name, directory)
                _call(api, "PUT", "/snapshot/create",
                      {"snapshot_type": "Full", "snapshot_path": state, "mem_file_path": memory})  # fmt: skip
            finally:
                if running:
                    _call(api, "PATCH", "/vm", {"state": "Resumed"})
        if self.jailer is not None and record is not None:
            self.jailer.collect_snapshot(name, directory, (_STATE, _MEMORY))
        (directory / "vmm.json").write_text(json.dumps({"vmm": self.name, "files": [_STATE, _MEMORY]}) + "\n")

    def _snapshot_targets(self, name: str, directory: Path) -> tuple[str, str]:
        if self.jailer is None:
            return str(directory / _STATE), str(directory / _MEMORY)
        return f"/{_STATE}", f"/{_MEMORY}"

    def snapshot_restore(self, config: LaunchConfig, directory: Path) -> None:
        """Kill whatever runs for `config.name`, load the snapshot in `directory` into a fresh Firecracker
        with the NICs' current TAPs, and resume it. VmmError when files are missing or it is refused."""
        for file in (_STATE, _MEMORY):
            if not (directory / file).is_file():
                raise VmmError(f"no Firecracker snapshot in {directory} ({file} missing)")
        self.kill(config.name)
        self._start(config, directory)

    def _load_snapshot(self, api: FirecrackerApi, config: LaunchConfig, directory: Path) -> None:
        if self.jailer is not None:
            # The snapshot names the jail paths of the boot files and drives: put them in the new jail.
            for path in (config.kernel, config.initrd or self.default_initrd):
                if path is not None:
                    self._visible(config, path)
            for disk in config.disks:
                self._visible(config, disk.path, writable=not disk.read_only)
        body = {
            "snapshot_path": self._visible(config, directory / _STATE),
            "mem_backend": {"backend_type": "File", "backend_path": self._visible(config, directory / _MEMORY)},
            "resume_vm": True,
        }
        if config.nics:
            body["network_overrides"] = [{"iface_id": n.iface_id, "host_dev_name": n.tap} for n in config.nics]
        _call(api, "PUT", "/snapshot/load", body)

    def metrics(self, name: str) -> dict[str, Any] | None:
        """Flush and return Firecracker's latest metrics line for `name` (None if there is none yet).

        VmmError when the VMM is not running."""
        with self._api(name) as api:
            _call(api, "PUT", "/actions", {"action_type": "FlushMetrics"})
        record = self.record(name)
        if record is None:
            return None
        fifo = self.jailer.host_path(name, f"/{_METRICS}") if self.jailer else Path(record.run_dir) / _METRICS
        return _last_json_line(fifo)

    # -- API access ----------------------------------------------------------------------------------

    def _api(self, name: str) -> FirecrackerApi:
        record = self.record(name)
        if record is None or self.pid(name) is None:
            raise VmmError(f"the VMM of {name} is not running")
        return self._api_for(Path(record.socket))

    def _api_for(self, socket: Path) -> FirecrackerApi:
        return FirecrackerApi(socket, timeout=self.api_timeout)

    def _cleanup(self, name: str, record: LaunchRecord | None) -> None:
        super()._cleanup(name, record)
        if self.jailer is not None:
            self.jailer.remove(name)


def _call(api: FirecrackerApi, method: str, path: str, body: Any) -> Any:
    try:
        return api.request(method, path, body)
    except FirecrackerApiError as exc:
        raise VmmError(f"Firecracker refused {method} {path}: {exc}") from exc


def _last_json_line(fifo: Path) -> dict[str, Any] | None:
    """Drain the metrics FIFO without blocking and parse the last complete line."""
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    data = b""
    try:
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(fd, 65536):
                data += chunk
    finally:
        os.close(fd)
    for line in reversed(data.splitlines()):
        with contextlib.suppress(ValueError):
            parsed = json.loads(line)
            if isinstance(parsed, dict):
                return parsed
    return None
