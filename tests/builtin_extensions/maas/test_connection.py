"""How the MaaS extension finds and talks to MAAS: details and their precedence, endpoint forms, OAuth,
TLS, refusals, the timeout, and keeping every part of the API key out of its output."""

from __future__ import annotations

import pytest

from tests.builtin_extensions.bed import with_details
from tests.builtin_extensions.maas.conftest import APIKEY, CONSUMER, ENTRY, INSTANCE, SECRET, TOKEN, Maas
from tests.builtin_extensions.standin import Request, load_module

maas_extension = load_module(ENTRY, "maas_extension")


@pytest.mark.parametrize(("given", "root"), [
    ("maas.example.org", "http://maas.example.org:5240/MAAS/api/2.0"),  # CloudStack's form: a bare host
    ("10.0.0.9:5240", "http://10.0.0.9:5240/MAAS/api/2.0"),
    ("http://maas.example.org:5240/MAAS", "http://maas.example.org:5240/MAAS/api/2.0"),
    ("http://maas.example.org:5240/MAAS/api/2.0/", "http://maas.example.org:5240/MAAS/api/2.0"),
    ("https://maas.example.org", "https://maas.example.org:5443/MAAS/api/2.0"),
    ("https://maas.example.org:443/", "https://maas.example.org:443/MAAS/api/2.0"),
    ("fd00::9", "http://[fd00::9]:5240/MAAS/api/2.0"),
])
def test_endpoint_is_a_bare_host_or_a_full_address(given: str, root: str) -> None:
    assert maas_extension.api_root(given) == root


def test_the_oauth_header_is_plaintext_signed_with_a_fresh_nonce() -> None:
    first, second = (maas_extension.oauth_header(CONSUMER, TOKEN, SECRET) for _ in range(2))
    assert first.startswith('OAuth realm="", oauth_version="1.0", oauth_signature_method="PLAINTEXT", '
                            f'oauth_consumer_key="{CONSUMER}", oauth_token="{TOKEN}", oauth_signature="%26{SECRET}", ')
    assert first != second


def test_missing_details_are_named(maas: Maas) -> None:
    maas.extension.clear()
    run = maas.run("status")
    assert (run.code, run.answer) == (1, {"status": "error", "error": "Missing required details: endpoint, apikey "
                                                                      "(set them on the host, the cluster or the "
                                                                      "extension)"})
    maas.extension["endpoint"], maas.extension["apikey"] = "maas", "only-one-part"
    assert maas.run("status").answer["error"] == ("Invalid apikey detail: expected consumer:token:secret (MAAS user "
                                                  "preferences, API keys)")
    assert maas.calls() == []


def test_host_details_win_over_the_clusters_which_win_over_the_extensions(maas: Maas) -> None:
    good = maas.extension["endpoint"]
    maas.extension.update(endpoint="unreachable.invalid", apikey="a:b:c")
    maas.cluster.update(endpoint=good, apikey="still:not:right")
    maas.host.update(apikey=APIKEY)
    assert maas.run("status").code == 0


@pytest.mark.parametrize(("apikey", "said"), [
    (f"{CONSUMER}:{TOKEN}:wrong-secret-000", "Invalid signature."),
    (f"{CONSUMER}:UnknownToken0000:{SECRET}", "Invalid access token: ***"),  # MAAS names the token; masked
    (f"UnknownCnsmr0000:{TOKEN}:{SECRET}", "Invalid API key."),
])
def test_a_refused_api_key_is_explained_and_never_printed(maas: Maas, apikey: str, said: str) -> None:
    maas.extension["apikey"] = apikey
    run = maas.run("status")
    assert run.code == 1
    assert run.answer["error"].startswith("MAAS refused the API key (HTTP 401 Authorization Error: ")
    assert said in run.answer["error"] and "check the apikey detail" in run.answer["error"]
    assert all(part not in run.output for part in apikey.split(":"))


def test_another_users_machine_is_refused_with_maas_words(maas: Maas) -> None:
    machine = maas.standin.machines["abc123"]
    machine.owner, machine.status_name, machine.power_state = "someone-else", "Deployed", "off"
    run = maas.run("start")
    assert run.answer["error"] == ("The MAAS user of the API key may not POST /machines/abc123/ op=power_on (HTTP 403 "
                                   "You don't have the required permission to perform this action.)")


def test_certificates_are_verified_unless_told_otherwise(maas: Maas) -> None:
    del maas.extension["ca_certificate"]
    run = maas.run("status")
    assert run.code == 1 and "is not trusted" in run.answer["error"] and "verify_tls_certificate=false" in \
        run.answer["error"]
    maas.host["verify_tls_certificate"] = "false"
    assert maas.run("status").code == 0


def test_the_deployment_wait_ends_at_the_timeout_with_a_clear_error(maas: Maas) -> None:
    machine = maas.standin.machines["abc123"]
    machine.owner, machine.status_name = "cloudstack", "Allocated"
    maas.standin.deploy_seconds = float("inf")
    run = maas.run("create", timeout=3)
    assert (run.code, run.answer["error"]) == (1, "Timed out after 3 s waiting for MAAS to deploy machine abc123 "
                                                  "(still Deploying)")


def test_a_system_id_cannot_reach_another_api_path(maas: Maas) -> None:
    run = maas.run("create", with_details(INSTANCE, **{"External:maas_system_id": "../users/?op=whoami#"}))
    assert run.answer["error"] == "MAAS has no machine ../users/?op=whoami#"
    [request] = maas.requests()
    assert isinstance(request, Request) and request.path == "/MAAS/api/2.0/machines/../users/?op=whoami#/"


def test_unknown_actions_fail_without_calling_maas(maas: Maas) -> None:
    run = maas.run("ListSnapshots", parameters={})
    assert (run.code, run.answer) == (1, {"status": "error", "error": "Invalid action: ListSnapshots"})
    assert maas.calls() == []
