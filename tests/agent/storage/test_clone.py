"""Sparse-aware copies (`clone.sparse_copy`) on the host's ext4, byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

from switchboard.agent.storage import clone

KIB, MIB = 1 << 10, 1 << 20


def _copy(src: Path, dst: Path, *, reflink: bool = False) -> str:
    sfd = os.open(src, os.O_RDONLY)
    dfd = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        return clone.clone_into(sfd, dfd, reflink=reflink)
    finally:
        os.close(sfd)
        os.close(dfd)


def test_holes_zero_blocks_and_an_unaligned_tail_are_reproduced(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    with src.open("wb") as f:
        f.write(os.urandom(100 * KIB))  # data at the start
        f.seek(5 * MIB)
        f.write(bytes(2 * MIB))  # written zeros: allocated in the source
        f.write(os.urandom(3 * KIB + 17))  # data with an unaligned end
        f.seek(20 * MIB + 5)
        f.write(b"end")  # data after a long hole, file size not a block multiple
    assert _copy(src, dst) == "sparse"
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_size == src.stat().st_size
    assert dst.stat().st_blocks < src.stat().st_blocks, "written zeros become holes"
    assert dst.stat().st_blocks * 512 < 400 * KIB


def test_empty_and_all_hole_files(tmp_path: Path) -> None:
    empty, hole = tmp_path / "empty", tmp_path / "hole"
    empty.touch()
    hole.touch()
    os.truncate(hole, 64 * MIB)
    assert _copy(empty, tmp_path / "e2") == "sparse" and (tmp_path / "e2").stat().st_size == 0
    assert _copy(hole, tmp_path / "h2") == "sparse"
    assert (tmp_path / "h2").stat().st_size == 64 * MIB and (tmp_path / "h2").stat().st_blocks == 0


def test_reflink_falls_back_to_a_sparse_copy_on_ext4(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(os.urandom(MIB))
    assert _copy(src, tmp_path / "dst", reflink=True) == "sparse"
    assert (tmp_path / "dst").read_bytes() == src.read_bytes()
