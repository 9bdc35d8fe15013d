"""Browser tests: Playwright drives Debian's Chromium (`apt-get install chromium`; never `playwright install`)
against a real `switchboard serve` with the demo cloud.

Every test's page fails the test on a script error or a console error (a CSP violation, a missing file...);
the only console errors allowed are Chromium's "Failed to load resource" lines for /client/api answers with
an error status, which the flows provoke on purpose (a wrong password, a refused request) and the UI shows,
and for the paths a test lists in `expected_404s` to look at the 404 page.
Screenshots go to test-artifacts/screenshots/ (git-ignored), each page at laptop and phone width.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.support.fixtures import ADMIN_PASSWORD, start_server
from tests.support.server import REPO, ServerProcess

CHROMIUM = "/usr/bin/chromium"
# From docs/test-environment.md §7: headless, no sandbox (root in CI), nothing fetched from the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ECHO_SOURCE = Path(__file__).resolve().parent / "echo_extension.py"

Shoot = Callable[..., None]
# The elements that reach past the right edge of the page (to say what to fix when the page scrolls sideways).
_WIDER_THAN_THE_PAGE = """() => [...document.querySelectorAll('body *')]
  .filter((node) => node.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 6)
  .map((node) => `${node.tagName.toLowerCase()}.${node.className} ${Math.round(node.getBoundingClientRect().right)}`)"""


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A management server that seeded the pretend demo cloud, admin password ADMIN_PASSWORD."""
    env = {"SWITCHBOARD_DEMO": "1", "SWITCHBOARD_DEMO_MICROVMS": "0", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with start_server(tmp_path_factory.mktemp("ui-server"), env=env) as server:
        yield server


def install_echo_extension(server: ServerProcess, directory: str, file_name: str) -> None:
    """Put the stand-in executable where an extension named like `directory` looks for `file_name`."""
    target = server.data_dir / "extensions" / directory / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ECHO_SOURCE, target)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def add_echo_cloud(server: ServerProcess, admin: CloudStack, name: str) -> dict[str, Any]:
    """An extension `name` run by the stand-in executable (echo_extension.py), with an External cluster and a
    host of its own in the demo zone and a public template "<name> Linux": {"zone", "extension", "template"}."""
    directory = name.lower()
    install_echo_extension(server, directory, f"{directory}.py")
    zone = admin.listZones(name="Demo Zone")["zone"][0]
    pod = admin.listPods(zoneid=zone["id"])["pod"][0]
    extension = admin.createExtension(name=name, type="Orchestrator", path=f"{directory}.py")["extension"]
    cluster = admin.addCluster(zoneid=zone["id"], podid=pod["id"], clustername=f"{name} Cluster",
                               clustertype="CloudManaged", hypervisor="External",
                               extensionid=extension["id"])["cluster"][0]
    admin.addHost(zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], url=f"http://{directory}-host-1",
                  hypervisor="External", username="external", password="external")
    template = admin.registerTemplate(name=f"{name} Linux", displaytext=f"Runs on {name}", format="EXTERNAL",
                                      hypervisor="External", url=f"http://{directory}.invalid/linux",
                                      zoneid=zone["id"], extensionid=extension["id"], ispublic=True,
                                      isfeatured=True)["template"][0]
    return {"zone": zone, "extension": extension, "template": template}


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile (its own --user-data-dir) for one test."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/ci-deps.sh does)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport=LAPTOP,
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


def _unexpected(message: ConsoleMessage, expected_urls: list[str]) -> bool:
    if message.type != "error":
        return False
    url = message.location.get("url") or ""
    refused = message.text.startswith("Failed to load resource") and (
        "/client/api" in url or any(url.endswith(expected) for expected in expected_urls))
    return not refused


@pytest.fixture
def expected_404s() -> list[str]:
    """Paths a test opens on purpose to see the 404 page (Chromium logs their status as a console error)."""
    return []


@pytest.fixture
def page(browser_context: BrowserContext, expected_404s: list[str]) -> Iterator[Page]:
    """The test's page; the test fails if the page logged a script or console error."""
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.append(
        f"console error: {message.text} ({message.location.get('url')})")
        if _unexpected(message, expected_404s) else None)
    yield page
    assert problems == [], "the browser reported errors:\n" + "\n".join(problems)


@pytest.fixture
def shoot() -> Shoot:
    """shoot(page, name): full-page screenshots at laptop and phone width, checking on the phone that the page
    does not scroll sideways (the layout fits 390 px)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, *, phone: bool = True) -> None:
        expect(page.locator(".loading")).to_have_count(0)  # the page's data has arrived
        _screenshot(page, LAPTOP, SCREENSHOTS / f"{name}-laptop.png")
        if phone:
            _screenshot(page, PHONE, SCREENSHOTS / f"{name}-phone.png")
            page.set_viewport_size(PHONE)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            offenders = page.evaluate(_WIDER_THAN_THE_PAGE) if overflow > 0 else []
            page.set_viewport_size(LAPTOP)
            assert overflow <= 0, f"{name}: at 390 px the page scrolls sideways by {overflow} px: {offenders}"

    return take


def _screenshot(page: Page, size: dict[str, int], path: Path) -> None:
    """A full-page screenshot at `size`; an open dialog (which a full-page shot would cut at the window's
    height) is shown whole by making the window as tall as the dialog."""
    page.set_viewport_size(size)
    # From the top (a sticky header would otherwise be drawn where the page was scrolled to), and without
    # the toasts of operations that just ended, which would hide what is under them.
    page.evaluate("window.scrollTo(0, 0); document.querySelectorAll('.toast-close').forEach((b) => b.click())")
    dialog_height = page.evaluate("(document.querySelector('dialog[open]') || {}).scrollHeight || 0")
    if dialog_height > size["height"] - 40:
        page.set_viewport_size({"width": size["width"], "height": dialog_height + 40})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(LAPTOP)


def log_in(page: Page, base: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(base + "/")
    expect(page.locator("#whoami")).to_have_text(username)


def go(page: Page, path: str) -> None:
    """Follow the main navigation's link to `path` (the laptop layout shows it)."""
    page.locator(f'#sidebar [data-nav="{path}"]').click()
    expect(page.locator("#sidebar [aria-current=page]")).to_have_attribute("data-nav", path)
