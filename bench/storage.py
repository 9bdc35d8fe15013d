#!/usr/bin/env python3
"""Time to provision a 4 GiB root disk from a 1 GiB template with each `file` storage method.

    sudo .venv/bin/python bench/storage.py [--runs 3] [--data-mib 400] [--workdir DIR]

The template is a 1 GiB ext4 image holding `--data-mib` MiB of incompressible files, stored fully
allocated (as a downloaded image is). Each method produces the same result, a 4 GiB disk whose ext4
filesystem fills it, so the figures compare like with like:

* `reflink`  - FileStorage in a loop-mounted XFS (`mkfs.xfs -m reflink=1`) image: FICLONE + grow;
* `sparse`   - FileStorage with `reflink=never` on the host filesystem: SEEK_DATA/SEEK_HOLE copy that
               also skips all-zero blocks, + grow;
* `naive`    - the original agent's way, `shutil.copyfile` (a full byte copy), + the same grow, as the
               baseline.

Prints the median wall time of `--runs` runs per method, the new disk space one root disk takes (for
reflink: what deleting it frees, since its blocks are shared with the template), and each method's
speed-up over the baseline. The page cache is warm after the first run (the template is read every
time); nothing is dropped, because the machine is shared. Needs root (mount), mkfs.ext4, mkfs.xfs,
e2fsck, resize2fs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from switchboard.agent.hostcmd import SubprocessRunner
from switchboard.agent.model import TemplateRef
from switchboard.agent.storage import fsgrow
from switchboard.agent.storage.file import FileStorage
from switchboard.agent.templates import TemplateStore

GIB, MIB = 1 << 30, 1 << 20
ROOT_SIZE = 4 * GIB
REF = TemplateRef(kernel="vmlinux", image="template.img")


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def make_template(directory: Path, data_mib: int) -> None:
    """kernel/vmlinux and images/template.img (1 GiB ext4, `data_mib` MiB of data, fully allocated)."""
    (directory / "kernel").mkdir(parents=True)
    (directory / "images").mkdir()
    (directory / "kernel" / "vmlinux").write_bytes(b"kernel")
    content = directory / "content"
    content.mkdir()
    for i in range(max(1, data_mib // 64)):
        (content / f"blob{i}").write_bytes(os.urandom(min(64, data_mib) * MIB))
    sparse = directory / "sparse.img"
    run("truncate", "-s", "1G", str(sparse))
    run("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", str(content), str(sparse))
    run("cp", "--sparse=never", str(sparse), str(directory / "images" / "template.img"))
    sparse.unlink()
    shutil.rmtree(content)


def store_for(directory: Path) -> TemplateStore:
    return TemplateStore(directory / "kernel", directory / "images", directory / "cache")


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bfree * st.f_frsize


def time_runs(
    runs: int, provision: Callable[[str], Path], cleanup: Callable[[str], None], *, shared: bool = False
) -> tuple[float, int]:
    """Median seconds over `runs` provisions, and the new space the last disk took: its allocated
    blocks, or for a reflink clone (`shared`, whose blocks belong to the template too) the drop in the
    filesystem's free space."""
    times, new_space = [], 0
    for i in range(runs):
        vm = f"bench{i}"
        os.sync()
        start = time.perf_counter()
        path = provision(vm)
        os.sync()  # count the writes, not just handing them to the page cache
        times.append(time.perf_counter() - start)
        new_space = path.stat().st_blocks * 512
        if shared:
            before = _free(path.parents[1])
            cleanup(vm)
            os.sync()
            new_space = _free(path.parents[1]) - before
        else:
            cleanup(vm)
    return statistics.median(times), new_space


def bench_file(directory: Path, runs: int, *, reflink: str) -> tuple[float, int, str]:
    templates = store_for(directory)
    templates.resolve(REF)  # hash once up front: the digest cache is not what is measured
    storage = FileStorage(directory / "volumes", templates=templates, reflink=reflink)

    def provision(vm: str) -> Path:
        return storage.provision_root(vm, REF, size_bytes=ROOT_SIZE).path

    seconds, allocated = time_runs(runs, provision, storage.delete, shared=reflink == "always")
    return seconds, allocated, storage.last_method or "?"


def bench_naive(directory: Path, runs: int) -> tuple[float, int]:
    template = directory / "images" / "template.img"
    out = directory / "naive"
    out.mkdir(exist_ok=True)
    runner = SubprocessRunner()

    def provision(vm: str) -> Path:
        target = out / f"{vm}.img"
        shutil.copyfile(template, target)
        os.truncate(target, ROOT_SIZE)
        fsgrow.grow(runner, target)
        return target

    def cleanup(vm: str) -> None:
        (out / f"{vm}.img").unlink()

    return time_runs(runs, provision, cleanup)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-mib", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch directory (default: a temp dir)")
    args = parser.parse_args()
    for tool in ("mkfs.ext4", "mkfs.xfs", "e2fsck", "resize2fs", "mount"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (scripts/ci-deps.sh lists the packages)", file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("needs root (loop mount for the reflink case)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sbbench-", dir=args.workdir) as tmp:
        base = Path(tmp)
        host = base / "host"
        make_template(host, args.data_mib)
        results: dict[str, tuple[float, int, str]] = {}
        seconds, allocated = bench_naive(host, args.runs)
        results["naive full copy"] = (seconds, allocated, "copyfile")
        results["sparse copy"] = bench_file(host, args.runs, reflink="never")

        xfs_img, mnt = base / "xfs.img", base / "xfs"
        run("truncate", "-s", "4G", str(xfs_img))
        run("mkfs.xfs", "-q", "-m", "reflink=1", str(xfs_img))
        mnt.mkdir()
        run("mount", "-o", "loop", str(xfs_img), str(mnt))
        try:
            shutil.copytree(host / "kernel", mnt / "kernel")
            (mnt / "images").mkdir()
            shutil.copyfile(host / "images" / "template.img", mnt / "images" / "template.img")
            results["reflink (XFS)"] = bench_file(mnt, args.runs, reflink="always")
        finally:
            run("umount", str(mnt))

    baseline = results["naive full copy"][0]
    print(f"4 GiB root disk from a 1 GiB template ({args.data_mib} MiB of data), median of {args.runs} runs")
    print(f"{'method':<18} {'seconds':>9} {'new MiB':>9} {'speed-up':>9}  how")
    for name, (seconds, allocated, how) in results.items():
        print(f"{name:<18} {seconds:>9.3f} {allocated / MIB:>9.1f} {baseline / seconds:>8.1f}x  {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
