"""The VM specification the agent records: what was asked for, in the agent's own words, without secrets.

Two create requests for the same VM are "the same" exactly when their `VmSpec.identity()` values are equal;
that is what makes a repeated create idempotent and a contradicting one a 409.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from switchboard.agent.model import NicRequest, TemplateRef

__all__ = ["VmSpec"]


@dataclass(frozen=True)
class VmSpec:
    """One microVM as requested. Sizes: `memory_mib` in MiB, `root_size_bytes` in bytes (None = image size)."""

    name: str
    vcpus: int
    memory_mib: int
    template: TemplateRef
    nics: tuple[NicRequest, ...] = ()
    root_size_bytes: int | None = None
    data_disk_bytes: tuple[int, ...] = ()  # empty data disks data1, data2, ... of these sizes
    cloudstack_vm_id: str | None = None
    storage_backend: str | None = None  # None: the host's default
    network_backend: str | None = None  # None: the host's default

    def boot_args(self, default: str) -> str:
        """The kernel command line: the template's, else `default`."""
        return self.template.boot_args or default

    def identity(self) -> dict[str, Any]:
        """The fields that must match for a repeated create to count as the same VM."""
        data = self.to_json()
        # The CloudStack UUID is bookkeeping: a retry may omit it without meaning another VM.
        data.pop("cloudstack_vm_id", None)
        return data

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (round-trips through `from_json`)."""
        data = asdict(self)
        data["nics"] = [asdict(nic) for nic in self.nics]
        data["data_disk_bytes"] = list(self.data_disk_bytes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VmSpec:
        """Rebuild a spec saved by `to_json`. Raises KeyError/TypeError on a malformed record."""
        return cls(
            name=data["name"],
            vcpus=int(data["vcpus"]),
            memory_mib=int(data["memory_mib"]),
            template=TemplateRef(**data["template"]),
            nics=tuple(NicRequest(**nic) for nic in data.get("nics", [])),
            root_size_bytes=data.get("root_size_bytes"),
            data_disk_bytes=tuple(int(size) for size in data.get("data_disk_bytes", ())),
            cloudstack_vm_id=data.get("cloudstack_vm_id"),
            storage_backend=data.get("storage_backend"),
            network_backend=data.get("network_backend"),
        )
