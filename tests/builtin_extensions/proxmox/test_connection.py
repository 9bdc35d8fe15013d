"""How the Proxmox extension finds and talks to Proxmox VE: details and their precedence, the url forms,
TLS, authentication and permission failures, unreachable servers, the timeout, and values that try to
smuggle options into Proxmox VE's property strings."""

from __future__ import annotations

import socket

import pytest

from tests.builtin_extensions.bed import with_template
from tests.builtin_extensions.proxmox.conftest import ENTRY, INSTANCE, SECRET, Pve
from tests.builtin_extensions.standin import load_module

proxmox = load_module(ENTRY, "proxmox_extension")


@pytest.mark.parametrize(("given", "base"), [
    ("pve.example.org", "https://pve.example.org:8006/api2/json"),
    ("10.0.0.5", "https://10.0.0.5:8006/api2/json"),
    ("https://10.0.0.5:8006", "https://10.0.0.5:8006/api2/json"),  # CloudStack's documented form
    ("https://pve.example.org:8006/", "https://pve.example.org:8006/api2/json"),
    ("https://pve.example.org:8006/api2/json", "https://pve.example.org:8006/api2/json"),
    ("pve.example.org:443", "https://pve.example.org:443/api2/json"),
    ("fd00::5", "https://[fd00::5]:8006/api2/json"),
    ("https://[fd00::5]:8443", "https://[fd00::5]:8443/api2/json"),
])
def test_url_is_a_bare_host_or_a_full_address(given: str, base: str) -> None:
    assert proxmox.base_url(given) == base


@pytest.mark.parametrize("bad", ["ftp://pve", "https://", "https://pve:99999"])
def test_unusable_urls_are_refused(bad: str) -> None:
    with pytest.raises(proxmox.ProxmoxError):
        proxmox.base_url(bad)


def test_both_url_forms_reach_the_server(pve: Pve) -> None:
    pve.standin.add_vm(105)
    for url in (f"127.0.0.1:{pve.server.port}", f"https://127.0.0.1:{pve.server.port}/"):
        pve.extension["url"] = url
        assert pve.run("status").answer["power_state"] == "poweron"


def test_missing_details_are_all_named(pve: Pve) -> None:
    pve.extension.clear()
    pve.host.clear()
    run = pve.run("status")
    assert (run.code, run.answer) == (1, {"status": "error", "error": "Missing required details: url, user, token, "
                                                                      "secret, node (set them on the host, the "
                                                                      "cluster or the extension)"})
    assert pve.calls() == []


def test_host_details_win_over_the_clusters_which_win_over_the_extensions(pve: Pve) -> None:
    pve.standin.add_vm(105, node="pve2")
    pve.extension.update(node="nowhere", secret="wrong")
    pve.cluster.update(node="pve1", secret=SECRET)
    pve.host.update(node="pve2")
    assert pve.run("status").answer["power_state"] == "poweron"
    assert pve.calls() == [("GET", "/nodes/pve2/qemu/105/status/current", {})]


def test_the_full_token_id_may_be_given_as_user(pve: Pve) -> None:
    pve.standin.add_vm(105)
    pve.extension.update(user="root@pam!cloudstack", token="")
    assert pve.run("status").code == 0


def test_a_refused_token_is_explained_without_the_secret(pve: Pve) -> None:
    pve.extension["secret"] = "not-the-secret"
    run = pve.run("status")
    assert (run.code, run.answer["error"]) == (1, "Proxmox VE refused the API token of user root@pam (HTTP 401 "
                                                  "authentication failure): check the user, token and secret details")
    assert "not-the-secret" not in run.output


def test_a_missing_permission_is_explained(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped")
    pve.standin.forbid.add(r"/nodes/pve1/qemu/105/status/start")
    run = pve.run("start")
    assert run.answer["error"] == ("The API token of user root@pam may not POST /nodes/pve1/qemu/105/status/start "
                                   "(HTTP 403 Permission check failed (/nodes/pve1/qemu/105/status/start, "
                                   "VM.PowerMgmt))")


def test_an_unknown_node_is_reported_with_proxmox_ves_words(pve: Pve) -> None:
    pve.host["node"] = "pve9"
    run = pve.run("create")
    assert run.code == 1
    assert run.answer["error"].startswith("POST /nodes/pve9/qemu/9000/clone failed: HTTP 500 hostname lookup 'pve9' "
                                          "failed")


def test_an_unreachable_server_is_named(pve: Pve) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    pve.extension["url"] = f"https://127.0.0.1:{closed}"
    run = pve.run("status")
    assert run.code == 1 and run.answer["error"].startswith(f"Cannot reach Proxmox VE at https://127.0.0.1:{closed}: ")


def test_certificates_are_verified_unless_told_otherwise(pve: Pve) -> None:
    pve.standin.add_vm(105)
    del pve.extension["ca_certificate"]
    run = pve.run("status")
    assert run.code == 1 and run.answer["error"].startswith(f"The TLS certificate of https://127.0.0.1:"
                                                            f"{pve.server.port} is not trusted")
    assert "verify_tls_certificate=false" in run.answer["error"]
    pve.host["verify_tls_certificate"] = "false"
    assert pve.run("status").answer["power_state"] == "poweron"


def test_task_waits_end_at_the_timeout_with_a_clear_error(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped")
    pve.standin.task_seconds["qmstart"] = float("inf")
    run = pve.run("start", timeout=3)
    assert run.code == 1
    assert run.answer["error"] == "Timed out after 3 s waiting for starting VM 105 (task qmstart still running)"
    assert len(pve.polls()) >= 2  # it kept asking until its deadline, then answered by itself


def test_a_slow_task_within_the_timeout_is_waited_for(pve: Pve) -> None:
    pve.standin.add_vm(105, status="stopped")
    pve.standin.task_seconds["qmstart"] = 1.0
    assert pve.run("start", timeout=10).code == 0
    assert pve.standin.vms[105].status == "running"


@pytest.mark.parametrize(("where", "key", "value", "named"), [
    ("host", "network_bridge", "vmbr0,tag=5", "network_bridge"),
    ("host", "node", "../../access/users", "node"),
    ("template", "vm_name", "web01;reboot", "VM name (vm_name)"),
    ("template", "storage", "local,size=1", "storage"),
    ("template", "template_id", "9000/../1", "template_id"),
])
def test_values_cannot_smuggle_options_into_proxmox(pve: Pve, where: str, key: str, value: str,
                                                    named: str) -> None:
    details = {"template_type": "template", "template_id": "9000"}
    if where == "host":
        pve.host[key] = value
    else:
        details[key] = value
    run = pve.run("create", with_template(INSTANCE, **details))
    assert run.code == 1 and run.answer["error"] == f"Invalid {named} {value!r}", run.output
    assert [c for c in pve.calls() if c[0] != "GET"] == []
    assert 105 not in pve.standin.vms


def test_an_iso_path_with_options_is_refused(pve: Pve) -> None:
    run = pve.run("create", with_template(INSTANCE, template_type="iso", iso_path="local:iso/x.iso,media=disk"))
    assert run.answer["error"] == "Invalid iso_path 'local:iso/x.iso,media=disk'"
    assert 105 not in pve.standin.vms


def test_a_network_that_is_not_a_vlan_is_refused_before_anything_is_made(pve: Pve) -> None:
    from dataclasses import replace

    from tests.builtin_extensions.proxmox.conftest import INSTANCE, NICS

    instance = replace(INSTANCE, nics=(replace(NICS[0], broadcast_uri="vxlan://5000"),))
    run = pve.run("create", instance)
    assert run.answer["error"] == ("NIC 0: network 'vxlan://5000' is not a VLAN (1-4094); a Proxmox VE bridge can "
                                   "only tag VLANs")
    assert pve.calls() == []


def test_the_token_id_is_kept_out_of_errors_but_never_mangles_answers(pve: Pve) -> None:
    pve.standin.tokens["root@pam!prod"] = SECRET
    pve.extension["token"] = "prod"
    pve.standin.add_vm(106, name="prod-web")
    assert pve.run("statuses").answer["power_state"] == {"prod-web": "poweron"}
    pve.standin.tokens.clear()
    run = pve.run("statuses")
    assert run.code == 1 and "prod" not in run.output and SECRET not in run.output
