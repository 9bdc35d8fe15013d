"""A fake Firecracker jailer for tests: the jailer's command line, checked, then Firecracker (the stand-in)
started as if chrooted into `<chroot-base-dir>/<exec-file name>/<id>/root`.

A real jailer pivots into that directory, drops to --uid/--gid and joins cgroups and the netns. Here the
stand-in is told the jail root through FCSTANDIN_CHROOT and resolves every absolute path it is given inside
it, which is what the driver must get right: staging files in the jail and passing jail paths. Like the
real jailer it appends `--id <id>` to Firecracker's arguments and execs it (same pid).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--" in args:
        split = args.index("--")
        ours, firecracker_args = args[:split], args[split + 1 :]
    else:
        ours, firecracker_args = args, []
    p = argparse.ArgumentParser(prog="jailer")
    p.add_argument("--id", required=True)
    p.add_argument("--exec-file", required=True)
    p.add_argument("--uid", type=int, required=True)
    p.add_argument("--gid", type=int, required=True)
    p.add_argument("--chroot-base-dir", default="/srv/jailer")
    p.add_argument("--cgroup-version", type=int, choices=(1, 2), default=1)
    p.add_argument("--cgroup", action="append", default=[])
    p.add_argument("--parent-cgroup")
    p.add_argument("--netns")
    p.add_argument("--resource-limit", action="append", default=[])
    p.add_argument("--daemonize", action="store_true")
    p.add_argument("--new-pid-ns", action="store_true")
    opts = p.parse_args(ours)
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", opts.id):
        print(f"Invalid instance ID: {opts.id}", file=sys.stderr)
        return 1
    exec_file = Path(opts.exec_file)
    if not exec_file.is_file():
        print(f"Failed to canonicalize path {exec_file}: No such file or directory", file=sys.stderr)
        return 1
    if opts.netns and not Path(opts.netns).exists():
        print(f"Failed to open netns {opts.netns}", file=sys.stderr)
        return 1
    root = Path(opts.chroot_base_dir) / exec_file.name / opts.id / "root"
    root.mkdir(parents=True, exist_ok=True)
    os.environ["FCSTANDIN_CHROOT"] = str(root)
    os.execv(str(exec_file), [str(exec_file), *firecracker_args, "--id", opts.id])


if __name__ == "__main__":
    sys.exit(main())
