"""Where the agent may download template images from: `templates.allowed_sources`, a list of URL prefixes.

A template's `image_url` is fetched only when it falls under one of the prefixes: same scheme (http or
https), same host and port, and a path that starts with the prefix's path on a segment boundary. Every
request of a download is checked, redirects included, so an allowed server cannot bounce the agent to
another one. With no entries (the default) nothing is ever fetched: images are placed on the host by the
operator. URLs with user information, a fragment, or `.`/`..` path segments are refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["SourceNotAllowed", "TemplateSources"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class SourceNotAllowed(ValueError):
    """A download URL outside the allow-list, or an allow-list entry that is not an http(s) URL prefix."""


@dataclass(frozen=True)
class _Prefix:
    scheme: str
    host: str
    port: int
    path: str  # always ends with "/"


def _split(url: str, what: str) -> tuple[SplitResult, str, int]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError as exc:
        raise SourceNotAllowed(f"{what} {url[:200]!r} is not a URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise SourceNotAllowed(f"{what} must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise SourceNotAllowed(f"{what} must not carry user information or a fragment")
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        raise SourceNotAllowed(f"{what} must not contain . or .. path segments")
    return parts, scheme, port


class TemplateSources:
    """The allow-list. `check(url)` raises SourceNotAllowed unless `url` may be fetched."""

    def __init__(self, entries: tuple[str, ...] | list[str] = ()) -> None:
        prefixes = []
        for entry in entries:
            parts, scheme, port = _split(entry, f"templates.allowed_sources entry {entry[:200]!r}")
            if parts.query:
                raise SourceNotAllowed(f"templates.allowed_sources entry {entry!r} must not have a query")
            path = parts.path if parts.path.endswith("/") else parts.path + "/"
            prefixes.append(_Prefix(scheme, parts.hostname.lower() if parts.hostname else "", port, path))
        self._prefixes = tuple(prefixes)

    def __bool__(self) -> bool:
        return bool(self._prefixes)

    def check(self, url: str) -> None:
        """Return if `url` is under an allowed prefix; raise SourceNotAllowed (saying why) otherwise."""
        try:
            parts, scheme, port = _split(url, "the URL")
        except SourceNotAllowed as exc:
            raise SourceNotAllowed(f"download of {url[:200]!r} refused: {exc}") from exc
        host = (parts.hostname or "").lower()
        for prefix in self._prefixes:
            if (prefix.scheme, prefix.host, prefix.port) == (scheme, host, port) and (
                parts.path + "/"
            ).startswith(prefix.path):
                return
        if not self._prefixes:
            raise SourceNotAllowed(
                f"download of {url[:200]!r} refused: this host allows no template downloads "
                "(templates.allowed_sources is empty; place the image in the image directory instead)"
            )
        raise SourceNotAllowed(f"download of {url[:200]!r} refused: not under templates.allowed_sources")
