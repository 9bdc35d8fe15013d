"""QEMU command lines built from launch configs (no QEMU run)."""

from __future__ import annotations

from pathlib import Path

from switchboard.agent.model import DiskAttachment, LaunchConfig, NicAttachment
from switchboard.agent.vmm.qemu_args import disk_format, host_tsc_khz, kernel_cmdline, qemu_argv


def config(tmp_path: Path, **changes: object) -> LaunchConfig:
    data = tmp_path / "data,1.img"  # a comma: QEMU's option separator
    data.write_bytes(b"QFI\xfb" + bytes(60))
    root = tmp_path / "root.img"
    root.write_bytes(bytes(64))
    base = {
        "name": "sbt-a1", "vcpus": 2, "memory_mib": 256, "kernel": tmp_path / "vmlinux",
        "boot_args": "console=ttyS0", "run_dir": tmp_path,
        "disks": (DiskAttachment("data1", data, read_only=True), DiskAttachment("rootfs", root, is_root=True)),
        "nics": (NicAttachment(0, "eth0", "sbt-tap0", "02:00:00:00:00:01", mtu=9000),),
    }  # fmt: skip
    return LaunchConfig(**{**base, **changes})  # type: ignore[arg-type]


def test_the_root_disk_comes_first_and_options_are_escaped(tmp_path: Path) -> None:
    argv = qemu_argv(config(tmp_path), binary="qemu", kvm=False, qmp_socket=tmp_path / "q.sock")
    drives = [argv[i + 1] for i, a in enumerate(argv) if a == "-drive"]
    assert drives[0].startswith("id=rootfs,") and "format=raw" in drives[0] and "cache=writeback" in drives[0]
    assert "data,,1.img" in drives[1] and "format=qcow2" in drives[1] and "readonly=on" in drives[1]
    assert "virtio-net-device,netdev=eth0,mac=02:00:00:00:00:01,host_mtu=9000" in argv
    assert argv[argv.index("-smp") + 1] == "2" and argv[argv.index("-m") + 1] == "256M"
    assert "-S" in argv and "-no-reboot" in argv and "i8042" in argv
    assert "-no-shutdown" not in argv and "-incoming" not in argv


def test_tcg_and_kvm_machines(tmp_path: Path) -> None:
    tcg = qemu_argv(config(tmp_path), binary="qemu", kvm=False, qmp_socket=tmp_path / "q.sock")
    kvm = qemu_argv(config(tmp_path), binary="qemu", kvm=True, qmp_socket=tmp_path / "q.sock", incoming=True)
    assert tcg[tcg.index("-machine") + 1] == "microvm,pit=on,pic=on,rtc=on"  # TCG needs the PIT to boot
    assert kvm[kvm.index("-accel") + 1] == "kvm" and kvm[kvm.index("-incoming") + 1] == "defer"
    assert ("tsc_early_khz=" in tcg[tcg.index("-append") + 1]) == (host_tsc_khz() is not None)
    assert "tsc_early_khz=" not in kvm[kvm.index("-append") + 1]


def test_kernel_cmdline_adds_the_root_device_once(tmp_path: Path) -> None:
    assert "root=/dev/vda rw" in kernel_cmdline(config(tmp_path), tcg=False)
    given = config(tmp_path, boot_args="console=ttyS0 root=/dev/vdb ro")
    assert kernel_cmdline(given, tcg=False) == "console=ttyS0 root=/dev/vdb ro"
    ro_root = config(tmp_path, disks=(DiskAttachment("rootfs", tmp_path / "root.img", is_root=True, read_only=True),))
    assert kernel_cmdline(ro_root, tcg=False).endswith("root=/dev/vda ro")


def test_disk_format_detection(tmp_path: Path) -> None:
    (tmp_path / "q").write_bytes(b"QFI\xfb\x00\x00\x00\x03")
    (tmp_path / "r").write_bytes(b"\x00" * 8)
    assert disk_format(tmp_path / "q") == "qcow2"
    assert disk_format(tmp_path / "r") == "raw"
    assert disk_format(tmp_path / "missing") == "raw"
