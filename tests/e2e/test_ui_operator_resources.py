"""An operator in the browser: adds a disk offering and a network offering (enabled, disabled, deleted),
changes a global setting and sees the settings of one account, sets an account's and a domain's limits,
and sees the dashboard's meters follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shoot, go, log_in
from tests.support.fixtures import api_keys_of, cs_client
from tests.support.server import ServerProcess

ACCOUNT = "nina"


@pytest.fixture(scope="module")
def busy_account(demo_server: ServerProcess) -> Iterator[dict[str, Any]]:
    """An account with one instance (the demo's template and offering): something to count against limits."""
    admin = cs_client(demo_server, api_keys_of(demo_server))
    account = admin.createAccount(username=ACCOUNT, password="nina-password-1", email=f"{ACCOUNT}@example.com",
                                  firstname="Nina", lastname="Ops", accounttype=0)["account"]
    zone = admin.listZones(name="Demo Zone")["zone"][0]
    template = admin.listTemplates(templatefilter="executable", name="Demo microVM")["template"][0]
    offering = admin.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    vm = admin.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=offering["id"],
                                    account=ACCOUNT, domainid=account["domainid"], name="nina-1",
                                    fetch_result=True)["virtualmachine"]
    yield account
    admin.destroyVirtualMachine(id=vm["id"], expunge=True, fetch_result=True)


def _row(page: Page, name: str) -> Locator:
    return page.locator(f'main tbody tr[data-name="{name}"]')


def _disk_offering(page: Page, shoot: Shoot) -> None:
    go(page, "/diskofferings")
    expect(_row(page, "Custom").locator(".tag")).to_have_text("Custom")  # seeded, as in a fresh CloudStack
    page.get_by_role("button", name="Add disk offering").click()
    dialog = page.get_by_role("dialog", name="Add a disk offering")
    dialog.get_by_label("Name", exact=True).fill("Fast 50")
    dialog.get_by_label("Description").fill("SSD-backed")
    dialog.get_by_label("Size (GiB)").fill("0")
    dialog.get_by_role("button", name="Add disk offering").click()
    expect(dialog.locator('[data-field="disksize"] .field-error')).to_have_text("Size (GiB) must be at least 1.")
    dialog.get_by_label("Size (GiB)").fill("50")
    dialog.get_by_label("Provisioning").select_option("fat")
    expect(dialog.get_by_role("switch", name="Shown to users")).to_be_checked()
    shoot(page, "dialog-add-disk-offering")
    dialog.get_by_role("button", name="Add disk offering").click()
    row = _row(page, "Fast 50")
    expect(row).to_contain_text("50 GiB")
    expect(row).to_contain_text("fat")
    row.get_by_role("button", name="Edit Fast 50").click()
    dialog = page.get_by_role("dialog", name="Edit Fast 50")
    dialog.get_by_role("switch", name="Shown to users").uncheck()
    dialog.get_by_role("button", name="Save").click()
    expect(row.locator(".tag")).to_have_text("Hidden")
    shoot(page, "diskofferings")


def _network_offering(page: Page, shoot: Shoot) -> None:
    go(page, "/networkofferings")
    default = _row(page, "DefaultIsolatedNetworkOffering")
    expect(default.locator(".tag")).to_have_text("Default")
    expect(default.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)  # never deleted
    page.get_by_role("button", name="Add network offering").click()
    dialog = page.get_by_role("dialog", name="Add a network offering")
    dialog.get_by_label("Name", exact=True).fill("Lab Isolated")
    dialog.get_by_label("Description").fill("Isolated lab networks")
    services = dialog.get_by_role("group", name="Services")
    expect(services.get_by_role("checkbox", name="DNS")).to_be_checked()
    services.get_by_role("checkbox", name="User data (config drive)").uncheck()
    dialog.get_by_role("switch", name="Enable now").uncheck()
    shoot(page, "dialog-add-network-offering")
    dialog.get_by_role("button", name="Add network offering").click()
    row = _row(page, "Lab Isolated")
    expect(row.locator("[data-state]")).to_have_text("Disabled")  # as CloudStack creates them
    expect(row.locator(".param-chip")).to_have_text(["Dhcp", "Dns"])
    row.get_by_role("button", name="Enable Lab Isolated").click()
    expect(row.locator("[data-state]")).to_have_text("Enabled")
    row.get_by_role("button", name="Edit Lab Isolated").click()
    dialog = page.get_by_role("dialog", name="Edit Lab Isolated")
    dialog.get_by_label("Description").fill("Isolated networks for the lab")
    shoot(page, "dialog-edit-network-offering")
    dialog.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Isolated networks for the lab")

    page.get_by_role("button", name="Add network offering").click()
    dialog = page.get_by_role("dialog", name="Add a network offering")
    dialog.get_by_label("Name", exact=True).fill("Lab L2")
    dialog.get_by_label("Guest network type").select_option("L2")
    expect(dialog.get_by_role("group", name="Services")).to_have_count(0)  # an L2 offering has none
    dialog.get_by_role("button", name="Add network offering").click()
    expect(_row(page, "Lab L2").locator("[data-state]")).to_have_text("Enabled")
    page.get_by_label("State", exact=True).select_option("Enabled")
    expect(_row(page, "Lab L2")).to_be_visible()
    shoot(page, "networkofferings")
    _row(page, "Lab L2").get_by_role("button", name="Disable Lab L2").click()
    page.get_by_role("dialog", name="Disable Lab L2?").get_by_role("button", name="Disable").click()
    expect(_row(page, "Lab L2")).to_have_count(0)  # the list shows Enabled ones
    page.get_by_label("State", exact=True).select_option("Disabled")
    _row(page, "Lab L2").get_by_role("button", name="Delete Lab L2").click()
    page.get_by_role("dialog", name="Delete network offering Lab L2?").get_by_role("button", name="Delete").click()
    expect(_row(page, "Lab L2")).to_have_count(0)


def _settings(page: Page, shoot: Shoot) -> None:
    go(page, "/settings")
    row = _row(page, "max.account.cpus")
    expect(row.locator("code.setting-value")).to_have_text("40")
    row.get_by_role("button", name="Edit max.account.cpus").click()
    dialog = page.get_by_role("dialog", name="Change max.account.cpus")
    expect(dialog.locator(".field-help")).to_contain_text("Default: 40.")
    dialog.get_by_label("Value").fill("64")
    dialog.get_by_role("button", name="Save").click()
    expect(row.locator("code.setting-value")).to_have_text("64")
    expect(row.locator(".tag")).to_have_text("Changed")
    # A setting read at start cannot be changed here.
    expect(_row(page, "ping.interval").get_by_role("button")).to_have_count(0)
    expect(_row(page, "ping.interval")).to_contain_text("At restart")

    # At an account's scope: the value that applies to it, changed for it alone.
    page.get_by_role("radiogroup", name="Scope of the settings").get_by_text("Account").click()
    page.locator("#scope-target").select_option(label=f"{ACCOUNT} (ROOT)")
    row = _row(page, "api.key.access")
    expect(row.locator("code.setting-value")).to_have_text("true")
    expect(_row(page, "max.account.cpus")).to_have_count(0)  # global only
    row.get_by_role("button", name="Edit api.key.access").click()
    dialog = page.get_by_role("dialog", name=f"Change api.key.access for {ACCOUNT}")
    dialog.get_by_label("Value").select_option("false")
    dialog.get_by_role("button", name="Save").click()
    expect(row.locator("code.setting-value")).to_have_text("false")
    shoot(page, "settings-account")


def _limits(page: Page, shoot: Shoot) -> None:
    go(page, "/")
    pressure = page.locator(f'.pressure-card tr[data-account="{ACCOUNT}"]')
    expect(pressure.locator('[data-meter="user_vm"]')).to_have_text("1 / 20")
    expect(pressure.locator('[data-meter="cpu"]')).to_have_text("1 / 64")  # the default changed above

    go(page, "/accounts")
    row = _row(page, ACCOUNT)
    expect(row.locator("td[data-label=Instances]")).to_have_text("1 / 20")
    shoot(page, "accounts")
    row.get_by_role("link", name=ACCOUNT).click()
    page.get_by_role("tab", name="Limits").click()
    limits = page.locator('.limit-row[data-resource="user_vm"]')
    expect(limits.locator(".meter-value")).to_have_text("1 of 20")
    page.get_by_role("button", name=f"Change limit instances of {ACCOUNT}").click()
    dialog = page.get_by_role("dialog", name=f"Instances: limit for {ACCOUNT}")
    expect(dialog.get_by_label("Limit", exact=True)).to_have_value("20")
    dialog.get_by_label("Limit", exact=True).fill("3")
    shoot(page, "dialog-account-limit")
    dialog.get_by_role("button", name="Set limit").click()
    expect(limits.locator(".meter-value")).to_have_text("1 of 3")
    shoot(page, "account-limits")
    page.get_by_role("tab", name="Settings").click()
    expect(_row(page, "api.key.access").locator("code.setting-value")).to_have_text("false")

    go(page, "/")
    expect(pressure.locator('[data-meter="user_vm"]')).to_have_text("1 / 3")
    shoot(page, "dashboard-limits")

    # A domain's limits, for all its accounts together.
    go(page, "/domains")
    page.get_by_role("button", name="Add domain").click()
    dialog = page.get_by_role("dialog", name="Add a domain")
    dialog.get_by_label("Name", exact=True).fill("Lab")
    dialog.get_by_role("button", name="Add domain").click()
    _row(page, "Lab").get_by_role("button", name="Limits ROOT/Lab").click()
    dialog = page.get_by_role("dialog", name="Limits of ROOT/Lab")
    expect(dialog.locator('[data-meter="user_vm"] .meter-value')).to_have_text("0 of 40")  # max.domain.user.vms
    dialog.get_by_role("button", name="Change limit instances of ROOT/Lab").click()
    edit = page.get_by_role("dialog", name="Instances: limit for ROOT/Lab")
    edit.get_by_role("switch", name="No limit").check()
    expect(edit.get_by_label("Limit", exact=True)).to_have_count(0)
    edit.get_by_role("button", name="Set limit").click()
    expect(dialog.locator('[data-meter="user_vm"] .meter-value')).to_have_text("0 · no limit")
    shoot(page, "dialog-domain-limits")
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(_row(page, "Lab").locator("td[data-label=Instances]")).to_have_text("0 / ∞")
    shoot(page, "domains-limits")


def test_operator_adds_offerings_changes_settings_and_limits(demo_server: ServerProcess, page: Page, shoot: Shoot,
                                                           busy_account: dict[str, Any]) -> None:
    log_in(page, demo_server.base_url)
    _disk_offering(page, shoot)
    _network_offering(page, shoot)
    _settings(page, shoot)
    _limits(page, shoot)
    go(page, "/volumes")
    expect(page.locator('table[data-list="listVolumes"] tbody tr', has_text="nina-1")).to_have_count(1)
    shoot(page, "volumes-admin")
    go(page, "/projects")
    shoot(page, "projects-admin")
