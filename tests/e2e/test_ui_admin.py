"""An operator sets up a cloud in the browser: an extension with details and a custom action, an External
cluster, a host, a template and an offering; then looks after them (registration, maintenance, accounts)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shoot, go, install_echo_extension, log_in
from tests.support.server import ServerProcess

PARAMETERS = [  # name, type, validation, options, required
    ("snap_name", "STRING", "NONE", "", True),
    ("contact", "STRING", "EMAIL", "", False),
    ("copies", "NUMBER", "NONE", "1, 2, 4", False),
    ("ratio", "NUMBER", "DECIMAL", "", False),
    ("when", "DATE", None, "", True),
    ("quiesce", "BOOLEAN", None, "", False),
    ("secret", "STRING", "PASSWORD", "", False),
    ("mode", "STRING", "NONE", "fast, safe", False),
]


def _row(page: Page, name: str) -> Locator:
    return page.locator(f'main tbody tr[data-name="{name}"]')


def _fill_map(container: Locator, label: str, pairs: list[tuple[str, str]]) -> None:
    """Fill a key/value editor; rows are added with its "+ Add" button as needed."""
    for index, (key, value) in enumerate(pairs, start=1):
        if container.get_by_label(f"{label} {index}: key").count() == 0:
            container.get_by_role("group", name=label, exact=True).get_by_role(
                "button", name=re.compile(r"^\+ Add")).click()
        container.get_by_label(f"{label} {index}: key").fill(key)
        container.get_by_label(f"{label} {index}: value").fill(value)


def _create_extension(page: Page, shoot: Shoot) -> None:
    go(page, "/extensions")
    expect(_row(page, "Proxmox").locator(".tag")).to_have_text("Inbuilt")
    expect(_row(page, "Demo").locator(".tag")).to_have_count(0)
    shoot(page, "extensions")
    page.get_by_role("button", name="Create extension").click()
    dialog = page.get_by_role("dialog", name="Create an extension")
    expect(dialog.get_by_label("Type")).to_have_value("Orchestrator")
    expect(dialog.get_by_role("switch", name="Enabled")).to_be_checked()
    dialog.get_by_label("Name", exact=True).fill("Relay")
    dialog.get_by_label("Description").fill("Relays instances to the lab")
    dialog.get_by_label("Entry point").fill("../relay.py")
    dialog.get_by_role("switch", name="Requires prepare instance").check()
    _fill_map(dialog, "Details", [("endpoint", "https://relay.example"), ("api_token", "s3cr3t")])
    expect(dialog.get_by_label("Details 2: value")).to_have_attribute("type", "password")  # a secret is masked
    dialog.get_by_role("button", name="Create extension").click()
    # Checked before anything is sent: the path rule is the server's.
    expect(dialog.locator('[data-field="path"] .field-error')).to_have_text("The path must not contain '..'.")
    expect(dialog.get_by_label("Entry point")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Entry point")).to_be_focused()
    shoot(page, "dialog-create-extension")
    dialog.get_by_label("Entry point").fill("relay.py")
    dialog.get_by_role("button", name="Create extension").click()
    expect(page).to_have_url(re.compile(r"/extensions/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Relay")
    subtitle = page.locator(".page-subtitle")
    expect(subtitle.locator("[data-state]")).to_have_text(["Enabled", "Ready"])
    panel = page.get_by_role("tabpanel")
    expect(panel).to_contain_text(re.compile(r"/relay/relay\.py"))
    expect(panel.get_by_role("switch", name="Requires prepare instance")).to_be_checked()
    expect(panel.get_by_label("Details 1: key")).to_have_value("endpoint")
    shoot(page, "extension-details")


def _add_custom_action(page: Page, shoot: Shoot) -> None:
    page.get_by_role("tab", name="Custom actions").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("No custom actions yet")
    page.get_by_role("button", name="Add custom action").click()
    dialog = page.get_by_role("dialog", name="Add a custom action to Relay")
    dialog.locator("#action-name").fill("Snapshot now!")
    dialog.locator("#action-description").fill("Snapshot the instance")
    roles = dialog.get_by_role("group", name="Who may run it")
    expect(roles.get_by_role("checkbox", name="Root admin")).to_be_checked()
    expect(roles.get_by_role("checkbox", name="Root admin")).to_be_disabled()  # admins always may (CloudStack)
    roles.get_by_role("checkbox", name="User").check()
    for index, (name, kind, validation, options, required) in enumerate(PARAMETERS):
        dialog.get_by_role("button", name="+ Add parameter").click()
        row = dialog.locator(f'[data-parameter="{index}"]')
        row.get_by_label("Name").fill(name)
        row.get_by_label("Type").select_option(kind)
        if validation is None:
            expect(row.get_by_text("None for this type")).to_be_visible()  # BOOLEAN and DATE have no formats
            expect(row.get_by_label("Options")).to_be_disabled()
        else:
            row.get_by_label("Validation").select_option(validation)
        if options:
            row.get_by_label("Options").fill(options)
        if required:
            row.get_by_role("checkbox", name="Required").check()
    dialog.get_by_role("button", name="+ Add parameter").click()  # left without a name: refused below
    dialog.get_by_label("Message on success").fill("Snapshot of {{resourceName}} by {{extensionName}}")
    expect(dialog.locator('[data-field="successmessage"] .field-help')).to_contain_text("{{resourceName}}")
    dialog.get_by_label("Timeout (seconds)").fill("30")
    _fill_map(dialog, "Details", [("bucket", "snaps")])
    dialog.get_by_role("button", name="Add action").click()
    expect(dialog.locator('[data-field="name"] .field-error')).to_contain_text("letters, digits, spaces")
    expect(dialog.locator('[data-field="parameters"] .field-error')).to_have_text("Parameter 9 needs a name.")
    shoot(page, "dialog-custom-action")
    dialog.get_by_role("button", name="Remove parameter 9").click()
    dialog.locator("#action-name").fill("Snapshot")
    dialog.get_by_role("button", name="Add action").click()
    expect(dialog).to_have_count(0)
    row = _row(page, "Snapshot")
    expect(row.locator(".param-chip")).to_have_text(["snap_name*", "contact", "copies", "ratio", "when*", "quiesce",
                                                     "secret", "mode"])
    expect(row).to_contain_text("Admin, User")
    expect(row).to_contain_text("30 s")
    expect(row.locator("[data-state]")).to_have_text("Enabled")
    shoot(page, "extension-custom-actions")

    # The editor opens with what was saved.
    row.get_by_role("button", name="Edit Snapshot").click()
    dialog = page.get_by_role("dialog", name="Edit Snapshot")
    expect(dialog.locator("[data-parameter]")).to_have_count(len(PARAMETERS))
    expect(dialog.locator('[data-parameter="2"]').get_by_label("Options")).to_have_value("1, 2, 4")
    expect(dialog.locator('[data-parameter="3"]').get_by_label("Validation")).to_have_value("DECIMAL")
    dialog.locator("#action-description").fill("Snapshot the instance, consistently")
    dialog.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Snapshot the instance, consistently")


def _add_cluster_and_register(page: Page, shoot: Shoot) -> None:
    go(page, "/clusters")
    page.get_by_role("button", name="Add cluster").click()
    dialog = page.get_by_role("dialog", name="Add a cluster")
    expect(dialog.get_by_label("Zone", exact=True)).to_contain_text("Demo Zone")
    expect(dialog.get_by_label("Pod", exact=True)).to_have_value(re.compile(".+"))
    expect(dialog.get_by_label("Hypervisor")).to_have_value("External")
    dialog.get_by_label("Name", exact=True).fill("Relay Cluster")
    dialog.get_by_label("Extension", exact=True).select_option(label="Relay")
    _fill_map(dialog, "Details for the extension", [("url", "https://lab.example"), ("password", "hunter2")])
    shoot(page, "dialog-add-cluster")
    dialog.get_by_role("button", name="Add cluster").click()
    row = _row(page, "Relay Cluster")
    expect(row.get_by_role("link", name="Relay")).to_be_visible()
    shoot(page, "clusters")

    # The extension's Resources tab lists it, secrets masked; unregister and register again from there.
    row.get_by_role("link", name="Relay").click()
    page.get_by_role("tab", name=re.compile("Resources")).click()
    resource = _row(page, "Relay Cluster")
    expect(resource).to_contain_text("https://lab.example")
    expect(resource).not_to_contain_text("hunter2")
    expect(resource).to_contain_text("••••••")
    resource.get_by_role("button", name="Unregister Relay Cluster").click()
    page.get_by_role("dialog").get_by_role("button", name="Unregister").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("No cluster is registered")
    page.get_by_role("button", name="Register a cluster").click()
    dialog = page.get_by_role("dialog", name="Register a cluster with Relay")
    dialog.get_by_label("Cluster", exact=True).select_option(label="Relay Cluster (Demo Zone / Demo Pod)")
    _fill_map(dialog, "Details for the extension", [("url", "https://lab.example")])
    shoot(page, "dialog-register-cluster")
    dialog.get_by_role("button", name="Register").click()
    expect(_row(page, "Relay Cluster")).to_contain_text("https://lab.example")
    shoot(page, "extension-resources")


def _add_host_and_maintain(page: Page, shoot: Shoot) -> None:
    go(page, "/hosts")
    page.get_by_role("button", name="Add host").click()
    dialog = page.get_by_role("dialog", name="Add a host")
    dialog.get_by_label("Cluster", exact=True).select_option(label="Relay Cluster (External, Relay)")
    expect(dialog.get_by_label("Username")).to_have_count(0)  # External hosts have no credentials of their own
    dialog.get_by_label("Host name or URL").fill("relay-host-1")
    _fill_map(dialog, "Details for the extension", [("address", "10.0.0.9"), ("password", "pw-host")])
    expect(dialog.get_by_label("Details for the extension 2: value")).to_have_attribute("type", "password")
    shoot(page, "dialog-add-host")
    dialog.get_by_role("button", name="Add host").click()
    row = _row(page, "relay-host-1")
    expect(row.locator("[data-state]").first).to_have_text("Up")
    row.get_by_role("button", name="Disable relay-host-1").click()
    expect(row.locator("[data-state]").nth(1)).to_have_text("Disabled")
    row.get_by_role("button", name="Enable relay-host-1").click()
    expect(row.locator("[data-state]").nth(1)).to_have_text("Enabled")
    row.get_by_role("button", name="Maintenance relay-host-1").click()
    page.get_by_role("dialog").get_by_role("button", name="Start maintenance").click()
    expect(row.locator("[data-state]").nth(1)).to_have_text("Maintenance")
    shoot(page, "hosts")
    row.get_by_role("button", name="End maintenance relay-host-1").click()
    expect(row.locator("[data-state]").nth(1)).to_have_text("Enabled")


def _register_template_and_offerings(page: Page, shoot: Shoot) -> None:
    go(page, "/templates")
    page.get_by_role("button", name="Register template").click()
    dialog = page.get_by_role("dialog", name="Register a template")
    dialog.get_by_label("Name", exact=True).fill("Relay Linux")
    dialog.get_by_label("Description").fill("Debian on the relay")
    dialog.get_by_label("Extension", exact=True).select_option(label="Relay")
    dialog.get_by_label("OS type").select_option(label="Debian GNU/Linux 12 (64-bit)")
    _fill_map(dialog, "Details for the extension", [("image", "debian-12")])
    dialog.get_by_role("switch", name="Public").check()
    dialog.get_by_role("switch", name="Featured").check()
    shoot(page, "dialog-register-template")
    dialog.get_by_role("button", name="Register").click()
    row = _row(page, "Relay Linux")
    expect(row.locator(".tag")).to_have_text(["Featured", "Public"])
    expect(row).to_contain_text("Relay")
    expect(row.locator("[data-state]")).to_have_text("Ready")
    shoot(page, "templates")

    go(page, "/offerings")
    page.get_by_role("button", name="Add offering").click()
    dialog = page.get_by_role("dialog", name="Add a service offering")
    dialog.get_by_label("Name", exact=True).fill("Relay Small")
    dialog.get_by_label("vCPUs").fill("2")
    dialog.get_by_label("CPU speed (MHz)").fill("1000")
    dialog.get_by_label("Memory (MiB)").fill("0")
    _fill_map(dialog, "Details for the extension", [("flavor", "small")])
    dialog.get_by_role("button", name="Add offering").click()
    expect(dialog.locator('[data-field="memory"] .field-error')).to_have_text("Memory (MiB) must be at least 1.")
    dialog.get_by_label("Memory (MiB)").fill("2048")
    shoot(page, "dialog-add-offering")
    dialog.get_by_role("button", name="Add offering").click()
    expect(_row(page, "Relay Small")).to_contain_text("2 GiB")
    page.get_by_role("button", name="Add offering").click()
    dialog = page.get_by_role("dialog", name="Add a service offering")
    dialog.get_by_label("Name", exact=True).fill("Relay Custom")
    dialog.get_by_role("switch", name="Custom size").check()
    expect(dialog.get_by_label("vCPUs")).to_have_count(0)
    dialog.get_by_role("button", name="Add offering").click()
    expect(_row(page, "Relay Custom").locator(".tag")).to_have_text("Custom")
    shoot(page, "offerings")


def _accounts(page: Page, shoot: Shoot) -> None:
    go(page, "/accounts")
    page.get_by_role("button", name="Add account").click()
    dialog = page.get_by_role("dialog", name="Add an account")
    dialog.get_by_label("Username").fill("ops-ann")
    dialog.get_by_label("Password").fill("ann-password-1")
    dialog.get_by_label("E-mail").fill("not-an-address")
    dialog.get_by_label("First name").fill("Ann")
    dialog.get_by_label("Last name").fill("Ops")
    dialog.get_by_label("Role").select_option(label="User (User)")
    dialog.get_by_role("button", name="Add account").click()
    expect(dialog.locator('[data-field="email"] .field-error')).to_contain_text("must be an e-mail address")
    dialog.get_by_label("E-mail").fill("ann@example.com")
    shoot(page, "dialog-add-account")
    dialog.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ops-ann")
    user = _row(page, "ops-ann")
    expect(user.locator("[data-state]")).to_have_text("enabled")
    user.get_by_role("button", name="API keys ops-ann").click()
    keys = page.get_by_role("dialog", name="API keys of ops-ann")
    keys.get_by_role("button", name="Generate new keys").click()
    expect(keys.locator("code.secret-value")).to_have_count(2)
    shoot(page, "dialog-api-keys")
    keys.get_by_role("button", name="Close").click()
    user.get_by_role("button", name="Lock ops-ann").click()
    page.get_by_role("dialog").get_by_role("button", name="Lock").click()
    expect(user.locator("[data-state]")).to_have_text("locked")
    user.get_by_role("button", name="Enable ops-ann").click()
    expect(user.locator("[data-state]")).to_have_text("enabled")
    shoot(page, "account")


def test_admin_builds_an_extension_cloud(demo_server: ServerProcess, page: Page, shoot: Shoot) -> None:
    install_echo_extension(demo_server, "relay", "relay.py")
    base = demo_server.base_url
    log_in(page, base)
    expect(page.locator("main")).to_contain_text("Needs attention")
    shoot(page, "dashboard")

    _create_extension(page, shoot)
    _add_custom_action(page, shoot)
    _add_cluster_and_register(page, shoot)
    _add_host_and_maintain(page, shoot)
    _register_template_and_offerings(page, shoot)
    _accounts(page, shoot)

    # The other operator pages, each with what the steps above did.
    go(page, "/zones")
    expect(_row(page, "Demo Zone").locator("[data-state]")).to_have_text("Enabled")
    page.get_by_role("button", name="Add zone").click()
    shoot(page, "dialog-add-zone")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    shoot(page, "zones")
    go(page, "/pods")
    expect(_row(page, "Demo Pod")).to_contain_text("192.168.100.10")
    shoot(page, "pods")
    go(page, "/infrastructure")
    expect(page.locator("main")).to_contain_text("relay-host-1")
    go(page, "/events")
    expect(page.locator("main tbody")).to_contain_text("Relay")
    shoot(page, "events")
    go(page, "/alerts")
    shoot(page, "alerts")
    go(page, "/jobs")
    expect(page.locator("main tbody")).to_contain_text("prepareHostForMaintenance")
    shoot(page, "jobs")
    go(page, "/domains")
    expect(_row(page, "ROOT")).to_be_visible()
    shoot(page, "domains")
    go(page, "/roles")
    expect(_row(page, "Root Admin")).to_be_visible()
    shoot(page, "roles")
    go(page, "/settings")
    _row(page, "api.key.access").get_by_role("button", name="Edit api.key.access").click()
    expect(page.get_by_role("dialog").get_by_label("Value")).to_have_value("true")
    shoot(page, "dialog-setting")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    shoot(page, "settings")
    page.locator(".who").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    shoot(page, "profile")
