"""The prepare-path step: a missing user-defined `.sh` entry point is created from the scaffold."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from switchboard.extensions.scaffold import BASH_SCAFFOLD, prepare_entry_point


def test_missing_sh_entry_point_is_created_executable(tmp_path: Path) -> None:
    target = tmp_path / "ext" / "sub" / "ext.sh"
    assert prepare_entry_point(target) is True
    assert target.read_bytes() == BASH_SCAFFOLD.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_existing_entry_point_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "ext" / "ext.sh"
    target.parent.mkdir()
    target.write_text("#!/bin/sh\nmine\n")
    assert prepare_entry_point(target) is True
    assert target.read_text() == "#!/bin/sh\nmine\n"


def test_non_sh_path_is_not_scaffolded(tmp_path: Path) -> None:
    target = tmp_path / "ext" / "ext.py"
    assert prepare_entry_point(target) is False
    assert not target.exists()
    assert not target.parent.exists()


def test_no_link_below_the_root_is_followed(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "ext").symlink_to(elsewhere)
    with pytest.raises(OSError, match="never written through"):
        prepare_entry_point(root / "ext" / "ext.sh", root=root)
    (root / "ext").unlink()
    (root / "ext").mkdir()
    (root / "ext" / "bin").symlink_to(elsewhere)
    with pytest.raises(OSError, match="never written through"):
        prepare_entry_point(root / "ext" / "bin" / "run.sh", root=root)
    assert list(elsewhere.iterdir()) == []
    assert prepare_entry_point(root / "ext" / "sub" / "run.sh", root=root)
    assert (root / "ext" / "sub" / "run.sh").read_bytes() == BASH_SCAFFOLD.read_bytes()
