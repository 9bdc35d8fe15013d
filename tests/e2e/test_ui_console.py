"""The Console tab of a Firecracker instance in the browser: the serial console shows the guest's boot, and the
screen opens on the console page (noVNC, under the page's strict CSP) through the server's proxy to the real
agent's VNC console; the link works once, and opened again it says why not."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from switchboard.api.console_socket import REFUSED
from tests.builtin_extensions.firecracker.agenthost import MARKER, AgentHost, make_pki, pam_users
from tests.builtin_extensions.firecracker.site import build_cloud, succeeded
from tests.e2e.conftest import SCREENSHOTS, Shoot, log_in
from tests.support.fixtures import ADMIN_PASSWORD, api_keys_of, cs_client, start_server
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.root, pytest.mark.slow]


@dataclass
class Site:
    server: ServerProcess
    vm: dict[str, Any]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    for tool in ("qemu-system-x86_64", "tmux", "Xvfb", "xterm", "x11vnc"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (scripts/ci-deps.sh installs it)")
    root = tmp_path_factory.mktemp("ui-console")
    with pam_users():
        pki = make_pki(root)
        agent = AgentHost(root / "host", pki)
        try:
            agent.start()
            env = {"SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD, "SWITCHBOARD_EXTENSION_WAIT": "180"}
            with start_server(root / "server", env=env) as server:
                admin = cs_client(server, api_keys_of(server))
                cloud = build_cloud(admin, agent, pki)
                vm = succeeded(admin, admin.deployVirtualMachine(
                    zoneid=cloud["zone"]["id"], templateid=cloud["template"]["id"], name="console-1",
                    serviceofferingid=cloud["offering"]["id"], networkids=cloud["network"]["id"]))["virtualmachine"]
                yield Site(server, vm)
                succeeded(admin, admin.destroyVirtualMachine(id=vm["id"], expunge=True))
        finally:
            agent.close()


def test_the_console_tab_shows_the_boot_and_opens_the_screen(site: Site, page: Page, shoot: Shoot) -> None:
    base = site.server.base_url
    log_in(page, base)
    page.goto(f"{base}/instances/{site.vm['id']}?tab=console")
    panel = page.get_by_role("tabpanel")
    # The serial console: the guest's boot marker appears (Refresh until it does; TCG boots take a while).
    serial = panel.locator("#serial-log")
    expect(serial).to_be_visible(timeout=60_000)
    for _ in range(60):
        if MARKER in serial.inner_text():
            break
        panel.get_by_role("button", name="Refresh").click()
        expect(panel.get_by_role("button", name="Refresh")).to_be_enabled(timeout=60_000)
    expect(serial).to_contain_text(MARKER)
    shoot(page, "instance-console")

    # The screen: a link, opened in a new tab; noVNC connects through the proxy.
    panel.get_by_role("button", name="Get a console link").click()
    link = panel.get_by_role("link", name="Open the console")
    expect(link).to_have_attribute("href", re.compile(rf"^{re.escape(base)}/console#token=[\w-]+&name=console-1$"))
    url = link.get_attribute("href")
    problems: list[str] = []
    with page.context.expect_page() as opened:
        link.click()
    screen = opened.value
    screen.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    screen.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    expect(screen.locator("#console-status")).to_have_text("Connected", timeout=30_000)
    expect(screen).to_have_title("console-1 · Console · Switchboard")
    assert "#token" not in screen.url  # the ticket left the address bar at once
    canvas = screen.locator("#console-screen canvas")
    expect(canvas).to_be_visible()
    size = canvas.evaluate("(c) => [c.width, c.height]")
    assert size == [1280, 800], size
    expect(screen.get_by_role("button", name="Send Ctrl-Alt-Del")).to_be_enabled()
    screen.screenshot(path=str(SCREENSHOTS / "console-page-laptop.png"))
    assert problems == [], problems
    expect(panel.get_by_role("button", name="Get a console link")).to_be_visible()  # a new link next time

    # The same link again: refused, and the page says why.
    again = page.context.new_page()  # noVNC logs the refusal as an error there: not watched
    again.goto(str(url))
    expect(again.locator("#console-status")).to_have_text(REFUSED, timeout=30_000)
    expect(again.locator("#console-status")).to_have_attribute("data-state", "bad")
    screen.get_by_role("button", name="Disconnect").click()
    expect(screen.locator("#console-status")).to_contain_text("Disconnected")
