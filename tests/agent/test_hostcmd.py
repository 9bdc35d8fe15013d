"""The agent's one host-command runner: its error and logging policy, and that nothing bypasses it."""

from __future__ import annotations

import ast
import logging
import sys
from pathlib import Path

import pytest

from switchboard.agent.errors import BackendError
from switchboard.agent.hostcmd import CommandFailed, SubprocessRunner, check

AGENT = Path(__file__).resolve().parents[2] / "src" / "switchboard" / "agent"


def test_a_failing_command_raises_one_error_naming_the_tool_its_status_and_its_last_error_line() -> None:
    script = "import sys; print('warming up', file=sys.stderr); print('disk full', file=sys.stderr); sys.exit(3)"
    with pytest.raises(CommandFailed) as raised:
        check(SubprocessRunner(), [sys.executable, "-c", script])
    assert str(raised.value) == f"{Path(sys.executable).name} failed (rc 3): disk full"
    assert raised.value.returncode == 3 and "warming up" in raised.value.stderr
    assert isinstance(raised.value, BackendError)  # reported by the runtime like any backend failure


def test_a_missing_tool_and_a_timeout_are_results_and_then_the_same_error() -> None:
    runner = SubprocessRunner()
    missing = runner.run(["sb-no-such-tool", "--help"])
    assert missing.returncode == 127 and "command not found" in missing.stderr
    with pytest.raises(CommandFailed, match=r"sb-no-such-tool failed \(rc 127\)"):
        check(runner, ["sb-no-such-tool"])
    slow = runner.run(["sleep", "5"], timeout=0.2)
    assert slow.returncode == 124 and "timed out" in slow.stderr
    assert check(runner, ["sh", "-c", "exit 2"], ok=(0, 2)).returncode == 2


def test_commands_run_in_the_c_locale_without_stdin_and_are_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="switchboard.agent.hostcmd"):
        result = check(SubprocessRunner(), ["sh", "-c", 'echo "$LC_ALL"; cat'])
    assert result.stdout == "C\n"  # and `cat` read an empty stdin instead of hanging
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "sh -c" in caplog.records[0].getMessage() and "rc 0" in caplog.records[0].getMessage()


def test_a_caller_may_give_the_whole_environment() -> None:
    result = check(SubprocessRunner(), ["/bin/sh", "-c", 'echo "${LC_ALL:-unset} $ONLY"'], env={"ONLY": "this"})
    assert result.stdout == "unset this\n"


def test_no_agent_module_but_the_runner_starts_processes_itself() -> None:
    starters = {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"}
    offenders = []
    for path in sorted(AGENT.rglob("*.py")):
        if path.name == "hostcmd.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (
                    (node.func.value.id == "subprocess" and node.func.attr in starters)
                    or (node.func.value.id == "os" and node.func.attr in {"system", "popen", "spawnv", "execv"})
                )
            ):
                offenders.append(f"{path.relative_to(AGENT)}:{node.lineno}")
    assert offenders == []
