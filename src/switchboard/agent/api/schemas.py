"""Request bodies. `spec` is the CloudStack payload exactly as the extension script forwards it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ActionBody", "CreateBody", "SnapshotBody", "StartBody", "StopBody"]


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    spec: dict[str, Any] = Field(description="the CloudStack payload (virtualmachinename, cloudstack.vm.details, …)")
    timeout: float | None = Field(default=None, description="seconds the caller waits (informational)")
    ssh_public_key: str | None = Field(default=None, description="accepted for compatibility; not injected")


class StartBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    spec: dict[str, Any] | None = Field(default=None, description="payload; creates the VM when it is unknown")
    timeout: float | None = None


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


class SnapshotBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, description="snapshot name; a UTC timestamp when absent")
