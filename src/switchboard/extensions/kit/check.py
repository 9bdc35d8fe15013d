"""The conformance check: run an executable through every action and say what is wrong with it.

Actions, in this order: prepare, create, status, stop, status, start, reboot, getconsole, statuses, a custom
action, an unknown action, delete — each with a payload built by `extensions.payload` and run by
`extensions.runner`, exactly as the server would; what a usable `prepare` patch changed (details, NIC
addresses, VNC password) is in every later payload, as the server persists it. Findings are errors (the
check fails) or warnings.

The payloads name a made-up backend (`kit/sample.py`); `details` (`--details FILE`, `kit/details.py`) merges
a live backend's details over them. An entry file that starts `#!/usr/bin/env python3` runs with `python`
when given (`--python`), and a built-in's, as the server installs it, with the server's own interpreter.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from switchboard.extensions.builtins import BUILTIN_SOURCE
from switchboard.extensions.console_output import NoConsole, parse_console
from switchboard.extensions.kit.details import CheckDetails, apply_details
from switchboard.extensions.kit.sample import CheckContext, new_context
from switchboard.extensions.paths import EntryPoint, EntryPointError, ExtensionRoots
from switchboard.extensions.payload import custom_action_payload, lifecycle_payload, statuses_payload
from switchboard.extensions.payload_model import PowerState
from switchboard.extensions.power import parse_power_state, parse_power_states
from switchboard.extensions.prepare_output import PrepareOutcome, PrepareOutputError, apply_prepare_output
from switchboard.extensions.runner import ExtensionRunner, RunResult

__all__ = ["ActionReport", "CheckReport", "Finding", "check_executable"]

Severity = Literal["error", "warning"]
UNKNOWN_ACTION = "switchboard-check-no-such-action"
_INVALID_ACTION = re.compile(r"invalid action|unknown action|not (supported|implemented)", re.IGNORECASE)
_LIFECYCLE = ("create", "stop", "start", "reboot", "delete")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    message: str


@dataclass(kw_only=True)
class ActionReport:
    """One run: its outcome and the findings about it."""

    step: str
    action: str
    exit_code: int | None
    success: bool
    timed_out: bool
    duration: float
    output: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


@dataclass(kw_only=True)
class CheckReport:
    path: str
    timeout: int
    steps: list[ActionReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # about the executable as a whole

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings) and all(s.passed for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        for step, report in zip(data["steps"], self.steps, strict=True):
            step["passed"] = report.passed
        return data


def _json_object(output: str) -> dict[str, Any] | None:
    try:
        value = json.loads(output)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Checker:
    def __init__(self, entry: EntryPoint, runner: ExtensionRunner, ctx: CheckContext, timeout: int, grace: float):
        self.entry = entry
        self.runner = runner
        self.ctx = ctx
        self.timeout = timeout
        self.grace = grace

    async def run(self, step: str, action: str, payload: dict[str, Any], *,
                  may_print: frozenset[str] = frozenset()) -> tuple[ActionReport, RunResult]:
        """Run one step; `may_print`: labels of secrets this action may print (getconsole: the VNC password)."""
        result = await self.runner.run(
            extension_name=self.ctx.extension.name,
            entry=self.entry,
            action=action,
            payload=payload,
            timeout=self.timeout,
            kill_after=self.timeout + self.grace,
        )
        report = ActionReport(
            step=step, action=action, exit_code=result.exit_code, success=result.success,
            timed_out=result.timed_out, duration=round(result.duration, 3), output=_short(result.output, 2000),
        )  # fmt: skip
        if result.timed_out:
            report.findings.append(Finding("error", f"still running {self.grace:g} s after its timeout "
                                                    f"(argv[3] = {self.timeout}); it was killed"))  # fmt: skip
        elif result.duration > self.timeout:
            report.findings.append(Finding("warning", f"took {result.duration:.1f} s, more than argv[3]"))
        leaked = [label for label, value in self.ctx.secrets.items()
                  if value in result.output and label not in may_print]
        if leaked:
            report.findings.append(Finding("error", "prints secrets from the payload: " + ", ".join(leaked)))
        return report, result

    def payload(self, action: str, state: str, *, first_start: bool = False) -> dict[str, Any]:
        return lifecycle_payload(
            action, extension=self.ctx.extension, resource_map=self.ctx.resource_map, host=self.ctx.host,
            instance=self.ctx.at(state, first_start=first_start), caller=self.ctx.caller,
        )  # fmt: skip


def _expect_json_success(report: ActionReport, result: RunResult) -> None:
    if result.timed_out:
        return
    if not result.success:
        report.findings.append(Finding("error", f"failed: {_short(result.details)}"))
    elif _json_object(result.output) is None:
        what = "printed nothing" if not result.output else f"printed non-JSON {_short(result.output)!r}"
        report.findings.append(Finding("error", f"{what}; expected a JSON object such as "
                                                '{"status":"success","message":"..."}'))  # fmt: skip


def _check_prepare(report: ActionReport, result: RunResult, vm_details: dict[str, Any]) -> PrepareOutcome | None:
    """Findings about `prepare`'s run; its outcome when the patch is usable and changes something."""
    if result.timed_out:
        return None
    if not result.success:
        if _INVALID_ACTION.search(result.output):
            hint = "prepare is not implemented: do not set orchestratorrequirespreparevm=true on this extension"
            report.findings.append(Finding("warning", hint))
        else:
            report.findings.append(Finding("error", f"failed: {_short(result.details)}"))
        return None
    if not result.output:
        return None  # empty output: nothing to change, which is allowed
    try:
        outcome = apply_prepare_output(vm_details, result.output)
    except PrepareOutputError as exc:
        report.findings.append(Finding("error", f"output is not a usable merge patch ({exc.reason})"))
        return None
    if not outcome.changed:
        report.findings.append(Finding("error", "the prepare patch changes nothing; print nothing instead, or "
                                                "return the values to change (NICs are matched by network uuid)"))
        return None
    return outcome


def _prepared(ctx: CheckContext, outcome: PrepareOutcome) -> CheckContext:
    """The context after `prepare`: its details, NIC addresses and VNC password kept, as the server keeps them."""
    updates = {update.nic_uuid: update for update in outcome.nics}
    nics = tuple(
        replace(nic, mac=updates[nic.nic_uuid].mac or nic.mac, ip=updates[nic.nic_uuid].ip or nic.ip)
        if nic.nic_uuid in updates else nic
        for nic in ctx.instance.nics
    )
    instance = replace(ctx.instance, details=outcome.details, nics=nics,
                       vnc_password=outcome.vnc_password or ctx.instance.vnc_password)
    return replace(ctx, instance=instance)


def _check_status(report: ActionReport, result: RunResult, expected: PowerState | None) -> None:
    if result.timed_out:
        return
    if not result.success:
        report.findings.append(Finding("error", f"failed: {_short(result.details)}"))
        return
    state = parse_power_state(True, result.output)
    if state is PowerState.POWER_UNKNOWN:
        report.findings.append(Finding("error", f"answer {_short(result.output)!r} is not a power state; print "
                                                '{"status":"success","power_state":"poweron"} (or "poweroff")'))
        return
    if _json_object(result.output) is None:
        report.findings.append(Finding("warning", "plain-text state accepted; JSON with power_state is preferred"))
    if expected is not None and state is not expected:
        report.findings.append(Finding("warning", f"reports {state.value} where {expected.value} was expected"))


def _check_statuses(report: ActionReport, result: RunResult) -> None:
    if result.timed_out or not result.success:
        return  # not implemented: the server falls back to `status` per instance
    states = parse_power_states(True, result.output)
    if states is None:
        report.findings.append(Finding("error", "answer has no power_state object; print "
                                                '{"status":"success","power_state":{"<name>":"poweron",...}}'))
        return
    bad = [name for name, state in states.items() if state is PowerState.POWER_UNKNOWN]
    if bad:
        report.findings.append(Finding("error", "unreadable states for: " + ", ".join(bad[:5])))


def _check_console(report: ActionReport, result: RunResult) -> None:
    if result.timed_out:
        return
    if not result.success:
        if not _INVALID_ACTION.search(result.output):
            report.findings.append(Finding("warning", f"failed: {_short(result.details)} (where there is no "
                                                      'console, say so: {"error":"Console access is not supported"})'))
        return
    try:
        parse_console(result.success, result.output, result.details)
    except NoConsole as exc:
        report.findings.append(Finding("error", f"{exc}; print "
                                                '{"status":"success","console":{"host":"…","port":"5901",'
                                                '"password":"…","protocol":"vnc"}} or {"console":{"url":"…",'
                                                '"protocol":"direct"}}'))


def default_python(path: Path) -> str | None:
    """The interpreter the server runs `path` with when it differs from its #! line: the server's own for a
    built-in extension's Python entry file (as `install_builtin_files` installs it), else None."""
    try:
        builtin = Path(path).resolve().is_relative_to(BUILTIN_SOURCE.resolve())
        python_entry = Path(path).read_bytes().startswith(b"#!/usr/bin/env python3")
    except OSError:
        return None
    return sys.executable if builtin and python_entry else None


async def check_executable(path: Path, *, timeout: int = 10, grace: float = 2.0, details: CheckDetails | None = None,
                           python: str | None = None) -> CheckReport:
    """Run the conformance check on the executable at `path`; never raises for what the executable does.

    `timeout`: seconds passed as argv[3]; a run still going `grace` seconds later is killed and reported.
    `details`: a live backend's details merged over the sample payloads. `python`: run the entry file with
    this interpreter (default: `default_python(path)`, else its #! line).
    """
    report = CheckReport(path=str(path), timeout=timeout)
    entry = EntryPoint.standalone(path)
    try:
        entry.validate()
    except EntryPointError as exc:
        report.findings.append(Finding("error", f"{exc}: {exc.reason}"))
        return report
    ctx = new_context() if details is None else apply_details(new_context(), details)
    with tempfile.TemporaryDirectory(prefix="sb-ext-check-") as tmp:
        runner = ExtensionRunner(roots=ExtensionRoots(extensions=entry.directory, payloads=Path(tmp)),
                                 interpreter=python or default_python(path))
        try:
            await _run_all(report, _Checker(entry, runner, ctx, timeout, grace))
        finally:
            runner.close()
    return report


async def _run_all(report: CheckReport, checker: _Checker) -> None:
    """Every step, in order, appending to `report`."""
    ctx = checker.ctx
    payload = checker.payload("prepare", "Starting", first_start=True)
    step, result = await checker.run("prepare", "prepare", payload)
    outcome = _check_prepare(step, result, payload["cloudstack.vm.details"])
    if outcome is not None:
        checker.ctx = ctx = _prepared(ctx, outcome)
    report.steps.append(step)

    plan: list[tuple[str, str, PowerState | None]] = [
        ("create", "Starting", None),
        ("status", "Running", PowerState.POWER_ON),
        ("stop", "Stopping", None),
        ("status", "Stopped", PowerState.POWER_OFF),
        ("start", "Starting", None),
        ("reboot", "Running", None),
    ]
    for action, state, expected in plan:
        step, result = await checker.run(
            f"{action} ({state})" if action == "status" else action,
            action,
            checker.payload(action, state, first_start=action == "create"),
        )
        if action == "status":
            _check_status(step, result, expected)
        else:
            _expect_json_success(step, result)
        report.steps.append(step)

    # The console, while the instance runs (CloudStack 4.22+): a console the server can use, or a plain "no".
    step, result = await checker.run("getconsole", "getconsole", checker.payload("getconsole", "Running"),
                                     may_print=frozenset({"VNC password"}))
    _check_console(step, result)
    report.steps.append(step)

    step, result = await checker.run("statuses", "statuses", statuses_payload(
        extension=ctx.extension, resource_map=ctx.resource_map, host=ctx.host, caller=ctx.caller))  # fmt: skip
    _check_statuses(step, result)
    report.steps.append(step)

    custom = custom_action_payload(
        action=ctx.custom_action, parameters={"name": "nightly", "keep": 3, "memory": False},
        extension=ctx.extension, resource_map=ctx.resource_map, host=ctx.host,
        instance=ctx.at("Running"), caller=ctx.caller,
    )  # fmt: skip
    step, result = await checker.run("custom action", ctx.custom_action.name, custom)
    if result.success and _json_object(result.output) is None:
        step.findings.append(Finding("warning", "custom action output is not JSON; the UI shows it raw"))
    report.steps.append(step)

    step, result = await checker.run("unknown action", UNKNOWN_ACTION, checker.payload("stop", "Running"))
    if result.success:
        step.findings.append(Finding("error", 'an unknown action must fail: print {"error":"Invalid action"} '
                                              "and exit 1"))  # fmt: skip
    report.steps.append(step)

    step, result = await checker.run("delete", "delete", checker.payload("delete", "Expunging"))
    _expect_json_success(step, result)
    report.steps.append(step)
