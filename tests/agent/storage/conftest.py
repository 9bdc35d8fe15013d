"""Fixtures for the storage tests: real ext4 template images, a template store, loop-mounted XFS."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.agent.templates import TemplateStore

TEMPLATE_MIB = 32


def need(*tools: str) -> None:
    """Fail (not skip) with an install hint when a host tool is missing."""
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install it (scripts/ci-deps.sh lists the apt packages)")


def make_ext4(path: Path, size_mib: int, marker: str) -> None:
    """An ext4 image of `size_mib` MiB (4 KiB blocks) holding /marker with `marker` as content."""
    need("mkfs.ext4")
    content = path.parent / f".{path.name}.d"
    content.mkdir()
    (content / "marker").write_text(marker)
    subprocess.run(["truncate", "-s", f"{size_mib}M", str(path)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-d", str(content), str(path)], check=True)
    shutil.rmtree(content)


def read_marker(image: Path) -> str:
    """The /marker file inside an ext4 image, read with debugfs (no mount)."""
    need("debugfs")
    out = subprocess.run(["debugfs", "-R", "cat /marker", str(image)], capture_output=True, text=True, check=True)
    return out.stdout


def ext4_size(image: Path) -> int:
    """The filesystem size in bytes as dumpe2fs reports it (block count x block size)."""
    need("dumpe2fs")
    out = subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return int(fields["Block count"]) * int(fields["Block size"])


def loop_devices_for(directory: Path) -> list[str]:
    """Loop devices whose backing file lies under `directory` (leak checks)."""
    out = subprocess.run(["losetup", "-J", "-l"], capture_output=True, text=True, check=True).stdout
    devices = json.loads(out or '{"loopdevices": []}').get("loopdevices", [])
    return [d["name"] for d in devices if str(d.get("back-file") or "").startswith(str(directory))]


@pytest.fixture
def template_dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(kernel_dir, image_dir, cache_dir) with kernel `vmlinux` and ext4 image `base.img` (marker "v1")."""
    kernel_dir, image_dir, cache_dir = tmp_path / "kernel", tmp_path / "images", tmp_path / "cache"
    kernel_dir.mkdir()
    image_dir.mkdir()
    (kernel_dir / "vmlinux").write_bytes(b"kernel")
    make_ext4(image_dir / "base.img", TEMPLATE_MIB, "v1")
    return kernel_dir, image_dir, cache_dir


@pytest.fixture
def templates(template_dirs: tuple[Path, Path, Path]) -> TemplateStore:
    return TemplateStore(*template_dirs)


@pytest.fixture
def xfs_mount(tmp_path: Path) -> Iterator[Path]:
    """A reflink-capable XFS filesystem in a loop-mounted image, unmounted (and checked) afterwards."""
    need("mkfs.xfs", "mount", "umount")
    img, mnt = tmp_path / "xfs.img", tmp_path / "xfs"
    subprocess.run(["truncate", "-s", "600M", str(img)], check=True)
    subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", str(img)], check=True)
    mnt.mkdir()
    subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert loop_devices_for(tmp_path) == [], "loop device left behind"


@pytest.fixture
def btrfs_mount(tmp_path: Path) -> Iterator[Path]:
    """A btrfs filesystem in a loop-mounted image (reflink-capable), unmounted afterwards."""
    need("mkfs.btrfs", "mount", "umount")
    img, mnt = tmp_path / "btrfs.img", tmp_path / "btrfs"
    subprocess.run(["truncate", "-s", "300M", str(img)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", str(img)], check=True)
    mnt.mkdir()
    subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert loop_devices_for(tmp_path) == [], "loop device left behind"
