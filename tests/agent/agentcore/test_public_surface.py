"""The agent's public names that other parts use (the top-level CLI, the deploy files, the docs)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

import switchboard.agent.cli as cli
from agentcore.conftest import Host
from agentcore.harness import payload
from switchboard.agent.model import PowerState
from switchboard.agent.payload import spec_from_payload


def test_cli_main_takes_an_argument_list_and_returns_a_status() -> None:
    signature = inspect.signature(cli.main)
    assert list(signature.parameters) == ["argv"]


def test_cli_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code == 2


def test_shutdown_vms_stops_running_vms_and_keeps_them_meant_to_run(host: Host) -> None:
    agent = host.agent()
    agent.service.create(spec_from_payload(payload("sd-1")))
    assert agent.service.shutdown_all() == ["sd-1"]
    assert host.vmm.power_state("sd-1") is PowerState.STOPPED
    assert agent.service.get("sd-1").held


def test_shutdown_vms_command_runs_with_the_real_backends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {"defaults": {"host": {"vmm": "qemu", "state_dir": str(tmp_path / "state"),
                                    "run_dir": str(tmp_path / "run"), "log_dir": str(tmp_path / "log")},
                           "storage": {"driver": "file", "volume_dir": str(tmp_path / "volumes")}}}
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(config))
    assert cli.main(["shutdown-vms", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith("stopped 0 VMs")
    config["defaults"]["storage"]["driver"] = "nonsense"
    path.write_text(json.dumps(config))
    assert cli.main(["shutdown-vms", "--config", str(path)]) == 1
    assert "nonsense" in capsys.readouterr().err
