"""Domain paths in their two spellings.

Stored: "/" for ROOT and "/a/b/" below it, so that a subtree is a prefix match.
Shown (API `path`, `domainpath`, `Caller.domain_path`): "ROOT" and "ROOT/a/b", as CloudStack shows them.
"""

from __future__ import annotations

ROOT_NAME = "ROOT"
ROOT_PATH = "/"


def shown(stored: str) -> str:
    """"/a/b/" → "ROOT/a/b"; "/" → "ROOT"."""
    inner = stored.strip("/")
    return f"{ROOT_NAME}/{inner}" if inner else ROOT_NAME


def stored(shown_path: str) -> str:
    """"ROOT/a/b" or "/a/b" or "a/b" → "/a/b/"; "ROOT" or "/" or "" → "/". The inverse of `shown`."""
    parts = [part for part in shown_path.strip().split("/") if part]
    if parts and parts[0] == ROOT_NAME:
        parts = parts[1:]
    return "/" + "".join(f"{part}/" for part in parts)


def child(parent_stored: str, name: str) -> str:
    return f"{parent_stored}{name}/"


def in_subtree(candidate_stored: str, top_stored: str) -> bool:
    return candidate_stored.startswith(top_stored)
