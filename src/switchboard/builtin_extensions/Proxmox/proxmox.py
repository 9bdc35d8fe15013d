#!/usr/bin/env python3
"""Switchboard's Proxmox VE extension: instances as QEMU VMs of a Proxmox VE node, through its REST API.

Called as:  proxmox.py <action> <payload.json> <timeout-seconds>   (the CloudStack extension contract)
Success is the exit code alone (0); one JSON object is printed. Failures print
{"status": "error", "error": "..."} and exit 1. Standard library only (Python 3.8+); imports nothing from
Switchboard, so it runs unchanged under Apache CloudStack 4.21+.

Connection details (host details win over the cluster's, which win over the extension's): `url`, `user`,
`token`, `secret`, `node`, `network_bridge`, `verify_tls_certificate`, `ca_certificate`, `console_host`.
Instance details (`externaldetails.virtualmachine`): `template_type` (template | iso), `template_id`,
`iso_path`, `vm_name`, `storage`, `disk_size`. The VM id comes from `prepare` (`details.proxmox_vmid`).

Actions: prepare, create, start, stop, reboot, delete, status, statuses, getconsole, and the custom
actions ListSnapshots, CreateSnapshot, RestoreSnapshot, DeleteSnapshot. See docs/builtin-extensions.md.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Handler = Callable[["Context"], dict[str, Any]]

# -- the Proxmox VE API client -------------------------------------------------------------------------------

DEFAULT_PORT = 8006
_MAX_CALL_SECONDS = 30.0  # one HTTP call never waits longer than this, whatever the deadline


class ProxmoxError(Exception):
    """A failure explained for the operator. `status` is the HTTP status when Proxmox VE answered one."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class Deadline:
    """The time left for the whole run: `seconds` from now, less `reserve` kept back for clean-up."""

    def __init__(self, seconds: float, *, reserve: float = 0.0) -> None:
        now = time.monotonic()
        self.total = seconds
        # Finish a little before the orchestrator kills the process at `seconds`, to print the answer.
        self._hard_end = now + seconds - min(1.0, seconds * 0.05)
        self._end = min(self._hard_end, now + seconds - reserve)

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def release_reserve(self) -> None:
        """Let clean-up use the reserved time (up to the very end)."""
        self._end = self._hard_end

    def check(self, what: str) -> float:
        """The seconds left; raises ProxmoxError naming `what` when none are."""
        left = self.remaining()
        if left <= 0:
            raise ProxmoxError(f"Timed out after {self.total:g} s {what}")
        return left


def base_url(url: str) -> str:
    """`https://host:port/api2/json` from a `url` detail given as `host`, `host:port`, `[v6]:port`,
    `https://host`, `https://host:8006/` or `https://host:8006/api2/json`. Raises ProxmoxError if unusable."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + (f"[{text}]" if text.count(":") > 1 and not text.startswith("[") else text)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ProxmoxError(f"Invalid url detail {url!r}: give a host name or address, optionally as "
                           "https://host:8006")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise ProxmoxError(f"Invalid port in url detail {url!r}") from exc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}/api2/json"


def host_of(base: str) -> str:
    """The host name or address of a base URL (without brackets)."""
    return urllib.parse.urlsplit(base).hostname or ""


def tls_context(*, verify: bool, ca_pem: str = "") -> ssl.SSLContext:
    """Certificate checking on by default; `ca_pem` (PEM text) trusts a private CA such as Proxmox VE's own."""
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_pem.strip():
        try:
            return ssl.create_default_context(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as exc:
            raise ProxmoxError(f"The ca_certificate detail is not a usable PEM certificate: {exc}") from exc
    return ssl.create_default_context()


class Client:
    """Calls to one Proxmox VE API endpoint with one API token, bounded by `deadline`."""

    def __init__(self, *, base: str, user: str, token: str, secret: str, context: ssl.SSLContext,
                 deadline: Deadline) -> None:
        self.base = base
        self.deadline = deadline
        self._authorization = f"PVEAPIToken={user}!{token}={secret}"
        self._user = user
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    # -- plain calls ------------------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        return self.call("GET", path, params)

    def post(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        return self.call("POST", path, params)

    def put(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        return self.call("PUT", path, params)

    def delete(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        return self.call("DELETE", path, params)

    def call(self, method: str, path: str, params: Mapping[str, object] | None = None) -> Any:
        """One API call; returns the answer's `data`. Raises ProxmoxError."""
        timeout = min(_MAX_CALL_SECONDS, self.deadline.check(f"before {method} {path}"))
        encoded = urllib.parse.urlencode({k: _text(v) for k, v in (params or {}).items() if v is not None})
        url = self.base + path
        body: bytes | None = None
        if method in ("GET", "DELETE"):
            url += f"?{encoded}" if encoded else ""
        else:
            body = encoded.encode()
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", self._authorization)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, path, exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._transport_error(method, path, exc) from None
        try:
            answer = json.loads(raw.decode("utf-8") or "{}")
        except ValueError:
            raise ProxmoxError(f"{method} {path}: Proxmox VE answered something that is not JSON") from None
        return answer.get("data") if isinstance(answer, dict) else None

    def _http_error(self, method: str, path: str, exc: urllib.error.HTTPError) -> ProxmoxError:
        reason = str(exc.reason or "").strip()
        try:
            detail = json.loads(exc.read().decode("utf-8", "replace") or "{}")
        except (ValueError, OSError):
            detail = {}
        if isinstance(detail, dict):
            reason = str(detail.get("message") or reason).strip()
            errors = detail.get("errors")
            if isinstance(errors, dict) and errors:
                reason += " (" + "; ".join(f"{k}: {str(v).strip()}" for k, v in sorted(errors.items())) + ")"
        if exc.code == 401:
            message = (f"Proxmox VE refused the API token of user {self._user} (HTTP 401 {reason}): check the "
                       "user, token and secret details")
        elif exc.code == 403:
            message = f"The API token of user {self._user} may not {method} {path} (HTTP 403 {reason})"
        else:
            message = f"{method} {path} failed: HTTP {exc.code} {reason}"
        return ProxmoxError(message, status=exc.code, reason=reason)

    def _transport_error(self, method: str, path: str, exc: BaseException) -> ProxmoxError:
        cause = getattr(exc, "reason", exc)
        where = self.base.rsplit("/api2/json", 1)[0]
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return ProxmoxError(f"The TLS certificate of {where} is not trusted ({cause}): give the ca_certificate "
                                "detail, or set verify_tls_certificate=false")
        if isinstance(cause, (socket.timeout, TimeoutError)):
            return ProxmoxError(f"{method} {path}: no answer from {where} in time")
        return ProxmoxError(f"Cannot reach Proxmox VE at {where}: {cause}")

    # -- tasks ------------------------------------------------------------------------------------------------

    def wait_task(self, upid: Any, what: str) -> None:
        """Wait until task `upid` stops; raises ProxmoxError when it failed or the deadline passed."""
        if not isinstance(upid, str) or not upid.startswith("UPID:"):
            raise ProxmoxError(f"{what}: Proxmox VE did not answer a task id")
        fields = upid.split(":")
        path = f"/nodes/{quote(fields[1])}/tasks/{quote(upid)}/status"
        waiting = f"waiting for {what} (task {fields[5] if len(fields) > 5 else upid} still running)"
        pause = 0.1
        while True:
            status = self.get(path) or {}
            if status.get("status") == "stopped":
                exit_status = str(status.get("exitstatus") or "")
                if exit_status == "OK" or exit_status.startswith("WARNINGS"):
                    return
                raise ProxmoxError(f"{what} failed: {exit_status or 'the task stopped without an exit status'}")
            time.sleep(min(pause, self.deadline.check(waiting)))
            self.deadline.check(waiting)
            pause = min(1.0, pause * 2)

    def run_task(self, method: str, path: str, params: Mapping[str, object] | None, what: str) -> None:
        """An asynchronous call and the wait for its task."""
        self.wait_task(self.call(method, path, params), what)


def quote(segment: object) -> str:
    """A path segment, percent-encoded (UPIDs hold ':' and '@'; names never reach the path raw)."""
    return urllib.parse.quote(str(segment), safe="")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# -- the extension --------------------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_NODE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_BRIDGE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_STORAGE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_VOLUME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:[^,=;\s]+$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_SNAPSHOT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,39}$")
_TAG_PREFIX = "cloudstack_"  # + the instance's internal name: how `statuses` names VMs with their own vm_name
_POWER = {"running": "poweron", "stopped": "poweroff"}
_PURGE = {"purge": 1, "destroy-unreferenced-disks": 1}


class Context:
    """One run: the payload, the resolved connection settings and the API client."""

    def __init__(self, payload: dict[str, Any], timeout: float) -> None:
        self.payload = payload
        groups = payload.get("externaldetails") or {}
        self.vm_details: dict[str, Any] = groups.get("virtualmachine") or {}
        self.to: dict[str, Any] = payload.get("cloudstack.vm.details") or {}
        self._layers = [groups.get(name) or {} for name in ("host", "resourcemap", "extension")]
        user, token = self.detail("user"), self.detail("token")
        if "!" in user and not token:  # `user` given as the full token id, user@realm!token
            user, token = user.split("!", 1)
        # Masked in every answer: the secret. Masked in error messages too: the token id, which Proxmox VE may
        # quote (it is no secret, and answers hold VM names, which it must not mangle).
        self.secrets = [s for s in (self.detail("secret"),) if s]
        self.quoted = [*self.secrets, *([token] if token else [])]
        missing = [key for key, value in (("url", self.detail("url")), ("user", user), ("token", token),
                                          ("secret", self.detail("secret")), ("node", self.detail("node")))
                   if not value]
        if missing:
            raise ProxmoxError("Missing required details: " + ", ".join(missing) +
                               " (set them on the host, the cluster or the extension)")
        self.node = checked(_NODE, self.detail("node"), "node")
        verify = self.detail("verify_tls_certificate").lower() not in ("false", "no", "0")
        # Keep back time to remove a half-created VM when create fails late.
        self.deadline = Deadline(timeout, reserve=min(10.0, max(0.5, timeout * 0.15)))
        self.api = Client(base=base_url(self.detail("url")), user=user, token=token, secret=self.detail("secret"),
                          context=tls_context(verify=verify, ca_pem=self.detail("ca_certificate")),
                          deadline=self.deadline)

    def detail(self, key: str) -> str:
        """A connection detail: the host's, else the cluster's, else the extension's ("" when none)."""
        for layer in self._layers:
            value = layer.get(key)
            if value not in (None, ""):
                return str(value).strip()
        return ""

    @property
    def instance(self) -> str:
        return str(self.payload.get("virtualmachinename") or self.to.get("name") or "")

    @property
    def known_vmid(self) -> int | None:
        """The VM id `prepare` chose (details.proxmox_vmid), None when prepare did not run."""
        raw = str((self.to.get("details") or {}).get("proxmox_vmid") or self.vm_details.get("proxmox_vmid") or "")
        if not raw:
            return None
        if not raw.isdigit() or not 100 <= int(raw) <= 999_999_999:
            raise ProxmoxError(f"Invalid proxmox_vmid {raw!r}: expected a number from 100 to 999999999")
        return int(raw)

    def parameter(self, name: str) -> Any:
        return (self.payload.get("parameters") or {}).get(name)

    # -- finding the instance's VM --------------------------------------------------------------------------

    def locate(self) -> Located | None:
        """The instance's VM: by its id, looked for on `node` first and then across the cluster (a VM may
        have migrated); without an id (prepare did not run), by the instance tag or name. None: no such VM."""
        vmid = self.known_vmid
        if vmid is not None:
            try:
                return Located(self.node, vmid, self.api.get(vm_path(self.node, vmid, "/status/current")) or {})
            except ProxmoxError as exc:
                if exc.status not in (400, 404, 500):
                    raise
                entry = next((e for e in self.cluster_vms() if e.get("vmid") == vmid), None)
                if entry is None or entry.get("type") != "qemu":
                    return None  # gone (or the id now names a container, which is not ours)
                if entry.get("node") == self.node:
                    raise
        else:
            tag, name = marker(self.instance).lower(), self.instance
            entry = next((e for e in self.cluster_vms() if e.get("type") == "qemu" and not e.get("template") and (
                tag in [t.lower() for t in tags_of(e)] or e.get("name") == name)), None)
            if entry is None:
                return None
            vmid = int(entry["vmid"])
        node = str(entry["node"])
        return Located(node, vmid, self.api.get(vm_path(node, vmid, "/status/current")) or {})

    def require(self) -> Located:
        found = self.locate()
        if found is None:
            raise ProxmoxError(f"The VM of instance {self.instance} does not exist on Proxmox VE")
        return found

    def cluster_vms(self) -> list[dict[str, Any]]:
        return [e for e in self.api.get("/cluster/resources", {"type": "vm"}) or [] if isinstance(e, dict)]


class Located:
    """Where the instance's VM is and what Proxmox VE says of it now (`current`: status/current)."""

    def __init__(self, node: str, vmid: int, current: dict[str, Any]) -> None:
        self.node, self.vmid, self.current = node, vmid, current

    @property
    def running(self) -> bool:
        return self.current.get("status") == "running"

    def path(self, tail: str = "") -> str:
        return vm_path(self.node, self.vmid, tail)


def marker(instance: str) -> str:
    """The tag that names the instance on its VM (VMs may carry their own vm_name)."""
    return _TAG_PREFIX + re.sub(r"[^A-Za-z0-9_+.-]", "_", instance)


def tags_of(entry: dict[str, Any]) -> list[str]:
    return [t for t in re.split(r"[;, ]+", str(entry.get("tags") or "")) if t]


def checked(pattern: re.Pattern[str], value: str, what: str) -> str:
    """`value` if it matches `pattern`; otherwise a ProxmoxError naming `what` (values end up in Proxmox's
    comma-separated property strings, so nothing may smuggle in an option of its own)."""
    if not pattern.match(value):
        raise ProxmoxError(f"Invalid {what} {value!r}")
    return value


def success(message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "success", "message": message, **extra}


def vm_path(node: str, vmid: int, tail: str = "") -> str:
    return f"/nodes/{quote(node)}/qemu/{vmid}{tail}"


# -- prepare, create ------------------------------------------------------------------------------------------

def prepare(ctx: Context) -> dict[str, Any]:
    """The next free VM id, which the orchestrator keeps in the instance's details as proxmox_vmid."""
    if ctx.known_vmid is not None:
        return {}  # already chosen: nothing to change
    return {"details": {"proxmox_vmid": str(ctx.api.get("/cluster/nextid"))}}


def nic_options(ctx: Context) -> dict[str, object]:
    """net0, net1, … for the instance's NICs in device order: virtio with the orchestrator's MAC, the host's
    bridge, and the network's VLAN as tag."""
    nics = sorted((n for n in ctx.to.get("nics") or [] if isinstance(n, dict)), key=lambda n: n.get("deviceId", 0))
    if not nics:
        return {}
    if not ctx.detail("network_bridge"):
        raise ProxmoxError("Missing required details: network_bridge (the Proxmox VE bridge for instance NICs)")
    bridge = checked(_BRIDGE, ctx.detail("network_bridge"), "network_bridge")
    options: dict[str, object] = {}
    for index, nic in enumerate(nics):
        spec = "virtio"
        if nic.get("mac"):
            spec += "=" + checked(_MAC, str(nic["mac"]), f"MAC address of NIC {index}")
        spec += f",bridge={bridge}"
        vlan = vlan_tag(str(nic.get("broadcastUri") or ""), index)
        if vlan:
            spec += f",tag={vlan}"
        options[f"net{index}"] = spec
    return options


def vlan_tag(uri: str, index: int) -> str:
    """The VLAN id of a broadcast URI (`vlan://1577`), "" for none or untagged; others cannot be bridged."""
    if uri in ("", "vlan://", "vlan://untagged"):
        return ""
    match = re.match(r"^vlan://(\d{1,4})$", uri)
    if not match or not 1 <= int(match.group(1)) <= 4094:
        raise ProxmoxError(f"NIC {index}: network {uri!r} is not a VLAN (1-4094); a Proxmox VE bridge can only "
                           "tag VLANs")
    return match.group(1)


def sizing(ctx: Context) -> dict[str, object]:
    """cores and memory (MiB) of the offering; a balloon floor when the minimum is below the maximum."""
    low, high = int(ctx.to.get("minRam") or 0), int(ctx.to.get("maxRam") or 0)
    memory = max(low, high) // (1024 * 1024)
    if memory < 16:
        raise ProxmoxError("The instance's memory (minRam) is missing or below 16 MiB")
    sized: dict[str, object] = {"cores": max(1, int(ctx.to.get("cpus") or 1)), "memory": memory}
    if 0 < low < high:
        sized["balloon"] = low // (1024 * 1024)
    return sized


def create(ctx: Context) -> dict[str, Any]:
    """Clone a template VM (template_type=template, template_id) or install from an ISO (template_type=iso,
    iso_path), give it the instance's size, NICs and tag, and start it. A VM left half made is removed."""
    name = checked(_NAME, str(ctx.vm_details.get("vm_name") or ctx.instance), "VM name (vm_name)")
    options: dict[str, object] = {**sizing(ctx), **nic_options(ctx)}
    kind = str(ctx.vm_details.get("template_type") or "template").lower()
    if kind not in ("template", "iso"):
        raise ProxmoxError(f"Invalid template_type {kind!r}: use template or iso")
    storage = str(ctx.vm_details.get("storage") or "")
    if storage:
        checked(_STORAGE, storage, "storage")
    existing = ctx.locate()
    if existing is not None:
        return adopt(ctx, existing)
    vmid = ctx.known_vmid or int(str(ctx.api.get("/cluster/nextid")))
    made = False
    try:
        if kind == "iso":
            params = iso_options(ctx, vmid, name, storage or "local-lvm")
            made = True
            ctx.api.run_task("POST", f"/nodes/{quote(ctx.node)}/qemu", {**params, **options}, f"creating VM {vmid}")
        else:
            template = str(ctx.vm_details.get("template_id") or "")
            if not template.isdigit():
                raise ProxmoxError("Missing required details: template_id (the Proxmox VE template VM to clone)"
                                   if not template else f"Invalid template_id {template!r}")
            clone: dict[str, object] = {"newid": vmid, "name": name}
            if storage:
                clone.update(full=1, storage=storage)
            made = True
            ctx.api.run_task("POST", vm_path(ctx.node, int(template), "/clone"), clone,
                             f"cloning template {template} to VM {vmid}")
            configure(ctx, vmid, options)
        ctx.api.run_task("POST", vm_path(ctx.node, vmid, "/status/start"), None, f"starting VM {vmid}")
    except ProxmoxError as exc:
        if made:
            exc.message += remove_half_made(ctx, vmid)
        raise
    return success(f"Instance created as VM {vmid} on node {ctx.node}")


def iso_options(ctx: Context, vmid: int, name: str, storage: str) -> dict[str, object]:
    iso = str(ctx.vm_details.get("iso_path") or "")
    if not iso:
        raise ProxmoxError("Missing required details: iso_path (e.g. local:iso/ubuntu.iso)")
    checked(_VOLUME, iso, "iso_path")
    size = str(ctx.vm_details.get("disk_size") or "64")
    if not size.isdigit() or int(size) < 1:
        raise ProxmoxError(f"Invalid disk_size {size!r}: a number of GiB")
    return {"vmid": vmid, "name": name, "ostype": "l26", "sockets": 1, "scsihw": "virtio-scsi-single",
            "scsi0": f"{storage}:{size},iothread=1", "ide2": f"{iso},media=cdrom", "boot": "order=scsi0;ide2;net0",
            "tags": marker(ctx.instance)}


def configure(ctx: Context, vmid: int, options: dict[str, object]) -> None:
    """Size, NICs (dropping the template's other ones) and the instance tag, in one synchronous update."""
    config = ctx.api.get(vm_path(ctx.node, vmid, "/config")) or {}
    extra = sorted(k for k in config if re.match(r"^net\d+$", k) and k not in options)
    kept = [t for t in tags_of(config) if not t.startswith(_TAG_PREFIX)]
    update = {**options, "tags": ";".join([*kept, marker(ctx.instance)])}
    if extra:
        update["delete"] = ",".join(extra)
    ctx.api.put(vm_path(ctx.node, vmid, "/config"), update)


def adopt(ctx: Context, vm: Located) -> dict[str, Any]:
    """create ran before (a retry after a timeout): finish the job if the VM is this instance's."""
    config = ctx.api.get(vm.path("/config")) or {}
    if marker(ctx.instance).lower() not in [t.lower() for t in tags_of(config)]:
        raise ProxmoxError(f"VM id {vm.vmid} is already used by another VM ({config.get('name') or 'unnamed'}); "
                           "deploy the instance again to get a new id")
    if not vm.running:
        ctx.api.run_task("POST", vm.path("/status/start"), None, f"starting VM {vm.vmid}")
    return success(f"Instance created as VM {vm.vmid} on node {vm.node}")


def remove_half_made(ctx: Context, vmid: int) -> str:
    """Best effort, with the time kept back for it; says what happened, for the error message."""
    ctx.deadline.release_reserve()
    try:
        vm = Located(ctx.node, vmid, ctx.api.get(vm_path(ctx.node, vmid, "/status/current")) or {})
    except ProxmoxError:
        return ""  # nothing was made
    try:
        if vm.running:
            ctx.api.run_task("POST", vm.path("/status/stop"), None, f"stopping VM {vmid}")
        ctx.api.run_task("DELETE", vm.path(), _PURGE, f"removing VM {vmid}")
        return f"; the half-created VM {vmid} was removed"
    except ProxmoxError as cleanup:
        return f"; the half-created VM {vmid} could not be removed, remove it by hand ({cleanup.message})"


# -- power --------------------------------------------------------------------------------------------------

def start(ctx: Context) -> dict[str, Any]:
    vm = ctx.require()
    if vm.running:
        return success("Instance already running")
    ctx.api.run_task("POST", vm.path("/status/start"), None, f"starting VM {vm.vmid}")
    return success("Instance started")


def stop(ctx: Context) -> dict[str, Any]:
    vm = ctx.locate()
    if vm is None:
        return success("Instance stopped (it has no VM on Proxmox VE)")
    if vm.current.get("status") != "stopped":
        ctx.api.run_task("POST", vm.path("/status/stop"), None, f"stopping VM {vm.vmid}")
    return success("Instance stopped")


def reboot(ctx: Context) -> dict[str, Any]:
    vm = ctx.require()
    step = "reboot" if vm.running else "start"
    ctx.api.run_task("POST", vm.path(f"/status/{step}"), None, f"{step} of VM {vm.vmid}")
    return success("Instance rebooted")


def delete(ctx: Context) -> dict[str, Any]:
    vm = ctx.locate()
    if vm is None:
        return success("Instance deleted (it has no VM on Proxmox VE)")
    if vm.current.get("status") != "stopped":
        ctx.api.run_task("POST", vm.path("/status/stop"), None, f"stopping VM {vm.vmid}")
    ctx.api.run_task("DELETE", vm.path(), _PURGE, f"deleting VM {vm.vmid}")
    return success("Instance deleted")


def status(ctx: Context) -> dict[str, Any]:
    """poweron / poweroff / unknown; a VM that no longer exists is off."""
    vm = ctx.locate()
    state = "poweroff" if vm is None else _POWER.get(str(vm.current.get("status")), "unknown")
    return {"status": "success", "power_state": state}


def statuses(ctx: Context) -> dict[str, Any]:
    """Every VM of the Proxmox VE cluster (instances may have migrated between its nodes), by VM name and,
    for the VMs made by this extension, by the instance's internal name too."""
    states: dict[str, str] = {}
    for entry in ctx.cluster_vms():
        if entry.get("type") != "qemu" or entry.get("template"):
            continue
        state = _POWER.get(str(entry.get("status")), "unknown")
        if entry.get("name"):
            states[str(entry["name"])] = state
        for tag in tags_of(entry):
            if tag.startswith(_TAG_PREFIX) and len(tag) > len(_TAG_PREFIX):
                states[tag[len(_TAG_PREFIX):]] = state
    return {"status": "success", "power_state": states}


def getconsole(ctx: Context) -> dict[str, Any]:
    """A VNC proxy on the VM's node: host, port and a one-time password, valid for a few seconds."""
    vm = ctx.require()
    proxy = ctx.api.post(vm.path("/vncproxy"), {"generate-password": 1}) or {}
    password = proxy.get("password") or proxy.get("ticket")
    if not proxy.get("port") or not password:
        raise ProxmoxError(f"Proxmox VE did not open a VNC proxy for VM {vm.vmid}")
    host = ctx.detail("console_host")
    if not host:
        members = ctx.api.get("/cluster/status") or []
        host = next((str(m["ip"]) for m in members if isinstance(m, dict) and m.get("type") == "node"
                     and m.get("name") == vm.node and m.get("ip")), "") or host_of(ctx.api.base)
    console = {"host": host, "port": str(proxy["port"]), "password": str(password), "passwordonetimeuseonly": True,
               "protocol": "vnc"}
    return success("Console ready", console=console)


# -- snapshots (custom actions) ---------------------------------------------------------------------------------

def snapshot_name(ctx: Context) -> str:
    name = str(ctx.parameter("snap_name") or "")
    if not name:
        raise ProxmoxError("Missing required parameter: snap_name")
    if not _SNAPSHOT.match(name) or name.lower() == "current":
        raise ProxmoxError(f"Invalid snapshot name {name!r}: 2 to 40 letters, digits, '-' or '_', starting with a "
                           "letter ('current' is reserved)")
    return name


def list_snapshots(ctx: Context) -> dict[str, Any]:
    """A table (printmessage): name, time (UTC), description, parent, whether RAM was saved."""
    vm = ctx.require()
    rows = []
    for snap in ctx.api.get(vm.path("/snapshot")) or []:
        if snap.get("name") == "current":  # Proxmox VE's "you are here" marker, not a snapshot
            continue
        taken = snap.get("snaptime")
        rows.append({"name": str(snap.get("name")),
                     "snaptime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(taken))) if taken else "-",
                     "description": str(snap.get("description") or "").strip(),
                     "parent": str(snap.get("parent") or "-"), "vmstate": "yes" if snap.get("vmstate") else "no"})
    rows.sort(key=lambda row: row["snaptime"])
    return {"status": "success", "printmessage": "true", "message": rows}


def create_snapshot(ctx: Context) -> dict[str, Any]:
    name = snapshot_name(ctx)
    vm = ctx.require()
    memory = str(ctx.parameter("snap_save_memory")).lower() == "true" and vm.running
    params: dict[str, object] = {"snapname": name, "vmstate": 1 if memory else 0}
    if ctx.parameter("snap_description"):
        params["description"] = str(ctx.parameter("snap_description"))
    ctx.api.run_task("POST", vm.path("/snapshot"), params, f"snapshot {name} of VM {vm.vmid}")
    return success(f"Snapshot {name} created")


def restore_snapshot(ctx: Context) -> dict[str, Any]:
    """Roll back, then bring the VM back to the power state it had (the orchestrator's view stays true)."""
    name = snapshot_name(ctx)
    vm = ctx.require()
    ctx.api.run_task("POST", vm.path(f"/snapshot/{quote(name)}/rollback"), None,
                     f"rollback of VM {vm.vmid} to {name}")
    running_now = (ctx.api.get(vm.path("/status/current")) or {}).get("status") == "running"
    if vm.running and not running_now:
        ctx.api.run_task("POST", vm.path("/status/start"), None, f"starting VM {vm.vmid}")
    elif running_now and not vm.running:
        ctx.api.run_task("POST", vm.path("/status/stop"), None, f"stopping VM {vm.vmid}")
    return success(f"Snapshot {name} restored")


def delete_snapshot(ctx: Context) -> dict[str, Any]:
    name = snapshot_name(ctx)
    vm = ctx.require()
    ctx.api.run_task("DELETE", vm.path(f"/snapshot/{quote(name)}"), None, f"deleting snapshot {name} of VM "
                                                                          f"{vm.vmid}")
    return success(f"Snapshot {name} deleted")


ACTIONS: dict[str, Handler] = {
    "prepare": prepare, "create": create, "start": start, "stop": stop, "reboot": reboot, "delete": delete,
    "status": status, "statuses": statuses, "getconsole": getconsole, "listsnapshots": list_snapshots,
    "createsnapshot": create_snapshot, "restoresnapshot": restore_snapshot, "deletesnapshot": delete_snapshot,
}


def emit(answer: dict[str, Any], secrets: list[str], code: int) -> int:
    """Print `answer` as one JSON line with every secret masked; returns `code`."""
    text = json.dumps(answer)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    print(text)
    return code


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        return emit({"status": "error", "error": "Missing required arguments: <action> <payload file> [timeout]"},
                    [], 1)
    handler = ACTIONS.get(argv[1].lower())
    if handler is None:
        return emit({"status": "error", "error": f"Invalid action: {argv[1]}"}, [], 1)
    try:
        timeout = float(argv[3]) if len(argv) > 3 else 1800.0
        with open(argv[2], encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError) as exc:
        return emit({"status": "error", "error": f"Cannot read the payload file or timeout: {exc}"}, [], 1)
    ctx: Context | None = None
    try:
        ctx = Context(payload if isinstance(payload, dict) else {}, timeout)
        answer = handler(ctx)
    except ProxmoxError as exc:
        return emit({"status": "error", "error": exc.message}, ctx.quoted if ctx else [], 1)
    except Exception as exc:  # the boundary: anything unforeseen still answers in JSON, without secrets
        return emit({"status": "error", "error": f"Unexpected {type(exc).__name__}: {exc}"},
                    ctx.quoted if ctx else [], 1)
    return emit(answer, ctx.secrets, 0) if answer else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
