#!/usr/bin/env python3
"""Hyper-V extension: runs instances on a Hyper-V host through WinRM (WS-Management over HTTPS, NTLM) and
PowerShell's Hyper-V module.

Called as:  hyperv.py <action> <payload.json> <timeout-seconds>   (the CloudStack extension contract)
Success is the exit code alone (0); one JSON object is printed on stdout, errors as
{"status": "error", "error": "..."} with exit code 1. Runs unchanged under Apache CloudStack 4.21+ and
Switchboard; imports nothing from either. Needs the `pywinrm` package in the Python that runs it
(Switchboard installs it with the server and runs this file with its own interpreter).

Actions: create, start, stop, reboot, delete, status, statuses, suspend, resume, and the custom actions
ListSnapshots, CreateSnapshot, RestoreSnapshot, DeleteSnapshot (Hyper-V checkpoints), Suspend, Resume.

Details (host details win over the cluster's, which win over the extension's):
  url                     Hyper-V host: `host`, `host:port` or `https://host:port/wsman` (port 5986)
  username, password      a local or domain (`DOMAIN\\user`, `user@domain`) account allowed to manage Hyper-V
  network_switch          the Hyper-V virtual switch for the NICs (`network_bridge` is accepted too)
  vhd_path, vm_path       folders on the host for the instances' disks and configuration (create, delete)
  verify_tls_certificate  "false" skips checking the host's certificate (default "true")
  ca_bundle               a PEM file of CAs to check the host's certificate with (default: system CAs)
Instance details: template_type (template|iso), template_path (a VHDX to copy), iso_path and vhd_size_gb
(a new empty disk), generation (1|2, default 1), secure_boot (generation 2 only, default false).

Safety: every value that reaches PowerShell is a single-quoted literal (quotes doubled, so nothing in a
detail, a name or a parameter is ever parsed as code) or a number formatted here. Instances and checkpoints
are found by exact name and then acted on by their Hyper-V id, so a name with wildcard characters (`*`,
`?`, `[`) never matches anything else. The whole run is bounded by argv[3]: a host that stops answering
gives a timeout error before the caller kills the process. The password never appears in the output.

One file on purpose: CloudStack operators install an extension by copying its executable.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import signal
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

warnings.simplefilter("ignore")  # library warnings on stderr would end up in the JSON answer

DEFAULT_PORT = 5986
MIB = 1024 * 1024
CREATED_MARK = "Created by the hyperv.py extension"
PRELUDE = "$ErrorActionPreference = 'Stop'\n$ProgressPreference = 'SilentlyContinue'\n"
# PowerShell treats all of these as single quotes, inside and around single-quoted strings.
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){5}$")


class Failure(Exception):
    """Ends the run with {"status": "error", "error": message} and exit code 1."""


class DeadlineExceeded(BaseException):
    """argv[3] ran out. A BaseException so that no library's `except Exception` swallows it."""


def quote(value: str) -> str:
    """`value` as a PowerShell single-quoted string literal: nothing inside it is ever interpreted."""
    if "\x00" in value:
        raise Failure(f"value {value!r} contains a NUL character")
    return "'" + "".join(ch + ch if ch in _SINGLE_QUOTES else ch for ch in value) + "'"


# --- what the payload says ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Connection:
    endpoint: str
    username: str
    password: str
    verify: bool
    ca_bundle: str | None


@dataclass(frozen=True)
class Nic:
    name: str
    mac: str | None  # 12 hex digits, as Hyper-V writes it
    vlan: int | None


class Payload:
    """The payload file, read with CloudStack's precedence rules."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        groups = data.get("externaldetails") or {}
        self.host = _strings(groups.get("host"))
        self.cluster = _strings(groups.get("resourcemap"))
        self.extension = _strings(groups.get("extension"))
        self.vm_details = _strings(groups.get("virtualmachine"))
        self.vm = data.get("cloudstack.vm.details") or {}
        parameters = data.get("parameters")
        self.parameters: Mapping[str, Any] = parameters if isinstance(parameters, dict) else {}

    def setting(self, *keys: str) -> str:
        """The first non-blank value of `keys`, host details first, then the cluster's, then the extension's."""
        for group in (self.host, self.cluster, self.extension):
            for key in keys:
                value = group.get(key, "").strip()
                if value:
                    return value
        return ""

    def require(self, *names: str) -> dict[str, str]:
        found = {name: self.setting(name) for name in names}
        missing = [name for name, value in found.items() if not value]
        if missing:
            raise Failure("Missing required details: " + ", ".join(missing))
        return found

    def connection(self) -> Connection:
        values = self.require("url", "username", "password")
        verify = self.setting("verify_tls_certificate").lower() not in ("false", "no", "0")
        ca_bundle = self.setting("ca_bundle") or None
        if ca_bundle is not None and verify and not os.access(ca_bundle, os.R_OK):
            raise Failure(f"ca_bundle {ca_bundle!r} is not a readable file on this management server")
        return Connection(endpoint=endpoint_of(values["url"]), username=values["username"],
                          password=values["password"], verify=verify, ca_bundle=ca_bundle)

    @property
    def vm_name(self) -> str:
        name = str(self.vm.get("name") or self.data.get("virtualmachinename") or "")
        if not name.strip():
            raise Failure("Missing required field: virtualmachinename")
        return name

    def switch(self) -> str:
        switch = self.setting("network_switch", "network_bridge")
        if not switch:
            raise Failure("Missing required details: network_switch (or network_bridge)")
        return switch

    def nics(self) -> list[Nic]:
        nics = sorted(self.vm.get("nics") or [], key=lambda nic: int(nic.get("deviceId", 0)))
        return [Nic(name=f"NIC{index}", mac=_mac(nic.get("mac")), vlan=_vlan(nic.get("broadcastUri")))
                for index, nic in enumerate(nics, start=1)]

    def snapshot_name(self) -> str:
        name = str(self.parameters.get("snapshot_name") or "").strip()
        if not name:
            raise Failure("Missing required parameter: snapshot_name")
        return name


def _strings(group: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in group.items() if v is not None} if isinstance(group, dict) else {}


def endpoint_of(url: str) -> str:
    """The WS-Management URL for a `url` detail: a bare host, host:port, or a full https URL."""
    parsed = urlsplit(url if "://" in url else f"https://{url}")
    if parsed.scheme.lower() != "https":
        raise Failure(f"url {url!r}: only WinRM over HTTPS is supported (https://host:{DEFAULT_PORT})")
    try:
        host, port = parsed.hostname, parsed.port or DEFAULT_PORT
    except ValueError as exc:
        raise Failure(f"url {url!r} is not valid: {exc}") from exc
    if not host:
        raise Failure(f"url {url!r} names no host")
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{port}{parsed.path.rstrip('/') or '/wsman'}"


def _mac(value: Any) -> str | None:
    if not value:
        return None
    if not isinstance(value, str) or not _MAC.match(value):
        raise Failure(f"NIC MAC address {value!r} is not a MAC address")
    return re.sub(r"[:-]", "", value).upper()


def _vlan(uri: Any) -> int | None:
    """The access VLAN of a NIC's broadcastUri: vlan://N → N; untagged or none → None."""
    text = str(uri or "").strip()
    if text.lower() in ("", "vlan://untagged", "vlan://", "vlan://-1"):
        return None
    match = re.fullmatch(r"vlan://(\d{1,4})", text, re.IGNORECASE)
    if not match or not 1 <= int(match.group(1)) <= 4094:
        raise Failure(f"NIC broadcast URI {text!r} is not supported: only vlan://<1-4094> and untagged")
    return int(match.group(1))


def _whole(label: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d+", value.strip()) or not low <= int(value) <= high:
        raise Failure(f"{label}={value!r} must be a whole number from {low} to {high}")
    return int(value)


def _join(folder: str, name: str) -> str:
    return folder.rstrip("\\/") + "\\" + name


def disk_of(folder: str, vm_name: str) -> str:
    """The instance's disk file: `<folder>\\<vm name>.vhdx`, characters Windows refuses in a file name
    replaced by `_` (CloudStack's instance names never have any)."""
    return _join(folder, re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", vm_name) + ".vhdx")


# --- talking to the host -----------------------------------------------------------------------------

class Deadline:
    """The run's time budget (argv[3] less a margin to print the answer), enforced with SIGALRM."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.doing = "starting"

    def arm(self) -> None:
        def expire(signum: int, frame: Any) -> NoReturn:
            raise DeadlineExceeded

        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)


class Host:
    """One WinRM shell on the Hyper-V host; `run` executes a PowerShell script in it."""

    def __init__(self, connection: Connection, deadline: Deadline):
        self.connection = connection
        self.deadline = deadline
        self._protocol: Any = None
        self._shell: str | None = None

    def run(self, script: str, doing: str) -> str:
        """Run `script` (PRELUDE first); its standard output. A non-zero exit raises Failure with the
        PowerShell error, and so does any transport problem, explained."""
        _require_pywinrm()
        self.deadline.doing = doing
        encoded = base64.b64encode((PRELUDE + script).encode("utf-16-le")).decode("ascii")
        with self._translated_errors():
            shell = self._open()
            command = self._protocol.run_command(
                shell, "powershell.exe", ["-NoProfile", "-NonInteractive", "-EncodedCommand", encoded])
            stdout, stderr, code = self._protocol.get_command_output(shell, command)
            self._protocol.cleanup_command(shell, command)
        if code != 0:
            raise Failure(f"{doing} failed on the Hyper-V host: {powershell_error(stderr) or f'exit code {code}'}")
        return _decode(stdout)

    def close(self) -> None:
        if self._shell is not None:
            shell, self._shell = self._shell, None
            with suppress(Exception):  # the answer is already decided; a stale shell expires on the host
                self._protocol.close_shell(shell)

    def _open(self) -> str:
        if self._shell is None:
            self.deadline.doing = f"connecting to {self.connection.endpoint}"
            from winrm.protocol import Protocol

            # The SIGALRM deadline bounds the run; these only keep each WS-Management long poll short.
            operation = max(1, min(20, int(self.deadline.seconds)))
            self._protocol = Protocol(
                self.connection.endpoint, transport="ntlm", username=self.connection.username,
                password=self.connection.password,
                server_cert_validation="validate" if self.connection.verify else "ignore",
                ca_trust_path=self.connection.ca_bundle or "legacy_requests", read_timeout_sec=operation + 10,
                operation_timeout_sec=operation, proxy=None,
            )
            # UTF-8 console: names outside ASCII come back as they are.
            self._shell = self._protocol.open_shell(codepage=65001, noprofile=True)
        return self._shell

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        import requests
        from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError, WSManFaultError

        where = self.connection.endpoint
        try:
            yield
        except InvalidCredentialsError as exc:
            raise Failure(f"the Hyper-V host at {where} rejected the credentials of "
                          f"{self.connection.username!r} (NTLM): check the username and password details") from exc
        except requests.exceptions.SSLError as exc:
            raise Failure(f"TLS connection to {where} failed ({_reason(exc)}): to trust a self-signed WinRM "
                          "certificate set ca_bundle, or verify_tls_certificate=false") from exc
        except requests.exceptions.Timeout as exc:
            raise Failure(f"the Hyper-V host at {where} did not answer in time ({_reason(exc)})") from exc
        except requests.exceptions.ConnectionError as exc:
            raise Failure(f"cannot connect to the Hyper-V host at {where} ({_reason(exc)}): is WinRM listening "
                          "on HTTPS there (winrm quickconfig -transport:https) and the port open?") from exc
        except WSManFaultError as exc:
            raise Failure(f"the WinRM service at {where} refused the request: {exc.reason} "
                          f"(HTTP {exc.code}, WS-Management fault {exc.wsman_fault_code or exc.fault_subcode})"
                          ) from exc
        except WinRMTransportError as exc:
            raise Failure(f"the WinRM service at {where} answered HTTP {exc.code}: "
                          f"{_first_line(exc.response_text) or 'no details'}") from exc
        except (WinRMError, OSError) as exc:  # requests' own errors are OSErrors too: keep this last
            raise Failure(f"WinRM request to {where} failed: {exc}") from exc


def _require_pywinrm() -> None:
    try:
        import winrm.protocol  # noqa: F401
    except ImportError as exc:
        raise Failure(f"the pywinrm package is missing for {sys.executable}: install it with "
                      f"'{sys.executable} -m pip install pywinrm'") from exc


def _reason(exc: BaseException) -> str:
    """The innermost message of a requests/urllib3 exception chain, without the noise."""
    text = str(exc)
    match = re.search(r"\(Caused by \w+\((.*)\)\)\s*$", text)
    return (match.group(1) if match else text).strip("'\" ")[:300]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def _decode(output: bytes) -> str:
    return output.decode("utf-8", "replace").lstrip("\ufeff")


def powershell_error(stderr: bytes) -> str:
    """The error message PowerShell wrote: CLIXML error records (as -EncodedCommand writes them) reduced to
    their text, without the "At line:" position and category lines."""
    text = _decode(stderr)
    if text.startswith("#< CLIXML"):
        try:
            root = ET.fromstring(text.split("\n", 1)[1] if "\n" in text else "")
        except ET.ParseError:
            return _first_line(text)
        parts = [node.text or "" for node in root.iter() if node.tag.endswith("}S") and node.get("S") == "Error"]
        text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), "".join(parts))
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(("At line:", "At C:", "+ ", "    + ")) or not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return " ".join(lines)[:1000]


# --- Hyper-V, as PowerShell --------------------------------------------------------------------------

@dataclass(frozen=True)
class VmInfo:
    id: str
    name: str
    state: str
    notes: str = ""

    @property
    def built(self) -> bool:
        """Whether a create finished this machine (it writes CREATED_MARK into the notes as its last step)."""
        return self.notes.startswith(CREATED_MARK)


def _csv_rows(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output.strip())))


def _guid(value: str, what: str) -> str:
    if not _GUID.match(value):
        raise Failure(f"the Hyper-V host answered {value!r} where the id of {what} was expected")
    return value


def find_vms(host: Host, name: str) -> list[VmInfo]:
    """Every virtual machine named exactly `name` (Hyper-V does not keep names unique)."""
    output = host.run(f"Get-VM | Where-Object -Property Name -EQ -Value {quote(name)} | "
                      "Select-Object -Property Id, Name, State, Notes | ConvertTo-Csv -NoTypeInformation\n",
                      f"looking up instance {name}")
    return [VmInfo(id=_guid(row["Id"], name), name=row["Name"], state=row["State"], notes=row.get("Notes") or "")
            for row in _csv_rows(output) if row.get("Name") == name]


def maybe_vm(host: Host, name: str) -> VmInfo | None:
    """The virtual machine named `name`, None when there is none; Failure when several are."""
    found = find_vms(host, name)
    if len(found) > 1:
        raise Failure(f"{len(found)} virtual machines are named {name!r} on the Hyper-V host; refusing to guess "
                      "which one is the instance")
    return found[0] if found else None


def the_vm(host: Host, name: str) -> VmInfo:
    """The virtual machine named `name`; Failure when there is none or several are."""
    vm = maybe_vm(host, name)
    if vm is None:
        raise Failure(f"no virtual machine named {name!r} on the Hyper-V host")
    return vm


def by_id(vm: VmInfo) -> str:
    return f"$vm = Get-VM -Id {quote(vm.id)}\n"


def remove_file(path: str) -> str:
    """Delete `path` if it exists. The closing 'done' matters: powershell.exe exits 1 when its last statement
    failed, and a Get-Item told to ignore a missing file still counts as failed."""
    return f"Get-Item -LiteralPath {quote(path)} -ErrorAction SilentlyContinue | Remove-Item -Force\n'done'\n"


def power_state(hyperv_state: str) -> str:
    """Hyper-V's VMState → CloudStack's power state. Paused (Suspend-VM) still holds the instance's memory and
    is on; Saved is off until started again; transitions (Starting, Stopping, Saving…) are unknown."""
    state = hyperv_state.strip().lower().removesuffix("critical")
    if state in ("running", "paused"):
        return "poweron"
    if state in ("off", "saved", "fastsaved"):
        return "poweroff"
    return "unknown"


def _turn_off_first(vm: VmInfo) -> str:
    return "" if vm.state.lower() == "off" else "Stop-VM -VM $vm -TurnOff -Force\n"


@dataclass
class CreatePlan:
    """What create will build, from the payload, checked before anything changes on the host."""

    disk: str
    vm_path: str
    generation: int
    switch: str
    nics: list[Nic]
    secure_boot: bool
    cpus: int
    memory: int  # bytes
    template: str | None = None  # a VHDX to copy
    iso: str | None = None  # or an ISO and a new empty disk of `size` bytes
    size: int = 0


class Actions:
    """One method per action; each returns the JSON answer or raises Failure."""

    def __init__(self, payload: Payload, host_factory: Callable[[], Host]):
        self.payload = payload
        self._host_factory = host_factory
        self._host: Host | None = None

    @property
    def host(self) -> Host:
        if self._host is None:
            self._host = self._host_factory()
        return self._host

    def close(self) -> None:
        if self._host is not None:
            self._host.close()

    # lifecycle

    def create(self) -> dict[str, Any]:
        p = self.payload
        name = p.vm_name
        plan = self._create_plan(name)
        existing = maybe_vm(self.host, name)
        if existing is not None and existing.built:
            # A create that finished before its answer was recorded: that machine is the instance.
            if power_state(existing.state) != "poweron":
                self.host.run(by_id(existing) + "Start-VM -VM $vm\n", f"starting existing instance {name}")
            return success(f"Instance {name} already existed on the host; it is running", vmid=existing.id)
        if existing is not None:  # left by a create that was cut short: start again from nothing
            self._remove_partial(name, plan, existing)
        done: list[str] = []
        try:
            vm_id = self._build(name, plan, done)
        except Failure as failure:
            raise Failure(f"{failure}{self._undo(name, plan, done)}") from failure
        return success(f"Instance {name} created", vmid=vm_id)

    def _create_plan(self, name: str) -> CreatePlan:
        """Everything create needs, checked before anything is changed on the host."""
        p = self.payload
        p.connection()
        paths = p.require("vhd_path", "vm_path")
        details = p.vm_details
        template_type = (details.get("template_type") or ("iso" if details.get("iso_path") else "template")).lower()
        generation = _whole("detail generation", details.get("generation", "1") or "1", 1, 2)
        plan = CreatePlan(
            disk=disk_of(paths["vhd_path"], name), vm_path=paths["vm_path"], generation=generation,
            switch=p.switch(), nics=p.nics(), secure_boot=details.get("secure_boot", "").lower() == "true",
            cpus=_whole("cpus", str(p.vm.get("cpus", "")), 1, 240),
            # Hyper-V wants startup memory in whole 2 MiB units.
            memory=max(32, 2 * math.ceil(int(p.vm.get("minRam") or 0) / MIB / 2)) * MIB,
        )
        if template_type == "iso":
            missing = [key for key in ("iso_path", "vhd_size_gb") if not details.get(key, "").strip()]
            if missing:
                raise Failure("Missing required details for an ISO instance: " + ", ".join(missing))
            plan.iso = details["iso_path"].strip()
            plan.size = _whole("detail vhd_size_gb", details["vhd_size_gb"], 1, 65536) * 1024 * MIB
        elif template_type == "template":
            if not details.get("template_path", "").strip():
                raise Failure("Missing required details: template_path (or template_type=iso with iso_path)")
            plan.template = details["template_path"].strip()
        else:
            raise Failure(f"detail template_type={template_type!r} must be 'template' or 'iso'")
        return plan

    def _build(self, name: str, plan: CreatePlan, done: list[str]) -> str:
        run, disk = self.host.run, quote(plan.disk)
        new_vm = (f"New-VM -Name {quote(name)} -Generation {plan.generation} "
                  f"-MemoryStartupBytes {plan.memory} -Path {quote(plan.vm_path)}")
        if plan.template is not None:
            run(f"Copy-Item -LiteralPath {quote(plan.template)} -Destination {disk}\n",
                f"copying template disk for {name}")
            done.append("disk")
            new_vm += f" -VHDPath {disk}"
        else:
            new_vm += f" -NewVHDPath {disk} -NewVHDSizeBytes {plan.size}"
        output = run(f"$vm = {new_vm}\n$vm | Select-Object -ExpandProperty Id\n", f"creating instance {name}")
        done.extend(["disk", "vm"])
        vm = VmInfo(id=_guid(output.strip(), name), name=name, state="Off")
        script = by_id(vm) + f"Set-VMProcessor -VM $vm -Count {plan.cpus}\n"
        if plan.generation == 2 and not plan.secure_boot:
            script += "Set-VMFirmware -VM $vm -EnableSecureBoot Off\n"
        if plan.iso is not None:
            script += f"$dvd = Add-VMDvdDrive -VM $vm -Path {quote(plan.iso)} -Passthru\n"
            if plan.generation == 2:
                script += "Set-VMFirmware -VM $vm -FirstBootDevice $dvd\n"
        script += "Get-VMNetworkAdapter -VM $vm | Remove-VMNetworkAdapter\n"
        run(script, f"configuring instance {name}")
        for nic in plan.nics:  # one command each: cmd.exe limits a command line to 8191 characters
            adapter = f"Add-VMNetworkAdapter -VM $vm -Name {quote(nic.name)} -SwitchName {quote(plan.switch)}"
            if nic.mac:
                adapter += f" -StaticMacAddress {quote(nic.mac)}"
            script = by_id(vm) + adapter + "\n"
            if nic.vlan is not None:
                script += f"Set-VMNetworkAdapterVlan -VM $vm -VMNetworkAdapterName {quote(nic.name)} " \
                          f"-Access -VlanId {nic.vlan}\n"
            run(script, f"adding {nic.name} to instance {name}")
        run(by_id(vm) + f"Start-VM -VM $vm\nSet-VM -VM $vm -Notes {quote(CREATED_MARK + ' for ' + name)}\n",
            f"starting instance {name}")
        return vm.id

    def _undo(self, name: str, plan: CreatePlan, done: list[str]) -> str:
        """Remove what a failed create made; a note for the error message."""
        if not done:
            return ""
        try:
            return self._remove_partial(name, plan, maybe_vm(self.host, name) if "vm" in done else None)
        except Failure as exc:
            return f"; cleaning up also failed ({exc}): remove virtual machine {name} and disk " \
                   f"{plan.disk} by hand"

    def _remove_partial(self, name: str, plan: CreatePlan, vm: VmInfo | None) -> str:
        """Remove the machine `vm` (if any) and the instance's disk file (if there)."""
        script = ""
        if vm is not None:
            script += by_id(vm) + _turn_off_first(vm) + "Remove-VM -VM $vm -Force\n"
        script += remove_file(plan.disk)
        self.host.run(script, f"removing the partly created instance {name}")
        return "; what was created has been removed"

    def start(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = the_vm(self.host, name)
        if vm.state.lower() == "running":
            return success(f"Instance {name} is already running")
        verb = "Resume-VM" if vm.state.lower() == "paused" else "Start-VM"
        self.host.run(by_id(vm) + f"{verb} -VM $vm\n", f"starting instance {name}")
        return success(f"Instance {name} started")

    def stop(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = maybe_vm(self.host, name)
        if vm is None:
            return success(f"Instance {name} is not on the host; nothing to stop")
        state = vm.state.lower()
        if state == "off":
            return success(f"Instance {name} is already stopped")
        # Running: shut the guest down (turned off when it has no shutdown integration service).
        # Paused or saved: there is no guest to ask.
        how = "-Force" if state == "running" else "-TurnOff -Force"
        self.host.run(by_id(vm) + f"Stop-VM -VM $vm {how}\n", f"stopping instance {name}")
        return success(f"Instance {name} stopped")

    def reboot(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = the_vm(self.host, name)
        if vm.state.lower() in ("off", "saved"):
            self.host.run(by_id(vm) + "Start-VM -VM $vm\n", f"starting instance {name}")
            return success(f"Instance {name} was {vm.state.lower()}; it has been started")
        self.host.run(by_id(vm) + "Restart-VM -VM $vm -Force\n", f"rebooting instance {name}")
        return success(f"Instance {name} rebooted")

    def delete(self) -> dict[str, Any]:
        p = self.payload
        name = p.vm_name
        vm = maybe_vm(self.host, name)
        vhd_path = p.setting("vhd_path")
        disk = disk_of(vhd_path, name) if vhd_path else None
        if vm is None and disk is None:
            return success(f"Instance {name} is not on the host; nothing to delete")
        script = ""
        if vm is not None:
            # Checkpoints go first so their differencing disks are merged away rather than left behind.
            script += by_id(vm) + _turn_off_first(vm) + "Get-VMSnapshot -VM $vm | Remove-VMSnapshot -Confirm:$false\n" \
                "Remove-VM -VM $vm -Force\n"
        if disk is not None:
            script += remove_file(disk)
        self.host.run(script, f"deleting instance {name}")
        if vm is None:
            return success(f"Instance {name} is not on the host; its disk {disk} is gone too")
        kept = "" if disk else " (no vhd_path detail: its disk was kept)"
        return success(f"Instance {name} deleted{kept}")

    def status(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = maybe_vm(self.host, name)
        if vm is None:
            return {"status": "success", "power_state": "unknown",
                    "message": f"no virtual machine named {name} on the host"}
        return {"status": "success", "power_state": power_state(vm.state)}

    def statuses(self) -> dict[str, Any]:
        self.payload.connection()
        output = self.host.run("Get-VM | Select-Object -Property Name, State | ConvertTo-Csv -NoTypeInformation\n",
                               "listing instances")
        states: dict[str, str] = {}
        for row in _csv_rows(output):
            name = row.get("Name", "")
            # Two machines of one name: nothing can be said about "the" instance.
            states[name] = "unknown" if name in states else power_state(row.get("State", ""))
        return {"status": "success", "power_state": states}

    # custom actions

    def suspend(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = the_vm(self.host, name)
        if vm.state.lower() == "paused":
            return success(f"Instance {name} is already suspended")
        if vm.state.lower() != "running":
            raise Failure(f"instance {name} is {vm.state}: only a running instance can be suspended")
        self.host.run(by_id(vm) + "Suspend-VM -VM $vm\n", f"suspending instance {name}")
        return success(f"Instance {name} suspended")

    def resume(self) -> dict[str, Any]:
        name = self.payload.vm_name
        vm = the_vm(self.host, name)
        if vm.state.lower() == "running":
            return success(f"Instance {name} is already running")
        if vm.state.lower() != "paused":
            raise Failure(f"instance {name} is {vm.state}: only a suspended instance can be resumed")
        self.host.run(by_id(vm) + "Resume-VM -VM $vm\n", f"resuming instance {name}")
        return success(f"Instance {name} resumed")

    def _checkpoints(self, vm: VmInfo) -> list[dict[str, str]]:
        output = self.host.run(
            by_id(vm) + "Get-VMSnapshot -VM $vm | Select-Object -Property Id, Name, CreationTime, "
            "ParentSnapshotName | ConvertTo-Json -Compress\n", f"listing checkpoints of {vm.name}").strip()
        rows = json.loads(output) if output else []
        rows = rows if isinstance(rows, list) else [rows]  # one checkpoint: Windows PowerShell prints an object
        return [{"id": _guid(str(row.get("Id", "")), "a checkpoint"), "name": str(row.get("Name", "")),
                 "created": _created(row.get("CreationTime")), "parent": str(row.get("ParentSnapshotName") or "")}
                for row in rows]

    def _checkpoint(self, vm: VmInfo, snapshot: str) -> dict[str, str]:
        matches = [c for c in self._checkpoints(vm) if c["name"] == snapshot]
        if not matches:
            raise Failure(f"instance {vm.name} has no checkpoint named {snapshot!r}")
        if len(matches) > 1:
            raise Failure(f"instance {vm.name} has {len(matches)} checkpoints named {snapshot!r}; refusing to guess")
        return matches[0]

    def listsnapshots(self) -> dict[str, Any]:
        vm = the_vm(self.host, self.payload.vm_name)
        table = [{"name": c["name"], "created": c["created"], "parent": c["parent"]} for c in self._checkpoints(vm)]
        return {"status": "success", "printmessage": "true", "message": table}

    def createsnapshot(self) -> dict[str, Any]:
        snapshot = self.payload.snapshot_name()
        vm = the_vm(self.host, self.payload.vm_name)
        if any(c["name"] == snapshot for c in self._checkpoints(vm)):
            raise Failure(f"instance {vm.name} already has a checkpoint named {snapshot!r}")
        self.host.run(by_id(vm) + f"Checkpoint-VM -VM $vm -SnapshotName {quote(snapshot)}\n",
                      f"creating checkpoint {snapshot!r} of {vm.name}")
        return success(f"Checkpoint {snapshot!r} of {vm.name} created")

    def restoresnapshot(self) -> dict[str, Any]:
        snapshot = self.payload.snapshot_name()
        vm = the_vm(self.host, self.payload.vm_name)
        checkpoint = self._checkpoint(vm, snapshot)
        script = f"Get-VMSnapshot -Id {quote(checkpoint['id'])} | Restore-VMSnapshot -Confirm:$false\n"
        if vm.state.lower() == "running":
            # Applying a checkpoint leaves the machine off or saved; the instance was running and stays so.
            script = by_id(vm) + script + "Start-VM -VM $vm\n"
        self.host.run(script, f"restoring checkpoint {snapshot!r} of {vm.name}")
        return success(f"Checkpoint {snapshot!r} of {vm.name} restored")

    def deletesnapshot(self) -> dict[str, Any]:
        snapshot = self.payload.snapshot_name()
        vm = the_vm(self.host, self.payload.vm_name)
        checkpoint = self._checkpoint(vm, snapshot)
        self.host.run(f"Get-VMSnapshot -Id {quote(checkpoint['id'])} | Remove-VMSnapshot -Confirm:$false\n",
                      f"deleting checkpoint {snapshot!r} of {vm.name}")
        return success(f"Checkpoint {snapshot!r} of {vm.name} deleted")

    def getconsole(self) -> dict[str, Any]:
        raise Failure("console access is not supported for Hyper-V instances (use VMConnect or RDP)")


def _created(value: Any) -> str:
    """A checkpoint's CreationTime as ISO-8601 UTC: Windows PowerShell writes "/Date(ms)/", PowerShell 7 an
    ISO string."""
    text = str(value or "")
    match = re.fullmatch(r"/Date\((-?\d+)\)/", text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def success(message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "success", "message": message, **extra}


ACTIONS = ("create", "start", "stop", "reboot", "delete", "status", "statuses", "suspend", "resume",
           "listsnapshots", "createsnapshot", "restoresnapshot", "deletesnapshot", "getconsole")


def _budget(argument: str | None) -> float:
    """Seconds this run may take: argv[3] less a margin to print the answer before the caller kills us."""
    try:
        timeout = float(argument) if argument is not None else 1800.0
    except ValueError:
        raise Failure(f"timeout {argument!r} (argv[3]) is not a number") from None
    if timeout <= 0:
        raise Failure(f"timeout {argument!r} (argv[3]) must be positive")
    return max(0.5, timeout - min(2.0, timeout * 0.2))


def _load(path: str) -> Payload:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise Failure(f"cannot read payload file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise Failure(f"payload file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Failure(f"payload file {path} does not hold a JSON object")
    return Payload(data)


def reply(answer: Mapping[str, Any], secret: str) -> None:
    text = json.dumps(answer)
    if len(secret) >= 4:  # belt and braces: no message may carry the password
        text = text.replace(secret, "********")
    print(text, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        reply({"status": "error", "error": "usage: hyperv.py <action> <payload.json> [timeout-seconds]"}, "")
        return 1
    action, secret = argv[1].lower(), ""
    try:
        deadline = Deadline(_budget(argv[3] if len(argv) > 3 else None))
        if action not in ACTIONS:
            raise Failure("Invalid action")
        payload = _load(argv[2])
        secret = payload.setting("password")
        actions = Actions(payload, lambda: Host(payload.connection(), deadline))
        deadline.arm()
        try:
            answer = getattr(actions, action)()
        except Failure:
            _close(actions)
            raise
        _close(actions)
    except Failure as failure:
        reply({"status": "error", "error": str(failure)}, secret)
        return 1
    except DeadlineExceeded:  # the host stopped answering: no goodbye to it either
        reply({"status": "error", "error": f"timed out after {argv[3]} s (argv[3]) while {deadline.doing}"}, secret)
        return 1
    except Exception as exc:  # a bug here: still one JSON answer, never a traceback with payload values
        reply({"status": "error", "error": f"unexpected {type(exc).__name__}: {exc}"}, secret)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    reply(answer, secret)
    return 0


def _close(actions: Actions) -> None:
    """Close the shell, still under the deadline; the answer is decided, so running out of time here is moot."""
    with suppress(DeadlineExceeded):
        actions.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
