"""How hyperv.py reaches the host and how it says what went wrong: URL forms, TLS verification, NTLM
credentials, an unreachable host, a host that stops answering (argv[3]), a missing pywinrm, bad payloads.
The password never appears in any answer."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.builtin_extensions.hyperv.conftest import HYPERV, PASSWORD, USER, host_details, run_hyperv, vm_payload
from tests.builtin_extensions.hyperv.tls import Certificates
from tests.builtin_extensions.hyperv.wsman import WinRMStandIn


def test_the_url_may_be_a_host_host_and_port_or_a_full_https_url(standin: WinRMStandIn, certificates: Certificates,
                                                                  tmp_path: Path) -> None:
    for url in (f"127.0.0.1:{standin.port}", f"https://127.0.0.1:{standin.port}",
                f"https://127.0.0.1:{standin.port}/wsman", f"HTTPS://localhost:{standin.port}/wsman/"):
        run = run_hyperv(tmp_path, "statuses", vm_payload(host_details(standin, certificates, url=url)))
        assert (run.code, run.answer) == (0, {"status": "success", "power_state": {}}), url
    refused = run_hyperv(tmp_path, "statuses", vm_payload(host_details(standin, certificates,
                                                                       url=f"http://127.0.0.1:{standin.port}")))
    assert refused.code == 1
    assert refused.answer["error"] == (f"url 'http://127.0.0.1:{standin.port}': only WinRM over HTTPS is supported "
                                       "(https://host:5986)")
    elsewhere = run_hyperv(tmp_path, "statuses", vm_payload(host_details(
        standin, certificates, url=f"https://127.0.0.1:{standin.port}/not-wsman")))
    assert (elsewhere.code, elsewhere.answer["error"]) == (
        1, f"the WinRM service at https://127.0.0.1:{standin.port}/not-wsman answered HTTP 404: no details")


def test_details_come_from_the_host_then_the_cluster_then_the_extension(standin: WinRMStandIn,
                                                                        certificates: Certificates,
                                                                        tmp_path: Path) -> None:
    payload = vm_payload({"url": f"127.0.0.1:{standin.port}", "password": "host wins"})
    payload["externaldetails"]["resourcemap"] = {"password": PASSWORD, "ca_bundle": str(certificates.ca)}
    payload["externaldetails"]["extension"] = {"username": USER, "password": "extension loses",
                                               "ca_bundle": "/nonexistent"}
    run = run_hyperv(tmp_path, "statuses", payload)
    assert "rejected the credentials" in run.output and standin.logins == [(USER, False)]
    del payload["externaldetails"]["host"]["password"]
    assert run_hyperv(tmp_path, "statuses", payload).code == 0
    assert standin.logins[-1] == (USER, True)


def test_the_hosts_certificate_is_checked_unless_told_not_to(standin: WinRMStandIn, certificates: Certificates,
                                                             tmp_path: Path) -> None:
    untrusted = host_details(standin, certificates, ca_bundle=None)  # type: ignore[arg-type]
    run = run_hyperv(tmp_path, "statuses", vm_payload(untrusted))
    assert run.code == 1
    assert run.answer["error"].startswith(f"TLS connection to https://127.0.0.1:{standin.port}/wsman failed (")
    assert "CERTIFICATE_VERIFY_FAILED" in run.answer["error"]
    assert run.answer["error"].endswith("to trust a self-signed WinRM certificate set ca_bundle, or "
                                        "verify_tls_certificate=false")
    assert standin.logins == []
    absent = host_details(standin, certificates, ca_bundle=str(tmp_path / "absent.pem"))
    assert run_hyperv(tmp_path, "statuses", vm_payload(absent)).answer["error"] == (
        f"ca_bundle '{tmp_path / 'absent.pem'}' is not a readable file on this management server")
    skipped = host_details(standin, certificates, ca_bundle=None, verify_tls_certificate="false")  # type: ignore[arg-type]
    assert run_hyperv(tmp_path, "statuses", vm_payload(skipped)).code == 0
    assert standin.logins == [(USER, True)]


def test_rejected_credentials_are_explained_without_the_password(standin: WinRMStandIn, certificates: Certificates,
                                                                  tmp_path: Path) -> None:
    wrong = host_details(standin, certificates, password="Not-The-Password-31")
    run = run_hyperv(tmp_path, "stop", vm_payload(wrong))
    assert (run.code, run.answer) == (1, {"status": "error", "error": (
        f"the Hyper-V host at https://127.0.0.1:{standin.port}/wsman rejected the credentials of 'HV01\\\\cloudadmin' "
        "(NTLM): check the username and password details")})
    assert "Not-The-Password-31" not in run.output and PASSWORD not in run.output
    assert standin.logins == [(USER, False)] and standin.commands == []


def test_an_unreachable_host_is_explained(certificates: Certificates, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    run = run_hyperv(tmp_path, "status", vm_payload({"url": f"127.0.0.1:{port}", "username": USER,
                                                     "password": PASSWORD}))
    assert run.code == 1
    assert run.answer["error"].startswith(f"cannot connect to the Hyper-V host at https://127.0.0.1:{port}/wsman (")
    assert "Connection refused" in run.answer["error"] and PASSWORD not in run.output


def test_a_host_that_stops_answering_is_given_up_within_the_timeout(standin: WinRMStandIn,
                                                                    certificates: Certificates,
                                                                    tmp_path: Path) -> None:
    host = host_details(standin, certificates)
    assert run_hyperv(tmp_path, "create", vm_payload(host)).code == 0
    standin.hold("Stop-VM")
    run = run_hyperv(tmp_path, "stop", vm_payload(host), timeout=8)
    assert (run.code, run.answer) == (1, {"status": "error", "error":
                                          "timed out after 8 s (argv[3]) while stopping instance i-2-12-VM"})
    standin.release()


def test_a_hyper_v_error_is_reported_as_powershell_wrote_it(standin: WinRMStandIn, certificates: Certificates,
                                                            tmp_path: Path) -> None:
    host = host_details(standin, certificates)
    assert run_hyperv(tmp_path, "create", vm_payload(host, cpus=32)).answer == {"status": "error", "error": (
        "configuring instance i-2-12-VM failed on the Hyper-V host: Set-VMProcessor : Failed to modify device "
        "'Processor'. 'i-2-12-VM' cannot have 32 virtual processors: this host has 16 logical processors.; "
        "what was created has been removed")}
    assert standin.host.vms == []


@pytest.mark.skipif(shutil.which("python3") is None, reason="needs a python3 on PATH")
def test_a_python_without_pywinrm_is_told_what_to_install(standin: WinRMStandIn, certificates: Certificates,
                                                          tmp_path: Path) -> None:
    system = "/usr/bin/python3"
    probe = subprocess.run([system, "-c", "import winrm"], capture_output=True)
    if probe.returncode == 0:
        pytest.fail(f"{system} has pywinrm: this test needs a Python without it")
    run = run_hyperv(tmp_path, "status", vm_payload(host_details(standin, certificates)), executable=HYPERV,
                     python=system)
    assert (run.code, run.answer) == (1, {"status": "error", "error": (
        f"the pywinrm package is missing for {system}: install it with '{system} -m pip install pywinrm'")})


def test_bad_payloads_and_arguments(tmp_path: Path) -> None:
    missing = run_hyperv(tmp_path, "status", {"virtualmachinename": "i-2-12-VM"})
    assert missing.code == 1 and missing.answer["error"] == "Missing required details: url, username, password"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = subprocess.run([str(HYPERV), "status", str(broken), "10"], capture_output=True, text=True)
    assert done.returncode == 1 and "is not valid JSON" in done.stdout
    done = subprocess.run([str(HYPERV), "status", str(tmp_path / "absent.json"), "10"], capture_output=True, text=True)
    assert done.returncode == 1 and "cannot read payload file" in done.stdout
    done = subprocess.run([str(HYPERV), "status", str(broken), "soon"], capture_output=True, text=True)
    assert done.returncode == 1 and "timeout 'soon' (argv[3]) is not a number" in done.stdout
    done = subprocess.run([str(HYPERV)], capture_output=True, text=True)
    assert done.returncode == 1 and "usage" in done.stdout
