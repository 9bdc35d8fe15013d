"""The storage backend interface: `file`, `lvm`, `lvm-thin`, chosen per host and overridable per template."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from switchboard.agent.errors import BackendError
from switchboard.agent.model import TemplateRef, Volume


class StorageError(BackendError):
    """A backend could not provision or remove a volume. `str()` is fit for the API caller."""


@runtime_checkable
class StorageBackend(Protocol):
    name: str
    capabilities: frozenset[str]  # e.g. {"reflink", "thin", "resize"}

    def provision_root(self, vm: str, template: TemplateRef, *, size_bytes: int | None) -> Volume:
        """Create the VM's root disk from `template`, grown to `size_bytes` (never shrunk below the image).

        Idempotent: when the VM's root volume already exists it is returned untouched. A failure removes
        only what this call created."""

    def provision_data(self, vm: str, index: int, *, size_bytes: int) -> Volume:
        """Create an empty data disk (`data<index>`). Idempotent like `provision_root`."""

    def volumes(self, vm: str) -> list[Volume]:
        """The VM's existing volumes."""

    def delete(self, vm: str) -> None:
        """Remove exactly the VM's volumes. No error when there are none."""

    def owners(self) -> set[str]:
        """Names of every VM that has at least one volume here (for leftover detection)."""
