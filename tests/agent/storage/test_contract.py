"""The StorageBackend contract, run against every backend (`lvm`/`lvm-thin` on the replaying FakeLvm,
because this machine has no device-mapper; `file` for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.agent.model import TemplateRef
from switchboard.agent.storage.base import StorageBackend
from switchboard.agent.storage.file import FileStorage
from switchboard.agent.storage.lvm import LvmStorage
from switchboard.agent.storage.lvmthin import LvmThinStorage
from switchboard.agent.storage.params import InvalidRequest
from switchboard.agent.templates import TemplateNotFound, TemplateStore

from .fake_lvm import VG, FakeLvm

REF = TemplateRef(kernel="vmlinux", image="base.img")
MIB = 1 << 20


@pytest.fixture(params=["file", "lvm", "lvm-thin"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, templates: TemplateStore) -> StorageBackend:
    fake = FakeLvm()
    fake.add_pool("pool")
    if request.param == "file":
        return FileStorage(tmp_path / "volumes", templates=templates)
    if request.param == "lvm":
        return LvmStorage(VG, templates=templates, runner=fake)
    return LvmThinStorage(VG, "pool", templates=templates, runner=fake)


def test_contract(backend: StorageBackend) -> None:
    assert isinstance(backend, StorageBackend)
    assert backend.owners() == set() and backend.volumes("vm") == []
    root = backend.provision_root("vm", REF, size_bytes=64 * MIB)
    assert (root.vm, root.role, root.backend, root.size_bytes) == ("vm", "root", backend.name, 64 * MIB)
    assert backend.provision_root("vm", REF, size_bytes=128 * MIB) == root  # idempotent, untouched
    data = backend.provision_data("vm", 1, size_bytes=8 * MIB)
    assert (data.role, data.size_bytes) == ("data1", 8 * MIB)
    assert backend.provision_data("vm", 1, size_bytes=8 * MIB) == data
    other = backend.provision_root("other", REF, size_bytes=None)
    assert backend.volumes("vm") == [root, data]
    assert backend.owners() == {"vm", "other"}
    with pytest.raises(TemplateNotFound):
        backend.provision_root("third", TemplateRef(kernel="vmlinux", image="missing.img"), size_bytes=None)
    with pytest.raises(InvalidRequest):
        backend.provision_root("../escape", REF, size_bytes=None)
    backend.delete("vm")
    backend.delete("vm")
    assert backend.volumes("vm") == [] and backend.volumes("other") == [other]
    assert backend.owners() == {"other"}
    backend.delete("other")
    assert backend.owners() == set()
