#!/usr/bin/env python3
"""Switchboard's MAAS extension: instances as bare-metal machines deployed by Canonical MAAS (API 2.0).

Called as:  maas.py <action> <payload.json> <timeout-seconds>   (the CloudStack extension contract)
Success is the exit code alone (0); one JSON object is printed. Failures print
{"status": "error", "error": "..."} and exit 1. Standard library only (Python 3.8+), one file (CloudStack
checks only the entry file across management servers); imports nothing from Switchboard, so it runs
unchanged under Apache CloudStack 4.21+.

Connection details (host details win over the cluster's, which win over the extension's): `endpoint`,
`apikey` (consumer:token:secret, signed with OAuth 1.0 PLAINTEXT), `verify_tls_certificate`,
`ca_certificate`. Instance details (the instance's details, then `externaldetails.virtualmachine`): `os`,
`distro_series`, `architecture`, `hwe_kernel`, `maas_system_id`, `maas_tags`, `maas_zone`, `maas_pool`,
`stop_mode`, `release_erase`.

The machine carries MAAS owner data while it serves an instance: `cloudstack_instance` (the instance's
internal name: `statuses` and the safety checks use it) and, during a reboot, `cloudstack_reboot_until`
(epoch seconds): a reboot powers the machine off and on, and until then `status`/`statuses` keep saying
poweron, so power sync — on any management server — never takes a reboot for a stop.

Actions: prepare, create, start, stop, reboot, delete, status, statuses. See docs/builtin-extensions.md.
"""

from __future__ import annotations

import json
import secrets
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

INSTANCE_KEY = "cloudstack_instance"
REBOOT_KEY = "cloudstack_reboot_until"
_MAX_CALL_SECONDS = 60.0  # one HTTP call never waits longer than this, whatever the deadline
_ALLOCATED = ("Allocated", "Deploying", "Deployed", "Failed deployment")
_POWER = {"on": "poweron", "off": "poweroff"}


class MaasError(Exception):
    """A failure explained for the operator. `status` is the HTTP status when MAAS answered one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Deadline:
    """The time left for the whole run: `seconds` from now, finishing a little early to print the answer."""

    def __init__(self, seconds: float) -> None:
        self.total = seconds
        self._end = time.monotonic() + seconds - min(1.0, seconds * 0.05)

    def check(self, what: str) -> float:
        """The seconds left; raises MaasError naming `what` when none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise MaasError(f"Timed out after {self.total:g} s {what}")
        return left


# -- the MAAS API client ----------------------------------------------------------------------------------------

def api_root(endpoint: str) -> str:
    """`http://maas:5240/MAAS/api/2.0` from an `endpoint` given as `host`, `host:port`, `http://host:5240/MAAS`
    or `https://host` (ports default to MAAS's own: 5240 for http, 5443 for https). Raises MaasError."""
    text = endpoint.strip()
    if "://" not in text:
        text = "http://" + (f"[{text}]" if text.count(":") > 1 and not text.startswith("[") else text)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MaasError(f"Invalid endpoint detail {endpoint!r}: give a host name or address, optionally as "
                        "http://host:5240/MAAS")
    try:
        port = parts.port or (5443 if parts.scheme == "https" else 5240)
    except ValueError as exc:
        raise MaasError(f"Invalid port in endpoint detail {endpoint!r}") from exc
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    path = parts.path.rstrip("/")
    if path.endswith("/api/2.0"):
        path = path[: -len("/api/2.0")]
    return f"{parts.scheme}://{host}:{port}{path or '/MAAS'}/api/2.0"


def tls_context(*, verify: bool, ca_pem: str = "") -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_pem.strip():
        try:
            context = ssl.create_default_context(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as exc:
            raise MaasError(f"The ca_certificate detail is not a usable PEM certificate: {exc}") from exc
    return context


def oauth_header(consumer: str, token: str, secret: str) -> str:
    """OAuth 1.0 PLAINTEXT, as MAAS API keys are used: the signature is `<consumer secret>&<token secret>`
    (MAAS consumer secrets are empty), with a fresh nonce and timestamp per request."""
    fields = {"oauth_version": "1.0", "oauth_signature_method": "PLAINTEXT", "oauth_consumer_key": consumer,
              "oauth_token": token, "oauth_signature": "&" + secret, "oauth_nonce": secrets.token_hex(16),
              "oauth_timestamp": str(int(time.time()))}
    return "OAuth realm=\"\", " + ", ".join(f'{k}="{urllib.parse.quote(v, safe="")}"' for k, v in fields.items())


class Client:
    """Calls to one MAAS region with one API key, bounded by `deadline`."""

    def __init__(self, *, root: str, apikey: str, context: ssl.SSLContext, deadline: Deadline) -> None:
        parts = apikey.split(":")
        if len(parts) != 3 or not all(parts):
            raise MaasError("Invalid apikey detail: expected consumer:token:secret (MAAS user preferences, API keys)")
        self.root = root
        self.deadline = deadline
        self._key = parts
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.call("GET", path, query=params)

    def op(self, path: str, op: str, form: Mapping[str, str] | None = None) -> Any:
        """A POST operation (`?op=…`), its parameters sent as multipart/form-data as the MAAS API asks."""
        return self.call("POST", path, query={"op": op}, form=form or {})

    def call(self, method: str, path: str, *, query: Mapping[str, str] | None = None,
             form: Mapping[str, str] | None = None) -> Any:
        """One API call; the decoded JSON answer (None when empty). Raises MaasError."""
        timeout = min(_MAX_CALL_SECONDS, self.deadline.check(f"before {method} {path}"))
        url = self.root + path + ("?" + urllib.parse.urlencode(query) if query else "")
        body, content_type = _multipart(form) if form is not None else (None, "")
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", oauth_header(*self._key))
        request.add_header("Accept", "application/json")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, path, query, exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._transport_error(method, path, exc) from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise MaasError(f"{method} {path}: MAAS answered something that is not JSON") from None

    def _http_error(self, method: str, path: str, query: Mapping[str, str] | None,
                    exc: urllib.error.HTTPError) -> MaasError:
        try:
            text = exc.read().decode("utf-8", "replace").strip()
        except OSError:
            text = ""
        try:  # validation errors come as {"field": ["message", …]}
            shape = json.loads(text)
            if isinstance(shape, dict):
                text = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                 for k, v in sorted(shape.items()))
        except ValueError:
            pass
        what = f"{method} {path}" + (f" op={query['op']}" if query and "op" in query else "")
        text = text[:500] or str(exc.reason)
        if exc.code == 401:
            return MaasError(f"MAAS refused the API key (HTTP 401 {text}): check the apikey detail "
                             "(consumer:token:secret of a MAAS user)", status=401)
        if exc.code == 403:
            return MaasError(f"The MAAS user of the API key may not {what} (HTTP 403 {text})", status=403)
        return MaasError(f"{what} failed: HTTP {exc.code} {text}", status=exc.code)

    def _transport_error(self, method: str, path: str, exc: BaseException) -> MaasError:
        cause = getattr(exc, "reason", exc)
        where = self.root.rsplit("/api/2.0", 1)[0]
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return MaasError(f"The TLS certificate of {where} is not trusted ({cause}): give the ca_certificate "
                             "detail, or set verify_tls_certificate=false")
        if isinstance(cause, (socket.timeout, TimeoutError)):
            return MaasError(f"{method} {path}: no answer from {where} in time")
        return MaasError(f"Cannot reach MAAS at {where}: {cause}")


def _multipart(form: Mapping[str, str]) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in form.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


# -- the extension --------------------------------------------------------------------------------------------

class Context:
    """One run: the payload, the resolved settings and the API client."""

    def __init__(self, payload: dict[str, Any], timeout: float) -> None:
        self.payload = payload
        groups = payload.get("externaldetails") or {}
        self.to: dict[str, Any] = payload.get("cloudstack.vm.details") or {}
        self._vm_layers = [{k.split(":", 1)[-1]: v for k, v in (self.to.get("details") or {}).items()},
                           groups.get("virtualmachine") or {}]
        self._layers = [groups.get(name) or {} for name in ("host", "resourcemap", "extension")]
        self.secrets = [part for part in self.detail("apikey").split(":") if part]
        missing = [key for key in ("endpoint", "apikey") if not self.detail(key)]
        if missing:
            raise MaasError("Missing required details: " + ", ".join(missing) +
                            " (set them on the host, the cluster or the extension)")
        verify = self.detail("verify_tls_certificate").lower() not in ("false", "no", "0")
        self.timeout = timeout
        self.deadline = Deadline(timeout)
        self.api = Client(root=api_root(self.detail("endpoint")), apikey=self.detail("apikey"),
                          context=tls_context(verify=verify, ca_pem=self.detail("ca_certificate")),
                          deadline=self.deadline)

    def detail(self, key: str) -> str:
        """A connection detail: the host's, else the cluster's, else the extension's ("" when none)."""
        return _first(self._layers, key)

    def vm(self, key: str) -> str:
        """An instance detail: the instance's own (prefix dropped), else its external details."""
        return _first(self._vm_layers, key)

    @property
    def instance(self) -> str:
        return str(self.payload.get("virtualmachinename") or self.to.get("name") or "")

    def system_id(self) -> str:
        """The machine prepare allocated: maas_system_id, else the machine marked with the instance's name
        (prepare's answer did not reach this payload); "" when there is none."""
        system_id = self.vm("maas_system_id")
        if system_id:
            return system_id
        for machine in self.api.get("/machines/") or []:
            if (machine.get("owner_data") or {}).get(INSTANCE_KEY) == self.instance and self.instance:
                return str(machine.get("system_id") or "")
        return ""

    def required_system_id(self) -> str:
        system_id = self.system_id()
        if not system_id:
            raise MaasError(f"No MAAS machine is allocated to instance {self.instance}: maas_system_id is missing "
                            "(prepare sets it; keep orchestratorrequirespreparevm=true on this extension)")
        return system_id

    def machine_path(self, system_id: str) -> str:
        return f"/machines/{urllib.parse.quote(system_id, safe='')}/"

    def machine(self, system_id: str) -> dict[str, Any] | None:
        """The machine, or None when MAAS does not know it."""
        try:
            return dict(self.api.get(self.machine_path(system_id)) or {})
        except MaasError as exc:
            if exc.status == 404:
                return None
            raise

    def serves_us(self, machine: dict[str, Any] | None) -> bool:
        """Whether the machine still serves this instance: allocated (to the key's user: MAAS shows others'
        owner data to admins only) and not marked for another instance."""
        if machine is None or machine.get("status_name") not in _ALLOCATED:
            return False
        marked = (machine.get("owner_data") or {}).get(INSTANCE_KEY)
        return not marked or marked == self.instance


def _first(layers: list[dict[str, Any]], key: str) -> str:
    for layer in layers:
        value = layer.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def success(message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "success", "message": message, **extra}


def power_state(machine: dict[str, Any], now: float | None = None) -> str:
    """poweron / poweroff / unknown; off while a reboot is under way counts as on."""
    state = _POWER.get(str(machine.get("power_state")), "unknown")
    until = (machine.get("owner_data") or {}).get(REBOOT_KEY)
    if state != "poweron" and until and str(until).isdigit() and int(until) > (now or time.time()):
        return "poweron"
    return state


# -- prepare, create, delete ------------------------------------------------------------------------------------

def prepare(ctx: Context) -> dict[str, Any]:
    """Allocate a Ready machine (the given maas_system_id, else any that matches the architecture, tags,
    zone and pool) — MAAS hands each machine to one caller only — and answer its MACs and details."""
    wanted = ctx.vm("maas_system_id")
    form = {"comment": f"CloudStack instance {ctx.instance}"}
    if wanted:
        form["system_id"] = wanted
    for key, constraint in (("architecture", "arch"), ("maas_tags", "tags"), ("maas_zone", "zone"),
                            ("maas_pool", "pool")):
        if ctx.vm(key):
            form[constraint] = ctx.vm(key)
    try:
        machine = ctx.api.op("/machines/", "allocate", form)
    except MaasError as exc:
        if exc.status != 409:
            raise
        machine = ctx.machine(wanted) if wanted else None
        if machine is None or (machine.get("owner_data") or {}).get(INSTANCE_KEY) != ctx.instance:
            asked = ", ".join(f"{k}={v}" for k, v in form.items() if k != "comment") or "any"
            raise MaasError(f"No Ready MAAS machine can be allocated ({asked}): {exc.message}") from None
    system_id = str(machine["system_id"])
    ctx.api.op(ctx.machine_path(system_id), "set_owner_data", {INSTANCE_KEY: ctx.instance})
    macs = machine_macs(machine)
    if not macs:
        raise MaasError(f"MAAS machine {system_id} has no network interface with a MAC address")
    nics = sorted((n for n in ctx.to.get("nics") or [] if isinstance(n, dict)), key=lambda n: n.get("deviceId", 0))
    patch: dict[str, Any] = {"details": {
        "External:maas_system_id": system_id, "External:mac_address": macs[0],
        "External:hostname": str(machine.get("hostname") or ""),
        "External:console_url": ctx.api.root.rsplit("/api/2.0", 1)[0] + f"/r/machine/{system_id}/summary"}}
    if nics:
        patch["nics"] = [{"uuid": nic["uuid"], "mac": macs[index]} for index, nic in enumerate(nics[:len(macs)])
                         if nic.get("uuid")]
    return patch


def machine_macs(machine: dict[str, Any]) -> list[str]:
    """The MACs of the machine's enabled physical interfaces, the boot interface first."""
    boot = (machine.get("boot_interface") or {}).get("mac_address")
    found = [str(i["mac_address"]) for i in sorted(machine.get("interface_set") or [], key=lambda i: str(i.get(
        "name"))) if i.get("type", "physical") == "physical" and i.get("enabled", True) and i.get("mac_address")]
    return ([str(boot)] if boot else []) + [mac for mac in found if mac != boot]


def create(ctx: Context) -> dict[str, Any]:
    """Deploy the OS on the allocated machine and wait until MAAS says Deployed (or failed)."""
    system_id = ctx.required_system_id()
    machine = ctx.machine(system_id)
    if machine is None:
        raise MaasError(f"MAAS has no machine {system_id}")
    if machine.get("status_name") not in ("Deploying", "Deployed"):
        check_architecture(ctx, machine)
        form = {"comment": f"CloudStack instance {ctx.instance}"}
        series, osystem = ctx.vm("distro_series"), ctx.vm("os") or ctx.vm("osystem")
        if "/" in series:  # "ubuntu/jammy"
            osystem, series = osystem or series.split("/", 1)[0], series.split("/", 1)[1]
        form.update({k: v for k, v in (("osystem", osystem), ("distro_series", series),
                                       ("hwe_kernel", ctx.vm("hwe_kernel"))) if v})
        ctx.api.op(ctx.machine_path(system_id), "deploy", form)
        ctx.api.op(ctx.machine_path(system_id), "set_owner_data", {INSTANCE_KEY: ctx.instance})
    pause = 0.5
    while True:
        machine = ctx.machine(system_id) or {}
        status = machine.get("status_name")
        if status == "Deployed":
            return success(f"Instance deployed on MAAS machine {system_id} ({machine.get('hostname')})")
        if status != "Deploying":
            why = str(machine.get("status_message") or "").strip()
            raise MaasError(f"MAAS deployment of machine {system_id} ended {status or 'nowhere'}" +
                            (f": {why}" if why else ""))
        waiting = f"waiting for MAAS to deploy machine {system_id} (still Deploying)"
        time.sleep(min(pause, ctx.deadline.check(waiting)))
        ctx.deadline.check(waiting)
        pause = min(10.0, pause * 2)


def check_architecture(ctx: Context, machine: dict[str, Any]) -> None:
    wanted, actual = ctx.vm("architecture"), str(machine.get("architecture") or "")
    if wanted and actual.split("/")[0] != wanted.split("/")[0]:
        raise MaasError(f"MAAS machine {machine.get('system_id')} is {actual}, not {wanted} as the instance asks")


def delete(ctx: Context) -> dict[str, Any]:
    """Release the machine back to the pool (erasing its disks if release_erase says so); a machine that is
    gone, released already or serving something else is left alone."""
    system_id = ctx.system_id()
    machine = ctx.machine(system_id) if system_id else None
    if not ctx.serves_us(machine):
        return success("Instance deleted (no MAAS machine serves it any more)")
    form = {"comment": f"CloudStack instance {ctx.instance} deleted"}
    erase = ctx.vm("release_erase").lower()
    if erase in ("quick", "secure", "full"):
        form["erase"] = "true"
        if erase != "full":
            form[f"{erase}_erase"] = "true"
    elif erase not in ("", "none", "false"):
        raise MaasError(f"Invalid release_erase {erase!r}: use none, quick, secure or full")
    try:
        ctx.api.op(ctx.machine_path(system_id), "release", form)
    except MaasError as exc:
        if exc.status != 404:
            raise
    return success(f"Instance deleted: MAAS machine {system_id} released")


# -- power ----------------------------------------------------------------------------------------------------

def set_reboot_mark(ctx: Context, system_id: str, until: str) -> None:
    ctx.api.op(ctx.machine_path(system_id), "set_owner_data", {REBOOT_KEY: until})


def power(ctx: Context, system_id: str, want: str) -> None:
    """Ask for power `want` ("on"/"off") and wait until MAAS reports it; a machine whose power MAAS cannot
    query ("unknown", e.g. manual power) is taken at its word."""
    if want == "on":
        ctx.api.op(ctx.machine_path(system_id), "power_on", {"comment": f"CloudStack instance {ctx.instance}"})
    else:
        mode = ctx.vm("stop_mode").lower() or "hard"
        if mode not in ("hard", "soft"):
            raise MaasError(f"Invalid stop_mode {mode!r}: use hard or soft")
        ctx.api.op(ctx.machine_path(system_id), "power_off", {"stop_mode": mode})
    pause = 0.25
    while True:
        state = str((ctx.machine(system_id) or {}).get("power_state"))
        if state in (want, "unknown"):
            return
        if state == "error":
            raise MaasError(f"MAAS could not power {want} machine {system_id} (power state: error)")
        waiting = f"waiting for MAAS machine {system_id} to power {want}"
        time.sleep(min(pause, ctx.deadline.check(waiting)))
        ctx.deadline.check(waiting)
        pause = min(2.0, pause * 2)


def serving_machine(ctx: Context) -> tuple[str, dict[str, Any]]:
    system_id = ctx.required_system_id()
    machine = ctx.machine(system_id)
    if not ctx.serves_us(machine) or machine is None:
        raise MaasError(f"MAAS machine {system_id} no longer serves instance {ctx.instance}")
    return system_id, machine


def start(ctx: Context) -> dict[str, Any]:
    system_id, machine = serving_machine(ctx)
    if (machine.get("owner_data") or {}).get(REBOOT_KEY):
        set_reboot_mark(ctx, system_id, "")
    if machine.get("power_state") != "on":
        power(ctx, system_id, "on")
    return success("Instance started")


def stop(ctx: Context) -> dict[str, Any]:
    system_id = ctx.system_id()
    machine = ctx.machine(system_id) if system_id else None
    if not ctx.serves_us(machine) or machine is None:
        return success("Instance stopped (no MAAS machine serves it any more)")
    if (machine.get("owner_data") or {}).get(REBOOT_KEY):
        set_reboot_mark(ctx, system_id, "")
    if machine.get("power_state") != "off":
        power(ctx, system_id, "off")
    return success("Instance stopped")


def reboot(ctx: Context) -> dict[str, Any]:
    """Off then on — with the reboot mark set for the length of this run, so nobody reads the off as a stop."""
    system_id, machine = serving_machine(ctx)
    set_reboot_mark(ctx, system_id, str(int(time.time() + ctx.timeout)))
    if machine.get("power_state") != "off":
        power(ctx, system_id, "off")
    power(ctx, system_id, "on")
    set_reboot_mark(ctx, system_id, "")
    return success("Instance rebooted")


def status(ctx: Context) -> dict[str, Any]:
    """The machine's power; a machine that is gone or no longer serves the instance is off."""
    system_id = ctx.system_id()
    machine = ctx.machine(system_id) if system_id else None
    state = power_state(machine) if machine is not None and ctx.serves_us(machine) else "poweroff"
    return {"status": "success", "power_state": state}


def statuses(ctx: Context) -> dict[str, Any]:
    """Every machine that serves an instance (owner data cloudstack_instance), in one call."""
    now = time.time()
    states = {}
    for machine in ctx.api.get("/machines/") or []:
        name = (machine.get("owner_data") or {}).get(INSTANCE_KEY)
        if name and machine.get("status_name") in _ALLOCATED:
            states[str(name)] = power_state(machine, now)
    return {"status": "success", "power_state": states}


ACTIONS: dict[str, Handler] = {
    "prepare": prepare, "create": create, "start": start, "stop": stop, "reboot": reboot, "delete": delete,
    "status": status, "statuses": statuses,
}


def emit(answer: dict[str, Any], secrets_: list[str], code: int) -> int:
    """Print `answer` as one JSON line with every part of the API key masked; returns `code`."""
    text = json.dumps(answer)
    for secret in sorted(secrets_, key=len, reverse=True):
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
    masked: list[str] = []
    try:
        ctx = Context(payload if isinstance(payload, dict) else {}, timeout)
        masked = ctx.secrets
        answer = handler(ctx)
    except MaasError as exc:
        return emit({"status": "error", "error": exc.message}, masked, 1)
    except Exception as exc:  # the boundary: anything unforeseen still answers in JSON, without secrets
        return emit({"status": "error", "error": f"Unexpected {type(exc).__name__}: {exc}"}, masked, 1)
    return emit(answer, masked, 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
