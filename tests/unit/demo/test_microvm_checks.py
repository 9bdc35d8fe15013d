"""Whether the demo can run real microVMs here, and why not in one line; the guest builder's tool check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from switchboard.demo import guest, microvm


@pytest.fixture
def able(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine that can: root, x86-64 Linux, every tool there."""
    monkeypatch.setattr(microvm.os, "geteuid", lambda: 0)
    monkeypatch.setattr(microvm.platform, "system", lambda: "Linux")
    monkeypatch.setattr(microvm.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(microvm.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(guest, "missing_tools", lambda: [])


@pytest.mark.usefixtures("able")
def test_a_machine_that_can(tmp_path: Path) -> None:
    assert microvm.why_not(tmp_path) is None


@pytest.mark.usefixtures("able")
def test_each_reason_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(microvm.os, "geteuid", lambda: 1000)
    assert microvm.why_not(tmp_path) == ("they need root (the agent runs QEMU and makes disks), and this server "
                                         "runs as uid 1000")
    monkeypatch.setattr(microvm.os, "geteuid", lambda: 0)
    monkeypatch.setattr(microvm.platform, "machine", lambda: "aarch64")
    assert microvm.why_not(tmp_path) == "they need x86-64 Linux, and this is Linux on aarch64"
    monkeypatch.setattr(microvm.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(microvm.shutil, "which", lambda tool: None if tool == "qemu-system-x86_64" else tool)
    assert microvm.why_not(tmp_path) == ("qemu-system-x86 is not installed (`make run` as root installs it: "
                                         "apt-get install qemu-system-x86)")
    monkeypatch.setattr(guest, "missing_tools", lambda: ["busybox-static", "kmod"])
    assert microvm.why_not(tmp_path) == ("busybox-static, kmod, qemu-system-x86 are not installed (`make run` as "
                                         "root installs them: apt-get install busybox-static kmod qemu-system-x86)")


def test_the_guest_builder_needs_a_static_busybox(tmp_path: Path) -> None:
    assert guest._is_static(Path("/bin/busybox")), "scripts/ci-deps.sh installs busybox-static"
    assert not guest._is_static(Path(shutil.which("ls") or "/bin/ls"))  # dynamically linked
    (tmp_path / "script").write_text("#!/bin/sh\n")
    assert not guest._is_static(tmp_path / "script")
    assert guest.missing_tools() == []  # what the tests' machine has (scripts/ci-deps.sh)
