"""The test guest builder: cached artifacts are what the VMMs need, and a second build is a no-op."""

from __future__ import annotations

import gzip
import lzma
import subprocess

from tests.agent.guest import _builder, guest_artifacts


def test_kernel_is_an_elf_with_a_pvh_note() -> None:
    kernel = guest_artifacts().kernel.read_bytes()
    assert kernel.startswith(b"\x7fELF\x02")  # 64-bit ELF: what PVH direct boot loads
    # Xen's PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) names the entry point Firecracker and microvm use.
    assert b"Xen\x00" in kernel


def test_initrd_holds_init_console_and_the_storage_and_network_modules() -> None:
    names = _cpio_names(gzip.decompress(guest_artifacts().initrd.read_bytes()))
    assert {"init", "dev/console", "bin/busybox", "lib/modules/load.order"} <= names
    modules = {n.rsplit("/", 1)[-1] for n in names if n.endswith(".ko")}
    assert {"virtio_mmio.ko", "virtio_blk.ko", "virtio_net.ko", "ext4.ko", "jbd2.ko"} <= modules


def test_rootfs_is_ext4_with_an_inittab_that_powers_off_on_ctrl_alt_del() -> None:
    inittab = subprocess.run(
        ["debugfs", "-R", "cat /etc/inittab", str(guest_artifacts().rootfs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "::ctrlaltdel:/sbin/poweroff" in inittab
    rcs = subprocess.run(
        ["debugfs", "-R", "cat /etc/init.d/rcS", str(guest_artifacts().rootfs)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert guest_artifacts().marker in rcs


def test_second_build_reuses_the_cache() -> None:
    before = guest_artifacts().kernel.stat().st_mtime_ns
    again = _builder().build(check_kernel=False)
    assert again.kernel.stat().st_mtime_ns == before


def test_extract_vmlinux_finds_the_xz_payload_after_setup_code() -> None:
    elf = b"\x7fELF" + bytes(range(256)) * 8
    fake_bzimage = b"\x00" * 1000 + lzma.compress(elf, format=lzma.FORMAT_XZ) + b"\x00" * 64
    assert _builder().extract_vmlinux(fake_bzimage) == elf


def _cpio_names(archive: bytes) -> set[str]:
    names: set[str] = set()
    offset = 0
    while True:
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701"
        namesize = int(header[94:102], 16)
        filesize = int(header[54:62], 16)
        name = archive[offset + 110 : offset + 110 + namesize - 1].decode()
        if name == "TRAILER!!!":
            return names
        names.add(name)
        offset += 110 + namesize
        offset += -offset % 4
        offset += filesize
        offset += -offset % 4
