"""Build (and cache) the small guest that the tests and the demo boot: `scripts/build-guest.py` on the command
line, `switchboard.demo` for the demo's template. Standard library only.

The guest is three files in a cache directory (the script's default `<repo>/.cache/guest/`, the demo's
`<data dir>/demo/guest/`; $SWITCHBOARD_GUEST_DIR for both):

* `vmlinux`      - the current Debian kernel (`linux-image-amd64`'s dependency) as an uncompressed ELF, which
                   Firecracker and QEMU `microvm` boot directly through its PVH entry point;
* `initrd.img`   - a gzip'd cpio with busybox and the kernel modules the Debian kernel lacks built in
                   (virtio-mmio, virtio-blk, virtio-net, ext4); it loads them, mounts the root disk and
                   hands over to the root disk's init. Firecracker and QEMU both take it as the initrd;
* `rootfs.ext4`  - a busybox-static ext4 root disk (made with `mkfs.ext4 -d`, no mount). Its init mounts
                   proc/sys, configures eth0 from the kernel command line (`ip=` in the kernel's format, or
                   `sb.ip=ADDR/PREFIX sb.gw=GW`), reads a config drive when one is attached (see below),
                   prints `SWITCHBOARD-GUEST-BOOTED`, runs a shell on the console, and powers off cleanly
                   on Ctrl-Alt-Del (busybox init's `::ctrlaltdel:` action).

Config drive (the agent's way of passing SSH keys and user data, CloudStack's layout): the guest mounts
the ISO 9660 disk that holds `cloudstack/`, installs `metadata/public-keys.txt` as root's
`authorized_keys` (printing `SWITCHBOARD-GUEST-SSH-KEY <key>` per key), prints
`SWITCHBOARD-GUEST-USER-DATA <bytes> sha256=<hex>` for its user data and, when the user data is a script
(`#!`), runs it once per boot and prints `SWITCHBOARD-GUEST-USER-DATA-RAN rc=<status>`.

`manifest.json` names the files and the boot arguments to use. A build is skipped when `stamp` matches the
hash of the inputs (this module, the busybox binary) and the manifest names the kernel package apt currently
offers, so building again is cheap (`check_kernel=False`, the script's `--no-kernel-check`, skips asking
apt). A file lock serialises concurrent builds. Needs: apt-get (download only), dpkg-deb, depmod (kmod),
busybox-static, mkfs.ext4 (e2fsprogs); BuildError names what is missing otherwise.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BOOT_ARGS", "BOOT_MARKER", "BUILD_TOOLS", "BuildError", "GuestArtifacts", "build", "cached",
           "missing_tools"]

BUSYBOX = Path("/bin/busybox")
ROOTFS_SIZE_MIB = 64
BOOT_MARKER = "SWITCHBOARD-GUEST-BOOTED"
# The kernel command line to boot this guest with (VMM drivers add root= and the like). mitigations=off:
# a throwaway test guest gains about a fifth of its boot time under TCG.
BOOT_ARGS = "console=ttyS0 reboot=k panic=1 pci=off mitigations=off"
# Module names, loaded in this order after their dependencies (resolved from modules.dep).
MODULES = ("virtio_mmio", "virtio_blk", "virtio_net", "crc32c_generic", "ext4", "isofs")


class BuildError(RuntimeError):
    """A tool is missing or a build step failed; the message says which and what to install."""


@dataclass(frozen=True)
class GuestArtifacts:
    """Paths of a built guest. `boot_args` is a working kernel command line without root=/ip= parts."""

    kernel: Path
    initrd: Path
    rootfs: Path
    boot_args: str
    marker: str


def _run(cmd: list[str], *, cwd: Path | None = None) -> str:
    tool = cmd[0]
    if shutil.which(tool) is None:
        raise BuildError(f"{tool} not found; install it (apt-get install: see scripts/ci-deps.sh)")
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return proc.stdout


def kernel_package() -> str:
    """The versioned kernel package `linux-image-amd64` depends on, per the local apt cache (refreshed
    with `apt-get update` once if the cache does not know the package, as on a fresh machine)."""
    for attempt in range(2):
        try:
            out = _run(["apt-cache", "depends", "linux-image-amd64"])
        except BuildError:
            out = ""
        match = re.search(r"Depends:\s*(linux-image-\S+-amd64)", out)
        if match:
            return match.group(1)
        if attempt == 0:
            _run(["apt-get", "update", "-qq"])
    raise BuildError(f"cannot tell which kernel linux-image-amd64 depends on: {out.strip()!r}")


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_stamp() -> str:
    """Hash of the local build inputs (this script, busybox). The kernel package is checked separately
    because asking apt costs a second or more."""
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} not found; install busybox-static")
    parts = [_file_digest(Path(__file__)), _file_digest(BUSYBOX), str(ROOTFS_SIZE_MIB)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def extract_vmlinux(bzimage: bytes) -> bytes:
    """The ELF inside a bzImage: Debian compresses it with xz; decompress from the xz magic onwards."""
    offset = bzimage.find(b"\xfd7zXZ\x00")
    if offset < 0:
        raise BuildError("no xz stream in the kernel image")
    # The stream is followed by padding and the setup trailer: decompress just the first stream.
    elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[offset:])
    if not elf.startswith(b"\x7fELF"):
        raise BuildError("the decompressed kernel is not an ELF file")
    return elf


def _module_order(moddir: Path) -> list[str]:
    """Relative .ko paths for MODULES and their dependencies, dependencies first."""
    deps: dict[str, list[str]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        target, _, rest = line.partition(":")
        deps[target] = rest.split()
    by_name = {Path(p).name.removesuffix(".ko"): p for p in deps}
    order: list[str] = []

    def visit(path: str) -> None:
        # modules.dep lists the transitive closure, deepest last: load it back to front.
        for dep in reversed(deps[path]):
            if dep not in order:
                order.append(dep)
        if path not in order:
            order.append(path)

    for name in MODULES:
        if name not in by_name:
            raise BuildError(f"kernel module {name} not found in the kernel package")
        visit(by_name[name])
    return order


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _install_busybox(root: Path) -> None:
    for sub in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run", "etc", "root"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    applets = _run([str(BUSYBOX), "--list-full"]).split()
    for applet in applets:
        link = root / applet
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(root / "bin/busybox", link.parent))


def _cpio_newc(root: Path) -> bytes:
    """A newc cpio archive of `root` (cpio is not installed everywhere; the format is simple)."""
    out = bytearray()
    ino = 1

    def entry(name: str, mode: int, data: bytes, rdev: tuple[int, int] = (0, 0)) -> None:
        nonlocal ino
        encoded = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))
        ino += 1

    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            entry(rel, st.st_mode, os.readlink(path).encode())
        elif stat.S_ISDIR(st.st_mode):
            entry(rel, st.st_mode, b"")
        else:
            entry(rel, st.st_mode, path.read_bytes())
    # /dev/console must exist before init runs for the kernel to open it.
    entry("dev/console", stat.S_IFCHR | 0o600, b"", rdev=(5, 1))
    entry("TRAILER!!!", 0, b"")
    return bytes(out)


INITRD_INIT = r"""#!/bin/busybox sh
# Load the drivers the Debian kernel builds as modules, mount the root disk, hand over to its init.
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
cmdline=$(cat /proc/cmdline)
mmio=""; root=/dev/vda; fstype=ext4; mode=rw
for arg in $cmdline; do
  case "$arg" in
    virtio_mmio.device=*) mmio="$mmio device=${arg#virtio_mmio.device=}" ;;
    root=*) root="${arg#root=}" ;;
    rootfstype=*) fstype="${arg#rootfstype=}" ;;
    ro) mode=ro ;;
    rw) mode=rw ;;
  esac
done
while read -r mod; do
  case "$mod" in
    */virtio_mmio.ko) insmod "/lib/modules/$mod" $mmio ;;
    *) insmod "/lib/modules/$mod" ;;
  esac
done < /lib/modules/load.order
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
mkdir -p /newroot
if ! mount -t "$fstype" -o "$mode" "$root" /newroot; then
  echo "SWITCHBOARD-GUEST-ERROR cannot mount root $root"; poweroff -f
fi
umount /proc /sys; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
"""

INITTAB = """::sysinit:/etc/init.d/rcS
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/poweroff
::shutdown:/bin/sh -c 'echo SWITCHBOARD-GUEST-SHUTDOWN; sync; umount -a -r'
"""

RCS = r"""#!/bin/sh
# Guest boot: mounts, network from the kernel command line, then the boot marker.
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
hostname switchboard-guest
ip link set lo up
addr=""; gw=""; dev=eth0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    sb.ip=*) addr="${arg#sb.ip=}" ;;
    sb.gw=*) gw="${arg#sb.gw=}" ;;
    sb.hostname=*) hostname "${arg#sb.hostname=}" ;;
    ip=*)
      # Kernel format: ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>
      IFS=: read -r c _ g m h d _ <<EOF
${arg#ip=}
EOF
      [ -n "$c" ] && [ -n "$m" ] && addr="$c/$(ipcalc -p "$c" "$m" | cut -d= -f2)"
      [ -n "$c" ] && [ -z "$m" ] && addr="$c/24"
      [ -n "$g" ] && gw="$g"
      [ -n "$h" ] && hostname "$h"
      [ -n "$d" ] && dev="$d" ;;
  esac
done
if [ -e "/sys/class/net/$dev" ]; then
  ip link set "$dev" up
  [ -n "$addr" ] && ip addr add "$addr" dev "$dev"
  [ -n "$gw" ] && ip route add default via "$gw"
  echo "SWITCHBOARD-GUEST-NET $dev ${addr:-none} gw=${gw:-none}"
fi
# A config drive (ISO 9660, CloudStack's layout, as cloud-init reads it): SSH keys and user data.
drive=/run/config-drive; mkdir -p "$drive"
for disk in /dev/vd[b-z]; do
  [ -b "$disk" ] || continue
  mount -t iso9660 -o ro "$disk" "$drive" 2>/dev/null || continue
  if [ ! -d "$drive/cloudstack" ]; then umount "$drive"; continue; fi
  keys="$drive/cloudstack/metadata/public-keys.txt"
  if [ -s "$keys" ]; then
    mkdir -p /root/.ssh && chmod 700 /root/.ssh
    cp "$keys" /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
    while read -r key; do [ -n "$key" ] && echo "SWITCHBOARD-GUEST-SSH-KEY $key"; done < /root/.ssh/authorized_keys
  fi
  ud="$drive/cloudstack/userdata/user_data.txt"
  if [ -s "$ud" ]; then
    echo "SWITCHBOARD-GUEST-USER-DATA $(wc -c < "$ud") sha256=$(sha256sum "$ud" | cut -d' ' -f1)"
    if [ "$(head -c 2 "$ud")" = "#!" ]; then
      cp "$ud" /run/user-data && chmod 700 /run/user-data
      /run/user-data; echo "SWITCHBOARD-GUEST-USER-DATA-RAN rc=$?"
    fi
  fi
  umount "$drive"
  break
done
sync
echo "SWITCHBOARD-GUEST-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
"""


def _build_initrd(pkgroot: Path, version: str, work: Path) -> bytes:
    moddir = pkgroot / "lib/modules" / version
    _run(["depmod", "-b", str(pkgroot), version])
    order = _module_order(moddir)
    root = work / "initrd"
    _install_busybox(root)
    for rel in order:
        dest = root / "lib/modules" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(moddir / rel, dest)
    _write(root / "lib/modules/load.order", "\n".join(order) + "\n")
    _write(root / "init", INITRD_INIT, 0o755)
    return gzip.compress(_cpio_newc(root), compresslevel=6, mtime=0)


def _build_rootfs(work: Path, dest: Path) -> None:
    root = work / "rootfs"
    _install_busybox(root)
    (root / "sbin/init").unlink()
    (root / "sbin/init").symlink_to("../bin/busybox")
    _write(root / "etc/inittab", INITTAB)
    _write(root / "etc/init.d/rcS", RCS, 0o755)
    _write(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    _write(root / "etc/group", "root:x:0:\n")
    _write(root / "etc/hostname", "switchboard-guest\n")
    dest.unlink(missing_ok=True)
    _run(["mkfs.ext4", "-q", "-F", "-L", "sbroot", "-d", str(root), str(dest), f"{ROOTFS_SIZE_MIB}M"])


def _load(directory: Path) -> GuestArtifacts:
    manifest = json.loads((directory / "manifest.json").read_text())
    return GuestArtifacts(
        kernel=directory / manifest["kernel"],
        initrd=directory / manifest["initrd"],
        rootfs=directory / manifest["rootfs"],
        boot_args=manifest["boot_args"],
        marker=manifest["marker"],
    )


def _is_current(directory: Path, stamp: str, package: str | None) -> bool:
    stamp_file = directory / "stamp"
    manifest = directory / "manifest.json"
    if not (stamp_file.exists() and manifest.exists() and stamp_file.read_text().strip() == stamp):
        return False
    return package is None or json.loads(manifest.read_text()).get("kernel_package") == package


def build(directory: Path, *, force: bool = False, check_kernel: bool = True, log: bool = False) -> GuestArtifacts:
    """Build the guest into `directory` unless it is current; return its paths.

    With `check_kernel=False` a cached guest is reused without asking apt whether a newer kernel package
    exists (saves about a second). Raises BuildError when a tool is missing or a step fails. Safe to call
    from concurrent processes (a file lock serialises builds).
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = input_stamp()
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _is_current(directory, stamp, None):
            if not check_kernel:
                return _load(directory)
            package = kernel_package()
            if _is_current(directory, stamp, package):
                return _load(directory)
        else:
            package = kernel_package()
        (directory / "stamp").unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as tmp:
            work = Path(tmp)
            if log:
                print(f"downloading {package}", file=sys.stderr)
            _run(["apt-get", "download", package], cwd=work)
            debs = list(work.glob(f"{package}_*.deb"))
            if len(debs) != 1:
                raise BuildError(f"apt-get download {package} produced {debs}")
            pkgroot = work / "pkg"
            _run(["dpkg-deb", "-x", str(debs[0]), str(pkgroot)])
            version = package.removeprefix("linux-image-")
            vmlinuz = pkgroot / "boot" / f"vmlinuz-{version}"
            if log:
                print("extracting vmlinux, building initrd and root disk", file=sys.stderr)
            (work / "vmlinux").write_bytes(extract_vmlinux(vmlinuz.read_bytes()))
            (work / "initrd.img").write_bytes(_build_initrd(pkgroot, version, work))
            _build_rootfs(work, work / "rootfs.ext4")
            for name in ("vmlinux", "initrd.img", "rootfs.ext4"):
                os.replace(work / name, directory / name)
            manifest = {
                "kernel": "vmlinux",
                "initrd": "initrd.img",
                "rootfs": "rootfs.ext4",
                "boot_args": BOOT_ARGS,
                "marker": BOOT_MARKER,
                "kernel_package": package,
            }
            _write(directory / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        _write(directory / "stamp", stamp + "\n")
    return _load(directory)


# The tools a build runs (name → the Debian package that has it).
BUILD_TOOLS = {"apt-get": "apt", "dpkg-deb": "dpkg", "depmod": "kmod", "mkfs.ext4": "e2fsprogs"}


def missing_tools() -> list[str]:
    """Debian packages a build needs that are missing here (busybox must be the static one: it is copied into
    the guest)."""
    missing = sorted({package for tool, package in BUILD_TOOLS.items() if shutil.which(tool) is None})
    if not _is_static(BUSYBOX):
        missing.append("busybox-static")
    return missing


def _is_static(path: Path) -> bool:
    """Whether `path` is a 64-bit little-endian ELF executable without a program interpreter (PT_INTERP)."""
    try:
        with path.open("rb") as elf:
            head = elf.read(64)
            if len(head) < 64 or not head.startswith(b"\x7fELF\x02\x01"):
                return False
            (phoff,) = struct.unpack_from("<Q", head, 0x20)
            entry_size, count = struct.unpack_from("<HH", head, 0x36)
            elf.seek(phoff)
            table = elf.read(entry_size * count)
    except OSError:
        return False
    return all(struct.unpack_from("<I", table, i * entry_size)[0] != 3 for i in range(count))  # 3: PT_INTERP


def cached(directory: Path) -> GuestArtifacts | None:
    """The guest already built in `directory` by these inputs, without asking apt; None when there is none."""
    try:
        if _is_current(directory, input_stamp(), None):
            return _load(directory)
    except (BuildError, OSError, ValueError, KeyError):
        return None
    return None
