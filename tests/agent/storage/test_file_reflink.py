"""The `file` backend on reflink-capable filesystems (XFS with reflink=1, btrfs) in loop-mounted images,
and the per-template lock under concurrent creates."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from switchboard.agent.hostcmd import CommandResult, SubprocessRunner
from switchboard.agent.model import TemplateRef, Volume
from switchboard.agent.storage.base import StorageError
from switchboard.agent.storage.file import FileStorage
from switchboard.agent.templates import TemplateStore

from .conftest import ext4_size, need, read_marker

MIB = 1 << 20
REF = TemplateRef(kernel="vmlinux", image="base.img")


def _template_on(fs: Path, data_mib: int = 24) -> TemplateStore:
    """A template store whose image (ext4 with `data_mib` MiB of real data) lives on filesystem `fs`."""
    need("mkfs.ext4")
    kernel_dir, image_dir = fs / "kernel", fs / "images"
    kernel_dir.mkdir()
    image_dir.mkdir()
    (kernel_dir / "vmlinux").write_bytes(b"kernel")
    content = fs / "content"
    content.mkdir()
    (content / "marker").write_text("v1")
    (content / "blob").write_bytes(os.urandom(data_mib * MIB))
    subprocess.run(["truncate", "-s", "64M", str(image_dir / "base.img")], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-d", str(content), str(image_dir / "base.img")], check=True)
    return TemplateStore(kernel_dir, image_dir, fs / "cache")


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bfree * st.f_frsize


def _shared_extents(path: Path) -> bool:
    need("filefrag")
    out = subprocess.run(["filefrag", "-v", str(path)], capture_output=True, text=True, check=True).stdout
    return "shared" in out


@pytest.mark.root
@pytest.mark.parametrize("fs_fixture", ["xfs_mount", "btrfs_mount"])
def test_root_disk_is_a_reflink_clone(request: pytest.FixtureRequest, fs_fixture: str) -> None:
    fs: Path = request.getfixturevalue(fs_fixture)
    templates = _template_on(fs)
    storage = FileStorage(fs / "volumes", templates=templates)
    assert "reflink" in storage.capabilities
    os.sync()
    before = _free_bytes(fs)
    vol = storage.provision_root("vm1", REF, size_bytes=None)
    os.sync()
    used = before - _free_bytes(fs)
    assert storage.last_method == "reflink"
    assert used < 4 * MIB, f"a reflink clone of 24 MiB of data used {used} bytes"
    assert _shared_extents(vol.path)
    assert vol.path.read_bytes() == (templates.image_dir / "base.img").read_bytes()

    grown = storage.provision_root("vm2", REF, size_bytes=256 * MIB)
    assert storage.last_method == "reflink"
    assert ext4_size(grown.path) == 256 * MIB and read_marker(grown.path) == "v1"
    # Writing into the clone leaves the template alone (copy on write).
    template_bytes = (templates.image_dir / "base.img").read_bytes()
    with vol.path.open("r+b") as f:
        f.write(b"\xff" * 4096)
    assert (templates.image_dir / "base.img").read_bytes() == template_bytes
    storage.delete("vm1")
    storage.delete("vm2")
    assert storage.owners() == set()


def test_reflink_always_fails_cleanly_where_the_filesystem_cannot(tmp_path: Path, templates: TemplateStore) -> None:
    storage = FileStorage(tmp_path / "volumes", templates=templates, reflink="always")
    with pytest.raises(StorageError, match="reflink"):
        storage.provision_root("vm", REF, size_bytes=None)
    assert list((tmp_path / "volumes").iterdir()) == []


def test_reflink_never_makes_a_sparse_copy(tmp_path: Path, templates: TemplateStore) -> None:
    storage = FileStorage(tmp_path / "volumes", templates=templates, reflink="never")
    vol = storage.provision_root("vm", REF, size_bytes=None)
    assert storage.last_method == "sparse"
    assert vol.path.read_bytes() == (templates.image_dir / "base.img").read_bytes()


class CountingRunner(SubprocessRunner):
    def __init__(self) -> None:
        super().__init__()
        self.converts = 0
        self._lock = threading.Lock()

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        if list(argv[:2]) == ["qemu-img", "convert"]:
            with self._lock:
                self.converts += 1
        return super().run(argv, timeout=timeout, env=env)


def test_concurrent_creates_from_a_new_qcow2_template_convert_it_once(
    tmp_path: Path, template_dirs: tuple[Path, Path, Path]
) -> None:
    need("qemu-img")
    kernel_dir, image_dir, cache_dir = template_dirs
    subprocess.run(
        ["qemu-img", "convert", "-O", "qcow2", str(image_dir / "base.img"), str(image_dir / "b.qcow2")], check=True
    )
    runner = CountingRunner()
    storage = FileStorage(
        tmp_path / "volumes", templates=TemplateStore(kernel_dir, image_dir, cache_dir), runner=runner
    )
    ref = TemplateRef(kernel="vmlinux", image="b.qcow2")
    results: list[Volume] = []
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            results.append(storage.provision_root(f"vm{i}", ref, size_bytes=48 * MIB))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert runner.converts == 1, "the per-template lock must make one conversion serve every VM"
    assert sorted(v.vm for v in results) == ["vm0", "vm1", "vm2", "vm3"]
    for v in results:
        assert read_marker(v.path) == "v1" and ext4_size(v.path) == 48 * MIB


@pytest.mark.root
def test_template_on_another_filesystem_is_copied_once_then_reflinked(
    xfs_mount: Path, templates: TemplateStore
) -> None:
    # The template lives on the host's ext4 (tmp_path), the volumes on XFS: FICLONE across filesystems
    # is impossible, so one sparse base is kept on the XFS and every VM is a reflink of it.
    storage = FileStorage(xfs_mount / "volumes", templates=templates)
    a = storage.provision_root("a", REF, size_bytes=None)
    assert storage.last_method == "reflink"
    b = storage.provision_root("b", REF, size_bytes=64 * MIB)
    assert storage.last_method == "reflink"
    bases = list((xfs_mount / "volumes" / ".bases").iterdir())
    assert len(bases) == 1 and bases[0].read_bytes() == (templates.image_dir / "base.img").read_bytes()
    assert a.path.read_bytes() == bases[0].read_bytes()
    assert read_marker(b.path) == "v1" and ext4_size(b.path) == 64 * MIB
    assert _shared_extents(a.path)
    storage.delete("a")
    storage.delete("b")
    assert storage.owners() == set()
