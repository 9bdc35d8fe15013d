"""A user's own resources in the browser: SSH key pairs and user data registered, an instance deployed with
them and a data disk, its volumes, tags, user data and snapshots on its page, its limit reached; and a
project: made, its members, a key pair and an instance of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Shoot, add_echo_cloud, go, log_in
from tests.support.fixtures import api_keys_of, cs_client
from tests.support.server import ServerProcess

USER = "sam"
USER_PASSWORD = "sam-password-1"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFBwc9H8T4QsHoEM3LwhhGEb28UWM2H44B7M+w0Kl7mg sam@laptop"
USER_DATA = "#cloud-config\nhostname: {{ ds.meta_data.role }}-1\npackages: [nginx]\n"
SNAPSHOT_ACTIONS = {  # CloudStack's built-in extensions' snapshot actions, as the stand-in executable keeps them
    "ListSnapshots": [],
    "CreateSnapshot": [("snapshot_name", True), ("description", False)],
    "RestoreSnapshot": [("snapshot_name", True)],
    "DeleteSnapshot": [("snapshot_name", True)],
}


@pytest.fixture(scope="module")
def keeper_cloud(demo_server: ServerProcess) -> Iterator[dict[str, Any]]:
    """An extension "Keeper" (the stand-in executable) whose instances have snapshots, and the user account."""
    admin = cs_client(demo_server, api_keys_of(demo_server))
    cloud = add_echo_cloud(demo_server, admin, "Keeper")
    for name, parameters in SNAPSHOT_ACTIONS.items():
        definitions: dict[str, str] = {}
        for index, (parameter, required) in enumerate(parameters):
            definitions.update({f"parameters[{index}].name": parameter, f"parameters[{index}].type": "STRING",
                                f"parameters[{index}].required": str(required).lower()})
        admin.addCustomAction(extensionid=cloud["extension"]["id"], name=name, allowedroletypes="User", enabled=True,
                              timeout=20, **definitions)
    account = admin.createAccount(username=USER, password=USER_PASSWORD, email=f"{USER}@example.com",
                                  firstname="Sam", lastname="User", accounttype=0)["account"]
    yield {**cloud, "admin": admin, "account": account}


def _row(page: Page, name: str) -> Locator:
    return page.locator(f'main tbody tr[data-name="{name}"]')


def _register_key_pairs_and_user_data(page: Page, shoot: Shoot) -> None:
    go(page, "/sshkeys")
    page.get_by_role("button", name="Add a public key").click()
    dialog = page.get_by_role("dialog", name="Add a public key")
    dialog.get_by_label("Name", exact=True).fill("sam-laptop")
    dialog.get_by_label("Public key").fill(PUBLIC_KEY)
    shoot(page, "dialog-add-public-key")
    dialog.get_by_role("button", name="Add key").click()
    expect(_row(page, "sam-laptop").locator("code")).to_have_text(re.compile(r"^([0-9a-f]{2}:){15}[0-9a-f]{2}$"))

    page.get_by_role("button", name="Create key pair").click()
    dialog = page.get_by_role("dialog", name="Create a key pair")
    dialog.get_by_label("Name", exact=True).fill("sam-ci")
    dialog.get_by_role("button", name="Create").click()
    secret = page.get_by_role("dialog", name="Private key of sam-ci")
    expect(secret.locator("pre")).to_contain_text("PRIVATE KEY")
    expect(secret.get_by_role("link", name="Download sam-ci.pem")).to_have_attribute("download", "sam-ci.pem")
    shoot(page, "dialog-private-key")
    secret.get_by_role("button", name="Done").click()
    expect(_row(page, "sam-ci")).to_be_visible()
    shoot(page, "sshkeys")

    go(page, "/userdata")
    expect(page.locator(".empty")).to_contain_text("No user data yet")
    page.get_by_role("button", name="Register user data").click()
    dialog = page.get_by_role("dialog", name="Register user data")
    dialog.get_by_label("Name", exact=True).fill("web-init")
    dialog.get_by_label("User data", exact=True).fill(USER_DATA)
    dialog.get_by_role("switch", name="Already base64-encoded").check()
    dialog.get_by_role("button", name="Register").click()  # plain text is not base64: checked before sending
    expect(dialog.locator('[data-field="userdata"] .field-error')).to_contain_text("This is not base64")
    shoot(page, "dialog-register-userdata")
    dialog.get_by_role("switch", name="Already base64-encoded").uncheck()
    dialog.get_by_role("button", name="Register").click()
    row = _row(page, "web-init")
    expect(row.locator(".param-chip")).to_have_text(["role"])  # found in the text
    expect(row.locator("code.snippet")).to_have_text("#cloud-config")
    shoot(page, "userdata")
    row.get_by_role("button", name="View web-init").click()
    view = page.get_by_role("dialog", name="User data web-init")
    expect(view.locator("pre")).to_have_text(USER_DATA)
    shoot(page, "dialog-view-userdata")
    view.get_by_role("button", name="Close", exact=True).last.click()


def _deploy_with_keys_user_data_and_a_data_disk(page: Page, shoot: Shoot) -> None:
    go(page, "/instances")
    page.get_by_role("link", name="Deploy an instance").first.click()
    page.get_by_role("radiogroup", name="Template").get_by_role("radio", name=re.compile("Keeper Linux")).check()
    page.get_by_role("radio", name=re.compile("Small Instance")).check()
    disks = page.get_by_role("radiogroup", name="Data disk")
    expect(disks.get_by_role("radio", name=re.compile("No data disk"))).to_be_checked()
    disks.get_by_role("radio", name=re.compile("^Custom")).check()
    keys = page.get_by_role("group", name="SSH key pairs")
    keys.get_by_role("checkbox", name=re.compile("sam-laptop")).check()
    keys.get_by_role("checkbox", name=re.compile("sam-ci")).check()
    page.get_by_role("radiogroup", name="User data").get_by_text("Registered").click()
    page.get_by_label("Name", exact=True).fill("sam-web-1")
    page.get_by_role("button", name="Deploy", exact=True).click()
    # Checked before anything is sent: the custom disk's size and the user data to give.
    expect(page.locator('[data-field="size"] .field-error')).to_have_text("Data disk size (GiB) is required.")
    expect(page.locator('[data-field="userdataid"] .field-error')).to_have_text("Choose the user data to give.")
    page.get_by_label("Data disk size (GiB)").fill("7")
    page.get_by_label("Registered user data").select_option(label="web-init")
    page.get_by_label("role", exact=True).fill("web")
    summary = page.locator(".wizard-summary")
    expect(summary).to_contain_text("Custom (7 GiB)")
    expect(summary).to_contain_text("sam-laptop, sam-ci")
    shoot(page, "deploy-access")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/instances/[0-9a-f-]{36}$"))
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Running", timeout=30_000)
    expect(page.locator(".job-banner")).to_have_count(0)  # the page followed the job to its end


def _instance_page(page: Page, shoot: Shoot) -> None:
    access = page.locator(".access-card")
    expect(access.locator(".tag-chip")).to_have_text(["sam-laptop", "sam-ci"])
    expect(access).to_contain_text("web-init")
    expect(access.locator("table.kv")).to_contain_text("role")
    expect(access.locator("table.kv")).to_contain_text("web")
    access.get_by_role("button", name="View user data").click()
    dialog = page.get_by_role("dialog", name="User data of sam-web-1")
    expect(dialog.locator("#instance-userdata")).to_have_text(USER_DATA)
    shoot(page, "dialog-instance-userdata")
    dialog.get_by_role("button", name="Close", exact=True).last.click()

    # Tags: added and removed in place.
    tags = page.locator(".tags-card")
    for key, value in (("env", "prod"), ("tier", "web")):
        tags.get_by_label("Tag key").fill(key)
        tags.get_by_label("Tag value").fill(value)
        tags.get_by_role("button", name="Add tag").click()
        expect(tags.locator(f'[data-tag="{key}"]')).to_contain_text(value)
    tags.get_by_label("Tag key").fill("env")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.get_by_role("alert")).to_contain_text("The tag env is there already")
    tags.get_by_role("button", name="Remove tag env").click()
    expect(tags.locator("[data-tag]")).to_have_count(1)
    expect(tags.locator('[data-tag="tier"]')).to_be_visible()
    shoot(page, "instance-overview")

    page.get_by_role("button", name="Edit sam-web-1").click()
    dialog = page.get_by_role("dialog", name="Edit sam-web-1")
    dialog.get_by_label("Display name").fill("Sam web")
    shoot(page, "dialog-edit-instance")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sam web")

    page.get_by_role("tab", name="Volumes").click()
    volumes = page.locator('table[data-list="listVolumes"] tbody tr')
    expect(volumes).to_have_count(2)
    expect(volumes.nth(0).locator(".tag")).to_have_text("Root")
    expect(volumes.nth(1).locator(".tag")).to_have_text("Data")
    expect(volumes.nth(1)).to_contain_text("7 GiB")
    expect(volumes.nth(1)).to_contain_text("Custom")
    shoot(page, "instance-volumes")

    # Snapshots: the extension's own actions, from the tab.
    page.get_by_role("tab", name="Snapshots").click()
    expect(page.get_by_role("tabpanel").locator(".empty")).to_contain_text("No snapshots of this instance")
    for name in ("before-upgrade", "after-upgrade"):
        page.get_by_role("button", name="Take snapshot").click()
        dialog = page.get_by_role("dialog", name="Take a snapshot of Sam web")
        dialog.get_by_label("Snapshot name").fill(name)
        if name == "before-upgrade":
            dialog.get_by_label("Description").fill("nginx 1.22")
            shoot(page, "dialog-take-snapshot")
        dialog.get_by_role("button", name="Take snapshot").click()
        expect(_row(page, name).locator(".tag")).to_have_text("Current")
    _row(page, "before-upgrade").get_by_role("button", name="Revert before-upgrade").click()
    page.get_by_role("dialog", name="Revert Sam web to before-upgrade?").get_by_role("button", name="Revert").click()
    expect(_row(page, "before-upgrade").locator(".tag")).to_have_text("Current")
    expect(_row(page, "after-upgrade")).to_contain_text("before-upgrade")  # its parent
    shoot(page, "instance-snapshots")
    _row(page, "after-upgrade").get_by_role("button", name="Delete after-upgrade").click()
    page.get_by_role("dialog", name="Delete snapshot after-upgrade?").get_by_role("button", name="Delete").click()
    expect(page.locator('table[data-list="listVMSnapshot"] tbody tr')).to_have_count(1)


def test_user_registers_keys_and_user_data_deploys_with_a_data_disk_and_meets_its_limit(
        demo_server: ServerProcess, page: Page, shoot: Shoot, keeper_cloud: dict[str, Any]) -> None:
    base = demo_server.base_url
    log_in(page, base, USER, USER_PASSWORD)
    _register_key_pairs_and_user_data(page, shoot)
    _deploy_with_keys_user_data_and_a_data_disk(page, shoot)
    _instance_page(page, shoot)

    go(page, "/volumes")
    expect(page.locator('table[data-list="listVolumes"] tbody tr')).to_have_count(2)
    page.get_by_label("Type", exact=True).select_option(label="Data")
    rows = page.locator('table[data-list="listVolumes"] tbody tr')
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link", name="Sam web")).to_be_visible()
    shoot(page, "volumes")

    # The dashboard shows the account against its limits; at the limit, the server's refusal is shown.
    admin = keeper_cloud["admin"]
    admin.updateResourceLimit(resourcetype=0, max=1, account=USER, domainid=keeper_cloud["account"]["domainid"])
    go(page, "/")
    mine = page.locator(f'.own-usage[data-account="{USER}"]')
    expect(mine.locator('[data-meter="user_vm"] .meter-value')).to_have_text("1 of 1")
    expect(mine.locator('[data-meter="user_vm"]')).to_have_attribute("data-level", "full")
    shoot(page, "dashboard-user-limits")
    page.get_by_role("link", name="Deploy an instance").click()
    page.get_by_role("radiogroup", name="Template").get_by_role("radio", name=re.compile("Keeper Linux")).check()
    page.get_by_label("Name", exact=True).fill("sam-web-2")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator("#deploy-refusal")).to_contain_text(
        "Maximum amount of resources of Type = 'user_vm', tag = 'null' for Account Name = sam")
    expect(page).to_have_url(base + "/deploy")
    shoot(page, "deploy-over-limit")


def test_user_makes_a_project_with_a_key_pair_and_an_instance_of_its_own(
        demo_server: ServerProcess, page: Page, shoot: Shoot, keeper_cloud: dict[str, Any]) -> None:
    base = demo_server.base_url
    log_in(page, base, USER, USER_PASSWORD)
    go(page, "/projects")
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    dialog.get_by_label("Name", exact=True).fill("team-a")
    dialog.get_by_label("Description").fill("The web team")
    shoot(page, "dialog-new-project")
    dialog.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(re.compile(r"/projects/[0-9a-f-]{36}$"))
    project_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("team-a")
    members = page.locator('table[data-list="members"]')
    expect(members.locator("tbody tr")).to_have_count(1)
    expect(members.locator(f'tr[data-name="{USER}"]')).to_contain_text("Admin")
    shoot(page, "project")
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit team-a")
    dialog.get_by_label("Description").fill("The web team, front end")
    shoot(page, "dialog-edit-project")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".page-subtitle")).to_contain_text("The web team, front end")

    # A key pair made in the project is the project's: listed under it, not with the user's own.
    go(page, "/sshkeys")
    page.get_by_role("button", name="Create key pair").click()
    dialog = page.get_by_role("dialog", name="Create a key pair")
    dialog.get_by_label("Name", exact=True).fill("team-key")
    dialog.get_by_label("Project").select_option(label="team-a")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_role("dialog", name="Private key of team-key").get_by_role("button", name="Done").click()
    expect(_row(page, "team-key")).to_have_count(0)
    page.get_by_label("Project", exact=True).select_option(label="team-a")
    expect(_row(page, "team-key")).to_be_visible()

    page.goto(project_url + "?tab=sshkeys")
    expect(_row(page, "team-key")).to_be_visible()
    page.get_by_role("link", name="Deploy in this project").click()
    expect(page.get_by_role("radiogroup", name="Owner").get_by_role("radio", name=re.compile("team-a"))).to_be_checked()
    page.get_by_role("radiogroup", name="Template").get_by_role("radio", name=re.compile("Keeper Linux")).check()
    keys = page.get_by_role("group", name="SSH key pairs")
    expect(keys.get_by_role("checkbox")).to_have_count(1)  # the project's, not the user's own
    keys.get_by_role("checkbox", name=re.compile("team-key")).check()
    page.get_by_label("Name", exact=True).fill("team-web-1")
    shoot(page, "deploy-project")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Running", timeout=30_000)
    expect(page.locator(".job-banner")).to_have_count(0)  # the page followed the job to its end
    expect(page.get_by_role("tabpanel")).to_contain_text("team-a")

    page.goto(project_url + "?tab=instances")
    expect(_row(page, "team-web-1")).to_be_visible()
    shoot(page, "project-instances")
    go(page, "/projects")
    expect(_row(page, "team-a").locator("[data-state]")).to_have_text("Active")
    shoot(page, "projects")
