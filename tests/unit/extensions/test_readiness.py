"""Readiness helpers: this server's checksums and the across-servers decision (§1.7)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.readiness import (
    ExtensionFile,
    initial_delay,
    is_path_ready,
    local_checksums,
    local_signatures,
    not_ready_alert,
)


def test_local_checksums(tmp_path: Path) -> None:
    roots = ExtensionRoots.in_data_dir(tmp_path)
    good = roots.extensions / "good" / "good.sh"
    good.parent.mkdir(parents=True)
    good.write_text("#!/bin/sh\n")
    good.chmod(0o755)
    plain = roots.extensions / "plain" / "plain.sh"
    plain.parent.mkdir(parents=True)
    plain.write_text("#!/bin/sh\n")
    files = [
        ExtensionFile(name="Good", relative_path="good/good.sh"),
        ExtensionFile(name="Plain", relative_path="plain/plain.sh"),
        ExtensionFile(name="Missing", relative_path="missing/missing.sh"),
        ExtensionFile(name="Evil", relative_path="../etc/passwd"),
    ]
    assert local_checksums(roots, files) == {
        "Good": hashlib.md5(b"#!/bin/sh\n").hexdigest(),
        "Plain": None,
        "Missing": None,
        "Evil": None,
    }


def test_path_ready_needs_the_same_valid_checksum_on_every_running_server() -> None:
    assert is_path_ready({"a": "x", "b": "x"}, ["a", "b"])
    assert is_path_ready({"a": "x", "b": "y", "gone": "z"}, ["a"]) is True
    assert not is_path_ready({"a": "x", "b": "y"}, ["a", "b"])
    assert not is_path_ready({"a": "x"}, ["a", "b"]), "a running server that published nothing"
    assert not is_path_ready({"a": None}, ["a"])
    assert not is_path_ready({}, [])


def test_timing_and_alert_text() -> None:
    assert initial_delay(300) == 60 and initial_delay(20) == 20
    assert not_ready_alert("Proxmox") == "Path for Proxmox not ready across management servers"


def test_local_signatures_change_whenever_the_entry_file_does(tmp_path: Path) -> None:
    roots = ExtensionRoots.in_data_dir(tmp_path)
    entry = roots.extensions / "w" / "w.py"
    entry.parent.mkdir(parents=True)
    files = [ExtensionFile(name="W", relative_path="w/w.py")]
    assert local_signatures(roots, files) == {"W": None}
    entry.write_text("#!/bin/sh\n")
    first = local_signatures(roots, files)["W"]
    assert first is not None and local_signatures(roots, files)["W"] == first  # stable while nothing changes
    entry.chmod(0o755)
    chmodded = local_signatures(roots, files)["W"]
    assert chmodded != first
    replacement = tmp_path / "opt" / "w.py"
    replacement.parent.mkdir()
    replacement.write_text("#!/bin/sh\n")
    replacement.chmod(0o755)
    entry.unlink()
    entry.symlink_to(replacement)
    assert local_signatures(roots, files)["W"] not in (None, first, chmodded)
