"""No instance name, detail or parameter can inject PowerShell: every value arrives at the host as data.

The stand-in parses scripts with PowerShell's quoting rules (the typographic single quotes end a string
too), so a value that escaped its quotes would run as code there — and these tests would see its effect."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builtin_extensions.hyperv.conftest import HYPERV, ISO, TEMPLATE, host_details, run_hyperv, vm_payload
from tests.builtin_extensions.hyperv.powershell import tokenize
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn

HOSTILE = [
    "web'; Stop-VM -VM $vm -TurnOff -Force; 'x",
    "web\u2019; Get-VM | Remove-VM -Force; \u2018x",  # typographic quotes are quotes to PowerShell
    'web"; $(Remove-Item -LiteralPath C:\\Templates); "x',
    "web`$(Get-VM)`; #",
    "web\nRemove-VM -VM $vm -Force\n",
    "web$env:COMPUTERNAME&|<>",
    "w*",  # a wildcard: must not match the other machine
    "w[e]?",
]


def _extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hyperv_extension", HYPERV)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


QUOTE = _extension().quote


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=40))
def test_any_text_quoted_is_one_powershell_string_with_the_same_value(value: str) -> None:
    tokens = tokenize(f"Get-VM -Name {QUOTE(value)}; Stop-VM")
    assert [(t.kind, t.value) for t in tokens[:3]] == [("word", "Get-VM"), ("parameter", "Name"), ("string", value)]
    assert [t.value for t in tokens[3:]] == [";", "Stop-VM", ""]


def test_nul_is_refused_rather_than_sent() -> None:
    extension = _extension()
    with pytest.raises(extension.Failure, match="NUL"):
        extension.quote("a\x00b")


def test_hostile_instance_names_are_only_ever_names(standin: WinRMStandIn, certificates: Certificates,
                                                   tmp_path: Path) -> None:
    host = host_details(standin, certificates)
    assert run_hyperv(tmp_path, "create", vm_payload(host, name="web-bystander")).code == 0
    # every action for two of them (quotes PowerShell knows and a wildcard); create and delete for the rest
    everything = ("create", "stop", "start", "reboot", "Suspend", "Resume", "status", "delete")
    for name in HOSTILE:
        payload = vm_payload(host, name=name)
        for action in everything if name in (HOSTILE[1], "w*") else ("create", "delete"):
            run = run_hyperv(tmp_path, action, payload)
            assert run.code == 0, (name, action, run.output)
            if action == "create":
                assert {vm.name: vm.state for vm in standin.host.vms} == {"web-bystander": "Running", name: "Running"}
        assert [(vm.name, vm.state) for vm in standin.host.vms] == [("web-bystander", "Running")]
        assert standin.host.file_paths() == {TEMPLATE, ISO, "D:\\VHDs\\web-bystander.vhdx"}
    assert all(run.exit_code == 0 for run in standin.commands)


def test_hostile_snapshot_names_are_only_ever_names(standin: WinRMStandIn, certificates: Certificates,
                                                    tmp_path: Path) -> None:
    host = host_details(standin, certificates)
    assert run_hyperv(tmp_path, "create", vm_payload(host)).code == 0
    assert run_hyperv(tmp_path, "CreateSnapshot", vm_payload(host, parameters={"snapshot_name": "keep-me"})).code == 0
    for name in HOSTILE:
        run = run_hyperv(tmp_path, "CreateSnapshot", vm_payload(host, parameters={"snapshot_name": name}))
        assert run.code == 0, run.output
    vm = standin.host.vms[0]
    assert [s.name for s in vm.snapshots] == ["keep-me", *[name.strip() for name in HOSTILE]]
    # "w*" names one checkpoint, not every checkpoint whose name starts with w
    assert run_hyperv(tmp_path, "DeleteSnapshot", vm_payload(host, parameters={"snapshot_name": "w*"})).code == 0
    assert "w*" not in [s.name for s in vm.snapshots] and "w[e]?" in [s.name for s in vm.snapshots]
    assert run_hyperv(tmp_path, "RestoreSnapshot", vm_payload(host, parameters={"snapshot_name": HOSTILE[0]})).code == 0
    assert vm.current is not None and vm.current.name == HOSTILE[0] and vm.state == "Running"
    listed = run_hyperv(tmp_path, "ListSnapshots", vm_payload(host)).answer["message"]
    assert [row["name"] for row in listed] == [s.name for s in vm.snapshots]
    assert len(standin.host.vms) == 1 and all(run.exit_code == 0 for run in standin.commands)


def test_hostile_details_arrive_as_paths_and_names(standin: WinRMStandIn, certificates: Certificates,
                                                   tmp_path: Path) -> None:
    template = "C:\\Templates\\o'brien $(x) `n; \u2018q\u2019.vhdx"
    standin.host.add_file(template)
    host = host_details(standin, certificates)
    run = run_hyperv(tmp_path, "create", vm_payload(host, vm_details={"template_path": template}))
    assert run.code == 0, run.output
    assert template in standin.host.file_paths()

    switch = "Lab'; Get-VM | Stop-VM -TurnOff -Force; '"
    host = host_details(standin, certificates, network_switch=switch)
    run = run_hyperv(tmp_path, "create", vm_payload(host, name="i-2-13-VM"))
    assert run.code == 1
    assert f'Hyper-V was unable to find a virtual switch with name "{switch}".' in run.answer["error"]
    assert [(vm.name, vm.state) for vm in standin.host.vms] == [("i-2-12-VM", "Running")]
