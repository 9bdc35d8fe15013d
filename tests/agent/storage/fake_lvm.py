"""A stand-in for the LVM command line, for hosts without device-mapper (this one, and CI).

It replays the outputs recorded on this machine (`lvm_recorded.json`, made by `record_lvm.py`): the
`vgs` report, the empty `lvs` report and the `lvcreate` failures are the real bytes. What cannot be
recorded here is any report that lists an LV, because no LV can be created without device-mapper; those
rows are produced in the exact layout of the recorded reports (LVM prints one JSON object per row,
`{"field":"value", ...}`), with the attribute strings LVM documents (`-wi-a-----` thick, `twi-aotz--`
thin pool, `Vwi-a-tz--` thin volume). Tools that would touch the LV's data (`qemu-img`, `blkdiscard`,
`blkid`, `e2fsck`, `resize2fs`) are recorded and answer success, or a failure the test injects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.agent.hostcmd import CommandResult

RECORDED = json.loads(Path(__file__).with_name("lvm_recorded.json").read_text())
VG = "sbtrec"  # the VG name in the recordings
EXTENT = 4 << 20


def recorded(name: str) -> CommandResult:
    r = RECORDED[name]
    return CommandResult(r["rc"], r["stdout"], r["stderr"])


def _row(**fields: str) -> str:
    """One report row in LVM's layout, as in the recorded `vgs` output: {"a":"1", "b":"2"}."""
    return "{" + ", ".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}"


@dataclass
class FakeLv:
    name: str
    size: int
    tags: list[str]
    attr: str
    pool: str = ""
    origin: str = ""


@dataclass
class FakeLvm:
    """Implements CommandRunner. `fail[tool]` makes the next call of `tool` return that result."""

    vg_size: int = 20 << 30  # the recorded VG is 1 GiB; the report is rewritten with this size
    lvs: dict[str, FakeLv] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)
    fail: dict[str, CommandResult] = field(default_factory=dict)

    def add_pool(self, name: str = "pool", size: int = 512 << 20) -> None:
        self.lvs[name] = FakeLv(name, size, [], "twi-aotz--")

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, env: Mapping[str, str] | None = None
    ) -> CommandResult:
        argv = list(argv)
        self.calls.append(argv)
        tool = argv[0]
        if tool in self.fail:
            return self.fail.pop(tool)
        handler = getattr(self, "_" + tool.replace("-", "_"), None)
        if handler is None:
            return CommandResult(0, "", "")  # qemu-img, blkdiscard, e2fsck, resize2fs
        result: CommandResult = handler(argv)
        return result

    def commands(self, tool: str) -> list[list[str]]:
        return [c for c in self.calls if c[0] == tool]

    # -- reports ----------------------------------------------------------------------------------

    def _thick_used(self) -> int:
        return sum(lv.size for lv in self.lvs.values() if not lv.attr.startswith("V"))

    def _vgs(self, argv: list[str]) -> CommandResult:
        if argv[-1] != VG:
            return recorded("vgs_missing")
        base = recorded("vgs_ok")
        free = self.vg_size - self._thick_used()
        old = RECORDED["vgs_ok"]["stdout"]
        stdout = old.replace('"vg_size":"1069547520"', f'"vg_size":"{self.vg_size}"').replace(
            '"vg_free":"1069547520"', f'"vg_free":"{free}"'
        )
        return CommandResult(base.returncode, stdout, base.stderr)

    def _lvs(self, argv: list[str]) -> CommandResult:
        if argv[-1] != VG:
            return recorded("vgs_missing")
        empty = RECORDED["lvs_empty"]["stdout"]
        rows = [
            " " * 18
            + _row(
                lv_name=lv.name,
                vg_name=VG,
                lv_path=f"/dev/{VG}/{lv.name}",
                lv_size=str(lv.size),
                lv_tags=",".join(sorted(lv.tags)),
                pool_lv=lv.pool,
                origin=lv.origin,
                lv_attr=lv.attr,
            )
            for lv in self.lvs.values()
        ]
        stdout = empty.replace('"lv": [\n', '"lv": [\n' + ",\n".join(rows) + ("\n" if rows else ""), 1)
        return CommandResult(0, stdout, "")

    # -- changes ----------------------------------------------------------------------------------

    @staticmethod
    def _opt(argv: list[str], flag: str) -> str | None:
        return argv[argv.index(flag) + 1] if flag in argv else None

    def _lvcreate(self, argv: list[str]) -> CommandResult:
        name = self._opt(argv, "-n") or ""
        tags = [argv[i + 1] for i, a in enumerate(argv) if a == "--addtag"]
        if name in self.lvs:
            return CommandResult(5, "", f'  Logical Volume "{name}" already exists in volume group "{VG}"\n')
        if "--snapshot" in argv:
            origin = argv[-1].split("/", 1)[1]
            src = self.lvs[origin]
            self.lvs[name] = FakeLv(name, src.size, tags, "Vwi-a-tz--", pool=src.pool, origin=origin)
        elif "--thinpool" in argv:
            pool = (self._opt(argv, "--thinpool") or "").split("/", 1)[1]
            if pool not in self.lvs:
                return recorded("lvcreate_thin")
            self.lvs[name] = FakeLv(name, int((self._opt(argv, "-V") or "0b")[:-1]), tags, "Vwi-a-tz--", pool=pool)
        else:
            size = int((self._opt(argv, "-L") or "0b")[:-1])
            if size > self.vg_size - self._thick_used():
                return CommandResult(5, "", f'  Volume group "{VG}" has insufficient free space.\n')
            self.lvs[name] = FakeLv(name, size, tags, "-wi-a-----")
        return CommandResult(0, "", f'  Logical volume "{name}" created.\n')

    def _lvremove(self, argv: list[str]) -> CommandResult:
        name = argv[-1].split("/", 1)[1]
        if self.lvs.pop(name, None) is None:
            return CommandResult(5, "", f'  Failed to find logical volume "{VG}/{name}"\n')
        return CommandResult(0, "", f'  Logical volume "{name}" successfully removed.\n')

    def _lvextend(self, argv: list[str]) -> CommandResult:
        name = argv[-1].split("/", 1)[1]
        self.lvs[name].size = int((self._opt(argv, "-L") or "0b")[:-1])
        return CommandResult(0, "", f"  Logical volume {VG}/{name} successfully resized.\n")

    def _lvchange(self, argv: list[str]) -> CommandResult:
        lv = self.lvs[argv[-1].split("/", 1)[1]]
        if self._opt(argv, "--permission") == "r":
            lv.attr = lv.attr[0] + "r" + lv.attr[2:]
        return CommandResult(0, "", "")

    def _blkid(self, argv: list[str]) -> CommandResult:
        return CommandResult(0, "ext4\n", "")  # every LV written from an ext4 template holds ext4
