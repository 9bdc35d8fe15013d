"""A thin, typed layer over the LVM command line (`vgs`, `lvs`, `lvcreate`, `lvremove`, `lvextend`).

Reports are read with `--reportformat json --units b --nosuffix`, so sizes are exact byte counts and
nothing is scraped from human-readable output. Every command goes through a `CommandRunner`, which lets
the tests replay recorded outputs on machines without device-mapper.

Ownership is recorded in LV tags, not guessed from names: every LV the agent creates carries
`switchboard`, and `sb.vm=<vm>` + `sb.role=<role>` (VM disks) or `sb.base=<key>` + `sb.image=<name>`
(thin base volumes). Only tagged LVs are ever removed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.agent.hostcmd import CommandFailed, CommandRunner, check
from switchboard.agent.storage.base import StorageError

OWNER_TAG = "switchboard"
_REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"]
_LV_FIELDS = "lv_name,vg_name,lv_path,lv_size,lv_tags,pool_lv,origin,lv_attr"


class LvmError(StorageError):
    """The volume group or pool is missing or too small, or an LVM report was unreadable."""


@dataclass(frozen=True)
class VgInfo:
    """Sizes in bytes."""

    name: str
    size: int
    free: int
    extent_size: int


@dataclass(frozen=True)
class LvInfo:
    """One logical volume as `lvs` reports it. `size` in bytes; `tags` as a set."""

    name: str
    vg: str
    path: str
    size: int
    tags: frozenset[str]
    pool: str
    origin: str
    attr: str

    def tag_value(self, key: str) -> str | None:
        """The value of tag `key=value`, or None."""
        prefix = f"{key}="
        for tag in self.tags:
            if tag.startswith(prefix):
                return tag[len(prefix) :]
        return None

    @property
    def is_thin_pool(self) -> bool:
        return self.attr.startswith("t")


def _rows(stdout: str, kind: str) -> list[dict[str, str]]:
    try:
        report = json.loads(stdout)["report"]
        return [row for section in report for row in section.get(kind, [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise LvmError(f"unreadable LVM {kind} report") from exc


class Lvm:
    """LVM operations on one volume group."""

    def __init__(self, runner: CommandRunner, vg: str) -> None:
        self.runner = runner
        self.vg = vg

    def vg_info(self) -> VgInfo:
        """Size, free space and extent size of the volume group. Raises LvmError if it does not exist."""
        fields = "vg_name,vg_size,vg_free,vg_extent_size"
        result = self.runner.run(["vgs", *_REPORT, "-o", fields, self.vg], timeout=60)
        rows = _rows(result.stdout, "vg") if result.stdout.strip() else []
        if result.returncode != 0 or not rows:
            raise LvmError(f"volume group {self.vg!r} not found on this host")
        row = rows[0]
        return VgInfo(row["vg_name"], int(row["vg_size"]), int(row["vg_free"]), int(row["vg_extent_size"]))

    def lvs(self) -> list[LvInfo]:
        """Every LV in the volume group. Raises LvmError if the VG does not exist."""
        argv = ["lvs", *_REPORT, "-o", _LV_FIELDS, self.vg]
        result = self.runner.run(argv, timeout=60)
        if result.returncode != 0:
            self.vg_info()  # a missing VG gets its own clear error
            raise CommandFailed(argv, result.returncode, result.stderr)
        return [
            LvInfo(
                name=row["lv_name"],
                vg=row["vg_name"],
                path=row.get("lv_path") or f"/dev/{row['vg_name']}/{row['lv_name']}",
                size=int(row["lv_size"] or 0),
                tags=frozenset(t for t in row.get("lv_tags", "").split(",") if t),
                pool=row.get("pool_lv", ""),
                origin=row.get("origin", ""),
                attr=row.get("lv_attr", ""),
            )
            for row in _rows(result.stdout, "lv")
        ]

    def lv(self, name: str) -> LvInfo | None:
        """The LV called `name`, or None."""
        return next((lv for lv in self.lvs() if lv.name == name), None)

    def create(self, name: str, *, size: int, tags: Sequence[str], thin_pool: str | None = None) -> None:
        """A new LV of `size` bytes (thick, or thin in `thin_pool`), activated, signatures wiped."""
        sizing = ["-V", f"{size}b", "--thinpool", f"{self.vg}/{thin_pool}"] if thin_pool else ["-L", f"{size}b"]
        tag_args = [arg for tag in (OWNER_TAG, *tags) for arg in ("--addtag", tag)]
        cmd = ["lvcreate", "--yes", "--wipesignatures", "y", *sizing, "-n", name, *tag_args]
        check(self.runner, cmd if thin_pool else [*cmd, self.vg], timeout=120)

    def snapshot(self, origin: str, name: str, *, tags: Sequence[str]) -> None:
        """A thin snapshot `name` of thin LV `origin`, writable and activated (no activation skip)."""
        tag_args = [arg for tag in (OWNER_TAG, *tags) for arg in ("--addtag", tag)]
        cmd = ["lvcreate", "--yes", "--snapshot", "--setactivationskip", "n", "--permission", "rw"]
        check(self.runner, [*cmd, "-n", name, *tag_args, f"{self.vg}/{origin}"], timeout=120)

    def extend(self, name: str, *, size: int) -> None:
        """Grow LV `name` to `size` bytes (the filesystem is grown separately)."""
        check(self.runner, ["lvextend", "-L", f"{size}b", f"{self.vg}/{name}"], timeout=120)

    def set_read_only(self, name: str) -> None:
        check(self.runner, ["lvchange", "--permission", "r", f"{self.vg}/{name}"], timeout=60)

    def remove(self, name: str) -> None:
        """Remove LV `name`, refusing unless it carries the agent's owner tag."""
        lv = self.lv(name)
        if lv is None:
            return
        if OWNER_TAG not in lv.tags:
            raise LvmError(f"refusing to remove {self.vg}/{name}: it was not created by this agent")
        check(self.runner, ["lvremove", "--yes", f"{self.vg}/{name}"], timeout=120)
