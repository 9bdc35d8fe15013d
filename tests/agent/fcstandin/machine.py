"""Firecracker's API semantics for the stand-in: what is accepted when, and what each call does.

Every body is first validated against the spec (spec.py). Then the rules Firecracker's controllers apply:
configuration calls are pre-boot only, runtime calls post-boot only (with Firecracker's two messages),
`InstanceStart` needs a boot source and happens once, files named in the configuration must open, path ids
must match body ids, one root drive at most, `snapshot/load` only on a fresh process.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from switchboard.agent.model import DiskAttachment, LaunchConfig, NicAttachment

from .backend import BackendError, QemuBackend
from .fclog import FcLogger
from .spec import BODY_ERROR, BadRequest, Spec

NOT_STARTED, RUNNING, PAUSED = "Not started", "Running", "Paused"
PRE_BOOT_ONLY = "The requested operation is not supported after starting the microVM."
POST_BOOT_ONLY = "The requested operation is not supported before starting the microVM."
# Firecracker's default when boot_args is not given.
DEFAULT_BOOT_ARGS = "reboot=k panic=1 pci=off nomodule 8250.nr_uarts=0 i8042.noaux i8042.nomux i8042.dumbkbd"
SNAPSHOT_MAGIC = "fcstandin-snapshot-v1"

Handler = Callable[[dict[str, str], Any], Any]


class Machine:
    """The microVM a stand-in process manages; `handle` answers one API request."""

    def __init__(
        self,
        spec: Spec,
        *,
        instance_id: str,
        logger: FcLogger,
        on_exit: Callable[[int], None],
        sock_dir: Path | None = None,
        chroot: Path | None = None,
    ) -> None:
        self.spec = spec
        self.instance_id = instance_id
        self.log = logger
        self.state = NOT_STARTED
        self.chroot = chroot  # set when started by the (fake) jailer: absolute paths are inside it
        self.boot_source: dict[str, Any] | None = None
        self.machine_config: dict[str, Any] = {"vcpu_count": 1, "mem_size_mib": 128, "smt": False,
                                               "track_dirty_pages": False, "huge_pages": "None"}  # fmt: skip
        self.drives: dict[str, dict[str, Any]] = {}
        self.nics: dict[str, dict[str, Any]] = {}
        self.extras: dict[str, Any] = {}  # vsock, balloon, entropy, mmds-config, cpu-config: accepted, kept
        self.mmds: Any = None
        self.metrics_fd: int | None = None
        self.configured = False  # a boot-specific resource was set: snapshot/load is no longer allowed
        self.backend = QemuBackend(on_exit, sock_dir=sock_dir)
        self.handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/"): lambda p, b: self.info(),
            ("GET", "/version"): lambda p, b: {"firecracker_version": self.spec.version},
            ("GET", "/vm/config"): lambda p, b: self.full_config(),
            ("GET", "/machine-config"): lambda p, b: self.machine_config,
            ("PUT", "/boot-source"): self.put_boot_source,
            ("PUT", "/machine-config"): self.put_machine_config,
            ("PATCH", "/machine-config"): self.patch_machine_config,
            ("PUT", "/drives/{drive_id}"): self.put_drive,
            ("PATCH", "/drives/{drive_id}"): self.patch_drive,
            ("PUT", "/network-interfaces/{iface_id}"): self.put_nic,
            ("PATCH", "/network-interfaces/{iface_id}"): self.patch_nic,
            ("PUT", "/logger"): self.put_logger,
            ("PUT", "/metrics"): self.put_metrics,
            ("PUT", "/actions"): self.action,
            ("PATCH", "/vm"): self.patch_vm,
            ("PUT", "/snapshot/create"): self.snapshot_create,
            ("PUT", "/snapshot/load"): self.snapshot_load,
            ("PUT", "/mmds"): self.put_mmds,
            ("PATCH", "/mmds"): self.patch_mmds,
            ("GET", "/mmds"): lambda p, b: self.mmds if self.mmds is not None else {},
        }
        for path, key in (("/vsock", "vsock"), ("/balloon", "balloon"), ("/entropy", "entropy"),
                          ("/mmds/config", "mmds-config"), ("/cpu-config", "cpu-config")):  # fmt: skip
            self.handlers[("PUT", path)] = self._keeper(key)

    def host(self, path: str) -> Path:
        """Where a path Firecracker was given is on the host (inside the jail's root when jailed)."""
        if self.chroot is not None and path.startswith("/"):
            return self.chroot / path.lstrip("/")
        return Path(path)

    # -- dispatch ------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        """Answer one request: (status, JSON body or None). Errors come back as (400, fault)."""
        try:
            route, params = self.spec.route(method, path)
            body = None
            if route.body is not None:
                body = _parse(raw)
                self.spec.validate(route.body, body)
            handler = self.handlers.get((route.method, route.template))
            if handler is None:
                raise BadRequest(f"The stand-in does not implement {method} {route.template}.")
            result = handler(params, body)
        except BadRequest as exc:
            self.log.warn(f"Received Error. Status code: 400 Bad Request. Message: {exc}")
            return 400, {"fault_message": str(exc)}
        except BackendError as exc:
            return 400, {"fault_message": f"Internal error: {exc}"}
        return (204, None) if result is None else (200, result)

    def _pre_boot(self) -> None:
        if self.state != NOT_STARTED:
            raise BadRequest(PRE_BOOT_ONLY)

    def _post_boot(self) -> None:
        if self.state == NOT_STARTED:
            raise BadRequest(POST_BOOT_ONLY)

    def _keeper(self, key: str) -> Handler:
        def keep(params: dict[str, str], body: Any) -> None:
            self._pre_boot()
            self.extras[key] = body
            self.configured = True

        return keep

    # -- configuration -------------------------------------------------------------------------------

    def put_boot_source(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        _must_open(self.host(body["kernel_image_path"]), "The kernel file cannot be opened")
        if body.get("initrd_path"):
            _must_open(
                self.host(body["initrd_path"]), "The initrd file cannot be opened due to invalid path or permissions"
            )
        self.boot_source = body
        self.configured = True

    def put_machine_config(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        self._set_machine({"smt": False, "track_dirty_pages": False, "huge_pages": "None", **_no_nulls(body)})

    def patch_machine_config(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        self._set_machine({**self.machine_config, **_no_nulls(body)})

    def _set_machine(self, config: dict[str, Any]) -> None:
        vcpus = config["vcpu_count"]
        if vcpus < 1 or vcpus > 32 or (config.get("smt") and vcpus > 1 and vcpus % 2):
            raise BadRequest(
                "The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled."
            )
        if config["mem_size_mib"] < 1 or (config.get("huge_pages") == "2M" and config["mem_size_mib"] % 2):
            raise BadRequest("The memory size (MiB) is either 0, or not a multiple of the configured page size.")
        self.machine_config = config
        self.configured = True

    def put_drive(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        _same_id(params["drive_id"], body["drive_id"])
        if body.get("socket"):
            raise BadRequest("The stand-in does not support vhost-user block devices.")
        if not body.get("path_on_host"):
            raise BadRequest("Unable to create the block device: missing path_on_host.")
        if body["is_root_device"] and any(d["is_root_device"] for k, d in self.drives.items() if k != body["drive_id"]):
            raise BadRequest("A root block device already exists!")
        path = body["path_on_host"]
        mode = os.O_RDONLY if body.get("is_read_only") else os.O_RDWR
        try:
            os.close(os.open(self.host(path), mode))
        except OSError as exc:
            raise BadRequest(f'Unable to create the block device: BackingFile({_os_error(exc)}, "{path}")') from exc
        defaults = {"cache_type": "Unsafe", "io_engine": "Sync", "is_read_only": False}
        self.drives[body["drive_id"]] = {**defaults, **_no_nulls(body)}
        self.configured = True

    def patch_drive(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._post_boot()
        _same_id(params["drive_id"], body["drive_id"])
        if body["drive_id"] not in self.drives:
            raise BadRequest(f"Invalid block device ID: {body['drive_id']}")
        self.drives[body["drive_id"]].update(_no_nulls(body))

    def put_nic(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        _same_id(params["iface_id"], body["iface_id"])
        mac = body.get("guest_mac")
        if mac is not None and not _is_mac(mac):
            raise BadRequest(f"{BODY_ERROR}Invalid MAC address: {mac}.")
        for other_id, other in self.nics.items():
            if other_id == body["iface_id"]:
                continue
            if other["host_dev_name"] == body["host_dev_name"]:
                raise BadRequest(
                    f"Could not create the network device: The host device name {body['host_dev_name']} is "
                    "already in use."
                )
            if mac is not None and other.get("guest_mac") == mac:
                raise BadRequest(f"The MAC address is already in use: {mac}")
        if len(body["host_dev_name"]) > 15:
            raise BadRequest("Could not create the network device: Open tap device failed: Invalid interface name")
        self.nics[body["iface_id"]] = _no_nulls(body)
        self.configured = True

    def patch_nic(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._post_boot()
        _same_id(params["iface_id"], body["iface_id"])
        if body["iface_id"] not in self.nics:
            raise BadRequest(f"Invalid network interface ID: {body['iface_id']}")

    def put_logger(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        try:
            settings = _no_nulls(body)
            if "log_path" in settings:
                settings["log_path"] = str(self.host(settings["log_path"]))
            self.log.configure(**settings)
        except OSError as exc:
            raise BadRequest(f"Logger error: Failed to open target file: {_os_error(exc)}") from exc

    def put_metrics(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        if self.metrics_fd is not None:
            raise BadRequest("Metrics error: Reinitialization of metrics not allowed.")
        try:
            # O_RDWR: opening a FIFO never blocks or fails for lack of a reader; no O_CREAT, like Firecracker.
            self.metrics_fd = os.open(
                self.host(body["metrics_path"]), os.O_RDWR | os.O_NONBLOCK | os.O_APPEND | os.O_CLOEXEC
            )
        except OSError as exc:
            raise BadRequest(f"Metrics error: Failed to open target file: {_os_error(exc)}") from exc
        self.extras["metrics"] = body

    def put_mmds(self, params: dict[str, str], body: Any) -> None:
        self.mmds = body

    def patch_mmds(self, params: dict[str, str], body: Any) -> None:
        if self.mmds is None:
            raise BadRequest("The MMDS data store is not initialized.")
        if isinstance(self.mmds, dict) and isinstance(body, dict):
            self.mmds.update(body)

    # -- actions and runtime -------------------------------------------------------------------------

    def action(self, params: dict[str, str], body: dict[str, Any]) -> None:
        kind = body["action_type"]
        if kind == "FlushMetrics":
            self.flush_metrics()
        elif kind == "InstanceStart":
            self._pre_boot()
            self.start()
        else:  # SendCtrlAltDel
            self._post_boot()
            self.backend.ctrl_alt_del()

    def start(self, *, incoming: Path | None = None, resume: bool = True) -> None:
        if self.boot_source is None:
            raise BadRequest("Cannot start microvm without kernel configuration.")
        try:
            self.backend.start(self.launch_config(), incoming=incoming)
            if resume:
                self.backend.resume()
        except BackendError as exc:
            self.backend.kill()
            raise BadRequest(f"Start microvm error: {exc}") from exc
        self.state = RUNNING if resume else PAUSED
        self.log.info("Successfully started microvm" if resume else "Loaded microvm snapshot, paused")

    def patch_vm(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._post_boot()
        if body["state"] == "Paused":
            self.backend.pause()
            self.state = PAUSED
        else:
            self.backend.resume()
            self.state = RUNNING

    def snapshot_create(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._post_boot()
        if body.get("snapshot_type") == "Diff" and not self.machine_config.get("track_dirty_pages"):
            raise BadRequest("Diff snapshots are not allowed on uVMs with dirty page tracking disabled.")
        if self.state != PAUSED:
            raise BadRequest("Cannot create a snapshot: the microVM is not paused.")
        self.backend.save(self.host(body["mem_file_path"]))
        state = {"magic": SNAPSHOT_MAGIC, "config": self.full_config(), "created": time.time()}
        self.host(body["snapshot_path"]).write_text(json.dumps(state))

    def snapshot_load(self, params: dict[str, str], body: dict[str, Any]) -> None:
        self._pre_boot()
        if self.configured:
            raise BadRequest("Loading a microVM snapshot not allowed after configuring boot-specific resources.")
        backend, mem_file = body.get("mem_backend"), body.get("mem_file_path")
        if (backend is None) == (mem_file is None):
            which = "missing" if backend is None else "too many"
            raise BadRequest(f"{which} fields: either `mem_backend` or `mem_file_path` exclusively is required.")
        if backend is not None and backend["backend_type"] != "File":
            raise BadRequest("The stand-in supports File memory backends only.")
        memory = self.host(str(backend["backend_path"] if backend else mem_file))
        try:
            state = json.loads(self.host(body["snapshot_path"]).read_text())
            if state.get("magic") != SNAPSHOT_MAGIC or not memory.is_file():
                raise ValueError("not a snapshot")
        except (OSError, ValueError) as exc:
            raise BadRequest(f"Load snapshot error: Failed to restore from snapshot: {exc}") from exc
        config = state["config"]
        self.boot_source = config["boot-source"]
        self.machine_config = {**config["machine-config"], "track_dirty_pages": bool(body.get("track_dirty_pages"))}
        self.drives = {d["drive_id"]: d for d in config["drives"]}
        self.nics = {n["iface_id"]: n for n in config["network-interfaces"]}
        for override in body.get("network_overrides") or ():
            if override["iface_id"] not in self.nics:
                raise BadRequest(f"Invalid network override: no network interface with id {override['iface_id']}.")
            self.nics[override["iface_id"]]["host_dev_name"] = override["host_dev_name"]
        self.start(incoming=memory, resume=bool(body.get("resume_vm")))

    def flush_metrics(self) -> None:
        if self.metrics_fd is None:
            return
        line = {"utc_timestamp_ms": int(time.time() * 1000), "api_server": {"process_startup_time_us": 0},
                "vmm": {"state": self.state}, "latencies_us": {}}  # fmt: skip
        with contextlib.suppress(BlockingIOError):  # a full pipe drops the line, as Firecracker does
            os.write(self.metrics_fd, (json.dumps(line) + "\n").encode())

    # -- views ---------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {"app_name": "Firecracker", "id": self.instance_id, "state": self.state,
                "vmm_version": self.spec.version}  # fmt: skip

    def full_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "boot-source": self.boot_source, "machine-config": self.machine_config,
            "drives": list(self.drives.values()), "network-interfaces": list(self.nics.values()),
        }  # fmt: skip
        config.update({k: v for k, v in self.extras.items() if k != "metrics"})
        return config

    def launch_config(self) -> LaunchConfig:
        """The configured microVM in the words of the QEMU command-line builder."""
        assert self.boot_source is not None
        disks = tuple(
            DiskAttachment(
                d["drive_id"],
                self.host(d["path_on_host"]),
                is_root=d["is_root_device"],
                read_only=bool(d.get("is_read_only")),
            )
            for d in self.drives.values()
        )
        nics = tuple(
            NicAttachment(i, n["iface_id"], n["host_dev_name"], n.get("guest_mac") or _random_mac())
            for i, n in enumerate(self.nics.values())
        )
        initrd = self.boot_source.get("initrd_path")
        return LaunchConfig(
            name=self.instance_id if _safe_name(self.instance_id) else "fcstandin",
            vcpus=self.machine_config["vcpu_count"],
            memory_mib=self.machine_config["mem_size_mib"],
            kernel=self.host(self.boot_source["kernel_image_path"]),
            boot_args=self.boot_source.get("boot_args") or DEFAULT_BOOT_ARGS,
            disks=disks,
            nics=nics,
            initrd=self.host(initrd) if initrd else None,
        )


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        raise BadRequest(BODY_ERROR + "EOF while parsing a value at line 1 column 0.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"{BODY_ERROR}{exc}.") from exc


def _no_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _same_id(path_id: str, body_id: str) -> None:
    if not path_id:
        raise BadRequest("Required key id not present in the path.")
    if path_id != body_id:
        raise BadRequest(f"The id from the path [{path_id}] does not match the id from the body [{body_id}]!")


def _must_open(path: Path, message: str) -> None:
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as exc:
        raise BadRequest(f"{message}: {_os_error(exc)}") from exc


def _os_error(exc: OSError) -> str:
    return f"{exc.strerror} (os error {exc.errno})"


def _is_mac(mac: str) -> bool:
    parts = mac.split(":")
    return len(parts) == 6 and all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts)


def _random_mac() -> str:
    return "06:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(4))


def _safe_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "").isalnum() and len(name) < 64
