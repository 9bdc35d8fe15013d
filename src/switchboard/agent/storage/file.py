"""The `file` storage backend: each disk is a file under `volume_dir/<vm>/`.

Root disks are copies of the template that cost almost nothing: a reflink (shared extents) where the
filesystem supports it (XFS with reflink, btrfs), otherwise a sparse-aware copy. A qcow2 template is
converted once per image version into a sparse raw base under `volume_dir/.bases/`, under the template's
lock, and VMs are cloned from that base; so is a raw template on another filesystem when `volume_dir`
can reflink (one sparse copy per image version, then a reflink per VM). The copy is then grown to the
requested size and an ext filesystem in it is grown to match (see `fsgrow`).

Layout: `volume_dir/<vm>/root.img`, `volume_dir/<vm>/data<N>.img` (files 0600, directory 0700). A new
volume is built under a temporary name and published with `link()`, which fails rather than replace an
existing file, so a create never touches an existing volume and a failure removes only its own temporary
file (and the VM directory if this call created it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from switchboard.agent.hostcmd import CommandRunner, SubprocessRunner, check
from switchboard.agent.model import TemplateRef, Volume
from switchboard.agent.storage import clone, fsgrow
from switchboard.agent.storage.base import StorageError
from switchboard.agent.storage.params import InvalidRequest, check_vm_name, round_up
from switchboard.agent.templates import ResolvedTemplate, TemplateStore

log = logging.getLogger(__name__)

ROOT = "root"
_REFLINK_MODES = ("auto", "always", "never")


class FileStorage:
    """Disks as files. Thread-safe given the caller's per-VM lock; per-template work is locked here.

    `default_size` (bytes) is the root size when a request names none (None: the image's own size);
    `reflink` is "auto" (reflink, else sparse copy), "always" (fail without reflink) or "never".
    """

    name = "file"

    def __init__(
        self,
        volume_dir: Path,
        *,
        templates: TemplateStore,
        runner: CommandRunner | None = None,
        default_size: int | None = None,
        reflink: str = "auto",
    ) -> None:
        if reflink not in _REFLINK_MODES:
            raise InvalidRequest(f"reflink must be one of {', '.join(_REFLINK_MODES)}, got {reflink!r}")
        self.volume_dir = Path(volume_dir)
        self.templates = templates
        self._runner = runner or SubprocessRunner()
        self._default_size = default_size
        self._reflink = reflink
        self.volume_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._bases = self.volume_dir / ".bases"
        self.last_method: str | None = None  # how the last root disk was copied (for logs and tests)
        caps = {"resize", "sparse", "qcow2", "data-disks"}
        if reflink != "never" and _can_reflink(self.volume_dir):
            caps.add("reflink")
        self.capabilities = frozenset(caps)

    # -- StorageBackend ---------------------------------------------------------------------------

    def provision_root(self, vm: str, template: TemplateRef, *, size_bytes: int | None) -> Volume:
        """Create `volume_dir/<vm>/root.img` from `template`, grown to `size_bytes` (never below the
        image's virtual size). Returns the existing volume untouched if there is one. Raises
        TemplateError subclasses for template problems, InvalidRequest, CommandFailed or StorageError."""
        path = self._path(vm, ROOT)
        if path.exists():
            return self._volume(vm, ROOT, path)
        resolved = self.templates.resolve(template)
        wanted = size_bytes if size_bytes is not None else self._default_size
        size = round_up(max(wanted or 0, resolved.virtual_size), 512)
        with self._new_volume(vm, ROOT) as (fd, tmp):
            with self._open_base(resolved) as src_fd:
                method = clone.clone_into(src_fd, fd, reflink=self._reflink != "never")
            if method != "reflink" and self._reflink == "always":
                raise StorageError(f"{self.volume_dir} does not support reflink copies (reflink=always)")
            if size > os.fstat(fd).st_size:
                os.ftruncate(fd, size)
                os.fsync(fd)
                fsgrow.grow(self._runner, tmp)
            self.last_method = method
            log.info("root disk for %s from %s by %s, %d bytes", vm, resolved.name, method, size)
        return self._volume(vm, ROOT, path)

    def provision_data(self, vm: str, index: int, *, size_bytes: int) -> Volume:
        """Create an empty sparse `data<index>.img` of `size_bytes` (rounded up to 512). Idempotent."""
        if index < 1 or size_bytes <= 0:
            raise InvalidRequest(f"data disk needs index >= 1 and a positive size (got {index}, {size_bytes})")
        role = f"data{index}"
        path = self._path(vm, role)
        if path.exists():
            return self._volume(vm, role, path)
        with self._new_volume(vm, role) as (fd, _tmp):
            os.ftruncate(fd, round_up(size_bytes, 512))
        return self._volume(vm, role, path)

    def volumes(self, vm: str) -> list[Volume]:
        """The VM's disks, root first, then data disks by index."""
        directory = self.volume_dir / check_vm_name(vm)
        if not directory.is_dir():
            return []
        found = []
        for p in directory.glob("*.img"):
            role = p.stem
            if role == ROOT or (role.startswith("data") and role[4:].isdigit()):
                found.append(self._volume(vm, role, p))
        return sorted(found, key=lambda v: (v.role != ROOT, len(v.role), v.role))

    def delete(self, vm: str) -> None:
        """Remove `volume_dir/<vm>/` (its volumes and any temporary leftovers of a crashed create)."""
        directory = self.volume_dir / check_vm_name(vm)
        if directory.is_symlink():
            directory.unlink()
        elif directory.is_dir():
            shutil.rmtree(directory)

    def owners(self) -> set[str]:
        """VM names that have a directory with at least one file here."""
        if not self.volume_dir.is_dir():
            return set()
        return {
            d.name for d in self.volume_dir.iterdir() if not d.name.startswith(".") and d.is_dir() and any(d.iterdir())
        }

    # -- helpers ----------------------------------------------------------------------------------

    def _path(self, vm: str, role: str) -> Path:
        return self.volume_dir / check_vm_name(vm) / f"{role}.img"

    def _volume(self, vm: str, role: str, path: Path) -> Volume:
        return Volume(vm=vm, role=role, path=path, size_bytes=path.stat().st_size, backend=self.name)

    @contextlib.contextmanager
    def _new_volume(self, vm: str, role: str) -> Iterator[tuple[int, Path]]:
        """Yield (fd, temp path) for a new volume; publish it as `<role>.img` on success without ever
        replacing an existing file; on failure remove only what was created here."""
        directory = self.volume_dir / check_vm_name(vm)
        made_dir = False
        try:
            directory.mkdir(mode=0o700)
            made_dir = True
        except FileExistsError:
            pass
        tmp = directory / f".{role}.{secrets.token_hex(4)}.tmp"
        final = directory / f"{role}.img"
        fd = -1
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            yield fd, tmp
            os.fsync(fd)
            try:
                os.link(tmp, final)  # atomic and never clobbers: EEXIST if someone else won
            except FileExistsError as exc:
                raise StorageError(f"volume {final} appeared during create; left untouched") from exc
        except BaseException:
            if made_dir:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                    directory.rmdir()  # only succeeds if nothing else appeared in it
            raise
        finally:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _open_base(self, resolved: ResolvedTemplate) -> Iterator[int]:
        """A read-only fd on the raw template to clone from: the image itself, or a base kept in
        `.bases/` (a qcow2 converted once; or, when this directory can reflink but the image lives on
        another filesystem, one sparse copy here that every VM then shares by reflink)."""
        if resolved.image_format != "raw":
            path = self._base(resolved, convert=True)
        elif "reflink" in self.capabilities and resolved.image.stat().st_dev != self.volume_dir.stat().st_dev:
            path = self._base(resolved, convert=False)
        else:
            path = resolved.image
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            yield fd
        finally:
            os.close(fd)

    def _base(self, resolved: ResolvedTemplate, *, convert: bool) -> Path:
        """`.bases/<image>-<key>.raw` for this image version, made once under the template's lock."""
        base = self._bases / f"{resolved.name}-{resolved.key}.raw"
        with self.templates.lock(f"file-{resolved.key}"):
            if base.exists():
                return base
            self._bases.mkdir(exist_ok=True, mode=0o700)
            tmp = self._bases / f".{base.name}.{secrets.token_hex(4)}.tmp"
            try:
                if convert:
                    # -S 4k: write zero runs as holes, so the base is as sparse as the qcow2 was small.
                    cmd = ["qemu-img", "convert", "-f", "qcow2", "-O", "raw", "-S", "4k"]
                    check(self._runner, [*cmd, str(resolved.image), str(tmp)])
                else:
                    src = os.open(resolved.image, os.O_RDONLY | os.O_CLOEXEC)
                    dst = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                    try:
                        clone.sparse_copy(src, dst)
                        os.fsync(dst)
                    finally:
                        os.close(src)
                        os.close(dst)
                os.chmod(tmp, 0o600)
                os.replace(tmp, base)
            finally:
                tmp.unlink(missing_ok=True)
            self._prune_bases(resolved.name, keep=base)
        return base

    def _prune_bases(self, image_name: str, *, keep: Path) -> None:
        # Older versions of the same image are no longer resolvable; fds already open keep working.
        for old in self._bases.glob(f"{image_name}-*.raw"):
            if old != keep and len(old.name) == len(keep.name):
                old.unlink(missing_ok=True)


def _can_reflink(directory: Path) -> bool:
    """Whether files in `directory` can share extents (a FICLONE between two scratch files there)."""
    try:
        with (
            tempfile.TemporaryFile(dir=directory) as a,
            tempfile.TemporaryFile(dir=directory) as b,
        ):
            a.write(b"\0" * 4096)
            a.flush()
            return clone.try_reflink(a.fileno(), b.fileno())
    except OSError:
        return False
