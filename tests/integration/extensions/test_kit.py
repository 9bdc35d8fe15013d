"""The author's kit: scaffolds pass the check; a deliberately bad executable fails with the right findings."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.extensions.kit.check import CheckReport, check_executable
from switchboard.extensions.kit.cli import main

BAD = """#!/bin/bash
case "$1" in
  prepare) echo '{"details":{}}' ;;                 # a patch that changes nothing
  create) echo "created it" ;;                       # not JSON
  start) cat "$2" ;;                                 # leaks every secret of the payload
  status) echo '{"status":"success","power_state":"running"}' ;;
  reboot) sleep 30 ;;                                # ignores argv[3]
  statuses) echo '{"status":"success"}' ;;           # no power_state map
  *) echo '{"status":"success"}' ;;                  # even unknown actions "succeed"
esac
exit 0
"""


def findings(report: CheckReport, step: str) -> list[str]:
    return [f"{f.severity}: {f.message}" for s in report.steps if s.step == step for f in s.findings]


@pytest.mark.parametrize("lang", ["bash", "python"])
def test_scaffolded_skeleton_passes_the_check(tmp_path: Path, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scaffold", "My Ext", "--lang", lang, "--dir", str(tmp_path)]) == 0
    suffix = ".sh" if lang == "bash" else ".py"
    path = tmp_path / "my_ext" / f"my_ext{suffix}"
    assert capsys.readouterr().out.strip() == str(path)
    assert path.stat().st_mode & 0o777 == 0o755
    assert main(["check", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    assert [s["step"] for s in report["steps"]] == [
        "prepare", "create", "status (Running)", "stop", "status (Stopped)", "start", "reboot", "getconsole",
        "statuses", "custom action", "unknown action", "delete",
    ]  # fmt: skip
    assert all(not s["findings"] for s in report["steps"]), report["steps"]
    assert not (tmp_path / "my_ext" / ".provisioner-state").exists(), "the scaffold cleans up after delete"


def test_scaffold_refuses_to_overwrite(tmp_path: Path) -> None:
    assert main(["scaffold", "x", "--dir", str(tmp_path)]) == 0
    (tmp_path / "x" / "x.sh").write_text("mine")
    assert main(["scaffold", "x", "--dir", str(tmp_path)]) == 1
    assert (tmp_path / "x" / "x.sh").read_text() == "mine"


def test_bad_executable_fails_with_each_problem_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.sh"
    path.write_text(BAD)
    path.chmod(0o755)
    report = asyncio.run(check_executable(path, timeout=1, grace=0.5))
    assert not report.passed
    assert any("changes nothing" in f for f in findings(report, "prepare"))
    assert any("non-JSON 'created it'" in f for f in findings(report, "create"))
    start = findings(report, "start")
    assert any(f.startswith("error: prints secrets") and "host password" in f and "VNC password" in f
               and "extension secret" in f for f in start), start  # fmt: skip
    assert any("'{\"status\":\"success\",\"power_state\":\"running\"}' is not a power state" in f
               for f in findings(report, "status (Running)"))  # fmt: skip
    assert any("after its timeout" in f and "killed" in f for f in findings(report, "reboot"))
    assert any("no power_state object" in f for f in findings(report, "statuses"))
    assert any(f.startswith("error: Missing console object in output") for f in findings(report, "getconsole"))
    assert any("unknown action must fail" in f for f in findings(report, "unknown action"))
    assert findings(report, "stop") == [] and findings(report, "delete") == []


def test_cli_check_exit_code_and_human_report(tmp_path: Path) -> None:
    path = tmp_path / "bad.sh"
    path.write_text(BAD.replace("sleep 30", "true"))
    path.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "ext", "check", str(path), "--timeout", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "FAIL unknown action" in done.stdout
    assert "FAIL:" in done.stdout.splitlines()[-1]


def test_check_of_a_non_executable_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plain.sh"
    path.write_text("#!/bin/sh\n")
    assert main(["check", str(path)]) == 1
    assert "File is not executable" in capsys.readouterr().out


def test_prepare_not_implemented_is_only_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "noprep.sh"
    body = "\n".join([
        "#!/bin/bash",
        'case "$1" in',
        "  prepare) echo '{\"error\":\"Invalid action\"}'; exit 1 ;;",
        "  status) echo '{\"power_state\":\"poweron\"}' ;;",
        "  create|start|stop|reboot|delete) echo '{\"status\":\"success\"}' ;;",
        "  *) echo '{\"error\":\"Invalid action\"}'; exit 1 ;;",
        "esac",
    ])  # fmt: skip
    path.write_text(body + "\n")
    path.chmod(0o755)
    report = asyncio.run(check_executable(path, timeout=2))
    assert report.passed, [(s.step, s.findings) for s in report.steps]
    assert any(f.startswith("warning: prepare is not implemented") for f in findings(report, "prepare"))
    assert any("poweroff was expected".lower() in f.lower() for f in findings(report, "status (Stopped)"))


POINTED = """#!/usr/bin/env python3
import json, sys
action, path = sys.argv[1], sys.argv[2]
with open(path) as handle:
    payload = json.load(handle)
groups = payload.get("externaldetails", {})
host, vm = groups.get("host", {}), groups.get("virtualmachine", {})
if action == "create":
    message = " ".join([sys.executable, host.get("url", "?"), vm.get("kernel", "?"), groups["resourcemap"]["rack"]])
elif action == "start":
    message = "logged in with " + host.get("password", "")  # a leak
elif action == "reboot":
    message = "token " + groups["extension"].get("token", "")  # a leak of a value the file names a secret
elif action == "status":
    message = ""
    print(json.dumps({"status": "success", "power_state": "poweron"}))
    sys.exit(0)
elif action in ("prepare", "stop", "delete", "statuses"):
    message = "ok"
else:
    print(json.dumps({"error": "Invalid action"}))
    sys.exit(1)
print(json.dumps({"status": "success", "message": message}))
"""


def test_details_point_the_check_at_a_backend_and_their_secrets_are_watched(tmp_path: Path) -> None:
    path = tmp_path / "pointed" / "pointed.py"
    path.parent.mkdir()
    path.write_text(POINTED)
    path.chmod(0o755)
    details = tmp_path / "details.json"
    details.write_text(json.dumps({
        "extension": {"token": "tok-4242"},
        "cluster": {"rack": "r7"},
        "host": {"url": "https://backend.example", "password": "pw-from-file", "client_key": "/etc/x/client.key"},
        "template": {"kernel": "vmlinux-6.1", "memory_hint": 256, "fast": True},
    }))
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "ext", "check", str(path), "--details", str(details),
         "--python", sys.executable, "--json"], capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    steps = {step["step"]: step for step in report["steps"]}
    assert steps["create"]["output"] == json.dumps(
        {"status": "success", "message": f"{sys.executable} https://backend.example vmlinux-6.1 r7"})
    assert [f["message"] for f in steps["start"]["findings"]] == [
        "prints secrets from the payload: host detail password"]
    assert [f["message"] for f in steps["reboot"]["findings"]] == [
        "prints secrets from the payload: extension detail token"]
    assert (done.returncode, report["passed"]) == (1, False)


@pytest.mark.parametrize(("content", "why"), [
    ("[1, 2]", "must hold one JSON object"),
    ('{"hosts": {}}', "unknown member(s) hosts"),
    ('{"host": {"url": ["x"]}}', "host.url must be a string, a number or a boolean"),
    ("{nope", "is not JSON"),
])
def test_a_bad_details_file_is_a_usage_error(tmp_path: Path, content: str, why: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    details = tmp_path / "details.json"
    details.write_text(content)
    path = tmp_path / "x.sh"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    assert main(["check", str(path), "--details", str(details)]) == 2
    assert why in capsys.readouterr().err


PREPARING = """#!/usr/bin/env python3
import json, sys
action, path = sys.argv[1], sys.argv[2]
with open(path) as handle:
    vm = json.load(handle).get("cloudstack.vm.details", {})
nic = vm["nics"][0]
if action == "prepare":
    print(json.dumps({"details": {"backend_slot": "slot-7"},
                      "nics": [{"uuid": nic["uuid"], "mac": "02:aa:bb:cc:dd:ee", "ip": "10.9.9.9"}]}))
elif action == "status":
    print(json.dumps({"status": "success", "power_state": "poweron"}))
elif action in ("create", "start", "stop", "reboot", "delete"):
    # What a backend reads back from the patch its prepare made.
    print(json.dumps({"status": "success", "message": " ".join(
        [vm["details"].get("backend_slot", "-"), nic["mac"], nic["ip"]])}))
else:
    print(json.dumps({"error": "Invalid action"}))
    sys.exit(1)
"""


def test_what_prepare_patched_is_in_every_later_payload(tmp_path: Path) -> None:
    path = tmp_path / "preparing.py"
    path.write_text(PREPARING)
    path.chmod(0o755)
    report = asyncio.run(check_executable(path, timeout=5))
    outputs = {step.step: step.output for step in report.steps}
    assert findings(report, "prepare") == []
    expected = json.dumps({"status": "success", "message": "slot-7 02:aa:bb:cc:dd:ee 10.9.9.9"})
    assert [outputs[step] for step in ("create", "stop", "start", "reboot", "delete")] == [expected] * 5
