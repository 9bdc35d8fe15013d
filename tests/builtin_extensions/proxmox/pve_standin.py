"""A stand-in for the Proxmox VE REST API (`/api2/json`), the subset the Proxmox extension uses, as the
public API documentation describes it:

* API-token authentication (`Authorization: PVEAPIToken=<user>@<realm>!<token id>=<secret>`); 401 otherwise.
* Answers `{"data": …}`; errors put their text in the HTTP status line, as pveproxy does (500 for a missing
  VM: "Configuration file 'nodes/<node>/qemu-server/<id>.conf' does not exist"; 400 "Parameter verification
  failed." with an `errors` map for bad parameters, checked against the documented formats).
* Asynchronous calls answer a task id (UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:) whose
  status is `running` for `task_seconds[type]` seconds, then `stopped` with an `exitstatus`.
* /cluster/nextid, /cluster/resources, /cluster/status; /nodes/<node>/qemu (create), …/<vmid>/clone,
  …/config (GET/PUT), …/status/current|start|stop|reboot, DELETE …/<vmid>, …/vncproxy, …/snapshot (list,
  create), …/snapshot/<name>/rollback, DELETE …/snapshot/<name>, /nodes/<node>/tasks/<upid>/status.

Tests steer it with `fail_task[type] = "message"` (the next task of that type fails), `task_seconds[type]`
(how long such tasks run; float("inf") never ends) and `forbid` (paths answered 403).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.builtin_extensions.standin import Reply, Request

NODE_IPS = {"pve1": "192.0.2.11", "pve2": "192.0.2.12"}
_DNS_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")
_CONFIGID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]+$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_+.-]*$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_NET_KEYS = {"virtio", "e1000", "bridge", "tag", "firewall", "link_down", "mtu", "queues", "rate", "trunks",
             "macaddr", "model"}
_CONFIG_KEYS = {"name", "cores", "sockets", "memory", "balloon", "tags", "ostype", "scsihw", "boot", "ide2",
                "scsi0", "description", "delete", "digest", "cpu", "numa", "agent"}


class ApiError(Exception):
    def __init__(self, status: int, reason: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.errors = status, reason, errors


@dataclass
class Vm:
    vmid: int
    node: str
    config: dict[str, str]
    status: str = "stopped"
    template: bool = False
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config.get("name", f"VM {self.vmid}")


@dataclass
class Task:
    upid: str
    node: str
    type: str
    id: str
    started: float
    seconds: float
    failure: str | None
    effect: Any  # called once when the task ends well
    undo: Any = None  # called once when it fails


class ProxmoxStandin:
    """The state of a small Proxmox VE cluster (nodes pve1, pve2) and the app serving its API."""

    def __init__(self, *, user: str = "root@pam", token: str = "cloudstack", secret: str = "s3cret-pve-token") -> None:
        self.tokens = {f"{user}!{token}": secret}
        self.vms: dict[int, Vm] = {}
        self.tasks: dict[str, Task] = {}
        self.fail_task: dict[str, str] = {}
        self.task_seconds: dict[str, float] = {}
        self.forbid: set[str] = set()
        self.user = user
        self._lock = threading.RLock()
        self._pid = 4000

    # -- set-up helpers for tests ---------------------------------------------------------------------------

    def add_template(self, vmid: int = 9000, node: str = "pve1", **config: str) -> Vm:
        vm = Vm(vmid, node, {"name": "ubuntu-tmpl", "cores": "1", "memory": "512", "template": "1",
                             "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0", "net1": "virtio=BC:24:11:00:00:02,"
                             "bridge=vmbr9", "tags": "golden", **config}, template=True)
        self.vms[vmid] = vm
        return vm

    def add_vm(self, vmid: int, *, node: str = "pve1", status: str = "running", **config: str) -> Vm:
        vm = Vm(vmid, node, {"name": f"vm{vmid}", "cores": "1", "memory": "512", **config}, status=status)
        self.vms[vmid] = vm
        return vm

    # -- the app ---------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        try:
            if not request.path.startswith("/api2/json/"):
                raise ApiError(501, f"Unexpected content for path {request.path}")
            self._authenticate(request)
            path = request.path[len("/api2/json"):]
            if any(re.fullmatch(pattern, path) for pattern in self.forbid):
                raise ApiError(403, f"Permission check failed ({path}, VM.PowerMgmt)")
            with self._lock:
                return Reply(body={"data": self._route(request.method, path, request.params())})
        except ApiError as exc:
            body: dict[str, Any] = {"data": None, "message": exc.reason + "\n"}
            if exc.errors:
                body["errors"] = exc.errors
            return Reply(status=exc.status, reason=exc.reason, body=body)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        match = re.fullmatch(r"PVEAPIToken=([^!=\s]+@[^!=\s]+)!([A-Za-z][A-Za-z0-9._-]*)[=:](\S+)", header)
        if not match or self.tokens.get(f"{match.group(1)}!{match.group(2)}") != match.group(3):
            raise ApiError(401, "authentication failure")

    def _route(self, method: str, path: str, params: dict[str, str]) -> Any:
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"/cluster/nextid", self._nextid),
            ("GET", r"/cluster/resources", self._resources),
            ("GET", r"/cluster/status", self._cluster_status),
            ("GET", r"/nodes/(?P<node>[^/]+)/tasks/(?P<upid>[^/]+)/status", self._task_status),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu", self._create),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/clone", self._clone),
            ("GET", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/config", self._get_config),
            ("PUT", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/config", self._put_config),
            ("GET", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/status/current", self._current),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/status/(?P<verb>start|stop|reboot|shutdown)",
             self._power),
            ("DELETE", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)", self._destroy),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/vncproxy", self._vncproxy),
            ("GET", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/snapshot", self._snapshots),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/snapshot", self._snapshot),
            ("POST", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/snapshot/(?P<snap>[^/]+)/rollback", self._rollback),
            ("DELETE", r"/nodes/(?P<node>[^/]+)/qemu/(?P<vmid>\d+)/snapshot/(?P<snap>[^/]+)", self._delsnapshot),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                if "node" in match.groupdict() and match["node"] not in NODE_IPS:
                    raise ApiError(500, f"hostname lookup '{match['node']}' failed - failed to get address info "
                                        f"for: {match['node']}: Name or service not known")
                return handler(params, **match.groupdict())
        raise ApiError(501, f"Method '{method} {path}' not implemented")

    # -- cluster -----------------------------------------------------------------------------------------------

    def _nextid(self, params: dict[str, str]) -> str:
        if "vmid" in params:
            if int(params["vmid"]) in self.vms:
                raise ApiError(400, f"VM {params['vmid']} already exists")
            return params["vmid"]
        return str(next(i for i in range(100, 10**9) if i not in self.vms))

    def _resources(self, params: dict[str, str]) -> list[dict[str, Any]]:
        if params.get("type") not in (None, "vm"):
            return []
        return [{"id": f"qemu/{vm.vmid}", "type": "qemu", "vmid": vm.vmid, "node": vm.node, "name": vm.name,
                 "status": vm.status, "template": int(vm.template), **({"tags": vm.config["tags"]}
                                                                         if "tags" in vm.config else {})}
                for vm in sorted(self.vms.values(), key=lambda v: v.vmid)]

    def _cluster_status(self, params: dict[str, str]) -> list[dict[str, Any]]:
        return [{"type": "cluster", "name": "lab", "quorate": 1, "nodes": len(NODE_IPS)},
                *({"type": "node", "name": name, "ip": ip, "online": 1, "local": int(name == "pve1")}
                  for name, ip in NODE_IPS.items())]

    # -- tasks ---------------------------------------------------------------------------------------------------

    def _task(self, node: str, kind: str, ident: object, effect: Any, *, undo: Any = None) -> str:
        """A task of `kind` that runs `effect` when it ends well and `undo` when it fails."""
        self._pid += 1
        started = time.time()
        upid = f"UPID:{node}:{self._pid:08X}:0001E240:{int(started):08X}:{kind}:{ident}:{self.user}!cloudstack:"
        self.tasks[upid] = Task(upid, node, kind, str(ident), time.monotonic(), self.task_seconds.get(kind, 0.0),
                                self.fail_task.pop(kind, None), effect, undo)
        self._settle(self.tasks[upid])
        return upid

    def _settle(self, task: Task) -> bool:
        """True once the task has stopped (applying its effect the first time)."""
        if time.monotonic() - task.started < task.seconds:
            return False
        if task.effect is not None:
            effect, task.effect = task.effect, None
            if task.failure is None:
                try:
                    effect()
                except ApiError as exc:
                    task.failure = exc.reason
            if task.failure is not None and task.undo is not None:
                task.undo()
        return True

    def _task_status(self, params: dict[str, str], node: str, upid: str) -> dict[str, Any]:
        task = self.tasks.get(upid)
        if task is None or task.node != node:
            raise ApiError(500, f"unable to parse worker upid '{upid}'" if task is None else "no such task")
        status: dict[str, Any] = {"upid": upid, "node": node, "type": task.type, "id": task.id, "user": self.user,
                                  "status": "running"}
        if self._settle(task):
            status.update(status="stopped", exitstatus=task.failure or "OK")
        return status

    # -- VMs ---------------------------------------------------------------------------------------------------

    def _vm(self, node: str, vmid: str) -> Vm:
        vm = self.vms.get(int(vmid))
        if vm is None or vm.node != node:
            raise ApiError(500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
        return vm

    def _check_config(self, params: dict[str, str]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key, value in params.items():
            if re.fullmatch(r"net\d+", key):
                errors.update(_net_errors(key, value))
            elif key in ("cores", "sockets", "memory", "balloon"):
                if not value.isdigit() or int(value) < (16 if key == "memory" else 0 if key == "balloon" else 1):
                    errors[key] = f"value '{value}' does not look like a valid integer" if not value.isdigit() \
                        else "value must have a minimum value of 1"
            elif key == "name" and not _DNS_NAME.fullmatch(value):
                errors[key] = f"value '{value}' does not look like a valid DNS name"
            elif key == "tags" and not all(_TAG.fullmatch(t) for t in re.split(r"[;, ]+", value) if t):
                errors[key] = f"invalid format - invalid tag '{value}'"
            elif key not in _CONFIG_KEYS and key not in ("vmid", "newid", "full", "storage", "target"):
                errors[key] = "property is not defined in schema and the schema does not allow additional properties"
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        return params

    def _create(self, params: dict[str, str], node: str) -> str:
        self._check_config(params)
        if "vmid" not in params:
            raise ApiError(400, "Parameter verification failed.", {"vmid": "property is missing and it is not "
                                                                           "optional"})
        vmid = int(params["vmid"])
        if vmid in self.vms:
            raise ApiError(500, f"unable to create VM {vmid} - VM {vmid} already exists on node '{node}'")
        for key, pattern in (("ide2", r"[A-Za-z][\w.-]*:iso/[^,]+,media=cdrom"),
                             ("scsi0", r"[A-Za-z][\w.-]*:\d+(,iothread=[01])?")):
            if key in params and not re.fullmatch(pattern, params[key]):
                raise ApiError(400, "Parameter verification failed.", {key: "invalid format"})
        config = {k: v for k, v in params.items() if k != "vmid"}
        self.vms[vmid] = Vm(vmid, node, config)  # the config lock is taken at once, as PVE does
        return self._task(node, "qmcreate", vmid, lambda: None, undo=lambda: self.vms.pop(vmid, None))

    def _clone(self, params: dict[str, str], node: str, vmid: str) -> str:
        source = self._vm(node, vmid)
        errors = {k: "property is missing and it is not optional" for k in ("newid",) if k not in params}
        if "name" in params and not _DNS_NAME.fullmatch(params["name"]):
            errors["name"] = f"value '{params['name']}' does not look like a valid DNS name"
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        newid = int(params["newid"])
        if newid in self.vms:
            raise ApiError(500, f"unable to create VM {newid}: config file already exists")
        if not source.template and params.get("full") != "1":
            raise ApiError(500, "Linked clone feature is not supported for running VMs or non-templates")
        config = {k: v for k, v in source.config.items() if k != "template"}
        config["name"] = params.get("name", f"Copy-of-VM-{source.name}")
        self.vms[newid] = Vm(newid, node, config)
        return self._task(node, "qmclone", vmid, lambda: None, undo=lambda: self.vms.pop(newid, None))

    def _get_config(self, params: dict[str, str], node: str, vmid: str) -> dict[str, Any]:
        return {**self._vm(node, vmid).config, "digest": "0" * 40}

    def _put_config(self, params: dict[str, str], node: str, vmid: str) -> None:
        vm = self._vm(node, vmid)
        self._check_config(params)
        for key in [k for k in params.get("delete", "").split(",") if k]:
            vm.config.pop(key, None)
        vm.config.update({k: v for k, v in params.items() if k not in ("delete", "digest")})

    def _current(self, params: dict[str, str], node: str, vmid: str) -> dict[str, Any]:
        vm = self._vm(node, vmid)
        return {"vmid": vm.vmid, "name": vm.name, "status": vm.status, "qmpstatus": vm.status,
                **({"template": 1} if vm.template else {})}

    def _power(self, params: dict[str, str], node: str, vmid: str, verb: str) -> str:
        vm = self._vm(node, vmid)

        def effect() -> None:
            if verb == "start":
                if vm.status == "running":
                    raise ApiError(500, f"VM {vm.vmid} already running")
                vm.status = "running"
            elif verb == "reboot":
                if vm.status != "running":
                    raise ApiError(500, f"VM {vm.vmid} not running")
            else:
                vm.status = "stopped"

        kind = {"start": "qmstart", "stop": "qmstop", "reboot": "qmreboot", "shutdown": "qmshutdown"}[verb]
        return self._task(node, kind, vm.vmid, effect)

    def _destroy(self, params: dict[str, str], node: str, vmid: str) -> str:
        vm = self._vm(node, vmid)

        def effect() -> None:
            if vm.status == "running":
                raise ApiError(500, f"VM {vm.vmid} is running - destroy failed")
            self.vms.pop(vm.vmid, None)

        return self._task(node, "qmdestroy", vm.vmid, effect)

    def _vncproxy(self, params: dict[str, str], node: str, vmid: str) -> dict[str, Any]:
        vm = self._vm(node, vmid)
        if vm.status != "running":
            raise ApiError(500, f"VM {vm.vmid} not running")
        answer = {"port": "5901", "ticket": f"PVEVNC:6512ABCD::{'x' * 40}", "cert": "-----BEGIN CERTIFICATE-----",
                  "user": self.user, "upid": self._task(node, "vncproxy", vm.vmid, lambda: None)}
        if params.get("generate-password") == "1":
            answer["password"] = "vnc8pass"
        return answer

    # -- snapshots ------------------------------------------------------------------------------------------------

    def _snapshots(self, params: dict[str, str], node: str, vmid: str) -> list[dict[str, Any]]:
        vm = self._vm(node, vmid)
        current = {"name": "current", "description": "You are here!", "running": int(vm.status == "running")}
        if vm.snapshots:
            current["parent"] = list(vm.snapshots)[-1]
        return [*vm.snapshots.values(), current]

    def _snapshot(self, params: dict[str, str], node: str, vmid: str) -> str:
        vm = self._vm(node, vmid)
        name = params.get("snapname", "")
        if not _CONFIGID.fullmatch(name) or len(name) > 40:
            raise ApiError(400, "Parameter verification failed.", {"snapname": f"invalid format - invalid "
                                                                               f"configuration ID '{name}'"})
        if name in vm.snapshots:
            raise ApiError(500, f"snapshot name '{name}' already used")
        parent = list(vm.snapshots)[-1] if vm.snapshots else None
        snap: dict[str, Any] = {"name": name, "snaptime": 1_755_862_957 + len(vm.snapshots),
                                "description": params.get("description", "")}
        if parent:
            snap["parent"] = parent
        if params.get("vmstate") == "1":
            snap["vmstate"] = 1
        saved = (dict(vm.config), vm.status)

        def effect() -> None:
            vm.snapshots[name] = {**snap, "_saved": saved}

        return self._task(node, "qmsnapshot", vm.vmid, effect)

    def _rollback(self, params: dict[str, str], node: str, vmid: str, snap: str) -> str:
        vm = self._vm(node, vmid)
        if snap not in vm.snapshots:
            raise ApiError(500, f"snapshot '{snap}' does not exist")

        def effect() -> None:
            config, status = vm.snapshots[snap]["_saved"]
            vm.config = dict(config)
            vm.status = status if vm.snapshots[snap].get("vmstate") else "stopped"

        return self._task(node, "qmrollback", vm.vmid, effect)

    def _delsnapshot(self, params: dict[str, str], node: str, vmid: str, snap: str) -> str:
        vm = self._vm(node, vmid)
        if snap not in vm.snapshots:
            raise ApiError(500, f"snapshot '{snap}' does not exist")
        return self._task(node, "qmdelsnapshot", vm.vmid, lambda: vm.snapshots.pop(snap))


def _net_errors(key: str, value: str) -> dict[str, str]:
    """netN is a property string: model[=MAC],bridge=…[,tag=1-4094]…; unknown or malformed parts fail."""
    parts = [p for p in value.split(",") if p]
    for part in parts:
        name, _, setting = part.partition("=")
        if name not in _NET_KEYS:
            return {key: f"invalid format - format error\n{key}.{name}: property is not defined in schema"}
        if name in ("virtio", "e1000") and setting and not _MAC.fullmatch(setting):
            return {key: f"invalid format - format error\n{key}.macaddr: value does not look like a valid MAC"}
        if name == "tag" and (not setting.isdigit() or not 1 <= int(setting) <= 4094):
            return {key: f"invalid format - format error\n{key}.tag: value must be between 1 and 4094"}
        if name == "bridge" and not re.fullmatch(r"[-_.\w\d]+", setting):
            return {key: f"invalid format - format error\n{key}.bridge: invalid bridge name"}
    if not parts or parts[0].partition("=")[0] not in ("virtio", "e1000") or "bridge" not in value:
        return {key: "invalid format - format error\nmodel: property is missing and it is not optional"}
    return {}
