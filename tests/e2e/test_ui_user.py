"""A user (not an administrator) in the browser: sees only its own resources and no admin pages, makes a
network, deploys with the wizard, and runs a custom action whose parameters are of every type — client
checks first, the server's refusal when it still refuses, then the result table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shoot, add_echo_cloud, go, log_in
from tests.support.fixtures import api_keys_of, cs_client
from tests.support.server import ServerProcess

USER = "ursula"
USER_PASSWORD = "ursula-password-1"
# name, type, validation format, options, required — one of each kind the Run Action form knows.
PARAMETERS = [
    ("label", "STRING", "NONE", None, True),
    ("contact", "STRING", "EMAIL", None, False),
    ("site", "STRING", "URL", None, False),
    ("ref", "STRING", "UUID", None, False),
    ("secret", "STRING", "PASSWORD", None, False),
    ("mode", "STRING", "NONE", "fast,safe", False),
    ("copies", "NUMBER", "NONE", "1,2,4", False),
    ("count", "NUMBER", "NONE", None, False),
    ("ratio", "NUMBER", "DECIMAL", None, False),
    ("when", "DATE", "NONE", None, True),
    ("consistent", "BOOLEAN", "NONE", None, False),
]


@pytest.fixture(scope="module")
def echo_cloud(demo_server: ServerProcess) -> Iterator[dict[str, Any]]:
    """An extension "Echo" (tests/e2e/echo_extension.py) with a cluster, a host, a public template, a custom
    offering and the custom action "Inspect"; a user account; and an instance of the admin's."""
    admin = cs_client(demo_server, api_keys_of(demo_server))
    cloud = add_echo_cloud(demo_server, admin, "Echo")
    zone, extension, template = cloud["zone"], cloud["extension"], cloud["template"]
    admin.createServiceOffering(name="Echo Custom", displaytext="Any size you like")
    definitions: dict[str, str] = {}
    for index, (name, kind, validation, options, required) in enumerate(PARAMETERS):
        definitions.update({f"parameters[{index}].name": name, f"parameters[{index}].type": kind,
                            f"parameters[{index}].validationformat": validation,
                            f"parameters[{index}].required": str(required).lower()})
        if options:
            definitions[f"parameters[{index}].valueoptions"] = options
    action = admin.addCustomAction(extensionid=extension["id"], name="Inspect", description="Shows what it received",
                                   allowedroletypes="User", enabled=True, timeout=30,
                                   successmessage="{{extensionName}} inspected {{resourceName}}",
                                   **definitions)["extensioncustomaction"]
    admin.createAccount(username=USER, password=USER_PASSWORD, email=f"{USER}@example.com", firstname="Ursula",
                        lastname="User", accounttype=0)
    small = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    theirs = admin.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=small["id"],
                                        name="admin-only-1", fetch_result=True)["virtualmachine"]
    yield {"admin": admin, "action": action, "admins_vm": theirs}
    admin.destroyVirtualMachine(id=theirs["id"], expunge=True, fetch_result=True)


def _param(page: Page, name: str) -> Locator:
    return page.locator(f'[data-param="{name}"]')


def _error(page: Page, name: str) -> Locator:
    return page.locator(f'[data-field="{name}"] .field-error')


def test_user_sees_no_admin_pages_and_no_other_accounts_instance(
        demo_server: ServerProcess, page: Page, shoot: Shoot, echo_cloud: dict[str, Any], expected_404s: list[str],
) -> None:
    base = demo_server.base_url
    log_in(page, base, USER, USER_PASSWORD)
    for path in ("/hosts", "/clusters", "/zones", "/extensions", "/accounts", "/settings", "/alerts"):
        expect(page.locator(f'#sidebar [data-nav="{path}"]')).to_have_count(0)  # hidden from the navigation
    expect(page.locator(".stat", has_text="Instances").locator(".stat-value")).to_have_text("0")
    shoot(page, "dashboard-user")

    # Opened by URL anyway: a clear page, and no raw API error.
    for path, title in (("/hosts", "Hosts"), ("/extensions", "Extensions"), ("/accounts", "Accounts"),
                        ("/infrastructure", "Infrastructure")):
        page.goto(base + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator("[data-forbidden]")).to_contain_text("This page is for administrators")
    shoot(page, "forbidden")

    # The admin's instance is neither listed nor shown.
    go(page, "/instances")
    expect(page.locator(".empty")).to_contain_text("No instances yet")
    page.goto(f"{base}/instances/{echo_cloud['admins_vm']['id']}")
    expect(page.locator("main").get_by_role("heading", level=2)).to_have_text("This instance does not exist")
    shoot(page, "instance-not-found")

    expected_404s.append("/no/such/page")
    page.goto(base + "/no/such/page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    shoot(page, "not-found")


def test_user_deploys_and_runs_an_action_with_every_parameter_type(demo_server: ServerProcess, page: Page,
                                                                   shoot: Shoot, echo_cloud: dict[str, Any]) -> None:
    base = demo_server.base_url
    log_in(page, base, USER, USER_PASSWORD)

    # A network of the user's own.
    go(page, "/networks")
    page.get_by_role("button", name="Add network").click()
    dialog = page.get_by_role("dialog", name="Add a network")
    dialog.get_by_label("Name", exact=True).fill("ursula-net")
    dialog.get_by_label("Network offering").select_option(
        label="Offering for Isolated networks with no Source Nat service (Isolated)")
    expect(dialog.get_by_label("VLAN")).to_have_count(0)  # an administrator's choice
    shoot(page, "dialog-add-network")
    dialog.get_by_role("button", name="Add network").click()
    expect(page.locator('main tbody tr[data-name="ursula-net"]')).to_contain_text("Isolated")
    shoot(page, "networks")

    # The wizard: a searched template, a custom offering, the new network.
    go(page, "/")
    page.get_by_role("link", name="Deploy an instance").click()
    page.get_by_label("Search templates").fill("echo")
    expect(page.get_by_role("radiogroup", name="Template").get_by_role("radio")).to_have_count(1)
    page.get_by_role("radio", name=re.compile("Echo Linux")).check()
    page.get_by_role("radio", name=re.compile("Echo Custom")).check()
    page.get_by_role("radio", name=re.compile("ursula-net")).check()
    name = page.get_by_label("Name", exact=True)
    name.fill("9lives-")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(_error(page, "name")).to_contain_text("start with a letter")
    expect(_error(page, "cpuNumber")).to_have_text("vCPUs is required.")
    # The pattern attribute compiles under the `v` flag, so the browser's own check agrees.
    assert name.evaluate("input => input.validity.patternMismatch") is True
    shoot(page, "deploy")
    name.fill("u-web-1")
    assert name.evaluate("input => input.validity.valid") is True
    page.get_by_label("vCPUs").fill("2")
    page.get_by_label("Memory (MiB)").fill("1024")
    page.get_by_label("Details for the extension 1: key").fill("purpose")
    page.get_by_label("Details for the extension 1: value").fill("testing")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/instances/[0-9a-f-]{36}$"))
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Running", timeout=30_000)
    overview = page.get_by_role("tabpanel")
    expect(overview).to_contain_text("Echo Custom · 2 vCPU · 1 GiB")
    expect(overview).to_contain_text("Echo")
    shoot(page, "instance")

    # Run Action: one control per parameter, of the parameter's kind.
    page.get_by_role("tab", name="Run Action").click()
    expect(page.locator("#action-select")).to_have_value(echo_cloud["action"]["id"])
    expect(_param(page, "when")).to_have_attribute("type", "datetime-local")
    expect(_param(page, "count")).to_have_attribute("step", "1")
    expect(_param(page, "ratio")).to_have_attribute("step", "any")
    expect(_param(page, "copies").locator("option")).to_have_text(["", "1", "2", "4"])
    expect(_param(page, "mode").locator("option")).to_have_text(["", "fast", "safe"])
    expect(_param(page, "secret")).to_have_attribute("type", "password")
    expect(_param(page, "contact")).to_have_attribute("type", "email")
    expect(_param(page, "site")).to_have_attribute("type", "url")
    expect(_param(page, "consistent")).to_have_attribute("role", "switch")
    run = page.get_by_role("button", name="Run Inspect")
    run.click()
    expect(page.locator(".form-summary")).to_have_text("2 parameters need attention.")
    expect(_error(page, "label")).to_have_text("Label is required.")
    expect(_error(page, "when")).to_have_text("When is required.")
    expect(_param(page, "label")).to_be_focused()
    _param(page, "label").fill("nightly")
    _param(page, "when").fill("2026-03-04T05:06:07")
    _param(page, "contact").fill("not-an-address")
    _param(page, "site").fill("no url")
    _param(page, "ref").fill("1234")
    _param(page, "count").fill("2.5")
    run.click()
    expect(_error(page, "contact")).to_contain_text("must be an e-mail address")
    expect(_error(page, "site")).to_contain_text("must be a full URL")
    expect(_error(page, "ref")).to_contain_text("must be a UUID")
    expect(_error(page, "count")).to_have_text("Count must be a whole number.")
    expect(_param(page, "count")).to_have_attribute("aria-invalid", "true")
    shoot(page, "run-action-errors")
    _param(page, "contact").fill("ops@example.com")
    _param(page, "site").fill("https://example.com/hook")
    _param(page, "ref").fill("123e4567-e89b-12d3-a456-426614174000")
    _param(page, "count").fill("3")
    _param(page, "ratio").fill("0.25")
    _param(page, "secret").fill("s3cret")
    page.select_option('[data-param="copies"]', "2")
    page.select_option('[data-param="mode"]', "safe")
    _param(page, "consistent").check()

    # The server still has the last word: with the action disabled meanwhile, its refusal is shown.
    admin = echo_cloud["admin"]
    admin.updateCustomAction(id=echo_cloud["action"]["id"], enabled=False)
    run.click()
    expect(page.locator("#action-refusal")).to_contain_text("The server refused")
    admin.updateCustomAction(id=echo_cloud["action"]["id"], enabled=True)

    run.click()
    expect(page.locator("#result-success")).to_have_text("Succeeded")
    expect(page.locator("#result-message")).to_have_text(re.compile(r"^Echo inspected i-\d+-\d+-VM$"))
    table = page.locator("#result-details table")
    expect(table.locator("th")).to_have_text(["parameter", "value", "type"])
    received = {row.locator("td").nth(0).inner_text(): (row.locator("td").nth(1).inner_text(),
                                                        row.locator("td").nth(2).inner_text())
                for row in table.locator("tbody tr").all()}
    assert received["consistent"] == ("true", "boolean")
    assert received["copies"] == ("2", "number")
    assert received["count"] == ("3", "number")
    assert received["ratio"] == ("0.25", "number")
    assert received["label"] == ("nightly", "string")
    assert received["mode"] == ("safe", "string")
    assert received["contact"] == ("ops@example.com", "string")
    assert set(received) == {name for name, *_ in PARAMETERS}
    shoot(page, "run-action-result")

    # Keyboard: tabs follow the arrow keys; a dialog closes on Escape and gives the focus back.
    page.get_by_role("tab", name="Run Action").focus()
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="Overview")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name=re.compile("NICs"))).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_contain_text("ursula-net")
    stop = page.get_by_role("button", name="Stop u-web-1")
    stop.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Stop u-web-1?")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(stop).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_role("button", name="Stop")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Stopped")

    go(page, "/instances")
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator('main tbody tr[data-name="u-web-1"]')).to_be_visible()
