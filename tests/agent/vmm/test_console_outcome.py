"""Reading why a guest went away from its console log (no guests)."""

from __future__ import annotations

from pathlib import Path

from switchboard.agent.vmm.supervised import console_outcome


def test_the_last_reboot_line_after_the_boot_offset_decides(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    previous = b"[ 9.1] reboot: Restarting system\n"  # an earlier boot's reset
    log.write_bytes(previous + b"booting\n")
    assert console_outcome(log, 0) == "reset"
    assert console_outcome(log, len(previous)) is None  # this boot has not ended
    log.write_bytes(previous + b"booting\n[ 5.0] reboot: Power down\n")
    assert console_outcome(log, len(previous)) == "poweroff"
    log.write_bytes(previous + b"[ 3.0] reboot: System halted\n")
    assert console_outcome(log, len(previous)) == "poweroff"
    log.write_bytes(b"[ 5.0] reboot: Power down\n" + b"x" * 5000 + b"\n[ 9.0] reboot: Restarting system\n")
    assert console_outcome(log, 0) == "reset"  # the later line wins
    assert console_outcome(log, 0, window=100) == "reset"


def test_a_panic_or_a_missing_log_says_nothing(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    log.write_bytes(b"Kernel panic - not syncing: VFS: Unable to mount root fs\n")
    assert console_outcome(log, 0) is None  # the driver calls that a crash
    assert console_outcome(tmp_path / "missing.log", 0) is None
