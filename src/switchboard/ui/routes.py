"""The UI's HTTP routes: the page shell for every UI path, a 404 page for every other path, and the static files.

The UI is a single-page application of native ES modules (static/js/): every page path below is answered
with the same shell, and the script renders the page for the path through the public API at /client/api.
The server still knows the page paths, so that an unknown path is a real 404 (with a page a person can
use) rather than an empty shell.

Pages carry a strict Content-Security-Policy (scripts and styles from this origin only, no inline script,
no eval), so that even a rendering mistake in the script cannot run injected code.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["CONSOLE_PAGE", "PAGE_PATHS", "STATIC_PREFIX", "ui_routes"]

HERE = Path(__file__).resolve().parent
STATIC_PREFIX = "/ui/static"
# Every path the script renders a page for (Starlette path syntax); static/js/routes.js holds the same list
# with each page's view module (tests/e2e/test_ui_pages.py checks that the two agree).
PAGE_PATHS: tuple[str, ...] = (
    "/", "/login", "/projects", "/projects/{id}",
    "/instances", "/instances/{id}", "/deploy", "/action",
    "/templates", "/offerings", "/sshkeys", "/userdata", "/volumes", "/diskofferings", "/networkofferings", "/networks",
    "/infrastructure", "/zones", "/pods", "/clusters", "/hosts",
    "/extensions", "/extensions/{id}",
    "/events", "/alerts", "/jobs",
    "/accounts", "/accounts/{id}", "/domains", "/roles", "/settings", "/profile",
)
# The console page (its own page, not the application's shell): noVNC on the URL createConsoleEndpoint gives.
CONSOLE_PAGE = "/console"
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)


def _html(template: str, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    rendered = _env.get_template(template).render(static=STATIC_PREFIX)

    async def endpoint(_request: Request) -> Response:
        return HTMLResponse(rendered, status_code=status, headers=_SECURITY_HEADERS)

    return endpoint


async def _favicon(_request: Request) -> Response:
    # Browsers ask for /favicon.ico whatever the page links; the icon is an SVG.
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})


async def _old_action_page(request: Request) -> Response:
    # Links to the former Run Action page (/action?vm=<id>) open the instance's Run Action tab.
    vm = request.query_params.get("vm", "")
    target = f"/instances/{vm}?tab=action" if _ID.fullmatch(vm) else "/instances"
    return RedirectResponse(target, status_code=308)


def ui_routes() -> list[BaseRoute]:
    """Routes for every page (one shell, rendered once: it holds no per-user data), the static files, the
    favicon, and last a catch-all that answers every other path with the 404 page — so these routes must
    come after every other route of the server."""
    shell = _html("app.html")
    routes: list[BaseRoute] = [
        Route(path, _old_action_page if path == "/action" else shell, methods=["GET", "HEAD"])
        for path in PAGE_PATHS
    ]
    routes.append(Route(CONSOLE_PAGE, _html("console.html"), methods=["GET", "HEAD"]))
    routes.append(Route("/favicon.ico", _favicon, methods=["GET", "HEAD"]))
    routes.append(Mount(STATIC_PREFIX, app=StaticFiles(directory=HERE / "static"), name="ui-static"))
    routes.append(Route("/{path:path}", _html("not_found.html", status=404), methods=list(_ALL_METHODS)))
    return routes
