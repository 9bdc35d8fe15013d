"""The Demo extension's executable under the extension contract: `<path> <action> <payload> <timeout>`,
success by exit code, one JSON object on stdout, power state remembered per instance in $HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.demo.cloud import DEMO_SOURCE


def run(home: Path, action: str, payload: dict[str, Any] | str) -> tuple[int, dict[str, Any]]:
    file = home / "payload.json"
    file.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    result = subprocess.run([sys.executable, str(DEMO_SOURCE), action, str(file), "10"], capture_output=True,
                            text=True, env={"HOME": str(home), "PATH": os.environ.get("PATH", "")}, check=False,
                            timeout=30)
    return result.returncode, json.loads(result.stdout)


def test_lifecycle_is_remembered_per_instance(tmp_path: Path) -> None:
    vm = {"virtualmachinename": "i-2-7-VM"}
    other = {"virtualmachinename": "i-2-8-VM"}
    assert run(tmp_path, "status", vm) == (0, {"status": "success", "power_state": "poweroff"})
    assert run(tmp_path, "create", vm)[0] == 0
    assert run(tmp_path, "create", other)[0] == 0
    assert run(tmp_path, "stop", vm)[0] == 0
    assert run(tmp_path, "status", vm)[1]["power_state"] == "poweroff"
    assert run(tmp_path, "statuses", {})[1]["power_state"] == {"i-2-7-VM": "poweroff", "i-2-8-VM": "poweron"}
    assert run(tmp_path, "start", vm)[0] == 0
    assert run(tmp_path, "delete", other)[0] == 0
    assert run(tmp_path, "statuses", {})[1]["power_state"] == {"i-2-7-VM": "poweron"}


def test_prepare_gives_macs_to_nics_without_one(tmp_path: Path) -> None:
    payload = {"cloudstack.vm.details": {"nics": [{"uuid": "n1"}, {"uuid": "n2", "mac": "02:00:00:00:00:01"}]}}
    code, output = run(tmp_path, "prepare", payload)
    assert code == 0
    assert [nic["uuid"] for nic in output["nics"]] == ["n1"]
    assert output["nics"][0]["mac"].startswith("52:54:00:")


def test_hello_answers_with_a_printable_table(tmp_path: Path) -> None:
    payload = {"virtualmachinename": "i-2-7-VM", "parameters": {"name": "Ada", "shout": True, "mood": "happy"},
               "cloudstack.vm.details": {"name": "i-2-7-VM"}}
    code, output = run(tmp_path, "Hello", payload)
    assert code == 0
    assert output["printmessage"] == "true"
    [row] = output["message"]
    assert (row["greeting"], row["instance"], row["mood"]) == ("HELLO, ADA!", "i-2-7-VM", "happy")


@pytest.mark.parametrize(("action", "payload", "error"), [
    ("reset", {}, "Invalid action: reset"),
    ("status", "{not json", "Payload is not valid JSON"),
])
def test_failures_exit_non_zero(tmp_path: Path, action: str, payload: Any, error: str) -> None:
    assert run(tmp_path, action, payload) == (1, {"error": error})


def test_the_file_is_standalone() -> None:
    """It must run unchanged under Apache CloudStack: nothing from Switchboard, executable bit set."""
    text = DEMO_SOURCE.read_text()
    assert "switchboard" not in "\n".join(line for line in text.splitlines() if line.startswith(("import", "from")))
    assert os.access(DEMO_SOURCE, os.X_OK)
