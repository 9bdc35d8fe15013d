"""The WinRM stand-in itself checks what Windows checks: tests of its NTLM, WinRS and PowerShell behaviour,
driven with pywinrm directly (the extension's tests rely on these refusals being real)."""

from __future__ import annotations

import base64
import threading

import pytest
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError
from winrm.protocol import Protocol

from tests.builtin_extensions.hyperv.conftest import PASSWORD, USER, new_host
from tests.builtin_extensions.hyperv.hyperv_model import HyperVHost
from tests.builtin_extensions.hyperv.powershell import Interpreter, tokenize
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.utility import CMDLETS, render
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn


def interpreter(host: HyperVHost) -> Interpreter:
    return Interpreter({**CMDLETS, **host.cmdlets()}, render)


def client(standin: WinRMStandIn, certificates: Certificates, **options: object) -> Protocol:
    settings: dict[str, object] = {"transport": "ntlm", "username": USER, "password": PASSWORD,
                                   "ca_trust_path": str(certificates.ca), "proxy": None, **options}
    return Protocol(standin.url, **settings)  # type: ignore[arg-type]


def run_ps(protocol: Protocol, script: str, codepage: int = 65001) -> tuple[bytes, bytes, int]:
    shell = protocol.open_shell(codepage=codepage)
    encoded = base64.b64encode(script.encode("utf-16-le")).decode()
    command = protocol.run_command(shell, "powershell.exe", ["-EncodedCommand", encoded])
    result = protocol.get_command_output(shell, command)
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
    return result


def test_powershell_quoting_rules() -> None:
    tokens = tokenize("Get-VM 'it''s \u2018\u2018quoted\u2019\u2019 here'")
    assert [(t.kind, t.value) for t in tokens] == [("word", "Get-VM"), ("string", "it's \u2018quoted\u2019 here"),
                                                   ("end", "")]
    # a typographic quote ends the string, and what follows is code
    assert [t.kind for t in tokenize("'a\u2019; Remove-VM")] == ["string", "end", "word", "end"]


@pytest.mark.parametrize("script", ["Get-VM | Remove-VM -Force $(Get-VM)", "Stop-VM -VM (Get-VM)",
                                    "Get-VM | ForEach-Object { Remove-VM $_ }", "Get-VM `\n| Stop-VM",
                                    "Write-Output \"$env:PATH\"", "'unterminated"])
def test_constructs_outside_the_subset_are_parse_errors_and_nothing_runs(script: str) -> None:
    host = new_host()
    host.new_vm({"Name": "a", "Generation": 1}, None)[0].state = "Running"
    result = interpreter(host).run(script)
    assert result.exit_code == 1 and result.stdout == ""
    assert "ParserError" in result.errors[0] and host.vm("a").state == "Running"


def test_get_vm_by_name_matches_wildcards_as_hyper_v_does() -> None:
    host = new_host()
    for name in ("web1", "web2", "w*"):
        host.new_vm({"Name": name}, None)
    result = interpreter(host).run("Get-VM -Name 'w*' | Select-Object -ExpandProperty Name")
    assert result.stdout.split() == ["web1", "web2", "w*"]
    exact = interpreter(host).run("Get-VM | Where-Object -Property Name -EQ -Value 'w*' | "
                                  "Select-Object -ExpandProperty Name")
    assert exact.stdout.split() == ["w*"]


def test_errors_stop_a_script_only_when_told_and_the_exit_code_follows_the_last_statement() -> None:
    ps = interpreter(new_host())
    stopped = ps.run("$ErrorActionPreference = 'Stop'\nGet-VM -Id '00000000-0000-0000-0000-000000000001'\n'after'")
    assert (stopped.exit_code, stopped.stdout) == (1, "")
    assert stopped.errors[0].startswith("Get-VM : Hyper-V was unable to find a virtual machine with id")
    going_on = ps.run("Get-VM -Id '00000000-0000-0000-0000-000000000001'\n'after'")
    assert (going_on.exit_code, going_on.stdout) == (0, "after\r\n") and len(going_on.errors) == 1
    quiet_last = ps.run("$ErrorActionPreference = 'Stop'\nGet-Item -LiteralPath 'C:\\none' -ErrorAction "
                        "SilentlyContinue | Remove-Item -Force")
    assert (quiet_last.exit_code, quiet_last.errors) == (1, [])


@pytest.mark.parametrize(("script", "message"), [
    ("Get-VM -Nmae 'x'", "A parameter cannot be found that matches parameter name 'Nmae'."),
    ("Get-VM 'x'", "A positional parameter cannot be found that accepts argument 'x'."),
    ("Get-VM -Id", "Missing an argument for parameter 'Id'. Specify a parameter of type 'System.Guid'"),
    ("Get-VM -Id 'nope'", "Cannot bind parameter 'Id'. Cannot convert value \"nope\" to type \"System.Guid\"."),
    ("$vm = Get-VM\nRemove-VM -VM $vm", "PowerShell is in NonInteractive mode."),
    ("Start-VM -VM $nothing", "Cannot validate argument on parameter 'VM'. The argument is null or empty."),
    ("Frobnicate-VM", "The term 'Frobnicate-VM' is not recognized"),
])
def test_parameter_binding_refuses_as_powershell_does(script: str, message: str) -> None:
    host = new_host()
    host.new_vm({"Name": "a"}, None)
    result = interpreter(host).run("$ErrorActionPreference = 'Stop'\n" + script)
    assert result.exit_code == 1 and message in result.errors[0]
    assert [vm.name for vm in host.vms] == ["a"]


def test_ntlm_is_checked_with_channel_binding(standin: WinRMStandIn, certificates: Certificates) -> None:
    with pytest.raises(InvalidCredentialsError):
        run_ps(client(standin, certificates, password="wrong"), "'x'")
    with pytest.raises(InvalidCredentialsError):  # no channel binding: refused, as WinRM with CbtHardeningLevel
        run_ps(client(standin, certificates, send_cbt=False), "'x'")
    assert run_ps(client(standin, certificates), "'x'") == (b"x\r\n", b"", 0)
    assert standin.logins == [(USER, False), (USER, False), (USER, True)]


def test_the_winrs_command_line_is_checked_like_cmd_exe(standin: WinRMStandIn, certificates: Certificates) -> None:
    protocol = client(standin, certificates)
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "pwsh", ["-c", "x"])
    assert protocol.get_command_output(shell, command) == (
        b"", b"'pwsh' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", 1)
    long = base64.b64encode(("'" + "x" * 3100 + "'").encode("utf-16-le")).decode()
    command = protocol.run_command(shell, "powershell.exe", ["-EncodedCommand", long])
    assert protocol.get_command_output(shell, command) == (b"", b"The command line is too long.\r\n", 1)
    protocol.close_shell(shell)


def test_output_is_encoded_in_the_shells_code_page(standin: WinRMStandIn, certificates: Certificates) -> None:
    protocol = client(standin, certificates)
    assert run_ps(protocol, "'caf\u00e9 \u2603'", codepage=65001)[0] == "caf\u00e9 \u2603\r\n".encode()
    assert run_ps(protocol, "'caf\u00e9 \u2603'", codepage=437)[0] == "caf\u00e9 ?\r\n".encode("cp437")


def test_receive_is_held_until_the_operation_timeout(standin: WinRMStandIn, certificates: Certificates) -> None:
    standin.host.new_vm({"Name": "a"}, None)[0].state = "Running"
    protocol = client(standin, certificates, operation_timeout_sec=1, read_timeout_sec=5)
    shell = protocol.open_shell()
    standin.hold("Stop-VM")
    script = base64.b64encode("Get-VM | Stop-VM -Force".encode("utf-16-le")).decode()
    command = protocol.run_command(shell, "powershell.exe", ["-EncodedCommand", script])
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command)
    threading.Timer(0.2, standin.release).start()
    assert protocol.get_command_output(shell, command) == (b"", b"", 0)
    assert standin.host.vm("a").state == "Off"
    protocol.close_shell(shell)
