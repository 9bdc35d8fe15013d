"""The runner with real bash and Python executables: argv, environment, payload files, timeouts, output."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.extensions.paths import EntryPoint, ExtensionRoots
from switchboard.extensions.runner import CHILD_PATH, ExtensionRunner, RunResult
from tests.support.eventually import eventually

EXT = "Rec Ext"  # a raw name with a space: the payload directory must use it verbatim

RECORDER = f"""#!{sys.executable}
import json, os, sys
payload = open(sys.argv[2]).read()
st = os.stat(sys.argv[2])
record = {{"argv": sys.argv, "payload": payload, "mode": st.st_mode & 0o777, "env": dict(os.environ),
          "cwd": os.getcwd(), "pgid": os.getpgid(0), "pid": os.getpid(),
          "dirmode": os.stat(os.path.dirname(sys.argv[2])).st_mode & 0o777}}
with open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "record.json"), "w") as f:
    json.dump(record, f)
print(json.dumps({{"status": "success"}}))
"""


def write_exe(roots: ExtensionRoots, relative: str, body: str, mode: int = 0o755) -> EntryPoint:
    path = roots.extensions / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    return roots.entry_point(relative)


@pytest.fixture
def roots(tmp_path: Path) -> ExtensionRoots:
    return ExtensionRoots.in_data_dir(tmp_path)


@pytest.fixture(autouse=True)
def _close_runners(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every runner a test creates is closed afterwards (its thread stopped, its processes killed)."""
    created: list[ExtensionRunner] = []
    original = ExtensionRunner.__init__

    def tracking(self: ExtensionRunner, **kwargs: Any) -> None:
        original(self, **kwargs)
        created.append(self)

    monkeypatch.setattr(ExtensionRunner, "__init__", tracking)
    yield
    for runner in created:
        runner.close()


def run(runner: ExtensionRunner, entry: EntryPoint, action: str = "create", payload: Any = None,
        timeout: int = 30, name: str = EXT) -> RunResult:  # fmt: skip
    return asyncio.run(
        runner.run(extension_name=name, entry=entry, action=action, payload=payload or {"k": "v"}, timeout=timeout)
    )


def test_argv_payload_file_and_environment_are_exact(
    roots: ExtensionRoots, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_TEST_SECRET", "hunter2-database-password")
    entry = write_exe(roots, "rec/rec.py", RECORDER)
    payload = {"externaldetails": {"extension": {"secret": "s3"}}, "virtualmachinename": "i-2-3-VM", "n": 1}
    result = run(ExtensionRunner(roots=roots), entry, "create", payload, timeout=42)
    assert result.success, result.details
    assert result.exit_code == 0
    assert result.details == '{"status": "success"}'
    record = json.loads((roots.extensions / "rec" / "record.json").read_text())
    payload_file = Path(record["argv"][2])
    assert record["argv"] == [str(entry.path.resolve()), "create", str(payload_file), "42"]
    assert payload_file.parent == roots.payloads / EXT
    assert payload_file.name.endswith(".json") and len(payload_file.stem) == 36
    assert record["payload"] == json.dumps(payload, separators=(",", ":"))
    assert record["mode"] == 0o600
    assert record["dirmode"] == 0o700
    assert stat.S_IMODE(roots.payloads.stat().st_mode) == 0o700
    assert payload_file.exists(), "create payloads are kept for a day"
    assert result.payload_file == payload_file
    ext_dir = str((roots.extensions / "rec").resolve())
    env = {k: v for k, v in record["env"].items() if k != "LC_CTYPE"}  # python may add LC_CTYPE itself
    assert env == {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(roots.extensions / "rec"),
                   "TMPDIR": "/tmp"}  # fmt: skip
    assert "hunter2-database-password" not in json.dumps(record["env"])
    assert record["cwd"] == ext_dir
    assert record["pgid"] == record["pid"], "the extension runs in its own process group"


def test_bash_executable_sees_exact_argv_payload_and_clean_env(
    roots: ExtensionRoots, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_TEST_SECRET", "hunter2-api-secret")
    body = '#!/bin/bash\nout="$HOME/bash-record"\nprintf "%s\\n" "$#" "$@" > "$out.argv"\n' \
           'cat "$2" > "$out.payload"\nenv > "$out.env"\necho recorded\n'  # fmt: skip
    entry = write_exe(roots, "bashrec/bashrec.sh", body)
    payload = {"action": "ListSnapshots", "parameters": {"n": 1, "b": True}}
    result = run(ExtensionRunner(roots=roots), entry, "ListSnapshots", payload, timeout=3)
    assert result.success and result.details == "recorded"
    base = roots.extensions / "bashrec" / "bash-record"
    argv = Path(f"{base}.argv").read_text().splitlines()
    assert argv[0] == "3"
    assert argv[1:] == ["ListSnapshots", str(result.payload_file), "3"]
    assert json.loads(Path(f"{base}.payload").read_text()) == payload
    env = dict(line.split("=", 1) for line in Path(f"{base}.env").read_text().splitlines())
    assert "SWITCHBOARD_TEST_SECRET" not in env
    assert set(env) - {"PWD", "SHLVL", "_", "OLDPWD"} == {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR"}


def test_status_payloads_are_removed_at_once(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "rec/rec.py", RECORDER)
    runner = ExtensionRunner(roots=roots)
    for action in ("status", "statuses"):
        result = run(runner, entry, action)
        assert result.success
        assert result.payload_file is not None and not result.payload_file.exists()
    assert list((roots.payloads / EXT).iterdir()) == []


def test_old_payloads_are_garbage_collected(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "rec/rec.py", RECORDER)
    runner = ExtensionRunner(roots=roots)
    first = run(runner, entry)  # creates the directory
    old = roots.payloads / EXT / "old.json"
    old.write_text("{}")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    second = run(runner, entry)
    eventually(lambda: not old.exists(), what="the two-day-old payload to be collected", timeout=10)
    assert first.payload_file and first.payload_file.exists()
    assert second.payload_file and second.payload_file.exists()


def test_failure_details_carry_exit_code_and_trimmed_output(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "f/f.sh", "#!/bin/bash\necho '  {\"error\":\"boom\"}'\necho oops >&2\nexit 3\n")
    result = run(ExtensionRunner(roots=roots), entry)
    assert not result.success
    assert result.exit_code == 3
    assert result.details == 'Exit code: 3, Output: {"error":"boom"}\noops'


def test_json_error_with_exit_zero_is_success(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "f/f.sh", "#!/bin/bash\necho '{\"status\":\"error\"}'\n")
    result = run(ExtensionRunner(roots=roots), entry)
    assert result.success and result.details == '{"status":"error"}'


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1].startswith("Z")  # a zombie is dead
    except FileNotFoundError:
        return True


def test_timeout_kills_the_whole_process_group(roots: ExtensionRoots, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = f"#!/bin/bash\nsleep 300 &\necho $! > {pids}\necho started\nsleep 300\n"
    entry = write_exe(roots, "hang/hang.sh", body)
    result = run(ExtensionRunner(roots=roots), entry, "start", timeout=1)
    assert result.timed_out and not result.success
    assert result.details == "Timeout"
    assert result.exit_code is None
    assert result.output == "started"
    grandchild = int(pids.read_text())
    eventually(lambda: _gone(grandchild), what="the grandchild to be killed by the timeout", timeout=10)


def test_huge_output_is_capped_with_a_marker(roots: ExtensionRoots) -> None:
    body = f"#!{sys.executable}\nimport sys\nsys.stdout.write('x' * (3 * 1024 * 1024))\n"
    entry = write_exe(roots, "big/big.py", body)
    result = run(ExtensionRunner(roots=roots), entry)
    assert result.success and result.truncated
    assert result.output.startswith("x" * 1000)
    assert result.output.count("x") == 1024 * 1024
    assert result.output.endswith(f"[output truncated: {2 * 1024 * 1024} more bytes not shown]")


def test_binary_garbage_output_is_decoded_safely(roots: ExtensionRoots) -> None:
    body = (
        f"#!{sys.executable}\nimport sys\n"
        "sys.stdout.buffer.write(b'ok\\x00\\xff\\xfe\\r\\nline2\\x1b[0m\\n')\nsys.exit(2)\n"
    )
    entry = write_exe(roots, "bin/bin.py", body)
    result = run(ExtensionRunner(roots=roots), entry)
    assert not result.success
    assert "\x00" not in result.details
    assert result.details == "Exit code: 2, Output: ok\ufffd\ufffd\nline2\x1b[0m"


def test_non_executable_entry_point_is_refused_without_running(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "rec/rec.py", RECORDER, mode=0o644)
    result = run(ExtensionRunner(roots=roots), entry)
    assert not result.success and result.details == "File is not executable"
    assert result.exit_code is None
    assert not (roots.extensions / "rec" / "record.json").exists()
    assert not (roots.payloads / EXT).exists(), "no payload is written for a run that cannot start"


def test_a_symlinked_entry_point_placed_on_disk_runs_in_its_extension_directory(roots: ExtensionRoots,
                                                                                tmp_path: Path) -> None:
    outside = tmp_path / "opt" / "outside.py"
    outside.parent.mkdir()
    outside.write_text(RECORDER)
    outside.chmod(0o755)
    (roots.extensions / "esc").mkdir(parents=True)
    (roots.extensions / "esc" / "esc.py").symlink_to(outside)
    result = run(ExtensionRunner(roots=roots), roots.entry_point("esc/esc.py"))
    assert result.success, result.details
    assert (tmp_path / "opt" / "record.json").exists()  # the recorder writes beside its real file


def test_a_dangling_symlink_is_not_configured(roots: ExtensionRoots, tmp_path: Path) -> None:
    (roots.extensions / "gone").mkdir(parents=True)
    (roots.extensions / "gone" / "gone.py").symlink_to(tmp_path / "missing.py")
    result = run(ExtensionRunner(roots=roots), roots.entry_point("gone/gone.py"))
    assert not result.success and result.details == "Extension not configured"


def test_missing_entry_point_is_not_configured(roots: ExtensionRoots) -> None:
    result = run(ExtensionRunner(roots=roots), roots.entry_point("none/none.sh"))
    assert not result.success and result.details == "Extension not configured"


def test_bad_interpreter_is_a_failure_not_a_crash(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "bad/bad.sh", "#!/nonexistent/interpreter\n")
    result = run(ExtensionRunner(roots=roots), entry)
    assert not result.success and result.exit_code == 127
    assert result.details.startswith("Exit code: 127, Output: cannot execute bad.sh")


def test_concurrency_limit_queues_excess_runs(roots: ExtensionRoots, tmp_path: Path) -> None:
    marks = tmp_path / "running"
    marks.mkdir()
    body = (
        f"#!/bin/bash\ntouch {marks}/$$\nsleep 0.3\n"
        f"n=$(ls {marks} | wc -l)\nrm {marks}/$$\necho $n\n"
    )
    entry = write_exe(roots, "conc/conc.sh", body)
    runner = ExtensionRunner(roots=roots, default_limit=5)
    runner.set_limit(EXT, 2)

    async def many() -> list[RunResult]:
        return await asyncio.gather(
            *(runner.run(extension_name=EXT, entry=entry, action="start", payload={}, timeout=30) for _ in range(6))
        )

    results = asyncio.run(many())
    assert all(r.success for r in results), [r.details for r in results]
    assert max(int(r.output) for r in results) <= 2
    assert runner.limit(EXT) == 2 and runner.limit("other") == 5


def test_run_blocking_from_worker_threads_shares_one_limit(roots: ExtensionRoots, tmp_path: Path) -> None:
    marks = tmp_path / "running"
    marks.mkdir()
    body = f"#!/bin/bash\ntouch {marks}/$$\nsleep 0.2\nn=$(ls {marks} | wc -l)\nrm {marks}/$$\necho $n\n"
    entry = write_exe(roots, "conc/conc.sh", body)
    runner = ExtensionRunner(roots=roots, default_limit=1)
    results: list[RunResult] = []

    def work() -> None:
        results.append(
            runner.run_blocking(extension_name=EXT, entry=entry, action="stop", payload={}, timeout=30)
        )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 4 and all(r.success for r in results)
    assert {r.output for r in results} == {"1"}


def test_run_blocking_refuses_an_event_loop_thread(roots: ExtensionRoots) -> None:
    runner = ExtensionRunner(roots=roots)

    async def misuse() -> None:
        runner.run_blocking(extension_name=EXT, entry=roots.entry_point("x/x.sh"), action="s", payload={}, timeout=1)

    with pytest.raises(RuntimeError):
        asyncio.run(misuse())


def test_daemonised_child_holding_the_pipe_does_not_hold_the_result(roots: ExtensionRoots, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = f"#!/bin/bash\nsleep 60 &\necho $! > {pids}\necho done\n"
    entry = write_exe(roots, "d/d.sh", body)
    try:
        result = run(ExtensionRunner(roots=roots), entry, timeout=30)
        assert result.success and not result.timed_out
        assert result.output == "done"
    finally:
        os.kill(int(pids.read_text()), 9)


def test_cancelled_run_kills_the_process_group(roots: ExtensionRoots, tmp_path: Path) -> None:
    """Cancelled at different moments (queued, spawning, running), no process of the group survives."""
    pids = tmp_path / "pids"
    pids.mkdir()
    entry = write_exe(roots, "c/c.sh", f"#!/bin/bash\nsleep 300 &\necho $! > {pids}/$$\nsleep 300\n")
    runner = ExtensionRunner(roots=roots)

    async def cancel_after(delay: float) -> None:
        task = asyncio.ensure_future(
            runner.run(extension_name=EXT, entry=entry, action="start", payload={}, timeout=600)
        )
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def many() -> None:
        for delay in (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3):
            await cancel_after(delay)

    asyncio.run(many())
    started = [int(f.read_text()) for f in pids.iterdir() if f.read_text().strip()]
    assert started, "at least the late cancellations found a running process"
    eventually(lambda: all(_gone(pid) for pid in started), what="every cancelled run's process to be gone",
               timeout=10)


def test_payload_directory_removed_between_runs_is_recreated(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "rec/rec.py", RECORDER)
    runner = ExtensionRunner(roots=roots)
    assert run(runner, entry).success
    shutil.rmtree(roots.payloads)
    result = run(runner, entry)
    assert result.success and result.payload_file is not None and result.payload_file.exists()
    assert stat.S_IMODE(result.payload_file.parent.stat().st_mode) == 0o700


def test_process_killed_by_a_signal_reports_128_plus_signal(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "k/k.sh", "#!/bin/bash\necho dying\nkill -9 $$\n")
    result = run(ExtensionRunner(roots=roots), entry)
    assert not result.success and result.exit_code == 137
    assert result.details == "Exit code: 137, Output: dying"


def test_close_kills_what_still_runs(roots: ExtensionRoots, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    entry = write_exe(roots, "c/c.sh", f"#!/bin/bash\nsleep 300 &\necho $! > {pids}\nsleep 300\n")
    runner = ExtensionRunner(roots=roots)
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            runner.run_blocking(extension_name=EXT, entry=entry, action="start", payload={}, timeout=600)
        except BaseException as exc:  # the cancellation surfaces here
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    eventually(lambda: pids.exists() and pids.read_text().strip(), what="the run to start its child", timeout=20,
               interval=0.02)
    runner.close()
    thread.join(30)
    assert outcome and not thread.is_alive()
    grandchild = int(pids.read_text())
    eventually(lambda: _gone(grandchild), what="close() to kill the run's child", timeout=10)


def test_cancelling_a_queued_run_does_not_leak_its_slot(roots: ExtensionRoots) -> None:
    entry = write_exe(roots, "q/q.sh", "#!/bin/bash\nsleep 0.3\necho done\n")
    runner = ExtensionRunner(roots=roots, default_limit=1)

    def start() -> asyncio.Future[RunResult]:
        return asyncio.ensure_future(
            runner.run(extension_name=EXT, entry=entry, action="start", payload={}, timeout=30)
        )

    async def scenario() -> list[RunResult]:
        first = start()
        await asyncio.sleep(0.05)
        queued = start()
        await asyncio.sleep(0.05)
        queued.cancel()
        third = start()
        results = [await first, await third]
        results.append(await asyncio.wait_for(start(), timeout=20))  # the slot came back
        return results

    results = asyncio.run(scenario())
    assert [r.output for r in results] == ["done", "done", "done"]
