"""Browser tests: Playwright drives Debian's Chromium (`apt-get install chromium`; never `playwright install`)
against a real `switchboard serve` with the demo cloud."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.support.fixtures import ADMIN_PASSWORD, start_server
from tests.support.server import ServerProcess

CHROMIUM = "/usr/bin/chromium"
# From docs/test-environment.md §7: headless, no sandbox (root in CI), nothing fetched from the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A management server that seeded the demo cloud, admin password ADMIN_PASSWORD."""
    env = {"SWITCHBOARD_DEMO": "1", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with start_server(tmp_path_factory.mktemp("ui-server"), env=env) as server:
        yield server


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile (its own --user-data-dir) for one test."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/ci-deps.sh does)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.script_errors = errors  # type: ignore[attr-defined]
    return page
