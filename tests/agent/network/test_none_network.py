"""The `none` network backend and the network registry."""

from __future__ import annotations

import pytest

from switchboard.agent.model import NicAttachment, NicRequest
from switchboard.agent.network import NetworkBackend, NetworkError, create_network, names
from switchboard.agent.network.none import NoNetwork


def test_none_plugs_nothing_and_owns_nothing() -> None:
    net = create_network("none", {"host_bridge": "ignored"})
    assert isinstance(net, NoNetwork) and isinstance(net, NetworkBackend)
    assert net.plug("vm", [NicRequest(index=0, mac="02:00:00:00:00:01", vlan="100")]) == []
    net.unplug("vm", [NicAttachment(index=0, iface_id="eth0", tap="whatever", mac="02:00:00:00:00:01")])
    assert net.owners() == set()


def test_registry_knows_the_original_names_and_refuses_others() -> None:
    assert {"none", "linux-bridge", "linux-bridge-vlan", "ovs", "ovs-vlan"} <= set(names())
    with pytest.raises(NetworkError, match="unknown network backend 'macvtap'"):
        create_network("macvtap", {})
