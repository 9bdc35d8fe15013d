"""The storage and network backends a host can use: the host's defaults from the config, plus others built on
demand when a template, offering or request names one (`externaldetails.virtualmachine.storage`, `net`).

Backends are built once per name and kept; every VM record names the backends it was created with, so a
VM is always torn down by the backend that made its resources, even after the host default changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from switchboard.agent.errors import InvalidRequest
from switchboard.agent.network.base import NetworkBackend, NetworkError
from switchboard.agent.storage.base import StorageBackend, StorageError

__all__ = ["NETWORK_ALIASES", "STORAGE_ALIASES", "BackendSet"]

# The original agent's names, accepted wherever a backend is named.
STORAGE_ALIASES = {"lvmthin": "lvm-thin", "lvm_thin": "lvm-thin"}
NETWORK_ALIASES = {"linux-bridge-vlan": "linux-bridge", "ovs-vlan": "ovs"}


class BackendSet:
    """Named backends. `storage_factory`/`network_factory` build a backend by name (None: only the defaults
    exist, as in tests with fakes); they raise StorageError/NetworkError for an unknown name."""

    def __init__(
        self,
        *,
        storage: StorageBackend,
        network: NetworkBackend,
        storage_default: str | None = None,
        network_default: str | None = None,
        storage_factory: Callable[[str], StorageBackend] | None = None,
        network_factory: Callable[[str], NetworkBackend] | None = None,
    ) -> None:
        self.default_storage = storage_default or storage.name
        self.default_network = network_default or network.name
        self._storage: dict[str, StorageBackend] = {self.default_storage: storage}
        self._network: dict[str, NetworkBackend] = {self.default_network: network}
        self._storage_factory = storage_factory
        self._network_factory = network_factory
        self._lock = threading.Lock()

    def storage_key(self, name: str | None) -> str:
        """The registry name `name` stands for (None or "": the host default)."""
        return STORAGE_ALIASES.get(name or "", name or "") or self.default_storage

    def network_key(self, name: str | None) -> str:
        return NETWORK_ALIASES.get(name or "", name or "") or self.default_network

    def storage(self, name: str | None) -> StorageBackend:
        """The storage backend called `name` (None or "": the host default). Raises InvalidRequest."""
        key = self.storage_key(name)
        with self._lock:
            if key not in self._storage:
                if self._storage_factory is None:
                    raise InvalidRequest(f"storage backend {key!r} is not available on this host")
                try:
                    self._storage[key] = self._storage_factory(key)
                except StorageError as exc:
                    raise InvalidRequest(f"storage backend {key!r}: {exc}") from exc
            return self._storage[key]

    def network(self, name: str | None) -> NetworkBackend:
        """The network backend called `name` (None or "": the host default). Raises InvalidRequest."""
        key = self.network_key(name)
        with self._lock:
            if key not in self._network:
                if self._network_factory is None:
                    raise InvalidRequest(f"network backend {key!r} is not available on this host")
                try:
                    self._network[key] = self._network_factory(key)
                except NetworkError as exc:
                    raise InvalidRequest(f"network backend {key!r}: {exc}") from exc
            return self._network[key]

    def all_storage(self) -> list[StorageBackend]:
        with self._lock:
            return list(self._storage.values())

    def all_network(self) -> list[NetworkBackend]:
        with self._lock:
            return list(self._network.values())
