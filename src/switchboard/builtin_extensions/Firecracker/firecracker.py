#!/usr/bin/env python3
"""Firecracker microVMs for Apache CloudStack 4.21+ and Switchboard, through the Switchboard host agent.

Called as:  firecracker.py <action> <payload.json> <timeout-seconds>   (the CloudStack extension contract)

Each action is one HTTPS call to the agent named by the host's details. Success is exit code 0 with one
JSON object on stdout; a failure exits 1 printing {"status": "error", "error": "<what went wrong>"}.
argv[3] is the deadline of the whole run: the script gives up, saying so, a little before it.

Settings are looked up in the payload's detail groups, the host's first, then the cluster's (resourcemap),
then the extension's, so an operator can set the CA bundle once on the extension and credentials per host:

  url, port (default 8443)      the agent, e.g. https://fc01.example (https when no scheme is given)
  username, password            HTTP Basic credentials the agent checks with PAM (both or neither)
  ca_bundle                     CA that signed the agent's certificate: a file here, or PEM text
  client_cert, client_key       client certificate and key for mTLS: files here, or PEM text
  skip_ssl_verification         "true" skips verifying the agent's certificate (never in production)
  console_host                  the address CloudStack's console proxy uses for the VNC console

The original extension's aliases are read too (user/login, pass/secret, ca_cert/ca_file, tls_client_cert,
tls_client_key, skip_ssl_verify, agent_port, and flattened host_url/host_port/host_username/...). Kernel,
image and boot arguments come from the template's details (kernel, image, boot_args, initrd, image_url,
image_checksum, root_disk_size, data_disks); vCPUs, memory and NICs from the instance. Only the instance
and those details are sent to the agent: credentials and other detail groups stay here.

Standard library only, Python 3.7 or later; it imports nothing from Switchboard. One file on purpose:
CloudStack compares only the entry file across management servers, so a helper module could differ unseen.
Secrets of the payload (passwords, keys, tokens, the VNC password) are never printed: they are masked in
anything that would be.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    Json: TypeAlias = dict[str, Any]
    Handler: TypeAlias = Callable[["Agent", Json], Json]

DEFAULT_PORT = 8443
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SECRET_KEY = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_KEY_FILES = ("client_key", "tls_client_key")
_TRUE = ("1", "true", "yes", "on")
# TLS alerts an agent sends when it does not accept the client certificate.
_CERT_REFUSED = ("CERTIFICATE_REQUIRED", "BAD_CERTIFICATE", "UNKNOWN_CA", "CERTIFICATE_UNKNOWN", "ACCESS_DENIED",
                 "CERTIFICATE_EXPIRED", "CERTIFICATE_REVOKED", "HANDSHAKE_FAILURE")
_NO_ADDRESS = ("", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost")


class Failure(Exception):
    """What went wrong, in words for the operator: printed as the error, exit code 1."""


class Deadline(Exception):
    """argv[3] is (nearly) over."""


# ---------------------------------------------------------------- payload and settings


def load_payload(path: str) -> Json:
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except OSError as exc:
        raise Failure(f"cannot read the payload file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise Failure(f"the payload file is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Failure("the payload file does not hold a JSON object")
    return payload


def group(payload: Json, name: str) -> Json:
    found = (payload.get("externaldetails") or {}).get(name)
    return found if isinstance(found, dict) else {}


class Settings:
    """Values from the payload's detail groups: host > cluster (resourcemap) > extension > flattened host_*."""

    def __init__(self, payload: Json) -> None:
        self._groups = [group(payload, "host"), group(payload, "resourcemap"), group(payload, "extension"),
                        {k[5:]: v for k, v in payload.items() if k.startswith("host_") and isinstance(v, (str, int))}]

    def get(self, *names: str) -> str:
        for details in self._groups:
            for name in names:
                if details.get(name) not in (None, ""):
                    return str(details[name]).strip()
        return ""

    def secrets(self) -> list[str]:
        """The values of secret-looking keys (password, secret, token, client_key, ...) in every group; a
        client key given as a file path is not one (its PEM text is)."""
        return [str(value) for details in self._groups for key, value in details.items()
                if _SECRET_KEY.search(key) and value
                and not (key in _KEY_FILES and not str(value).lstrip().startswith("-----BEGIN"))]


def vm_name(payload: Json) -> str:
    details = payload.get("cloudstack.vm.details") or {}
    name = str(payload.get("virtualmachinename") or details.get("name") or payload.get("vm_name") or "")
    if not _VM_NAME.match(name):
        raise Failure(f"invalid or missing instance name {name[:80]!r}: the agent takes 1-64 letters, digits, dashes")
    return name


def agent_spec(payload: Json) -> Json:
    """What the agent needs of the payload: the instance (without its VNC password) and its `virtualmachine`
    details. The original extension forwarded everything, host credentials included."""
    spec: Json = {key: payload[key] for key in ("virtualmachinename", "virtualmachineid") if key in payload}
    details = dict(payload.get("cloudstack.vm.details") or {})
    details.pop("vncPassword", None)
    spec["cloudstack.vm.details"] = details
    spec["externaldetails"] = {"virtualmachine": group(payload, "virtualmachine")}
    return spec


def check_template(payload: Json) -> None:
    details = group(payload, "virtualmachine")
    missing = [key for key in ("kernel", "image") if not details.get(key)]
    if missing:
        raise Failure(f"the template has no {' and '.join(missing)} detail: register it with externaldetails "
                      "kernel=<file name in the agent's kernel_dir> and image=<file name in its image_dir>")


# ---------------------------------------------------------------- TLS


def _pem_or_file(value: str, what: str) -> tuple[str | None, str | None]:
    """(PEM text, None) when `value` is PEM, (None, path) when it names an existing file."""
    if value.lstrip().startswith("-----BEGIN"):
        return value, None
    if not os.path.isfile(value):
        raise Failure(f"{what} file {value} does not exist on this management server")
    return None, value


def _load_client_cert(context: ssl.SSLContext, cert: str, key: str) -> None:
    """Load the client certificate and key; PEM text passes through a private (0600) file, removed at once."""
    temporary: list[str] = []

    def as_file(value: str, what: str) -> str:
        pem, path = _pem_or_file(value, what)
        if path is not None:
            return path
        handle, path = tempfile.mkstemp(prefix="fc-ext-", suffix=".pem")
        temporary.append(path)
        with os.fdopen(handle, "w") as out:
            out.write(pem or "")
        return path

    try:
        context.load_cert_chain(as_file(cert, "client_cert"), as_file(key, "client_key") if key else None)
    except ssl.SSLError as exc:
        raise Failure(f"the client certificate or key is unusable ({exc.reason or exc}): check client_cert and "
                      "client_key") from None
    finally:
        for path in temporary:
            with suppress(OSError):
                os.unlink(path)


def tls_context(settings: Settings) -> ssl.SSLContext:
    if settings.get("skip_ssl_verification", "skip_ssl_verify", "skip_tls_verification").lower() in _TRUE:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        ca = settings.get("ca_bundle", "ca_cert", "ca_file")
        if not ca:
            context = ssl.create_default_context()  # the system's CAs
        else:  # the operator's CA alone: faster, and no public CA can vouch for an agent
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            pem, path = _pem_or_file(ca, "ca_bundle")
            try:
                context.load_verify_locations(cafile=path, cadata=pem)
            except (ssl.SSLError, ValueError) as exc:
                raise Failure(f"the CA bundle is not usable PEM ({exc})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert = settings.get("client_cert", "tls_client_cert")
    if cert:
        _load_client_cert(context, cert, settings.get("client_key", "tls_client_key"))
    return context


# ---------------------------------------------------------------- the agent


class Agent:
    """One agent: its address, a connection, Basic credentials and the run's deadline."""

    def __init__(self, settings: Settings, deadline: float) -> None:
        url = settings.get("url", "agent_url")
        if not url:
            raise Failure("the host has no url detail: add externaldetails url=https://<agent host> (and port)")
        parts = urlsplit(url if "://" in url else "https://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Failure(f"the url detail {url!r} is not an http(s) address")
        port = settings.get("port", "agent_port")
        try:
            self.port = parts.port or int(port or DEFAULT_PORT)
        except ValueError:
            raise Failure(f"the port detail {port!r} is not a number") from None
        self.host, self.scheme, self.deadline = parts.hostname, parts.scheme, deadline
        self.root = re.sub(r"/(v1/?)?$", "", parts.path)  # the routes are under <root>/v1
        self.address = f"{self.scheme}://{self.host}:{self.port}"
        username, password = settings.get("username", "user", "login"), settings.get("password", "pass", "secret")
        if bool(username) != bool(password):
            raise Failure("set both username and password for the agent (or neither)")
        if password and self.scheme == "http":
            raise Failure("refusing to send the agent password over plain http: use an https url")
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode() if username else ""
        self.context = tls_context(settings) if self.scheme == "https" else None
        self.has_cert = bool(settings.get("client_cert", "tls_client_cert"))
        self.connection: http.client.HTTPConnection | None = None

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Deadline()
        return left

    def call(self, method: str, path: str, body: Json | None = None, vm: str | None = None) -> Json:
        """The JSON answer of a successful call to `/v1<path>`; a Failure explaining any other outcome."""
        status, raw = self.request(method, path, body)
        return self.answer(status, raw, vm)

    def request(self, method: str, path: str, body: Json | None = None, query: dict[str, int] | None = None,
                versioned: bool = True) -> tuple[int, bytes]:
        """(status, body) of a call to `/v1<path>` (`<path>` when not `versioned`); raises Failure naming
        what went wrong on the way."""
        target = self.root + ("/v1" if versioned else "") + path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json", "User-Agent": "cloudstack-firecracker-extension"}
        if self.auth:
            headers["Authorization"] = self.auth
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            return self._exchange(method, target, data, headers)
        except (ConnectionResetError, BrokenPipeError):  # http.client.RemoteDisconnected included
            raise self._hung_up() from None

    def _hung_up(self) -> Failure:
        """Why the agent hung up, found with TLS 1.2 handshakes: under TLS 1.3 an agent refuses a client
        certificate only after the handshake, so that refusal looks like a hang-up; in a TLS 1.2 handshake it
        is plain. If the agent takes the certificate, or is gone now, it went away in the
        middle of the request. An agent being killed also hangs up on a handshake, hence a second one."""
        midway = Failure(f"the agent at {self.address} closed the connection in the middle of the request (did "
                         "it stop or restart?); the operation may still complete on the host")
        if self.context is None:
            return midway
        self.context.maximum_version = ssl.TLSVersion.TLSv1_2
        for attempt in (1, 2):
            try:
                with socket.create_connection((self.host, self.port), timeout=self.remaining()) as raw, \
                        self.context.wrap_socket(raw, server_hostname=self.host):
                    return midway
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError):
                if attempt == 1:
                    time.sleep(min(0.5, self.remaining() / 2))
            except ssl.SSLError as exc:
                explained = self._explain(exc)
                if "PROTOCOL_VERSION" in str(exc.reason) or not isinstance(explained, Failure):  # TLS 1.3 only
                    return Failure(f"the agent at {self.address} closed the connection: it may have refused this "
                                   "host's client certificate (client_cert, client_key)")
                return explained
            except OSError as exc:
                return Failure(f"the agent at {self.address} went away in the middle of the request (now: "
                               f"{exc.strerror or exc}); the operation may still complete on the host")
        if self.has_cert:
            return Failure(f"TLS failure: the agent at {self.address} refused this host's client certificate; check "
                           "client_cert/client_key and the agent's ca_file and allowed_clients")
        return Failure(f"TLS failure: the agent at {self.address} requires a client certificate: set the "
                       "client_cert and client_key details")

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            if self.context is not None:
                self.connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.remaining(), context=self.context)
            else:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.remaining())
        elif self.connection.sock is not None:
            self.connection.sock.settimeout(self.remaining())
        return self.connection

    def _exchange(self, method: str, target: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            connection = self._connection()
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            self.close()
            raise ConnectionResetError() from None  # hung up mid-TLS: told apart by `request`
        except BaseException as exc:
            self.close()
            raise self._explain(exc) from None

    def _explain(self, exc: BaseException) -> BaseException:
        """The Failure (or Deadline) to raise for what a connection raised; anything else unchanged."""
        if isinstance(exc, (Deadline, ConnectionResetError, BrokenPipeError)):
            return exc
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Failure(f"TLS failure: the agent at {self.address} presented a certificate this host does not "
                           f"trust ({exc.verify_message or exc.reason}); set ca_bundle to the CA that signed it")
        if isinstance(exc, ssl.SSLError):
            reason = str(exc.reason or exc)
            if any(alert in reason for alert in _CERT_REFUSED):
                return Failure(f"TLS failure: the agent at {self.address} refused this host's client certificate "
                               f"({reason}); check client_cert/client_key and the agent's ca_file and allowed_clients")
            if "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER_FAILURE" in reason:
                return Failure(f"TLS failure: {self.address} does not speak TLS (a plain http agent?)")
            return Failure(f"TLS failure talking to the agent at {self.address}: {reason}")
        if isinstance(exc, (socket.timeout, TimeoutError)):  # distinct classes before Python 3.10
            return Deadline()
        if isinstance(exc, socket.gaierror):
            return Failure(f"agent unreachable: cannot resolve {self.host} ({exc.strerror})")
        if isinstance(exc, OSError):
            return Failure(f"agent unreachable at {self.address}: {exc.strerror or exc} (is switchboard-agent "
                           "running and listening there?)")
        if isinstance(exc, http.client.HTTPException):
            return Failure(f"the agent at {self.address} sent a broken HTTP answer ({type(exc).__name__})")
        return exc

    def answer(self, status: int, raw: bytes, vm: str | None) -> Json:
        """The JSON body of a 2xx answer; otherwise a Failure saying what the agent refused and why."""
        text = raw.decode("utf-8", "replace")
        try:
            reply = json.loads(text) if text else {}
        except ValueError:
            reply = {"error": text[:300]}
        if not isinstance(reply, dict):
            reply = {"error": text[:300]}
        if 200 <= status < 300:
            return reply
        message = str(reply.get("error") or f"HTTP {status}")
        if isinstance(reply.get("detail"), list):
            message += ": " + "; ".join(str(d.get("msg", d) if isinstance(d, dict) else d) for d in reply["detail"][:5])
        where = f"the agent at {self.address}"
        if status == 401:
            raise Failure(f"authentication refused by {where} ({message}): check the username and password details")
        if status == 403:
            raise Failure(f"{where} refused this request ({message}): the user must be in the agent's admin group "
                          "and this host's client certificate on its allowed_clients")
        if status == 404 and vm:
            raise Failure(f"VM {vm} does not exist on {where} ({message})")
        if status == 429:
            raise Failure(f"{where} refuses logins from this host after failed attempts ({message}); fix the "
                          "credentials, then retry")
        raise Failure(f"{where} answered HTTP {status}: {message}")

    def close(self) -> None:
        if self.connection is not None:
            with suppress(OSError):
                self.connection.close()
            self.connection = None


# ---------------------------------------------------------------- lifecycle actions


def success(message: str, **extra: Any) -> Json:
    return {"status": "success", "message": message, **extra}


def table(rows: list[Json], empty: str) -> Json:
    """Rows for the UI's table (`printmessage`), or a plain message when there are none."""
    return {"status": "success", "printmessage": "true", "message": rows} if rows else success(empty)


def vm_path(name: str, tail: str = "") -> str:
    return "/vms/" + quote(name, safe="") + tail


def prepare(agent: Agent, payload: Json) -> Json | None:
    """Before the first start: refuse early what create would refuse, check that the agent answers and takes
    the credentials, and give a MAC to any NIC without one. Prints nothing when nothing changes."""
    vm_name(payload)
    check_template(payload)
    agent.call("GET", "/version")
    nics = (payload.get("cloudstack.vm.details") or {}).get("nics") or []
    patch = [{"uuid": nic["uuid"], "mac": "02:" + ":".join(f"{b:02x}" for b in os.urandom(5))}
             for nic in nics if isinstance(nic, dict) and nic.get("uuid") and not nic.get("mac")]
    return {"nics": patch} if patch else None


def create(agent: Agent, payload: Json) -> Json:
    name = vm_name(payload)
    check_template(payload)
    reply = agent.call("POST", "/vms", {"spec": agent_spec(payload), "timeout": int(agent.remaining())})
    return success(str(reply.get("message") or f"VM {name} created"), vm_name=name)


def start(agent: Agent, payload: Json) -> Json:
    """Boot the VM. The spec lets the agent create a VM it lost and adopt a new offering's CPU and memory."""
    name = vm_name(payload)
    body = {"spec": agent_spec(payload), "timeout": int(agent.remaining())}
    reply = agent.call("POST", vm_path(name, "/start"), body, vm=name)
    return success(str(reply.get("message") or f"VM {name} started"), vm_name=name)


def on_vm(method: str, tail: str, done: str, *, timed: bool = True) -> Handler:
    """An action that is one call on the VM's route `/vms/<name><tail>`; `done` names what happened."""

    def run(agent: Agent, payload: Json) -> Json:
        name = vm_name(payload)
        body = {"timeout": int(agent.remaining())} if timed else None
        reply = agent.call(method, vm_path(name, tail), body, vm=name)
        return success(str(reply.get("message") or done.format(name)), vm_name=name)

    return run


def status(agent: Agent, payload: Json) -> Json:
    name = vm_name(payload)
    reply = agent.call("GET", vm_path(name, "/status"), vm=name)
    return {"status": "success", "vm_name": name, "power_state": reply.get("power_state", "unknown"),
            "state": reply.get("state", "unknown")}


def statuses(agent: Agent, payload: Json) -> Json:
    states = agent.call("GET", "/vms/status").get("power_state")
    if not isinstance(states, dict):
        raise Failure(f"the agent at {agent.address} gave no power_state map")
    return {"status": "success", "power_state": states}


def getconsole(agent: Agent, payload: Json, console_host: str) -> Json:
    """The VM's VNC console (CloudStack 4.22+ `getconsole`): the agent's host, port and password."""
    name = vm_name(payload)
    reply = agent.call("POST", vm_path(name, "/console"), vm=name)
    offered = str(reply.get("host") or "")
    # An agent listening on every address (or on loopback) names no address the console proxy could use.
    host = console_host or (agent.host if offered in _NO_ADDRESS else offered)
    console = {"host": host, "port": int(reply["port"]), "password": reply.get("password"), "protocol": "vnc",
               "passwordonetimeuseonly": False}
    return success(str(reply.get("message") or "VNC console ready"), vm_name=name, console=console)


# ---------------------------------------------------------------- custom actions


def parameter(payload: Json, name: str, *, required: bool = False) -> str:
    value = (payload.get("parameters") or {}).get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise Failure(f"the parameter {name} is required")
    if text and not _SNAPSHOT_NAME.match(text):
        raise Failure(f"invalid {name} {text[:80]!r}: use 1-64 letters, digits, dots, dashes and underscores")
    return text


def _snapshot_row(snapshot: Json) -> Json:
    created, size = snapshot.get("created_at"), snapshot.get("size_bytes")
    return {"name": snapshot.get("name"),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)) if created else "",
            "size": f"{size / 1048576:.1f} MiB" if isinstance(size, (int, float)) else ""}


def create_snapshot(agent: Agent, payload: Json) -> Json:
    name = vm_name(payload)
    wanted = parameter(payload, "snapshot_name")
    reply = agent.call("POST", vm_path(name, "/snapshots"), {"name": wanted} if wanted else {}, vm=name)
    row = _snapshot_row(reply.get("snapshot") or {})
    return success(f"Snapshot {row['name']} of {name} created", vm_name=name, snapshot=row)


def list_snapshots(agent: Agent, payload: Json) -> Json:
    name = vm_name(payload)
    found = agent.call("GET", vm_path(name, "/snapshots"), vm=name).get("snapshots") or []
    return table([_snapshot_row(s) for s in found if isinstance(s, dict)], f"{name} has no snapshots")


def on_snapshot(method: str, tail: str, done: str) -> Handler:
    def run(agent: Agent, payload: Json) -> Json:
        name, snapshot = vm_name(payload), parameter(payload, "snapshot_name", required=True)
        reply = agent.call(method, vm_path(name, "/snapshots/" + quote(snapshot, safe="") + tail), vm=name)
        return success(str(reply.get("message") or done.format(snapshot, name)), vm_name=name)

    return run


def console_log(agent: Agent, payload: Json) -> Json:
    """The last `lines` lines (default 50, at most 2000) of the guest's serial console."""
    name = vm_name(payload)
    wanted = (payload.get("parameters") or {}).get("lines")
    try:
        lines = min(2000, max(1, int(wanted))) if wanted not in (None, "") else 50
    except (TypeError, ValueError):
        raise Failure("the parameter lines must be a number") from None
    code, raw = agent.request("GET", vm_path(name, "/console/log"), query={"tail_bytes": lines * 512})
    if code != 200:
        agent.answer(code, raw, name)
    kept = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").splitlines()[-lines:]
    return success("\n".join(kept) if kept else f"The serial console of {name} is empty", vm_name=name)


def metrics(agent: Agent, payload: Json) -> Json:
    """The agent's counters and gauges (operations, latency sums and counts, VMs by state, auth failures)."""
    code, raw = agent.request("GET", "/metrics", versioned=False)
    if code != 200:
        agent.answer(code, raw, None)
    rows = []
    for line in raw.decode("utf-8", "replace").splitlines():
        sample, _, value = line.rpartition(" ")
        metric, _, labels = sample.partition("{")
        if line and not line.startswith("#") and not metric.endswith(("_bucket", "_created")):
            rows.append({"metric": metric, "labels": labels.rstrip("}").replace('"', ""), "value": value})
    return table(rows, "The agent reported no metrics")


ACTIONS: dict[str, Handler] = {
    "create": create,
    "start": start,
    "stop": on_vm("POST", "/stop", "VM {} stopped"),
    "reboot": on_vm("POST", "/reboot", "VM {} rebooted"),
    "delete": on_vm("DELETE", "", "VM {} deleted", timed=False),
    "status": status,
    "state": status,  # the original extension's alias
    "statuses": statuses,
    "recover": on_vm("POST", "/recover", "Networking of VM {} re-created", timed=False),
    "CreateSnapshot": create_snapshot,
    "ListSnapshots": list_snapshots,
    "RestoreSnapshot": on_snapshot("POST", "/restore", "VM {1} restored from snapshot {0}"),
    "DeleteSnapshot": on_snapshot("DELETE", "", "Snapshot {0} of {1} deleted"),
    "Pause": on_vm("POST", "/pause", "VM {} paused", timed=False),
    "Resume": on_vm("POST", "/resume", "VM {} resumed", timed=False),
    "ConsoleLog": console_log,
    "Metrics": metrics,
}


# ---------------------------------------------------------------- the command line


def mask(value: Any, secrets: list[str]) -> Any:
    """`value` (JSON) with every secret in its strings replaced by asterisks."""
    if isinstance(value, dict):
        return {key: mask(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in sorted(set(secrets), key=len, reverse=True):
            if len(secret) >= 3:
                value = value.replace(secret, "******")
    return value


def run(action: str, payload: Json, deadline: float) -> Json | None:
    if action not in ACTIONS and action not in ("prepare", "getconsole", "console"):
        raise Failure(f"Invalid action: {action[:80]}")
    settings = Settings(payload)
    agent = Agent(settings, deadline)
    try:
        if action == "prepare":
            return prepare(agent, payload)
        if action in ("getconsole", "console"):
            return getconsole(agent, payload, settings.get("console_host"))
        return ACTIONS[action](agent, payload)
    finally:
        agent.close()


def _alarm(signum: int, frame: Any) -> None:
    raise Deadline()


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(json.dumps({"status": "error", "error": "usage: firecracker.py <action> <payload.json> <timeout>"}))
        return 1
    try:
        timeout = float(argv[3]) if len(argv) > 3 else 1800.0
    except ValueError:
        timeout = 1800.0
    # Answer before the caller kills the run: keep up to a second (a fifth of a short timeout) to report.
    budget = max(0.2, timeout - min(1.0, timeout / 5))
    deadline = time.monotonic() + budget
    secrets: list[str] = []
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget + 0.1)  # also bounds what socket timeouts cannot
    try:
        payload = load_payload(argv[2])
        vnc = (payload.get("cloudstack.vm.details") or {}).get("vncPassword")
        secrets = Settings(payload).secrets() + ([str(vnc)] if vnc else [])
        reply, code = run(argv[1], payload, deadline), 0
    except Deadline:
        reply, code = {"status": "error", "error": f"no answer from the agent within {timeout:g} s (argv[3]); "
                                                    "the operation may still complete on the host"}, 1
    except Failure as exc:
        reply, code = {"status": "error", "error": str(exc)}, 1
    except Exception as exc:  # a bug: say what, with no traceback that could quote payload values
        reply, code = {"status": "error", "error": f"firecracker.py failed: {type(exc).__name__}: {exc}"}, 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if reply is not None:
        print(json.dumps(mask(reply, secrets)))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
