"""Network backends and their registry.

`create_network(name, options)` builds the backend named by the host config (section `defaults.net`,
original key names) or by a request override. Names:

* `none` — no host NIC at all (`NoNetwork`); the guest boots without a network. No options.
* `linux-bridge` (alias `linux-bridge-vlan`, the original's name) — one TAP per NIC on a VLAN-aware
  Linux bridge (`LinuxBridgeNetwork`).
    - `host_bridge` (alias `bridge`; default `cloudbr1`): the bridge TAPs join. It must exist and have
      `vlan_filtering` on; otherwise plugging a NIC fails with a clear error.
    - `uplink` (default: none): a bridge port that carries tagged VLANs to the outside; VLANs in use
      are added to it (tagged) and removed when no VM uses them any more.
    - `netns` (default: none, the agent's own namespace): network namespace name to work in (tests).
    - `state_dir` (default `/var/lib/switchboard/agent/network`): where the uplink VLAN reference
      counts are kept.
* `ovs` (alias `ovs-vlan`) — one TAP per NIC as an access port of an Open vSwitch bridge (`OvsNetwork`).
    - `host_bridge` (alias `bridge`; default `cloudbr1`): the OVS bridge (created if missing).
    - `uplink` (default: none): port set to trunk exactly the VLANs in use.
    - `db` (default `unix:/var/run/openvswitch/db.sock`): the OVSDB address passed as `ovs-vsctl --db`.
    - `datapath_type` (default: none, OVS's own default): set when the bridge is created (`netdev` for
      the userspace datapath).
    - `netns` (default: none): network namespace in which the TAPs are created.
    - `timeout` (default 10): seconds `ovs-vsctl` may wait for the database.

Unknown keys are ignored, so one config section may carry the keys of several backends. An unknown name
raises `UnknownBackend`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from switchboard.agent.network.base import NetworkBackend, NetworkError
from switchboard.agent.network.none import NoNetwork

__all__ = ["NetworkBackend", "NetworkError", "UnknownBackend", "create_network", "names"]


class UnknownBackend(NetworkError):
    """No network backend has the requested name."""


def _none(options: Mapping[str, Any]) -> NetworkBackend:
    return NoNetwork()


def _linux_bridge(options: Mapping[str, Any]) -> NetworkBackend:
    from switchboard.agent.network.bridge import LinuxBridgeNetwork

    return LinuxBridgeNetwork.from_options(options)


def _ovs(options: Mapping[str, Any]) -> NetworkBackend:
    from switchboard.agent.network.ovs import OvsNetwork

    return OvsNetwork.from_options(options)


_REGISTRY: dict[str, Callable[[Mapping[str, Any]], NetworkBackend]] = {
    "none": _none,
    "linux-bridge": _linux_bridge,
    "linux-bridge-vlan": _linux_bridge,
    "ovs": _ovs,
    "ovs-vlan": _ovs,
}


def names() -> list[str]:
    """Every accepted backend name (aliases included)."""
    return sorted(_REGISTRY)


def create_network(name: str, options: Mapping[str, Any]) -> NetworkBackend:
    """Build the network backend `name` from config `options` (keys above). Raises UnknownBackend, or
    NetworkError for a bad option; no host device is touched until the first `plug`."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UnknownBackend(f"unknown network backend {name!r} (one of {', '.join(names())})") from None
    return factory(options)
