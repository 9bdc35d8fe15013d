"""The scaffold, created by the prepare-path step, under the real runner with payloads from the builder."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from switchboard.extensions.paths import ExtensionRoots, default_relative_path
from switchboard.extensions.payload import lifecycle_payload
from switchboard.extensions.payload_model import PowerState
from switchboard.extensions.power import parse_power_state
from switchboard.extensions.prepare_output import apply_prepare_output
from switchboard.extensions.runner import ExtensionRunner, RunResult
from switchboard.extensions.scaffold import prepare_entry_point
from tests.unit.extensions.sample import EXTENSION, HOST, INSTANCE, NIC, RESOURCE_MAP, SECOND_NIC

NAME = "My Scaffolded Ext"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[ExtensionRoots, ExtensionRunner]]:
    roots = ExtensionRoots.in_data_dir(tmp_path)
    relative = default_relative_path(NAME)
    assert prepare_entry_point(roots.extensions / relative)
    runner = ExtensionRunner(roots=roots)
    yield roots, runner
    runner.close()


def run(roots: ExtensionRoots, runner: ExtensionRunner, action: str, payload: dict[str, Any]) -> RunResult:
    entry = roots.entry_point(default_relative_path(NAME))
    return asyncio.run(runner.run(extension_name=NAME, entry=entry, action=action, payload=payload, timeout=30))


def payload(action: str, state: str) -> dict[str, Any]:
    instance = replace(INSTANCE, state=state)
    return lifecycle_payload(action, extension=EXTENSION, resource_map=RESOURCE_MAP, host=HOST, instance=instance)


def test_prepare_gives_every_nic_a_qemu_mac(setup: tuple[ExtensionRoots, ExtensionRunner]) -> None:
    roots, runner = setup
    sent = payload("prepare", "Starting")
    result = run(roots, runner, "prepare", sent)
    assert result.success, result.details
    outcome = apply_prepare_output(sent["cloudstack.vm.details"], result.output)
    assert {u.nic_uuid for u in outcome.nics} == {NIC.nic_uuid, SECOND_NIC.nic_uuid}
    assert all(re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", u.mac or "") for u in outcome.nics)
    assert outcome.details == sent["cloudstack.vm.details"]["details"]


def test_lifecycle_and_power_state(setup: tuple[ExtensionRoots, ExtensionRunner]) -> None:
    roots, runner = setup
    assert run(roots, runner, "create", payload("create", "Starting")).output == (
        '{"status":"success","message":"Instance created"}'
    )
    status = run(roots, runner, "status", payload("status", "Running"))
    assert parse_power_state(status.success, status.output) is PowerState.POWER_ON
    assert run(roots, runner, "stop", payload("stop", "Stopping")).success
    status = run(roots, runner, "status", payload("status", "Stopped"))
    assert status.output == '{"status":"success","power_state":"poweroff"}'
    unknown = run(roots, runner, "Nope", payload("stop", "Running"))
    assert not unknown.success and unknown.details == 'Exit code: 1, Output: {"error":"Invalid action"}'
    console = run(roots, runner, "getconsole", payload("getconsole", "Running"))
    assert not console.success
