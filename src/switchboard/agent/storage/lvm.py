"""The `lvm` storage backend: one thick logical volume per disk.

The root LV (`<prefix><vm>`, the original's `vm-<vm>`) is created at the requested size, the template
image is written into it with `qemu-img convert -n` (raw or qcow2 alike; zero runs are written as
zero-writes/discards rather than data), the area past the image is zeroed so no previous tenant's data is
readable (`blkdiscard --zeroout`; `wipe: false` skips this on trusted hosts), and an ext filesystem is
grown to fill the LV. Data disks are `<prefix><vm>_data<N>`, zeroed whole.

Refusals come before any change: a missing volume group, too little free space, or an existing LV of the
same name that this agent did not create (no `switchboard` tag). A failure after `lvcreate` removes that
LV and nothing else.
"""

from __future__ import annotations

import logging
from pathlib import Path

from switchboard.agent.errors import BackendError
from switchboard.agent.hostcmd import CommandRunner, SubprocessRunner, check
from switchboard.agent.model import TemplateRef, Volume
from switchboard.agent.storage import fsgrow
from switchboard.agent.storage.lvmcli import LvInfo, Lvm, LvmError
from switchboard.agent.storage.params import InvalidRequest, check_vm_name, round_up
from switchboard.agent.templates import ResolvedTemplate, TemplateStore

log = logging.getLogger(__name__)

MIN_ROOT = 1 << 30  # the original's default LV size, kept as the floor when nothing else is asked for


class LvmStorage:
    """Thick LVs in volume group `vg`. `default_size` (bytes) applies when a request names no size;
    without it the root LV is the image's size, at least 1 GiB."""

    name = "lvm"
    capabilities = frozenset({"resize", "qcow2", "data-disks", "block"})

    def __init__(
        self,
        vg: str,
        *,
        templates: TemplateStore,
        runner: CommandRunner | None = None,
        default_size: int | None = None,
        lv_prefix: str = "vm-",
        wipe: bool = True,
    ) -> None:
        self.templates = templates
        self.lvm = Lvm(runner or SubprocessRunner(), vg)
        self._default_size = default_size
        self._prefix = lv_prefix
        self._wipe = wipe

    @property
    def runner(self) -> CommandRunner:
        return self.lvm.runner

    # -- StorageBackend ---------------------------------------------------------------------------

    def provision_root(self, vm: str, template: TemplateRef, *, size_bytes: int | None) -> Volume:
        """Create and fill the VM's root LV (see the module docstring). Idempotent for LVs this agent
        made; raises LvmError for refusals, CommandFailed for failed LVM/qemu-img/e2fsck calls."""
        name = self.lv_name(vm, "root")
        existing = self._existing(name, vm)
        if existing is not None:
            return self._volume(existing)
        resolved = self.templates.resolve(template)
        size = self._root_size(resolved, size_bytes)
        self._create_filled(name, vm, resolved, size)
        return self._volume(self._must(name))

    def provision_data(self, vm: str, index: int, *, size_bytes: int) -> Volume:
        """An empty, zeroed data LV of `size_bytes` (rounded up to whole extents). Idempotent."""
        if index < 1 or size_bytes <= 0:
            raise InvalidRequest(f"data disk needs index >= 1 and a positive size (got {index}, {size_bytes})")
        role = f"data{index}"
        name = self.lv_name(vm, role)
        existing = self._existing(name, vm)
        if existing is not None:
            return self._volume(existing)
        size = self._fit(size_bytes)
        self._create_empty(name, vm, role, size)
        return self._volume(self._must(name))

    def volumes(self, vm: str) -> list[Volume]:
        """The VM's LVs (by tag), root first."""
        check_vm_name(vm)
        mine = [lv for lv in self.lvm.lvs() if lv.tag_value("sb.vm") == vm]
        vols = [self._volume(lv) for lv in mine]
        return sorted(vols, key=lambda v: (v.role != "root", len(v.role), v.role))

    def delete(self, vm: str) -> None:
        """Remove every LV tagged as this VM's. Base volumes and foreign LVs are never touched."""
        check_vm_name(vm)
        for lv in self.lvm.lvs():
            if lv.tag_value("sb.vm") == vm:
                self.lvm.remove(lv.name)

    def owners(self) -> set[str]:
        """VM names that own at least one LV in the volume group."""
        return {vm for lv in self.lvm.lvs() if (vm := lv.tag_value("sb.vm"))}

    # -- shared with lvm-thin ---------------------------------------------------------------------

    def lv_name(self, vm: str, role: str) -> str:
        """`<prefix><vm>` for the root disk, `<prefix><vm>_<role>` for others (VM names have no `_`)."""
        if "_" in check_vm_name(vm):
            raise InvalidRequest(f"VM name {vm!r} cannot be used with LVM storage ('_' is reserved)")
        return f"{self._prefix}{vm}" if role == "root" else f"{self._prefix}{vm}_{role}"

    def _existing(self, name: str, vm: str) -> LvInfo | None:
        lv = self.lvm.lv(name)
        if lv is not None and lv.tag_value("sb.vm") != vm:
            raise LvmError(f"logical volume {self.lvm.vg}/{name} exists but is not this VM's; left untouched")
        return lv

    def _must(self, name: str) -> LvInfo:
        lv = self.lvm.lv(name)
        if lv is None:
            raise LvmError(f"logical volume {self.lvm.vg}/{name} vanished after creation")
        return lv

    def _volume(self, lv: LvInfo) -> Volume:
        return Volume(
            vm=lv.tag_value("sb.vm") or "",
            role=lv.tag_value("sb.role") or "root",
            path=Path(lv.path),
            size_bytes=lv.size,
            backend=self.name,
        )

    def _root_size(self, resolved: ResolvedTemplate, size_bytes: int | None) -> int:
        wanted = size_bytes if size_bytes is not None else self._default_size
        if wanted is None:
            wanted = max(resolved.virtual_size, MIN_ROOT)
        return max(wanted, resolved.virtual_size)

    def _fit(self, size: int) -> int:
        """`size` rounded up to whole extents, refused if the VG lacks the space."""
        vg = self.lvm.vg_info()
        size = round_up(size, vg.extent_size)
        if size > vg.free:
            raise LvmError(f"volume group {vg.name!r} has {vg.free} bytes free, {size} needed")
        return size

    def _tags(self, vm: str, role: str) -> list[str]:
        return [f"sb.vm={vm}", f"sb.role={role}"]

    def _create_filled(self, name: str, vm: str, resolved: ResolvedTemplate, size: int) -> None:
        size = self._fit(size)
        self.lvm.create(name, size=size, tags=self._tags(vm, "root"))
        try:
            path = self._must(name).path
            self._write_image(resolved, path)
            if self._wipe and size > resolved.virtual_size:
                self._zero(path, offset=resolved.virtual_size, length=size - resolved.virtual_size)
            if size > resolved.virtual_size:
                fsgrow.grow(self.runner, path)
        except BaseException:
            self._undo(name)
            raise

    def _create_empty(self, name: str, vm: str, role: str, size: int) -> None:
        self.lvm.create(name, size=size, tags=self._tags(vm, role))
        try:
            if self._wipe:
                self._zero(self._must(name).path, offset=0, length=size)
        except BaseException:
            self._undo(name)
            raise

    def _write_image(self, resolved: ResolvedTemplate, device: str) -> None:
        # -n: the target exists (the LV); qemu-img turns zero runs into write-zeroes/discards.
        fmt = resolved.image_format
        check(self.runner, ["qemu-img", "convert", "-n", "-f", fmt, "-O", "raw", str(resolved.image), device])

    def _zero(self, device: str, *, offset: int, length: int) -> None:
        check(self.runner, ["blkdiscard", "--zeroout", "-o", str(offset), "-l", str(length), device])

    def _undo(self, name: str) -> None:
        try:
            self.lvm.remove(name)
        except BackendError:  # LvmError or a failed lvremove
            log.exception("could not remove %s/%s after a failed create", self.lvm.vg, name)
