"""A stand-in for the MAAS 2.0 REST API (`/MAAS/api/2.0`), the subset the MaaS extension uses, as MAAS's
API documentation and handlers describe it:

* OAuth 1.0 with the PLAINTEXT method, checked like MAAS's piston authentication: the consumer key and the
  token exist and belong together, the signature is `<consumer secret>&<token secret>`, the timestamp is
  within 300 s of now, a nonce is never used twice; otherwise 401 "Authorization Error: …".
* GET /machines/ and /machines/<id>/ (404 "No Machine matches the given query."); POST /machines/?op=allocate
  (system_id, arch, tags, zone, pool; 409 when nothing matches); POST /machines/<id>/?op=deploy (auto-allocates
  a Ready machine, checks osystem/distro_series against the synced images), op=release, op=power_on (409 on
  an unallocated machine), op=power_off, op=set_owner_data (409 unless the caller owns the machine).
* Machines owned by another user answer 403 to the operations.

Tests steer it with `power_seconds`/`deploy_seconds` (how long power changes and deployments take),
`hold_power_on` (an Event: power-on requests are accepted but the machine stays off until it is set) and
`fail_deploy` (system ids whose deployment fails).
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tests.builtin_extensions.standin import Reply, Request

IMAGES = {("ubuntu", "focal"), ("ubuntu", "jammy"), ("ubuntu", "noble"), ("centos", "centos8")}
STATUS_CODES = {"New": 0, "Ready": 4, "Deployed": 6, "Deploying": 9, "Allocated": 10, "Failed deployment": 11,
                "Releasing": 12}


class ApiError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


@dataclass
class Machine:
    system_id: str
    hostname: str
    macs: list[str]
    architecture: str = "amd64/generic"
    status_name: str = "Ready"
    power_state: str = "off"
    owner: str | None = None
    owner_data: dict[str, str] = field(default_factory=dict)
    osystem: str = ""
    distro_series: str = ""
    tags: list[str] = field(default_factory=list)
    zone: str = "default"
    pool: str = "default"
    status_message: str = ""
    pending: list[tuple[float, Any]] = field(default_factory=list)  # (when, change) still to happen

    def render(self) -> dict[str, Any]:
        interfaces = [{"id": i + 1, "name": f"eno{i + 1}", "type": "physical", "enabled": True, "mac_address": mac,
                       "system_id": self.system_id} for i, mac in enumerate(self.macs)]
        return {"system_id": self.system_id, "hostname": self.hostname, "fqdn": f"{self.hostname}.maas",
                "status": STATUS_CODES[self.status_name], "status_name": self.status_name,
                "status_message": self.status_message, "power_state": self.power_state, "power_type": "ipmi",
                "architecture": self.architecture, "owner": self.owner, "owner_data": dict(self.owner_data),
                "osystem": self.osystem, "distro_series": self.distro_series, "tag_names": list(self.tags),
                "zone": {"name": self.zone}, "pool": {"name": self.pool}, "interface_set": interfaces,
                "boot_interface": interfaces[0] if interfaces else None,
                "resource_uri": f"/MAAS/api/2.0/machines/{self.system_id}/"}


class MaasStandin:
    """A MAAS region with a few machines and two users, and the app serving its API."""

    def __init__(self, *, consumer: str = "CnsmrKey12345678", token: str = "TokenKey12345678",
                 secret: str = "TokenSecretAbCdEfGhIjKlMnOpQrSt") -> None:
        self.keys = {(consumer, token): ("cloudstack", secret), ("OtherCnsmr000000", "OtherToken000000"):
                     ("someone-else", "OtherSecret000000000000000000000")}
        self.machines: dict[str, Machine] = {}
        self.power_seconds = 0.0
        self.deploy_seconds = 0.0
        self.hold_power_on = threading.Event()
        self.hold_power_on.set()
        self.fail_deploy: set[str] = set()
        self._nonces: set[tuple[str, str, str]] = set()
        self._lock = threading.RLock()

    def add_machine(self, system_id: str, *, macs: tuple[str, ...] = (), **fields: Any) -> Machine:
        number = len(self.machines) + 1
        machine = Machine(system_id, fields.pop("hostname", f"node-{number:02d}"),
                          list(macs or (f"52:54:00:00:{number:02x}:01", f"52:54:00:00:{number:02x}:02")), **fields)
        self.machines[system_id] = machine
        return machine

    # -- the app ---------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        try:
            user = self._authenticate(request)
            path = request.path.removeprefix("/MAAS/api/2.0")
            if not request.path.startswith("/MAAS/api/2.0/"):
                raise ApiError(404, "Not Found")
            with self._lock:
                for machine in self.machines.values():
                    _advance(machine)
                return Reply(body=self._route(request, path, user))
        except ApiError as exc:
            return Reply(status=exc.status, body=exc.text)

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header.startswith("OAuth "):
            raise ApiError(401, "Authorization Error: Authentication credentials were not provided.")
        fields = {k: urllib.parse.unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
        for name in ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_signature",
                     "oauth_timestamp", "oauth_nonce"):
            if not fields.get(name):
                raise ApiError(401, f"Authorization Error: 'Missing OAuth parameter: {name}'")
        if fields["oauth_signature_method"] != "PLAINTEXT":
            raise ApiError(401, f"Authorization Error: 'Signature method {fields['oauth_signature_method']} not "
                                "supported try one of the following: PLAINTEXT'")
        consumer, token = fields["oauth_consumer_key"], fields["oauth_token"]
        if not any(c == consumer for c, _ in self.keys):
            raise ApiError(401, "Authorization Error: Invalid API key.")
        owner = self.keys.get((consumer, token))
        if owner is None:
            raise ApiError(401, f"Authorization Error: 'Invalid access token: {token}'")
        if fields["oauth_signature"] != "&" + owner[1]:
            raise ApiError(401, "Authorization Error: 'Invalid signature.'")
        if not fields["oauth_timestamp"].isdigit() or abs(time.time() - int(fields["oauth_timestamp"])) > 300:
            raise ApiError(401, "Authorization Error: 'Expired timestamp: given "
                                f"{fields['oauth_timestamp']} and now {int(time.time())} has a greater difference "
                                "than threshold 300'")
        nonce = (consumer, fields["oauth_timestamp"], fields["oauth_nonce"])
        with self._lock:
            if nonce in self._nonces:
                raise ApiError(401, "Authorization Error: 'Nonce already used'")
            self._nonces.add(nonce)
        return owner[0]

    def _route(self, request: Request, path: str, user: str) -> Any:
        op = request.query.get("op", [""])[-1]
        form = {k: v[-1] for k, v in request.form.items()}
        if request.method == "POST" and request.form == {} and request.body:
            raise ApiError(400, "Unexpected body: parameters are sent as multipart/form-data")
        if path == "/machines/" and request.method == "GET" and not op:
            return [m.render() for m in self.machines.values()]
        if path == "/machines/" and request.method == "POST" and op == "allocate":
            return self._allocate(form, user)
        match = re.fullmatch(r"/machines/([^/]+)/", path)
        if not match:
            raise ApiError(404, "Not Found")
        machine = self.machines.get(match.group(1))
        if machine is None:
            raise ApiError(404, "No Machine matches the given query.")
        if request.method == "GET" and not op:
            return machine.render()
        if request.method != "POST" or op not in ("deploy", "release", "power_on", "power_off", "set_owner_data"):
            raise ApiError(400, f"Unrecognised signature: method={request.method} op={op or None}")
        if machine.owner not in (None, user):
            raise ApiError(403, "You don't have the required permission to perform this action.")
        return getattr(self, f"_{op}")(machine, form, user)

    # -- operations ------------------------------------------------------------------------------------------

    def _allocate(self, form: dict[str, str], user: str) -> dict[str, Any]:
        candidates = [m for m in self.machines.values() if m.status_name == "Ready" and m.owner is None]
        if "system_id" in form:
            candidates = [m for m in candidates if m.system_id == form["system_id"]]
        if "arch" in form:
            candidates = [m for m in candidates if m.architecture.split("/")[0] == form["arch"].split("/")[0]]
        if "tags" in form:
            candidates = [m for m in candidates if set(form["tags"].split(",")) <= set(m.tags)]
        for key in ("zone", "pool"):
            if key in form:
                candidates = [m for m in candidates if getattr(m, key) == form[key]]
        if not candidates:
            asked = ", ".join(f"('{k}', ['{v}'])" for k, v in form.items() if k not in ("comment", "agent_name"))
            raise ApiError(409, f"No available machine matches constraints: [{asked}] (resolved to \"{asked}\")")
        machine = candidates[0]
        machine.owner, machine.status_name = user, "Allocated"
        return machine.render()

    def _deploy(self, machine: Machine, form: dict[str, str], user: str) -> dict[str, Any]:
        if machine.status_name == "Ready":
            machine.owner, machine.status_name = user, "Allocated"
        if machine.status_name != "Allocated":
            raise ApiError(409, f"Can't deploy a machine that is in the '{machine.status_name}' state")
        osystem = form.get("osystem", "ubuntu")
        series = form.get("distro_series", "jammy")
        if (osystem, series) not in IMAGES:
            raise ApiError(400, f'{{"distro_series": ["\'{osystem}/{series}\' is not a valid distro_series.  It '
                                f'should be one of: {", ".join(sorted(o + "/" + s for o, s in IMAGES))}."]}}')
        machine.osystem, machine.distro_series, machine.status_name = osystem, series, "Deploying"
        machine.power_state = "on"
        failed = machine.system_id in self.fail_deploy

        def finish() -> None:
            if failed:
                machine.status_name, machine.status_message = "Failed deployment", "Installation failed (curtin)"
            else:
                machine.status_name = "Deployed"

        machine.pending.append((time.monotonic() + self.deploy_seconds, finish))
        _advance(machine)
        return machine.render()

    def _release(self, machine: Machine, form: dict[str, str], user: str) -> dict[str, Any]:
        if machine.status_name in ("Ready", "Releasing"):
            return machine.render()
        if machine.status_name not in ("Allocated", "Deployed", "Deploying", "Failed deployment"):
            raise ApiError(409, f"Machine cannot be released in its current state ('{machine.status_name}').")
        machine.status_name, machine.power_state = "Releasing", "off"
        machine.owner_data.clear()

        def finish() -> None:
            machine.status_name, machine.owner, machine.osystem, machine.distro_series = "Ready", None, "", ""

        machine.pending.append((time.monotonic(), finish))
        return machine.render()

    def _power_on(self, machine: Machine, form: dict[str, str], user: str) -> dict[str, Any]:
        if machine.owner is None:
            raise ApiError(409, "Can't start node: it hasn't been allocated.")
        held = self.hold_power_on

        def on() -> bool:
            if not held.is_set():
                return False  # accepted, but the machine stays off until the test lets go
            machine.power_state = "on"
            return True

        machine.pending.append((time.monotonic() + self.power_seconds, on))
        _advance(machine)
        return machine.render()

    def _power_off(self, machine: Machine, form: dict[str, str], user: str) -> dict[str, Any]:
        if form.get("stop_mode", "hard") not in ("hard", "soft"):
            raise ApiError(400, '{"stop_mode": ["Select a valid choice."]}')

        def off() -> None:
            machine.power_state = "off"

        machine.pending.append((time.monotonic() + self.power_seconds, off))
        _advance(machine)
        return machine.render()

    def _set_owner_data(self, machine: Machine, form: dict[str, str], user: str) -> dict[str, Any]:
        if machine.owner != user:
            raise ApiError(409, "Cannot set workload annotation: it hasn't been acquired.")
        for key, value in form.items():
            if value == "":
                machine.owner_data.pop(key, None)
            else:
                machine.owner_data[key] = value
        return machine.render()


def _advance(machine: Machine) -> None:
    """Apply the changes whose time has come; a change answering False is not done yet (it stays queued)."""
    now, waiting = time.monotonic(), []
    for when, change in machine.pending:
        if when > now or change() is False:
            waiting.append((when, change))
    machine.pending = waiting
