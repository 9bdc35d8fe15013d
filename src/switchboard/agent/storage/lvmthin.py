"""The `lvm-thin` storage backend: one thin base volume per template version, one thin snapshot per VM.

The base volume `base-<key>` (key: the first 16 hex digits of the image's SHA-256) is created once in
the thin pool under the template's lock, filled with `qemu-img convert -n` (unwritten thin blocks read as
zeros, so nothing else needs wiping), and made read-only. A replaced image has a new checksum, hence a new
base; older bases of the same image name are removed once the new one is ready (thin snapshots do not
depend on their origin staying around). Each VM's root disk is a writable snapshot of the base, extended
to the requested size, with its ext filesystem grown. Data disks are plain thin volumes.
"""

from __future__ import annotations

import logging

from switchboard.agent.errors import BackendError
from switchboard.agent.hostcmd import CommandRunner
from switchboard.agent.model import TemplateRef, Volume
from switchboard.agent.storage import fsgrow
from switchboard.agent.storage.lvm import LvmStorage
from switchboard.agent.storage.lvmcli import LvmError
from switchboard.agent.storage.params import round_up
from switchboard.agent.templates import ResolvedTemplate, TemplateStore

log = logging.getLogger(__name__)


class LvmThinStorage(LvmStorage):
    """Thin volumes in `vg/thinpool`. Sizes are virtual: the pool's free space is the admin's to watch."""

    name = "lvm-thin"
    capabilities = frozenset({"resize", "qcow2", "data-disks", "block", "thin"})

    def __init__(
        self,
        vg: str,
        thinpool: str,
        *,
        templates: TemplateStore,
        runner: CommandRunner | None = None,
        default_size: int | None = None,
        lv_prefix: str = "vm-",
    ) -> None:
        super().__init__(vg, templates=templates, runner=runner, default_size=default_size, lv_prefix=lv_prefix)
        self.thinpool = thinpool

    def provision_root(self, vm: str, template: TemplateRef, *, size_bytes: int | None) -> Volume:
        """Snapshot the template's base volume (creating it if needed) and grow it. Idempotent for this
        agent's LVs; raises LvmError (no pool, foreign LV) or CommandFailed."""
        name = self.lv_name(vm, "root")
        existing = self._existing(name, vm)
        if existing is not None:
            return self._volume(existing)
        resolved = self.templates.resolve(template)
        extent = self._check_pool()
        size = round_up(self._root_size(resolved, size_bytes), extent)
        base = self._base(resolved, extent)
        self.lvm.snapshot(base, name, tags=self._tags(vm, "root"))
        try:
            lv = self._must(name)
            if size > lv.size:
                self.lvm.extend(name, size=size)
                fsgrow.grow(self.runner, lv.path)
        except BaseException:
            self._undo(name)
            raise
        return self._volume(self._must(name))

    def provision_data(self, vm: str, index: int, *, size_bytes: int) -> Volume:
        """An empty thin volume (reads as zeros) of `size_bytes` rounded up to extents. Idempotent."""
        if index < 1 or size_bytes <= 0:
            return super().provision_data(vm, index, size_bytes=size_bytes)  # raises InvalidRequest
        role = f"data{index}"
        name = self.lv_name(vm, role)
        existing = self._existing(name, vm)
        if existing is not None:
            return self._volume(existing)
        size = round_up(size_bytes, self._check_pool())
        self.lvm.create(name, size=size, tags=self._tags(vm, role), thin_pool=self.thinpool)
        return self._volume(self._must(name))

    # -- base volumes -----------------------------------------------------------------------------

    def _check_pool(self) -> int:
        """The VG's extent size, after checking that the thin pool exists. Raises LvmError."""
        extent = self.lvm.vg_info().extent_size
        pool = self.lvm.lv(self.thinpool)
        if pool is None or not pool.is_thin_pool:
            raise LvmError(f"thin pool {self.lvm.vg}/{self.thinpool} not found on this host")
        return extent

    def _base(self, resolved: ResolvedTemplate, extent: int) -> str:
        """Name of the read-only base volume for this image version, created on first use."""
        name = f"base-{resolved.key}"
        with self.templates.lock(f"lvm-{self.lvm.vg}-{resolved.key}"):
            lv = self.lvm.lv(name)
            if lv is not None:
                if lv.tag_value("sb.base") != resolved.key:
                    raise LvmError(f"logical volume {self.lvm.vg}/{name} exists but is not a base volume")
                return name
            size = round_up(resolved.virtual_size, extent)
            tags = [f"sb.base={resolved.key}", f"sb.image={resolved.name}"]
            self.lvm.create(name, size=size, tags=tags, thin_pool=self.thinpool)
            try:
                self._write_image(resolved, self._must(name).path)
                self.lvm.set_read_only(name)
            except BaseException:
                self._undo(name)
                raise
            self._prune_bases(resolved, keep=name)
        return name

    def _prune_bases(self, resolved: ResolvedTemplate, *, keep: str) -> None:
        for lv in self.lvm.lvs():
            if lv.name != keep and lv.tag_value("sb.image") == resolved.name and lv.tag_value("sb.base"):
                try:
                    self.lvm.remove(lv.name)
                except BackendError:  # LvmError or a failed lvremove
                    log.warning("could not remove the outdated base volume %s/%s", lv.vg, lv.name)
