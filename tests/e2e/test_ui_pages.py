"""What every page shares: the strict Content-Security-Policy, real 404s, the favicon, the vendored libraries
with their licences, the server and the script agreeing on the pages, session expiry, keyboard-only login."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from switchboard.ui.routes import PAGE_PATHS
from tests.e2e.conftest import go, log_in
from tests.support.fixtures import ADMIN_PASSWORD
from tests.support.server import REPO, ServerProcess

STATIC = REPO / "src" / "switchboard" / "ui" / "static"


def _example(path: str) -> str:
    return path.replace("{id}", "00000000-0000-0000-0000-000000000000")


def test_pages_carry_a_strict_content_security_policy(demo_server: ServerProcess) -> None:
    for path in PAGE_PATHS:
        if path == "/action":
            continue  # a redirect, below
        reply = httpx.get(demo_server.base_url + _example(path), timeout=10)
        assert reply.status_code == 200, path
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert '<script type="module" src="/ui/static/js/main.js">' in reply.text
        assert "<script>" not in reply.text  # no inline script at all
    # The console page (its own page) under the same policy; noVNC's modules are served as they are.
    reply = httpx.get(demo_server.base_url + "/console", timeout=10)
    assert reply.status_code == 200 and reply.headers["content-security-policy"] == policy
    assert '<script type="module" src="/ui/static/js/console.js">' in reply.text and "<script>" not in reply.text
    for module in ("js/main.js", "vendor/preact.js", "vendor/hooks.js", "vendor/htm.js", "js/console.js",
                   "vendor/novnc/core/rfb.js", "vendor/novnc/vendor/pako/lib/zlib/inflate.js"):
        reply = httpx.get(f"{demo_server.base_url}/ui/static/{module}", timeout=10)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/javascript"), module


def test_unknown_paths_get_a_404_page_and_the_favicon_is_served(demo_server: ServerProcess) -> None:
    for path in ("/templates/extra/deep", "/nope", "/client", "/instances/a/b"):
        reply = httpx.get(demo_server.base_url + path, timeout=10)
        assert reply.status_code == 404, path
        assert "Page not found" in reply.text and 'href="/"' in reply.text
        assert "unsafe-inline" not in reply.headers["content-security-policy"]
    icon = httpx.get(demo_server.base_url + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml" and b"<svg" in icon.content
    # The former Run Action page sends old links on to the instance's tab.
    moved = httpx.get(demo_server.base_url + "/action?vm=abc", timeout=10)
    assert moved.status_code == 308 and moved.headers["location"] == "/instances/abc?tab=action"


def test_the_script_and_the_server_know_the_same_pages() -> None:
    routes = (STATIC / "js" / "routes.js").read_text()
    script_paths = set(re.findall(r'path: "([^"]+)"', routes))
    assert script_paths == set(PAGE_PATHS) - {"/action"}
    views = set(re.findall(r'import\("\./views/([a-z_]+\.js)"\)', routes))
    assert views and all((STATIC / "js" / "views" / view).is_file() for view in views)


def test_vendored_libraries_carry_their_licences() -> None:
    for licence in ("LICENSE-preact.txt", "LICENSE-htm.txt", "novnc/LICENSE.txt", "novnc/LICENSE.MPL-2.0",
                    "novnc/LICENSE.BSD-2-Clause", "novnc/LICENSE.BSD-3-Clause", "novnc/vendor/pako/LICENSE"):
        assert (STATIC / "vendor" / licence).read_text().strip()
    readme = (STATIC / "vendor" / "README.md").read_text()
    assert "preact 11.2.0" in readme and "htm 3.1.1" in readme and "@novnc/novnc 1.7.0" in readme
    # noVNC is vendored unchanged: relative imports only (no import map needed), no eval.
    for module in (STATIC / "vendor" / "novnc").rglob("*.js"):
        text = module.read_text()
        assert not re.search(r'from\s*"[^./]', text) and "eval(" not in text, module
    # Only the import of hooks.js was changed: a bare specifier needs an import map (an inline script).
    assert 'from"./preact.js"' in (STATIC / "vendor" / "hooks.js").read_text()


def test_keyboard_only_login_and_expired_session(demo_server: ServerProcess, page: Page) -> None:
    base = demo_server.base_url
    page.goto(base + "/login")
    expect(page.locator("#username")).to_be_visible()  # the form is drawn by the script
    page.keyboard.press("Tab")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + "/")
    # After login the new page's heading has the focus (screen readers announce it). On a fresh load the
    # first Tab reaches the skip link, which jumps over the navigation.
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the page")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # The session ends on the server while the page still has its cookie: the next call brings the login
    # page back, saying why, and then the page that was asked for.
    go(page, "/templates")
    # The page's own calls are done before its session ends: the list and its filters' choices are in.
    expect(page.locator('table[data-list="listTemplates"]')).to_be_visible()
    for fil in ("Zone", "Extension"):
        expect(page.get_by_label(fil, exact=True).locator("option")).not_to_have_count(1)
    cookies = page.context.cookies()
    session = next(cookie for cookie in cookies if cookie["name"] == "sessionkey")
    page.evaluate("""(key) => fetch('/client/api', {method: 'POST',
        body: new URLSearchParams({command: 'logout', response: 'json', sessionkey: key})})""", session["value"])
    page.context.add_cookies([{"name": "sessionkey", "value": session["value"], "url": base}])
    go_to = page.locator('#sidebar [data-nav="/networks"]')
    go_to.click()
    expect(page).to_have_url(base + "/login?next=%2Fnetworks&expired=1")
    expect(page.get_by_role("status")).to_contain_text("Your session has ended")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(base + "/networks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Networks")


def test_phone_layout_has_a_menu_instead_of_the_sidebar(demo_server: ServerProcess, page: Page) -> None:
    log_in(page, demo_server.base_url)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#sidebar")).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(page.locator("#sidebar")).to_be_visible()
    page.locator('#sidebar [data-nav="/extensions"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Extensions")
    expect(page.locator("#sidebar")).to_be_hidden()  # closed again after choosing
    menu.click()
    page.locator("#logout-menu").click()
    expect(page).to_have_url(demo_server.base_url + "/login")


def test_lists_search_sort_and_page_through_the_query_string(demo_server: ServerProcess, page: Page) -> None:
    base = demo_server.base_url
    log_in(page, base)
    page.goto(base + "/extensions?size=2")
    rows = page.locator('table[data-list="listExtensions"] tbody tr')
    expect(rows).to_have_count(2)
    names = rows.locator(".row-title")
    first_page = names.all_inner_texts()
    assert first_page == sorted(first_page, key=str.lower)  # by name, as the page opens
    pager = page.get_by_role("navigation", name="Extensions pages")
    expect(pager.get_by_role("button", name="← Previous")).to_be_disabled()
    pager.get_by_role("button", name="Next →").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(names.first).not_to_have_text(first_page[0])
    page.go_back()  # the list state is in the address: back is the first page again
    expect(names).to_have_text(first_page)

    page.goto(base + "/extensions")
    header = page.get_by_role("columnheader", name=re.compile("Name"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    descending = names.all_inner_texts()
    assert descending == sorted(descending, key=str.lower, reverse=True)

    page.get_by_label("Search extensions").fill("hyper")
    page.get_by_label("Search extensions").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=hyper"))
    expect(names).to_have_text(["HyperV"])
    page.get_by_label("Search extensions").fill("no-such-extension")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".empty")).to_contain_text("No extensions match")
    page.get_by_role("button", name="Clear the search").click()
    expect(rows).not_to_have_count(0)
    page.get_by_role("button", name="Refresh Extensions").click()
    expect(rows).not_to_have_count(0)
