"""Durable runs with real executables: the same contract as the runner (argv, exact environment, working
directory, own session, exit code, timeout, 1 MiB of output), plus what lets a successor settle them: the
exit status in a file, the output in a private file, a process identity that tells it from a recycled pid,
and a process that can be found by its files when its pid was never recorded."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.extensions.detached import (
    ProcessIdentity,
    RunFiles,
    alive,
    find_process,
    identify,
    read_status,
)
from switchboard.extensions.durable import run_durable
from switchboard.extensions.paths import ExtensionRoots
from switchboard.extensions.runner import CHILD_PATH, TRUNCATION_MARKER, ExtensionRunner, RunResult
from tests.support.eventually import eventually

EXT = "Durable Ext"
SCRIPT = f"""#!{sys.executable}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(sys.argv[0]))
with open(os.path.join(here, "seen.json"), "w") as f:
    json.dump({{"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(), "pgid": os.getpgid(0),
               "sid": os.getsid(0)}}, f)
action = sys.argv[1]
if action == "fail":
    print("it went wrong"); sys.exit(3)
if action == "hang":
    time.sleep(60)
if action == "chatty":
    sys.stdout.write("x" * (3 << 20)); sys.stdout.flush()
if action == "wait":
    while os.path.exists(os.path.join(here, "hold")):
        time.sleep(0.02)
print(json.dumps({{"status": "success"}}))
"""


@pytest.fixture
def roots(tmp_path: Path) -> ExtensionRoots:
    roots = ExtensionRoots.in_data_dir(tmp_path)
    entry = roots.extensions / "dur" / "dur.py"
    entry.parent.mkdir(parents=True)
    entry.write_text(SCRIPT)
    entry.chmod(0o755)
    return roots


@pytest.fixture
def runner(roots: ExtensionRoots) -> Iterator[ExtensionRunner]:
    made = ExtensionRunner(roots=roots, extra_env={"SBT_ADDED": "1"})
    yield made
    made.close()


def _run(runner: ExtensionRunner, roots: ExtensionRoots, action: str, *, timeout: int = 30,
         run_id: str = "r1") -> tuple[RunResult, RunFiles, list[ProcessIdentity]]:
    files = RunFiles.in_directory(roots.payload_dir(EXT), run_id)
    seen: list[ProcessIdentity] = []
    result = run_durable(runner, extension_name=EXT, entry=roots.entry_point("dur/dur.py"), action=action,
                         payload={"k": "v"}, timeout=timeout, files=files, started=seen.append)
    return result, files, seen


def test_the_contract_is_the_runners_and_the_exit_status_is_kept_in_a_file(runner: ExtensionRunner,
                                                                         roots: ExtensionRoots) -> None:
    result, files, [identity] = _run(runner, roots, "create", timeout=42)
    assert result.success and result.exit_code == 0 and result.details == '{"status": "success"}'
    seen = json.loads((roots.extensions / "dur" / "seen.json").read_text())
    assert seen["argv"] == [str((roots.extensions / "dur" / "dur.py").resolve()), "create",
                            str(result.payload_file), "42"]
    env = {k: v for k, v in seen["env"].items() if k != "LC_CTYPE"}
    assert env == {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp",
                   "HOME": str(roots.extensions / "dur"), "SBT_ADDED": "1"}
    assert seen["cwd"] == str((roots.extensions / "dur").resolve())
    # Its own session and group, led by the wrapper whose identity was reported.
    assert seen["sid"] == seen["pgid"] == identity.pid
    assert read_status(files) == 0
    assert stat.S_IMODE(files.output.stat().st_mode) == 0o600
    assert not alive(identity)


def test_a_failure_a_timeout_and_a_flood_of_output(runner: ExtensionRunner, roots: ExtensionRoots) -> None:
    failed, files, _ = _run(runner, roots, "fail", run_id="f")
    assert (failed.success, failed.exit_code, failed.details) == (False, 3, "Exit code: 3, Output: it went wrong")
    assert read_status(files) == 3
    timed_out, files, [identity] = _run(runner, roots, "hang", timeout=1, run_id="h")
    assert timed_out.timed_out and timed_out.details == "Timeout" and timed_out.exit_code is None
    assert read_status(files) is None and not alive(identity)  # the whole group was killed
    chatty, files, _ = _run(runner, roots, "chatty", run_id="c")
    assert chatty.success and chatty.truncated
    assert chatty.output.endswith(TRUNCATION_MARKER.format(dropped=(3 << 20) - (1 << 20) + 1 + 21))


def test_a_live_run_is_recognised_found_by_its_files_and_never_confused_with_a_recycled_pid(
        runner: ExtensionRunner, roots: ExtensionRoots) -> None:
    hold = roots.extensions / "dur" / "hold"
    hold.touch()
    identities: list[ProcessIdentity] = []
    results: list[RunResult] = []
    files = RunFiles.in_directory(roots.payload_dir(EXT), "live")

    def run() -> None:
        results.append(run_durable(runner, extension_name=EXT, entry=roots.entry_point("dur/dur.py"),
                                   action="wait", payload={}, timeout=30, files=files, started=identities.append))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        [identity] = eventually(lambda: identities, what="the run to start")
        assert alive(identity) and identify(identity.pid) == identity
        assert find_process(files) == identity
        assert not alive(ProcessIdentity(identity.pid, identity.start_ticks + 1, identity.boot_id))
        assert not alive(ProcessIdentity(identity.pid, identity.start_ticks, "another-boot"))
        assert read_status(files) is None
    finally:
        hold.unlink()
        thread.join(30)
    assert results[0].success and read_status(files) == 0
    assert not alive(identity) and find_process(files) is None


def test_an_entry_point_that_cannot_run_starts_nothing(runner: ExtensionRunner, roots: ExtensionRoots) -> None:
    os.chmod(roots.extensions / "dur" / "dur.py", 0o644)
    result, files, seen = _run(runner, roots, "create")
    assert result.details == "File is not executable" and seen == [] and not files.output.exists()
