"""CloudStack-shaped payloads for the Firecracker extension (built by the server's own payload builders, so
they are exactly what the server sends) and a way to run the extension as the server and CloudStack do."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from switchboard.extensions.builtins import BUILTIN_SOURCE
from switchboard.extensions.payload import custom_action_payload, lifecycle_payload, statuses_payload
from switchboard.extensions.payload_model import (
    CustomActionInfo,
    ExtensionInfo,
    HostInfo,
    InstanceInfo,
    NicInfo,
    OfferingInfo,
    ResourceMapInfo,
    TemplateInfo,
)
from switchboard.extensions.runner import CHILD_PATH

EXTENSION = BUILTIN_SOURCE / "Firecracker" / "firecracker.py"
VNC_PASSWORD = "vnc-Pl4nted-S3cret"
EXTENSION_TOKEN = "ext-Pl4nted-T0ken"


@dataclass(frozen=True)
class Run:
    code: int
    output: str

    @property
    def reply(self) -> dict[str, Any]:
        value = json.loads(self.output)
        assert isinstance(value, dict), self.output
        return value

    @property
    def error(self) -> str:
        assert self.code == 1, self.output
        return str(self.reply["error"])


def run_extension(action: str, payload: dict[str, Any], directory: Path, timeout: int = 120,
                  executable: Path = EXTENSION) -> Run:
    """Run the extension as the server does: argv action/payload/timeout, a 0600 payload file, a clean
    environment, the extension's directory as working directory, stderr merged into stdout."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4()}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(payload, out, separators=(",", ":"))
    env = {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(executable.parent),
           "TMPDIR": "/tmp"}
    result = subprocess.run([str(executable), action, str(path), str(timeout)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=executable.parent,
                            timeout=timeout + 30)
    path.unlink()
    return Run(result.returncode, result.stdout.decode(errors="replace").strip())


@dataclass(frozen=True)
class Cloud:
    """One instance on one host of the Firecracker extension, as the management server knows them."""

    host_details: dict[str, str]
    template_details: dict[str, str]
    extension_details: dict[str, str] = field(default_factory=lambda: {"token": EXTENSION_TOKEN})
    cluster_details: dict[str, str] = field(default_factory=dict)
    instance_id: int = 1001
    nics: int = 1
    ram_mb: int = 256

    @property
    def name(self) -> str:
        return self.instance().internal_name

    def with_host(self, **details: str) -> Cloud:
        """The same cloud with host details changed (a value of "" removes the detail)."""
        merged = {k: v for k, v in {**self.host_details, **details}.items() if v != ""}
        return replace(self, host_details=merged)

    def instance(self, state: str = "Running", *, first_start: bool = False) -> InstanceInfo:
        nics = tuple(
            NicInfo(device_id=i, nic_uuid=str(uuid.UUID(int=self.instance_id * 10 + i)),
                    network_uuid=str(uuid.UUID(int=7000 + i)), network_id=204 + i, default_nic=i == 0, mtu=1500,
                    ip=f"10.1.{i}.{self.instance_id % 250}", netmask="255.255.255.0", gateway=f"10.1.{i}.1",
                    mac=f"02:01:00:{self.instance_id % 256:02x}:00:{i + 1:02x}", broadcast_type="Vlan",
                    broadcast_uri=f"vlan://{1577 + i}", isolation_uri=f"vlan://{1577 + i}")
            for i in range(self.nics)
        )
        details = {"deployvm": "true"} if first_start else {}
        return InstanceInfo(
            id=self.instance_id, uuid=str(uuid.UUID(int=self.instance_id)), account_id=2, cpus=1, speed=1000,
            ram_mb=self.ram_mb, state=state, vnc_password=VNC_PASSWORD, details=details, nics=nics,
            template=TemplateInfo(details={f"External:{k}": v for k, v in self.template_details.items()}),
            offering=OfferingInfo(details={}),
        )

    def _groups(self) -> dict[str, Any]:
        return {
            "extension": ExtensionInfo(name="Firecracker", details=self.extension_details),
            "resource_map": ResourceMapInfo(details=self.cluster_details),
            "host": HostInfo(name="fc01", details={f"External:{k}": v for k, v in self.host_details.items()}),
        }

    def payload(self, action: str, state: str = "Running") -> dict[str, Any]:
        instance = self.instance(state, first_start=action in ("prepare", "create"))
        return lifecycle_payload(action, instance=instance, **self._groups())

    def statuses(self) -> dict[str, Any]:
        return statuses_payload(**self._groups())

    def custom(self, action: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        return custom_action_payload(action=CustomActionInfo(name=action), parameters=parameters,
                                     instance=self.instance(), **self._groups())

    def secrets(self) -> list[str]:
        return [s for s in (self.host_details.get("password"), VNC_PASSWORD, EXTENSION_TOKEN) if s]
