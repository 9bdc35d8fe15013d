"""The `file` storage backend on real files: clone, grow, idempotency, cleanup, data disks."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from switchboard.agent.hostcmd import CommandFailed, CommandResult, SubprocessRunner
from switchboard.agent.model import TemplateRef
from switchboard.agent.storage import create_storage
from switchboard.agent.storage.base import StorageBackend, StorageError
from switchboard.agent.storage.file import FileStorage
from switchboard.agent.storage.params import InvalidRequest
from switchboard.agent.templates import TemplateNotFound, TemplateStore

from .conftest import TEMPLATE_MIB, ext4_size, make_ext4, need, read_marker

REF = TemplateRef(kernel="vmlinux", image="base.img")
MIB = 1 << 20


def _storage(tmp_path: Path, templates: TemplateStore, **kw: object) -> FileStorage:
    backend = create_storage("file", {"volume_dir": str(tmp_path / "volumes"), **kw}, templates=templates)
    assert isinstance(backend, FileStorage)
    assert isinstance(backend, StorageBackend)
    return backend


def test_root_disk_is_a_sparse_copy_grown_with_its_filesystem(tmp_path: Path, templates: TemplateStore) -> None:
    need("e2fsck", "resize2fs")
    storage = _storage(tmp_path, templates)
    vol = storage.provision_root("i-2-10-VM", REF, size_bytes=96 * MIB)
    assert vol.path == tmp_path / "volumes" / "i-2-10-VM" / "root.img"
    assert (vol.role, vol.backend, vol.size_bytes) == ("root", "file", 96 * MIB)
    assert vol.path.stat().st_size == 96 * MIB
    assert ext4_size(vol.path) == 96 * MIB, "the filesystem must fill the grown disk"
    assert read_marker(vol.path) == "v1"
    assert storage.last_method == "sparse"  # the host filesystem (ext4) cannot reflink
    assert "reflink" not in storage.capabilities and "resize" in storage.capabilities
    assert vol.path.stat().st_blocks * 512 < 16 * MIB, "the copy must stay sparse"
    assert oct(vol.path.stat().st_mode & 0o777) == "0o600"
    # the template is untouched
    assert ext4_size(templates.image_dir / "base.img") == TEMPLATE_MIB * MIB


def test_size_defaults_to_the_image_and_never_shrinks_it(tmp_path: Path, templates: TemplateStore) -> None:
    storage = _storage(tmp_path, templates)
    assert storage.provision_root("a", REF, size_bytes=None).size_bytes == TEMPLATE_MIB * MIB
    assert storage.provision_root("b", REF, size_bytes=MIB).size_bytes == TEMPLATE_MIB * MIB
    sized = _storage(tmp_path, templates, size="64M")
    assert sized.provision_root("c", REF, size_bytes=None).size_bytes == 64 * MIB


def test_existing_root_disk_is_returned_untouched(tmp_path: Path, templates: TemplateStore) -> None:
    storage = _storage(tmp_path, templates)
    first = storage.provision_root("vm1", REF, size_bytes=48 * MIB)
    with first.path.open("r+b") as f:
        f.seek(40 * MIB)
        f.write(b"guest data")
    st = first.path.stat()
    again = storage.provision_root("vm1", REF, size_bytes=128 * MIB)
    assert again == first
    after = first.path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)


def test_qcow2_template_is_converted_once_and_cloned(tmp_path: Path, template_dirs: tuple[Path, Path, Path]) -> None:
    need("qemu-img")
    kernel_dir, image_dir, cache_dir = template_dirs
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(image_dir / "base.img"), str(image_dir / "b.qcow2")],
        check=True,
    )
    templates = TemplateStore(kernel_dir, image_dir, cache_dir)
    storage = _storage(tmp_path, templates)
    ref = TemplateRef(kernel="vmlinux", image="b.qcow2")
    a = storage.provision_root("qa", ref, size_bytes=None)
    assert a.path.read_bytes() == (image_dir / "base.img").read_bytes()
    b = storage.provision_root("qb", ref, size_bytes=64 * MIB)
    assert read_marker(b.path) == "v1" and ext4_size(b.path) == 64 * MIB
    bases = list((tmp_path / "volumes" / ".bases").glob("*.raw"))
    assert len(bases) == 1, "one converted base per image version"
    # a new version of the qcow2 replaces the old base
    make_ext4(image_dir / "v2.img", TEMPLATE_MIB, "v2")
    (image_dir / "b.qcow2").unlink()
    subprocess.run(
        ["qemu-img", "convert", "-O", "qcow2", str(image_dir / "v2.img"), str(image_dir / "b.qcow2")], check=True
    )
    c = storage.provision_root("qc", ref, size_bytes=None)
    assert read_marker(c.path) == "v2"
    assert read_marker(a.path) == "v1", "existing VMs keep their disks"
    assert len(list((tmp_path / "volumes" / ".bases").glob("*.raw"))) == 1


def test_data_disks_are_sparse_and_listed_after_the_root(tmp_path: Path, templates: TemplateStore) -> None:
    storage = _storage(tmp_path, templates)
    storage.provision_root("vm", REF, size_bytes=None)
    d2 = storage.provision_data("vm", 2, size_bytes=1 << 30)
    d10 = storage.provision_data("vm", 10, size_bytes=1000)
    storage.provision_data("vm", 1, size_bytes=MIB)
    assert d2.size_bytes == 1 << 30 and d2.path.stat().st_blocks == 0
    assert d10.size_bytes == 1024  # rounded up to whole sectors
    assert [v.role for v in storage.volumes("vm")] == ["root", "data1", "data2", "data10"]
    assert storage.provision_data("vm", 2, size_bytes=5 * MIB) == d2
    with pytest.raises(InvalidRequest):
        storage.provision_data("vm", 0, size_bytes=MIB)


def test_delete_removes_exactly_that_vms_volumes(tmp_path: Path, templates: TemplateStore) -> None:
    storage = _storage(tmp_path, templates)
    storage.provision_root("vm-a", REF, size_bytes=None)
    storage.provision_data("vm-a", 1, size_bytes=MIB)
    keep = storage.provision_root("vm-ab", REF, size_bytes=None)
    assert storage.owners() == {"vm-a", "vm-ab"}
    storage.delete("vm-a")
    storage.delete("vm-a")  # already gone: no error
    storage.delete("never-existed")
    assert storage.volumes("vm-a") == []
    assert storage.owners() == {"vm-ab"}
    assert keep.path.exists() and storage.volumes("vm-ab") == [keep]


@pytest.mark.parametrize("vm", ["../x", "a/b", ".hidden", "-rf", "", "a" * 65])
def test_unsafe_vm_names_are_refused_before_any_path_is_built(
    tmp_path: Path, templates: TemplateStore, vm: str
) -> None:
    storage = _storage(tmp_path, templates)
    with pytest.raises(InvalidRequest):
        storage.provision_root(vm, REF, size_bytes=None)
    with pytest.raises(InvalidRequest):
        storage.delete(vm)
    assert sorted(p.name for p in (tmp_path / "volumes").iterdir()) == []


class FailingRunner(SubprocessRunner):
    """The real runner, except that one named tool fails (to exercise cleanup after a late failure)."""

    def __init__(self, tool: str) -> None:
        super().__init__()
        self.tool = tool

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        if argv[0] == self.tool:
            return CommandResult(8, "", f"{self.tool}: simulated failure")
        return super().run(argv, timeout=timeout, env=env)


def test_failed_create_removes_only_what_it_created(tmp_path: Path, templates: TemplateStore) -> None:
    vols = tmp_path / "volumes"
    failing = FileStorage(vols, templates=templates, runner=FailingRunner("resize2fs"))
    with pytest.raises(CommandFailed, match="resize2fs"):
        failing.provision_root("vm", REF, size_bytes=64 * MIB)
    assert list(vols.iterdir()) == [], "no directory or temporary file may be left"
    with pytest.raises(TemplateNotFound):
        failing.provision_root("vm", TemplateRef(kernel="vmlinux", image="absent.img"), size_bytes=None)
    assert list(vols.iterdir()) == []

    # A VM that already has a data disk keeps it (and its directory) when its root create fails.
    ok = FileStorage(vols, templates=templates)
    data = ok.provision_data("vm", 1, size_bytes=MIB)
    with pytest.raises(CommandFailed):
        failing.provision_root("vm", REF, size_bytes=64 * MIB)
    assert sorted(p.name for p in (vols / "vm").iterdir()) == ["data1.img"]
    assert ok.volumes("vm") == [data]


def test_create_cycles_leave_no_files(tmp_path: Path, templates: TemplateStore) -> None:
    vols = tmp_path / "volumes"
    storage = FileStorage(vols, templates=templates)
    failing = FileStorage(vols, templates=templates, runner=FailingRunner("e2fsck"))
    for i in range(3):
        storage.provision_root(f"vm{i}", REF, size_bytes=40 * MIB)
        storage.provision_data(f"vm{i}", 1, size_bytes=MIB)
        with pytest.raises(CommandFailed, match="e2fsck"):
            failing.provision_root(f"bad{i}", REF, size_bytes=40 * MIB)
    for i in range(3):
        storage.delete(f"vm{i}")
    assert list(vols.iterdir()) == []
    assert storage.owners() == set()


def test_unknown_backend_and_bad_options_are_refused(tmp_path: Path, templates: TemplateStore) -> None:
    with pytest.raises(StorageError, match="unknown storage backend"):
        create_storage("zfs", {}, templates=templates)
    with pytest.raises(InvalidRequest):
        _storage(tmp_path, templates, reflink="sometimes")
    with pytest.raises(InvalidRequest):
        _storage(tmp_path, templates, size="ten gigs")


def test_template_image_removed_by_an_admin_does_not_break_existing_disks(
    tmp_path: Path, templates: TemplateStore
) -> None:
    storage = _storage(tmp_path, templates)
    vol = storage.provision_root("vm", REF, size_bytes=None)
    os.unlink(templates.image_dir / "base.img")
    assert storage.provision_root("vm", REF, size_bytes=None) == vol
    with pytest.raises(TemplateNotFound):
        storage.provision_root("other", REF, size_bytes=None)
    shutil.rmtree(templates.image_dir)
