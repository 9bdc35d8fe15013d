"""Request bodies. `spec` is the CloudStack payload exactly as the extension script forwards it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionBody",
    "BulkStatusReply",
    "CreateBody",
    "ListReply",
    "MessageReply",
    "SnapshotBody",
    "StartBody",
    "StatusReply",
    "StopBody",
]


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    spec: dict[str, Any] = Field(description="the CloudStack payload (virtualmachinename, cloudstack.vm.details, …)")
    timeout: float | None = Field(default=None, description="seconds the caller waits (informational)")
    ssh_public_key: str | None = Field(
        default=None, description="OpenSSH public key(s), one per line, for the guest's config drive"
    )


class StartBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    spec: dict[str, Any] | None = Field(default=None, description="payload; creates the VM when it is unknown")
    timeout: float | None = None
    ssh_public_key: str | None = Field(
        default=None, description="OpenSSH public key(s), one per line, for the guest's config drive"
    )


class StopBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    timeout: float | None = None
    force: bool = Field(default=False, description="terminate at once instead of a graceful shutdown")


class ActionBody(BaseModel):
    """Body of the action-style endpoints: the VM is named by `vm_name`, `name` or the payload in `spec`."""

    model_config = ConfigDict(extra="ignore")

    vm_name: str | None = None
    name: str | None = None
    spec: dict[str, Any] | None = None
    timeout: float | None = None
    force: bool = False
    ssh_public_key: str | None = None


class SnapshotBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, description="snapshot name; a UTC timestamp when absent")


class _Reply(BaseModel):
    # Replies may carry more fields than documented here; none is dropped.
    model_config = ConfigDict(extra="allow")


class MessageReply(_Reply):
    status: str = Field(description='"success"')
    message: str
    vm_name: str


class StatusReply(_Reply):
    status: str
    vm_name: str
    power_state: str = Field(description="poweron | poweroff | unknown (CloudStack's words)")
    state: str = Field(description="running | paused | stopped | unknown")


class BulkStatusReply(_Reply):
    status: str
    power_state: dict[str, str] = Field(description="VM name -> poweron | poweroff | unknown")
    state: dict[str, str] = Field(description="VM name -> running | paused | stopped | unknown")


class VmItem(_Reply):
    name: str
    status: str = Field(description="poweron | poweroff | unknown")
    cpus: int
    memory_mib: int
    nics: int
    config_file: str


class ListReply(_Reply):
    status: str
    message: str
    count: int
    vms: list[VmItem]
