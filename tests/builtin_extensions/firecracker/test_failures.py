"""The Firecracker extension against a real agent (HTTPS, mTLS allow-list, PAM) when something is wrong: each
failure exits 1 with a message that says what went wrong, and no secret of the payload is ever printed."""

from __future__ import annotations

import glob
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.agentcore import pamusers
from tests.builtin_extensions.firecracker.agenthost import AgentHost, Pki, free_port, template_details
from tests.builtin_extensions.firecracker.cloud import Cloud, Run, run_extension

pytestmark = [pytest.mark.root]


def no_secret(run: Run, cloud: Cloud, *extra: str) -> Run:
    """`run`, after checking that its output holds none of the payload's secrets."""
    for secret in [*cloud.secrets(), *extra]:
        assert secret not in run.output, f"secret printed: {run.output}"
    return run


def failed(action: str, cloud: Cloud, payloads: Path, *extra_secrets: str, timeout: int = 60) -> str:
    payload = cloud.statuses() if action == "statuses" else cloud.payload(action)
    run = no_secret(run_extension(action, payload, payloads, timeout=timeout), cloud, *extra_secrets)
    assert run.reply["status"] == "error"
    return run.error


def test_an_agent_that_is_down_is_reported_unreachable(cloud: Cloud, payloads: Path) -> None:
    port = free_port()
    error = failed("status", cloud.with_host(port=str(port)), payloads)
    assert error.startswith(f"agent unreachable at https://127.0.0.1:{port}: Connection refused"), error
    assert "switchboard-agent running" in error
    error = failed("create", cloud.with_host(url="https://no-such-host.invalid"), payloads)
    assert "agent unreachable: cannot resolve no-such-host.invalid" in error


def test_an_agent_certificate_from_another_ca_is_a_tls_failure(cloud: Cloud, pki: Pki, payloads: Path) -> None:
    for wrong in (str(pki.rogue / "ca.crt"), ""):  # another CA; only the system's CAs
        error = failed("create", cloud.with_host(ca_bundle=wrong), payloads)
        assert error.startswith("TLS failure: the agent at https://127.0.0.1:"), error
        assert "does not trust (" in error and "set ca_bundle" in error
    error = failed("status", cloud.with_host(ca_bundle="/nonexistent/ca.crt"), payloads)
    assert error == "ca_bundle file /nonexistent/ca.crt does not exist on this management server"


def test_a_client_certificate_the_agent_does_not_accept_is_named(cloud: Cloud, pki: Pki, payloads: Path) -> None:
    rogue_cert, rogue_key = pki.rogue_client()
    error = failed("status", cloud.with_host(client_cert=str(rogue_cert), client_key=str(rogue_key)), payloads)
    assert error.startswith("TLS failure: the agent at https://127.0.0.1:"), error
    assert "refused this host's client certificate; check client_cert/client_key" in error, error
    # No client certificate at all.
    error = failed("status", cloud.with_host(client_cert="", client_key=""), payloads)
    assert error.endswith("requires a client certificate: set the client_cert and client_key details"), error
    # Signed by the agent's CA but not on its allowed_clients: refused by the agent with 403.
    other_cert, other_key = pki.client("other")
    error = failed("status", cloud.with_host(client_cert=str(other_cert), client_key=str(other_key)), payloads)
    assert "refused this request" in error and "allowed_clients" in error, error
    # A key that does not belong to the certificate.
    error = failed("status", cloud.with_host(client_key=str(rogue_key)), payloads)
    assert error.startswith("the client certificate or key is unusable"), error
    error = failed("status", cloud.with_host(client_key="/nonexistent/client.key"), payloads)
    assert error == "client_key file /nonexistent/client.key does not exist on this management server"


def test_certificates_and_keys_may_be_given_as_pem_text_which_is_never_printed(
    cloud: Cloud, pki: Pki, payloads: Path
) -> None:
    cert, key = pki.client("mgmt")
    pem_key = key.read_text()
    inline = cloud.with_host(ca_bundle=pki.ca.read_text(), client_cert=cert.read_text(), client_key=pem_key)
    before = set(glob.glob("/tmp/fc-ext-*"))
    run = no_secret(run_extension("status", inline.payload("status"), payloads), cloud, pem_key)
    assert run.code == 0 and run.reply["power_state"] == "poweroff", run.output
    assert set(glob.glob("/tmp/fc-ext-*")) == before  # the key's temporary file is gone
    # A wrong key as text: refused, the key still not printed.
    rogue_key = pki.rogue_client()[1].read_text()
    failed("status", inline.with_host(client_key=rogue_key), payloads, rogue_key)
    assert set(glob.glob("/tmp/fc-ext-*")) == before


def test_a_wrong_password_is_refused_and_never_printed(cloud: Cloud, payloads: Path) -> None:
    wrong = "Wr0ng-Pl4nted-Pw"
    error = failed("create", cloud.with_host(password=wrong), payloads, wrong)
    assert error.startswith("authentication refused by the agent at https://127.0.0.1:"), error
    assert "check the username and password details" in error
    error = failed("status", cloud.with_host(password=""), payloads)
    assert error == "set both username and password for the agent (or neither)"
    # A user PAM accepts but who is not in the agent's admin group may not act.
    error = failed("stop", cloud.with_host(username=pamusers.NOBODY), payloads)
    assert "refused this request" in error and "admin group" in error, error


def test_the_password_is_never_sent_over_plain_http(cloud: Cloud, payloads: Path) -> None:
    error = failed("status", cloud.with_host(url="http://127.0.0.1"), payloads)
    assert error == "refusing to send the agent password over plain http: use an https url"


def test_a_host_without_an_address_says_which_detail_is_missing(cloud: Cloud, payloads: Path) -> None:
    assert failed("start", cloud.with_host(url=""), payloads).startswith("the host has no url detail")
    assert "not a number" in failed("start", cloud.with_host(port="eighty"), payloads)


def test_actions_on_a_vm_the_agent_does_not_have_say_it_is_missing(
    cloud: Cloud, agent: AgentHost, payloads: Path
) -> None:
    ghost = Cloud(host_details=cloud.host_details, template_details=template_details(), instance_id=4040)
    expected = f"VM {ghost.name} does not exist on the agent at {agent.url}"
    for action in ("reboot", "getconsole"):
        assert failed(action, ghost, payloads).startswith(expected)
    for action, parameters in (("Pause", None), ("ListSnapshots", None), ("ConsoleLog", {"lines": 5}),
                               ("RestoreSnapshot", {"snapshot_name": "s1"})):
        run = no_secret(run_extension(action, ghost.custom(action, parameters), payloads), ghost)
        assert run.error.startswith(expected), run.output
    # What CloudStack expects of an instance that is not there: power off, and stop/delete succeed.
    run = run_extension("status", ghost.payload("status"), payloads)
    assert (run.code, run.reply["power_state"]) == (0, "poweroff")
    for action in ("stop", "delete"):
        run = run_extension(action, ghost.payload(action), payloads)
        assert run.code == 0 and run.reply["status"] == "success", run.output


def test_argv3_is_the_deadline_of_the_run(cloud: Cloud, payloads: Path) -> None:
    """An agent that accepts connections and never answers: the run ends by itself before argv[3]."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        run = run_extension("create", cloud.with_host(port=str(port)).payload("create"), payloads, timeout=3)
    assert run.code == 1, run.output
    assert run.error == ("no answer from the agent within 3 s (argv[3]); the operation may still complete "
                         "on the host")


def test_a_template_without_kernel_or_image_is_refused_before_the_agent_is_asked(
    cloud: Cloud, agent: AgentHost, payloads: Path
) -> None:
    bare = Cloud(host_details=cloud.host_details, template_details={"boot_args": "console=ttyS0"}, instance_id=4041)
    error = failed("create", bare, payloads)
    assert error.startswith("the template has no kernel and image detail: register it with externaldetails"), error
    with agent.http() as http:
        assert http.get(f"/v1/vms/{bare.name}/details").status_code == 404


def test_a_secret_the_agent_echoes_back_is_masked(cloud: Cloud, payloads: Path) -> None:
    """The host password, misused as the template's kernel file name, comes back in the agent's refusal."""
    leaky = Cloud(host_details=cloud.host_details, instance_id=4042,
                  template_details={**template_details(), "kernel": pamusers.PASSWORD})
    error = failed("create", leaky, payloads)
    assert "externaldetails.virtualmachine.kernel: '******' is not a plain file name" in error, error


def test_unknown_actions_and_bad_payloads_fail(cloud: Cloud, payloads: Path, tmp_path: Path) -> None:
    run = run_extension("Frobnicate", cloud.payload("status"), payloads)
    assert run.error == "Invalid action: Frobnicate"
    nameless = cloud.payload("stop")
    del nameless["virtualmachinename"], nameless["cloudstack.vm.details"]["name"]
    run = run_extension("stop", nameless, payloads)
    assert run.error.startswith("invalid or missing instance name ''"), run.output


@pytest.fixture
def strict_agent(pam: None, pki: Pki, tmp_path: Path) -> Iterator[AgentHost]:
    """An agent of its own that locks a source address out after two failed logins."""
    host = AgentHost(tmp_path, pki, auth={"max_failures": 2, "failure_window_seconds": 600, "lockout_seconds": 600})
    host.start()
    try:
        yield host
    finally:
        host.close()


def test_a_lockout_after_failed_logins_is_explained(strict_agent: AgentHost, payloads: Path) -> None:
    cloud = Cloud(host_details=strict_agent.details(password="Wr0ng-Pl4nted-Pw"), template_details={})
    for _ in range(2):
        assert failed("status", cloud, payloads).startswith("authentication refused")
    error = failed("status", cloud.with_host(password=pamusers.PASSWORD), payloads)
    assert "refuses logins from this host after failed attempts" in error and "fix the credentials" in error
