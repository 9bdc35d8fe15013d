"""Optional: run Firecracker under its jailer (chroot, cgroups, dropped privileges, optional netns).

The jailer chroots Firecracker into `<chroot_base>/<firecracker binary name>/<vm>/root`, so every path given
to Firecracker must exist inside that directory. The driver stages each file there before handing its path
over: regular files are hard-linked (so they must be on the same filesystem as `chroot_base`; a file
Firecracker writes, i.e. a writable disk, is given to the jail's uid/gid, which changes the owner of the
original too), block devices are recreated with mknod. The API socket, log and metrics FIFO live in the
jail; a snapshot is written there and moved into the snapshot directory afterwards. The jail directory is
removed when the VMM is cleaned up.

Options (`jailer` in the host config: `true` for all defaults, or an object):
`binary` (default /usr/local/bin/jailer), `uid` and `gid` (default 0; use an unprivileged user in
production), `chroot_base` (default /srv/jailer), `cgroup_version` (default 2), `netns` (a netns path,
default none), `extra_args` (list, default empty).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.agent.vmm.base import VmmError

__all__ = ["Jailer"]


@dataclass(frozen=True)
class Jailer:
    """How to jail Firecracker; see the module docstring. Methods raise VmmError on failure."""

    firecracker: str
    binary: str = "/usr/local/bin/jailer"
    uid: int = 0
    gid: int = 0
    chroot_base: Path = Path("/srv/jailer")
    cgroup_version: int | None = 2
    netns: str | None = None
    extra_args: tuple[str, ...] = ()
    api_socket: str = "/run/firecracker.socket"

    @classmethod
    def from_options(cls, value: Any, *, firecracker: str) -> Jailer | None:
        """The jailer settings from the host config's `jailer` value (None, false, true or an object)."""
        if not value:
            return None
        options: Mapping[str, Any] = {} if value is True else value
        if not isinstance(options, Mapping):
            raise VmmError("jailer must be true or an object")
        try:
            return cls(
                firecracker=firecracker,
                binary=str(options.get("binary", cls.binary)),
                uid=int(options.get("uid", 0)),
                gid=int(options.get("gid", 0)),
                chroot_base=Path(options.get("chroot_base", cls.chroot_base)),
                cgroup_version=int(options["cgroup_version"]) if options.get("cgroup_version") else 2,
                netns=str(options["netns"]) if options.get("netns") else None,
                extra_args=tuple(str(a) for a in options.get("extra_args", ())),
            )
        except (TypeError, ValueError) as exc:
            raise VmmError(f"bad jailer option: {exc}") from exc

    def jail_dir(self, name: str) -> Path:
        return self.chroot_base / Path(self.firecracker).name / name

    def root(self, name: str) -> Path:
        return self.jail_dir(name) / "root"

    def host_path(self, name: str, inside: str) -> Path:
        """Where the path Firecracker sees as `inside` is on the host."""
        return self.root(name) / inside.lstrip("/")

    @staticmethod
    def cmdline_token(name: str) -> str:
        # Both the jailer's and (after its exec) Firecracker's command lines carry `--id <name>`.
        return f"--id\0{name}\0"

    def prepare(self, name: str) -> None:
        """Create the jail's root and run directory (the jailer tolerates an existing root)."""
        run = self.host_path(name, self.api_socket).parent
        run.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.own(run)

    def argv(self, name: str) -> list[str]:
        """The jailer's command line; Firecracker's own arguments follow `--`."""
        argv = [self.binary, "--id", name, "--exec-file", self.firecracker, "--uid", str(self.uid),
                "--gid", str(self.gid), "--chroot-base-dir", str(self.chroot_base)]  # fmt: skip
        if self.cgroup_version:
            argv += ["--cgroup-version", str(self.cgroup_version)]
        if self.netns:
            argv += ["--netns", self.netns]
        return [*argv, *self.extra_args, "--", "--api-sock", self.api_socket]

    def stage(self, name: str, path: Path, *, writable: bool) -> str:
        """Make `path` visible inside the jail; the path Firecracker must use."""
        target = self.root(name) / path.name
        try:
            st = os.stat(path)
            if target.exists() or target.is_symlink():
                if os.path.samestat(st, os.stat(target)):
                    return f"/{path.name}"
                target.unlink()
            if stat.S_ISBLK(st.st_mode):
                os.mknod(target, st.st_mode, st.st_rdev)
            else:
                os.link(path, target)
            if writable:
                self.own(target)
        except OSError as exc:
            raise VmmError(
                f"cannot place {path} in the jail {self.root(name)} (hard links need one filesystem): {exc}"
            ) from exc
        return f"/{path.name}"

    def own(self, path: Path) -> None:
        """Give `path` to the jail's uid/gid."""
        try:
            os.chown(path, self.uid, self.gid)
        except OSError as exc:
            raise VmmError(f"cannot chown {path} for the jail: {exc}") from exc

    def collect_snapshot(self, name: str, directory: Path, files: Iterable[str]) -> None:
        """Move snapshot files Firecracker wrote in the jail into `directory`."""
        for file in files:
            shutil.move(str(self.root(name) / file), str(directory / file))

    def remove(self, name: str) -> None:
        """Remove the jail directory (hard links and device nodes only; the originals stay)."""
        shutil.rmtree(self.jail_dir(name), ignore_errors=True)
