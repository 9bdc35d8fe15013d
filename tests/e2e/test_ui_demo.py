"""A newcomer's first minutes in the browser: log in, deploy the Demo microVM, stop it, run the demo's
custom action, look at the infrastructure, destroy, recover and expunge it, log out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shoot, go
from tests.support.fixtures import ADMIN_PASSWORD
from tests.support.server import ServerProcess


def _row(page: Page, name: str) -> Locator:
    return page.locator(f'table[data-list="listVirtualMachines"] tbody tr[data-name="{name}"]')


@pytest.mark.database  # the whole story once more on PostgreSQL in CI
def test_deploy_stop_run_action_destroy_logout(demo_server: ServerProcess, page: Page, shoot: Shoot) -> None:
    base = demo_server.base_url
    page.goto(base + "/instances")
    expect(page).to_have_url(base + "/login?next=%2Finstances")  # no session: the login page, then back here
    shoot(page, "login")
    page.fill("#password", "wrong-password")
    page.click("#login-form button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Failed to authenticate user admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(base + "/instances")
    expect(page.locator("#whoami")).to_have_text("admin")
    expect(page.locator(".empty")).to_contain_text("No instances yet")

    # Deploy through the wizard: the demo's zone, template, offering and network are offered and chosen.
    page.get_by_role("link", name="Deploy an instance").first.click()
    expect(page).to_have_url(base + "/deploy")
    expect(page.get_by_role("radio", name=re.compile("Demo Zone"))).to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("Demo microVM"))).to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("Demo Network"))).to_be_checked()
    page.get_by_role("radio", name=re.compile("Small Instance")).check()
    page.get_by_label("Name", exact=True).fill("web-1")
    page.get_by_role("button", name="Deploy", exact=True).click()
    # The instance's page follows the job: it ends Running, with an address of the demo network.
    expect(page).to_have_url(re.compile(r"/instances/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("web-1")
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Running", timeout=30_000)
    page.get_by_role("tab", name=re.compile("NICs")).click()
    expect(page.get_by_role("tabpanel")).to_contain_text(re.compile(r"10\.1\.1\.\d+"))

    go(page, "/instances")
    row = _row(page, "web-1")
    expect(row.locator("[data-state]")).to_have_text("Running")
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^10\.1\.1\.\d+$"))
    shoot(page, "instances")

    # Stop asks first (with the force option); the row's buttons name their instance.
    row.get_by_role("button", name="Stop web-1").click()
    dialog = page.get_by_role("dialog", name="Stop web-1?")
    expect(dialog.get_by_role("checkbox", name=re.compile("Force stop"))).not_to_be_checked()
    shoot(page, "dialog-stop")
    dialog.get_by_role("button", name="Stop").click()
    expect(row.locator("[data-state]")).to_have_text("Stopped")
    expect(row.get_by_role("button", name="Start web-1")).to_be_visible()

    # Run Action: the form is built from the action's parameter definitions.
    row.get_by_role("link", name="Run Action web-1").click()
    expect(page).to_have_url(re.compile(r"/instances/[0-9a-f-]{36}\?tab=action$"))
    expect(page.locator("#action-select option")).to_have_text(["Hello"])
    name_input = page.locator('input[data-param="name"]')
    expect(name_input).to_have_attribute("aria-required", "true")
    expect(page.locator('[data-field="name"] .required')).to_be_visible()
    expect(page.locator('input[data-param="shout"]')).to_have_attribute("role", "switch")
    expect(page.locator('select[data-param="mood"] option')).to_have_text(["", "calm", "happy", "curious"])
    name_input.fill('<img src=x onerror="window.pwned=1">Ada')
    page.locator('input[data-param="shout"]').check()
    page.select_option('select[data-param="mood"]', "happy")
    page.get_by_role("button", name="Run Hello").click()
    expect(page.locator("#result-success")).to_have_text("Succeeded")
    expect(page.locator("#result-message")).to_have_text(re.compile(r"^Demo greeted i-\d+-\d+-VM$"))
    table = page.locator("#result-details table")
    expect(table.locator("th")).to_have_text(["greeting", "instance", "power", "mood", "time"])
    # The markup in the parameter comes back as text, not as an element.
    expect(table.locator("td").first).to_have_text('HELLO, <IMG SRC=X ONERROR="WINDOW.PWNED=1">ADA!')
    expect(table.locator("td").nth(3)).to_have_text("happy")
    assert page.locator("#result-details img").count() == 0
    assert page.evaluate("window.pwned") is None
    shoot(page, "instance-run-action-demo")

    # The infrastructure summary shows the demo's pieces.
    go(page, "/infrastructure")
    expect(page.locator("main")).to_contain_text("Demo Zone")
    expect(page.locator("main")).to_contain_text("Demo Cluster")
    expect(page.locator("main")).to_contain_text("demo-host-1")
    shoot(page, "infrastructure")

    # Destroy asks first; a declined question changes nothing. A destroyed instance can be recovered or
    # expunged by an administrator.
    go(page, "/instances")
    row.get_by_role("button", name="Destroy web-1").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(row.locator("[data-state]")).to_have_text("Stopped")
    row.get_by_role("button", name="Destroy web-1").click()
    shoot(page, "dialog-destroy")
    page.get_by_role("dialog").get_by_role("button", name="Destroy").click()
    expect(row.locator("[data-state]")).to_have_text("Destroyed")
    expect(row.get_by_role("link", name="Run Action web-1")).to_have_count(0)
    row.get_by_role("button", name="Recover web-1").click()
    expect(row.locator("[data-state]")).to_have_text("Stopped")
    row.get_by_role("button", name="Destroy web-1").click()
    page.get_by_role("dialog").get_by_role("checkbox", name=re.compile("Expunge now")).check()
    page.get_by_role("dialog").get_by_role("button", name="Destroy").click()
    expect(row).to_have_count(0)

    # Every operation is in the notification list with its outcome.
    page.locator("#notifications-button").click()
    notes = page.get_by_role("region", name="Notifications")
    expect(notes).to_contain_text("Deploy web-1")
    expect(notes.locator('[data-state="done"]')).to_have_count(6)  # deploy, stop, Hello, destroy, recover, destroy
    shoot(page, "notifications", phone=False)
    page.keyboard.press("Escape")
    expect(notes).to_have_count(0)

    page.locator("#logout").click()
    expect(page).to_have_url(base + "/login")
    page.goto(base + "/deploy")
    expect(page).to_have_url(base + "/login?next=%2Fdeploy")
