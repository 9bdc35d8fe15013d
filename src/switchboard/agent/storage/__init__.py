"""Storage backends and their registry.

`create_storage(name, options, templates=...)` builds the backend the host config (section
`defaults.storage`, original key names) or a template/offering detail asks for. Names:

* `file` — disks as files (`FileStorage`).
    - `volume_dir` (default `/var/lib/firecracker/volumes`): where `<vm>/root.img` and `<vm>/data<N>.img`
      live; for reflink it must be on the same XFS/btrfs filesystem as the image directory.
    - `size` (default: the template image's own size): root disk size when the request gives none, as
      bytes or a string such as `"20G"`. A requested size never shrinks a disk below its image.
    - `reflink` (default `auto`): `auto` | `always` (fail if the filesystem cannot) | `never`.
* `lvm` — one logical volume per disk (`LvmStorage`).
    - `vg` or `volume_group` (required): the volume group.
    - `size` (default: the image's size, at least 1 GiB like the original): root LV size.
    - `lv_prefix` (default `vm-`): LVs are `<prefix><vm>` (root) and `<prefix><vm>_data<N>`.
    - `wipe` (default true): zero what the image does not cover, so no earlier tenant's data is readable.
* `lvm-thin` (alias `lvmthin`, the original's name) — thin snapshots of per-template base volumes
  (`LvmThinStorage`).
    - `vg`/`volume_group` and `thinpool` (required): the volume group and its thin pool LV.
    - `size`, `lv_prefix` as for `lvm`; base volumes are `base-<sha256 prefix>`.

Unknown keys (for instance `driver`, or another backend's keys) are ignored, so one config section can
carry the keys of several backends. A bad value raises `InvalidRequest`; an unknown name raises
`UnknownBackend`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.agent.storage.base import StorageBackend, StorageError
from switchboard.agent.storage.params import InvalidRequest, option, parse_size

if TYPE_CHECKING:  # templates imports storage.base, which loads this package: avoid the cycle at run time
    from switchboard.agent.templates import TemplateStore

__all__ = ["InvalidRequest", "StorageBackend", "StorageError", "UnknownBackend", "create_storage", "names"]

DEFAULT_VOLUME_DIR = "/var/lib/firecracker/volumes"


class UnknownBackend(StorageError):
    """No storage backend has the requested name."""


def _file(options: Mapping[str, Any], templates: TemplateStore) -> StorageBackend:
    from switchboard.agent.storage.file import FileStorage

    return FileStorage(
        Path(option(options, "volume_dir", default=DEFAULT_VOLUME_DIR)),
        templates=templates,
        default_size=parse_size(option(options, "size")),
        reflink=str(option(options, "reflink", default="auto")),
    )


def _lvm(options: Mapping[str, Any], templates: TemplateStore) -> StorageBackend:
    from switchboard.agent.storage.lvm import LvmStorage

    return LvmStorage(
        _vg(options),
        templates=templates,
        default_size=parse_size(option(options, "size")),
        lv_prefix=str(option(options, "lv_prefix", default="vm-")),
        wipe=bool(option(options, "wipe", default=True)),
    )


def _lvm_thin(options: Mapping[str, Any], templates: TemplateStore) -> StorageBackend:
    from switchboard.agent.storage.lvmthin import LvmThinStorage

    pool = option(options, "thinpool", "thin_pool")
    if not pool:
        raise InvalidRequest("lvm-thin storage needs `thinpool` (the thin pool LV in the volume group)")
    return LvmThinStorage(
        _vg(options),
        str(pool),
        templates=templates,
        default_size=parse_size(option(options, "size")),
        lv_prefix=str(option(options, "lv_prefix", default="vm-")),
    )


def _vg(options: Mapping[str, Any]) -> str:
    vg = option(options, "vg", "volume_group")
    if not vg:
        raise InvalidRequest("lvm storage needs `vg` (or `volume_group`): the volume group to use")
    return str(vg)


_REGISTRY: dict[str, Callable[[Mapping[str, Any], TemplateStore], StorageBackend]] = {
    "file": _file,
    "lvm": _lvm,
    "lvm-thin": _lvm_thin,
    "lvmthin": _lvm_thin,
}


def names() -> list[str]:
    """Every accepted backend name (aliases included)."""
    return sorted(_REGISTRY)


def create_storage(name: str, options: Mapping[str, Any], *, templates: TemplateStore) -> StorageBackend:
    """Build the storage backend `name` from config `options` (keys above). Raises UnknownBackend or
    InvalidRequest; backends touch the host only lazily, except creating `volume_dir` for `file`."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UnknownBackend(f"unknown storage backend {name!r} (one of {', '.join(names())})") from None
    return factory(options, templates)
