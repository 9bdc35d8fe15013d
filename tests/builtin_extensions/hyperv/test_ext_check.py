"""`switchboard ext check --details FILE` passes on hyperv.py against the WinRM stand-in.

The details file points the check's sample payloads at the stand-in (the host's address, credentials, CA,
switch and folders; the template's VHD) and the check watches every output for the host password as for
its own planted secrets. hyperv.py is a built-in: the check runs it with the server's interpreter (which
has pywinrm), as the server does. Everything else is the check's own, run by the real command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.builtin_extensions.hyperv.conftest import HYPERV, PASSWORD, TEMPLATE, USER
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn
from tests.support.server import REPO, switchboard_cmd


def test_ext_check_passes_on_hyperv_against_the_standin(standin: WinRMStandIn, certificates: Certificates,
                                                         tmp_path: Path) -> None:
    details = tmp_path / "details.json"
    details.write_text(json.dumps({
        "host": {"url": f"127.0.0.1:{standin.port}", "username": USER, "password": PASSWORD,
                 "network_switch": "External", "vhd_path": "D:\\VHDs", "vm_path": "D:\\VMs",
                 "ca_bundle": str(certificates.ca)},
        "template": {"template_type": "template", "template_path": TEMPLATE, "generation": "2"},
    }))
    done = subprocess.run(switchboard_cmd("ext", "check", str(HYPERV), "--details", str(details), "--timeout", "30",
                                          "--json"), cwd=REPO, capture_output=True, text=True, timeout=600)
    report = json.loads(done.stdout)
    findings = {step["step"]: [f["message"] for f in step["findings"]] for step in report["steps"]}
    assert (done.returncode, report["passed"]) == (0, True), findings
    assert findings.pop("prepare") == [
        "prepare is not implemented: do not set orchestratorrequirespreparevm=true on this extension"]
    assert all(not found for found in findings.values()), findings
    assert [step["step"] for step in report["steps"]] == [
        "prepare", "create", "status (Running)", "stop", "status (Stopped)", "start", "reboot", "getconsole",
        "statuses", "custom action", "unknown action", "delete"]
    # getconsole says plainly that Hyper-V has no console here
    assert "console access is not supported" in next(s["output"] for s in report["steps"] if s["step"] == "getconsole")
    # it really ran against the host: an instance was made, driven and removed
    scripts = "".join(standin.scripts)
    for command in ("New-VM", "Stop-VM", "Start-VM", "Restart-VM", "Remove-VM"):
        assert command in scripts
    assert standin.host.vms == [] and len(standin.logins) >= 8
