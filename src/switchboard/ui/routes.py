"""The UI's HTTP routes: page shells rendered from templates, and the vendored static assets.

Pages carry a strict Content-Security-Policy (scripts and styles from this origin only, no inline script),
so that even a rendering mistake in the script cannot run injected code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["PAGES", "STATIC_PREFIX", "ui_routes"]

HERE = Path(__file__).resolve().parent
STATIC_PREFIX = "/ui/static"
# path → (template, title, page id the script dispatches on)
PAGES: dict[str, tuple[str, str, str]] = {
    "/": ("instances.html", "Instances", "instances"),
    "/login": ("login.html", "Log in", "login"),
    "/deploy": ("deploy.html", "Deploy an instance", "deploy"),
    "/action": ("action.html", "Run action", "action"),
    "/infrastructure": ("infrastructure.html", "Infrastructure", "infrastructure"),
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)


def _page(template: str, title: str, page: str) -> Callable[[Request], Awaitable[Response]]:
    rendered = _env.get_template(template).render(title=title, page=page, static=STATIC_PREFIX)

    async def endpoint(_request: Request) -> Response:
        return HTMLResponse(rendered, headers=_SECURITY_HEADERS)

    return endpoint


def ui_routes() -> list[BaseRoute]:
    """Routes for every page (rendered once: the shells hold no per-user data) and the static files."""
    routes: list[BaseRoute] = [
        Route(path, _page(*spec), methods=["GET", "HEAD"]) for path, spec in PAGES.items()
    ]
    routes.append(Mount(STATIC_PREFIX, app=StaticFiles(directory=HERE / "static"), name="ui-static"))
    return routes
