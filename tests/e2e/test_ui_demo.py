"""A newcomer's first minutes in the browser: log in, deploy the Demo microVM, stop it, run the demo's
custom action, look at the infrastructure, log out."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.fixtures import ADMIN_PASSWORD, api_keys_of, cs_client
from tests.support.server import ServerProcess


def _row(page: Page, name: str) -> Locator:
    return page.locator(f'#instances tbody tr[data-name="{name}"]')


@pytest.mark.database  # the whole story once more on PostgreSQL in CI
def test_deploy_stop_run_action_logout(demo_server: ServerProcess, page: Page, tmp_path: Path) -> None:
    base = demo_server.base_url
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login")  # no session: the script sends us to the login page

    page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator("#flash")).to_contain_text(re.compile("unable|fail|invalid", re.I))

    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#whoami")).to_have_text("admin")
    expect(page.locator("#empty")).to_be_visible()

    # Deploy through the form: the demo's zone, template, offering and network are offered.
    page.click("text=Deploy an instance")
    expect(page).to_have_url(base + "/deploy")
    expect(page.locator("select[name=zoneid] option")).to_have_text(["Demo Zone"])
    expect(page.locator("select[name=templateid] option").first).to_contain_text("Demo microVM")
    expect(page.locator("select[name=networkids]")).to_contain_text("Demo Network")
    small = page.locator("select[name=serviceofferingid] option", has_text="Small Instance")
    page.select_option("select[name=serviceofferingid]", value=small.get_attribute("value"))
    page.fill("input[name=name]", "web-1")
    page.screenshot(path=str(tmp_path / "deploy.png"), full_page=True)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#flash")).to_have_text("Deployed web-1: Running")
    row = _row(page, "web-1")
    expect(row.locator(".state")).to_have_text("Running")
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^10\.1\.1\.\d+$"))  # an address of the network
    page.screenshot(path=str(tmp_path / "instances.png"), full_page=True)

    row.locator("[data-action=stop]").click()
    expect(row.locator(".state")).to_have_text("Stopped")
    expect(row.locator("[data-action=start]")).to_be_visible()

    # Run Action: the form is built from the action's parameter definitions.
    row.locator("[data-action=run-action]").click()
    expect(page).to_have_url(re.compile(r"/action\?vm="))
    expect(page.locator("#action-select option")).to_have_text(["Hello"])
    name_input = page.locator('input[data-param="name"]')
    expect(name_input).to_have_attribute("required", "")
    expect(page.locator('label:has(input[data-param="name"]) .required')).to_be_visible()
    expect(page.locator('input[data-param="shout"]')).to_have_attribute("role", "switch")
    expect(page.locator('select[data-param="mood"] option')).to_have_text(["", "calm", "happy", "curious"])
    name_input.fill('<img src=x onerror="window.pwned=1">Ada')
    page.locator('input[data-param="shout"]').check()
    page.select_option('select[data-param="mood"]', "happy")
    page.click("button[type=submit]")
    expect(page.locator("#action-result")).to_be_visible()
    expect(page.locator("#result-success")).to_have_text("true")
    expect(page.locator("#result-message")).to_have_text(re.compile(r"^Demo greeted i-\d+-\d+-VM$"))
    table = page.locator("#result-details table")
    expect(table.locator("th")).to_have_text(["greeting", "instance", "power", "mood", "time"])
    # The markup in the parameter comes back as text, not as an element.
    expect(table.locator("td").first).to_have_text('HELLO, <IMG SRC=X ONERROR="WINDOW.PWNED=1">ADA!')
    expect(table.locator("td").nth(3)).to_have_text("happy")
    assert page.locator("#result-details img").count() == 0
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=str(tmp_path / "action.png"), full_page=True)

    # The read-only infrastructure page shows the demo's pieces.
    page.click("[data-nav=infrastructure]")
    expect(page.locator("#zones tbody")).to_contain_text("Demo Zone")
    expect(page.locator("#clusters tbody")).to_contain_text("Demo")
    demo_row = page.locator("#extensions tbody tr", has_text="Demo")
    expect(demo_row).to_contain_text("true")
    expect(page.locator("#hosts tbody")).to_contain_text("demo-host-1")
    page.screenshot(path=str(tmp_path / "infrastructure.png"), full_page=True)

    # Destroy asks first; a declined question changes nothing.
    page.click("[data-nav=instances]")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("[data-action=destroy]").click()
    expect(row.locator(".state")).to_have_text("Stopped")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("[data-action=destroy]").click()
    expect(row.locator(".state")).to_have_text("Destroyed")
    expect(row.locator("[data-action=run-action]")).to_have_count(0)

    page.click("#logout")
    expect(page).to_have_url(base + "/login")
    page.goto(base + "/deploy")
    expect(page).to_have_url(base + "/login")
    assert page.script_errors == []  # type: ignore[attr-defined]


def test_pages_carry_a_strict_content_security_policy(demo_server: ServerProcess) -> None:
    for path in ("/", "/login", "/deploy", "/action", "/infrastructure"):
        reply = httpx.get(demo_server.base_url + path, timeout=10)
        assert reply.status_code == 200
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert httpx.get(demo_server.base_url + "/ui/static/app.js", timeout=10).status_code == 200


def test_run_action_form_follows_the_parameter_definitions(demo_server: ServerProcess, page: Page) -> None:
    """§6.3: BOOLEAN → switch, DATE → date and time, options → select, NUMBER → number (DECIMAL in
    hundredths), STRING+PASSWORD → password input, else text; required ones marked; a failed run is shown
    with the executable's output."""
    admin = cs_client(demo_server, api_keys_of(demo_server))
    demo = admin.listExtensions(name="Demo")["extension"][0]
    definitions = [
        ("when", "DATE", "NONE", True, None), ("count", "NUMBER", "NONE", False, None),
        ("ratio", "NUMBER", "DECIMAL", False, None), ("size", "NUMBER", "NONE", False, "1,2,4"),
        ("secret", "STRING", "PASSWORD", True, None), ("mail", "STRING", "EMAIL", False, None),
        ("flag", "BOOLEAN", "NONE", False, None),
    ]
    params: dict[str, str] = {}
    for index, (name, kind, validation, required, options) in enumerate(definitions):
        params.update({f"parameters[{index}].name": name, f"parameters[{index}].type": kind,
                       f"parameters[{index}].validationformat": validation,
                       f"parameters[{index}].required": str(required).lower()})
        if options:
            params[f"parameters[{index}].valueoptions"] = options
    action = admin.addCustomAction(extensionid=demo["id"], name="Types", enabled=True, **params)
    action_id = action["extensioncustomaction"]["id"]
    offering = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]["id"]
    zone = admin.listZones()["zone"][0]["id"]
    template = admin.listTemplates(templatefilter="executable")["template"][0]["id"]
    job = admin.deployVirtualMachine(zoneid=zone, templateid=template, serviceofferingid=offering, name="types-1",
                                     fetch_result=True)
    vm_id = job["virtualmachine"]["id"]
    try:
        base = demo_server.base_url
        page.goto(base + "/login")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/")
        page.goto(f"{base}/action?vm={vm_id}")
        page.select_option("#action-select", label="Types")
        control = page.locator
        expect(control('input[data-param="when"]')).to_have_attribute("type", "datetime-local")
        expect(control('input[data-param="count"]')).to_have_attribute("type", "number")
        expect(control('input[data-param="count"]')).to_have_attribute("step", "1")
        expect(control('input[data-param="ratio"]')).to_have_attribute("step", "0.01")
        expect(control('select[data-param="size"] option')).to_have_text(["", "1", "2", "4"])
        expect(control('input[data-param="secret"]')).to_have_attribute("type", "password")
        expect(control('input[data-param="mail"]')).to_have_attribute("type", "email")
        expect(control('input[data-param="flag"]')).to_have_attribute("type", "checkbox")
        required = control("label:has([data-param]) .required")
        expect(required).to_have_count(2)  # when, secret
        control('input[data-param="when"]').fill("2026-01-02T03:04:05")
        control('input[data-param="secret"]').fill("s3cret")
        control('input[data-param="ratio"]').fill("0.25")
        page.click("button[type=submit]")
        # The demo executable does not know "Types": the run fails, and the UI says so with the details.
        expect(page.locator("#result-success")).to_have_text("false")
        expect(page.locator("#result-details")).to_contain_text("Invalid action: Types")
    finally:
        admin.destroyVirtualMachine(id=vm_id, expunge=True, fetch_result=True)
        admin.deleteCustomAction(id=action_id)
