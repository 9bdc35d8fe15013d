"""Storage and network backends chosen per VM (template/offering details, request) instead of the host's."""

from __future__ import annotations

import pytest

from agentcore.conftest import Host, fake_groups, fake_password_check
from agentcore.fakes import FakeNetwork, FakeStorage
from agentcore.harness import payload
from switchboard.agent.backends import BackendSet
from switchboard.agent.errors import InvalidRequest
from switchboard.agent.payload import spec_from_payload
from switchboard.agent.server import build_agent
from switchboard.agent.storage.base import StorageError


def _spec(name: str, *, storage: str | None = None, net: object = None):
    raw = payload(name)
    if storage:
        raw["externaldetails"]["virtualmachine"]["storage"] = storage
    if net is not None:
        raw["net"] = net
    return spec_from_payload(raw)


@pytest.fixture
def agent_and_fast(host: Host):
    fast = FakeStorage(host.root / "fast")
    ovs = FakeNetwork()

    def storage_factory(name: str) -> FakeStorage:
        if name != "fast":
            raise StorageError(f"unknown storage backend {name!r}")
        return fast

    backends = BackendSet(storage=host.storage, network=host.network, storage_factory=storage_factory,
                          network_factory=lambda name: ovs)
    agent = build_agent(host.config, backends=(host.vmm, backends), boot_id="b",
                        password_check=fake_password_check, group_lookup=fake_groups)
    return agent, fast, ovs


def test_a_vm_uses_the_backends_its_details_name_and_is_removed_from_them(host: Host, agent_and_fast) -> None:
    agent, fast, ovs = agent_and_fast
    record, _ = agent.service.create(_spec("ov-1", storage="fast", net={"driver": "ovs-vlan"}))
    assert (record.storage_backend, record.network_backend) == ("fast", "ovs")
    assert fast.owners() == {"ov-1"} and host.storage.owners() == set()
    assert ovs.owners() == {"ov-1"} and host.network.owners() == set()
    agent.service.create(_spec("def-1"))
    assert host.storage.owners() == {"def-1"}
    agent.service.delete("ov-1")
    assert fast.owners() == set() and ovs.owners() == set()
    assert host.storage.owners() == {"def-1"}


def test_an_unknown_backend_is_refused_before_anything_is_recorded(host: Host, agent_and_fast) -> None:
    agent, _, _ = agent_and_fast
    with pytest.raises(InvalidRequest, match="nope"):
        agent.service.create(_spec("ov-2", storage="nope"))
    with pytest.raises(InvalidRequest, match="not a backend name"):
        _spec("ov-3", net="../x")
    assert agent.service.list() == []


def test_without_factories_only_the_host_backends_exist(host: Host) -> None:
    agent = host.agent()
    with pytest.raises(InvalidRequest, match="not available"):
        agent.service.create(_spec("ov-4", storage="lvm"))
