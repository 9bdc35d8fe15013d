"""QEMU `microvm` command lines for a LaunchConfig (used by the qemu driver and the Firecracker stand-in).

Choices that matter:
* `microvm` with `pit=on,pic=on,rtc=on`: under TCG the default microvm has no PIT, and a Debian kernel then
  cannot calibrate its TSC and hangs before userspace.
* Under TCG the guest's TSC is the host's, so `tsc_early_khz=<host TSC kHz>` is added to the kernel command
  line: the kernel's own PIT calibration fails now and then on a busy host, which hangs the boot.
* An `i8042` keyboard controller, so that Ctrl-Alt-Del (QMP `send-key`) reaches the guest and `reboot=k`
  resets, as on Firecracker.
* `-no-reboot`: a guest reset ends the process, as Firecracker does; the supervisor restarts it.
* The kernel is booted directly (PVH `vmlinux` or bzImage); disks and NICs are virtio-mmio devices, root
  disk first so that it is `/dev/vda`.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
from pathlib import Path

from switchboard.agent.model import LaunchConfig

__all__ = ["disk_format", "host_tsc_khz", "kernel_cmdline", "kvm_usable", "qemu_argv"]

_KVM_GET_API_VERSION = 0xAE00
_QCOW2_MAGIC = b"QFI\xfb"


@functools.cache
def kvm_usable() -> bool:
    """Whether KVM can run an ordinary guest: /dev/kvm answers and the CPU has VMX or SVM.

    Hosts whose /dev/kvm is a paravirtual KVM (kvm_pvm, no VMX/SVM) cannot boot stock kernels, so they count
    as not usable. Probed once per process."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if fcntl.ioctl(fd, _KVM_GET_API_VERSION) != 12:
            return False
    except OSError:
        return False
    finally:
        os.close(fd)
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(r"^flags\s*:.*\b(vmx|svm)\b", flags, re.MULTILINE) is not None


@functools.cache
def host_tsc_khz() -> int | None:
    """The host's TSC frequency in kHz when it is constant (`constant_tsc`), from /proc/cpuinfo; else None."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    mhz = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", info, re.MULTILINE)
    if mhz is None or re.search(r"^flags\s*:.*\bconstant_tsc\b", info, re.MULTILINE) is None:
        return None
    return round(float(mhz.group(1)) * 1000)


def disk_format(path: Path) -> str:
    """Return "qcow2" when the file starts with the qcow2 magic, else "raw" (block devices are raw)."""
    try:
        with path.open("rb") as fh:
            return "qcow2" if fh.read(4) == _QCOW2_MAGIC else "raw"
    except OSError:
        return "raw"


def kernel_cmdline(config: LaunchConfig, *, tcg: bool) -> str:
    """The boot arguments plus what the VMM must add: the root device, and the TSC frequency under TCG."""
    args = config.boot_args.split()
    root = next((d for d in config.disks if d.is_root), None)
    if root is not None and not any(a.startswith("root=") for a in args):
        args += ["root=/dev/vda", "ro" if root.read_only else "rw"]
    khz = host_tsc_khz()
    if tcg and khz and not any(a.startswith("tsc_early_khz=") for a in args):
        args.append(f"tsc_early_khz={khz}")
    return " ".join(args)


def qemu_argv(
    config: LaunchConfig,
    *,
    binary: str,
    kvm: bool,
    qmp_socket: Path,
    initrd: Path | None = None,
    no_shutdown: bool = False,
    incoming: bool = False,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The full QEMU command line. The VM starts paused (`-S`); the caller sends `cont` over QMP.

    `no_shutdown` keeps QEMU alive after a guest poweroff (Firecracker's behaviour on x86); `incoming`
    waits for a migration stream (`migrate-incoming`) instead of booting."""
    machine = "microvm,pit=on,pic=on,rtc=on" if not kvm else "microvm"
    argv = [
        binary,
        "-name", config.name,
        "-machine", machine,
        "-accel", "kvm" if kvm else "tcg",
        "-cpu", "host" if kvm else "max",
        "-m", f"{config.memory_mib}M",
        "-smp", str(config.vcpus),
        "-nodefaults", "-no-user-config", "-display", "none",
        "-serial", "stdio",
        "-no-reboot",
        "-device", "i8042",
        "-kernel", str(config.kernel),
        "-append", kernel_cmdline(config, tcg=not kvm),
        "-qmp", f"unix:{qmp_socket},server=on,wait=off",
        "-S",
    ]  # fmt: skip
    initrd = config.initrd or initrd
    if initrd is not None:
        argv += ["-initrd", str(initrd)]
    # Root disk first: virtio-mmio devices are probed in order, so it becomes /dev/vda.
    for disk in sorted(config.disks, key=lambda d: not d.is_root):
        drive = f"id={disk.drive_id},file={_escape(str(disk.path))},format={disk_format(disk.path)},if=none"
        drive += ",cache=writeback"
        if disk.read_only:
            drive += ",readonly=on"
        argv += ["-drive", drive, "-device", f"virtio-blk-device,drive={disk.drive_id}"]
    for nic in config.nics:
        device = f"virtio-net-device,netdev={nic.iface_id},mac={nic.mac}"
        if nic.mtu != 1500:
            device += f",host_mtu={nic.mtu}"  # offered to the guest driver (VIRTIO_NET_F_MTU)
        argv += [
            "-netdev", f"tap,id={nic.iface_id},ifname={nic.tap},script=no,downscript=no",
            "-device", device,
        ]  # fmt: skip
    if no_shutdown:
        argv.append("-no-shutdown")
    if incoming:
        argv += ["-incoming", "defer"]
    return argv + list(extra)


def _escape(value: str) -> str:
    # QEMU option values separate keys with ','; a literal comma is written twice.
    return value.replace(",", ",,")
