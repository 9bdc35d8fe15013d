"""The tmux supervisor on its own: private server, pid and status files, console log, sessions that outlive
the process that started them. No guests: the supervised commands are small shell scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.eventually import eventually

from switchboard.agent.vmm.base import VmmError
from switchboard.agent.vmm.tmux import SessionFiles, TmuxSupervisor, pid_alive, read_pid

from .helpers import need_tools


@pytest.fixture
def base() -> Iterator[Path]:
    need_tools("tmux")
    path = Path(tempfile.mkdtemp(prefix="sbt-t-", dir="/tmp"))
    yield path
    TmuxSupervisor(path / "tmux" / "server.sock").kill_server()
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_a_session_records_pid_output_and_exit_status(base: Path) -> None:
    tmux = TmuxSupervisor(base / "tmux" / "server.sock")
    files = SessionFiles(base / "vm1")
    log = base / "logs" / "vm1.log"
    log.parent.mkdir()
    log.write_bytes(b"earlier boot\n")
    tmux.start("vm1", ["sh", "-c", "echo out-$((40+2)); echo err >&2; read line; echo got-$line; exit 3"],
               files=files, console_log=log, env={"SBT_X": "1"})  # fmt: skip
    eventually(lambda: read_pid(files.pid) is not None, what="the wrapper to write the pid file", interval=0.02)
    pid = read_pid(files.pid)
    assert pid is not None and pid_alive(pid, "out-")
    assert tmux.sessions() == {"vm1"}
    tmux.send_keys("vm1", "-l", "typed")
    tmux.send_keys("vm1", "Enter")  # the pane is the VMM's stdin: the serial console takes input
    eventually(files.status.exists, what="the exit status file", interval=0.02)
    assert files.status.read_text().strip() == "3"
    text = log.read_text()  # complete once the status is there
    assert text.startswith("earlier boot\n")  # appended, never truncated
    assert "out-42" in text and "err" in text and "got-typed" in text
    assert log.stat().st_mode & 0o777 == 0o600
    eventually(lambda: "vm1" not in tmux.sessions(), what="the session to end", interval=0.02)
    assert not pid_alive(pid, "out-")


def test_the_server_is_private_and_ignores_user_configuration(base: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".tmux.conf").write_text("set -g history-limit 12345\n")
    (home / ".config").mkdir()
    tmux = TmuxSupervisor(base / "tmux" / "server.sock")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        tmux.start("vm2", ["sleep", "30"], files=SessionFiles(base / "vm2"), console_log=base / "vm2.log")
        shown = subprocess.run(["tmux", "-S", str(tmux.socket), "show-options", "-g", "history-limit"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home
    assert "12345" not in shown
    assert oct((base / "tmux").stat().st_mode & 0o777) == "0o700"
    with pytest.raises(VmmError, match="exists already"):
        tmux.start("vm2", ["true"], files=SessionFiles(base / "vm2b"), console_log=base / "vm2.log")


def test_sessions_outlive_the_process_that_started_them(base: Path) -> None:
    script = textwrap.dedent(f"""
        from pathlib import Path
        from switchboard.agent.vmm.tmux import SessionFiles, TmuxSupervisor
        base = Path({str(base)!r})
        TmuxSupervisor(base / "tmux" / "server.sock").start(
            "vm3", ["sleep", "60"], files=SessionFiles(base / "vm3"), console_log=base / "vm3.log")
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)  # that "agent" has exited now
    tmux = TmuxSupervisor(base / "tmux" / "server.sock")
    assert tmux.has_session("vm3")
    pid = read_pid(SessionFiles(base / "vm3").pid)
    assert pid is not None and pid_alive(pid, "sleep")
    TmuxSupervisor.terminate(pid, "sleep", timeout=5)
    assert not pid_alive(pid, "sleep")


def test_names_that_could_address_other_tmux_targets_are_refused(base: Path) -> None:
    tmux = TmuxSupervisor(base / "tmux" / "server.sock")
    for bad in ("a:b", "a.b", "-t", "", "x" * 65, "../x", "a b", "a_b"):
        with pytest.raises(VmmError):
            tmux.start(bad, ["true"], files=SessionFiles(base / "bad"), console_log=base / "bad.log")
